/**
 * EventBridge: publishes autopilot's own events with PutEvents, at most 10 entries and 256 KB per
 * request, and treats a partial failure (FailedEntryCount > 0, which PutEvents reports with HTTP 200)
 * as an error.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { EventPublishError, EventTooLargeError } from '../lib/errors.ts';
import { callAws } from './aws-errors.ts';
import { createEventBridgeClient } from '../lib/clients/eventbridge.ts';
import type { ClientOptions } from '../lib/clients/options.ts';

/** PutEvents limits. */
export const MAX_ENTRIES_PER_REQUEST = 10;
export const MAX_ENTRY_BYTES = 256 * 1024;

export interface PublishOptions {
  /** Event source, e.g. `agentcore-autopilot`. */
  source: string;
  /** Bus name or ARN; the account's default bus when omitted. */
  busName?: string;
  /** ARNs the events concern (same for every entry). */
  resources?: string[];
}

/**
 * Size of one entry as EventBridge counts it (PutEvents entry size calculation): UTF-8 bytes of
 * Source, DetailType, Detail and each resource, plus 14 bytes when Time is set.
 */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (s: string | undefined) => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));
  return (
    (entry.Time ? 14 : 0) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((sum, r) => sum + bytes(r), 0)
  );
}

/** Splits entries into PutEvents requests: at most 10 entries and 256 KB in total each. */
export function batchEntries(entries: PutEventsRequestEntry[]): PutEventsRequestEntry[][] {
  const batches: PutEventsRequestEntry[][] = [];
  let current: PutEventsRequestEntry[] = [];
  let currentBytes = 0;
  for (const entry of entries) {
    const size = entrySize(entry);
    if (current.length === MAX_ENTRIES_PER_REQUEST || (current.length > 0 && currentBytes + size > MAX_ENTRY_BYTES)) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(entry);
    currentBytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Typed EventBridge calls over an injected client. */
export class EventsAdapter {
  readonly client: EventBridgeClient;

  constructor(client: EventBridgeClient) {
    this.client = client;
  }

  /**
   * Publishes one event per detail (a single detail or a list), in order, and returns their event ids.
   * Every entry is size-checked before anything is sent. On a partial failure it stops and throws
   * EventPublishError (entries of earlier requests have been published: `details.publishedCount`).
   */
  async publish(detailType: string, detail: unknown, options: PublishOptions): Promise<string[]> {
    const details = Array.isArray(detail) ? detail : [detail];
    const entries = details.map((d): PutEventsRequestEntry => ({
      Source: options.source,
      DetailType: detailType,
      Detail: JSON.stringify(d ?? {}),
      ...(options.busName !== undefined && { EventBusName: options.busName }),
      ...(options.resources !== undefined && { Resources: options.resources }),
    }));
    entries.forEach((entry, index) => {
      const size = entrySize(entry);
      if (size > MAX_ENTRY_BYTES) {
        throw new EventTooLargeError(`Event ${index} (${detailType}) is ${size} bytes; EventBridge accepts at most ${MAX_ENTRY_BYTES}`, {
          details: { index, detailType, size, limit: MAX_ENTRY_BYTES },
        });
      }
    });

    const eventIds: string[] = [];
    let offset = 0;
    for (const batch of batchEntries(entries)) {
      const result = await callAws({ service: 'eventbridge', operation: 'PutEvents', resource: options.busName }, () =>
        this.client.send(new PutEventsCommand({ Entries: batch })),
      );
      const results = result.Entries ?? [];
      if ((result.FailedEntryCount ?? 0) > 0 || results.some((r) => r.ErrorCode)) {
        const failures = results.flatMap((r, i) =>
          r.ErrorCode ? [{ index: offset + i, detailType: batch[i]?.DetailType ?? detailType, errorCode: r.ErrorCode }] : [],
        );
        throw new EventPublishError(failures.length > 0 ? failures : [{ index: offset, detailType, errorCode: 'Unknown' }], {
          publishedCount: eventIds.length + results.filter((r) => r.EventId && !r.ErrorCode).length,
        });
      }
      for (const r of results) if (r.EventId) eventIds.push(r.EventId);
      offset += batch.length;
    }
    return eventIds;
  }
}

/** The adapter over a new client (a Lambda builds only the adapters its function uses). */
export function eventsAdapter(options: ClientOptions): EventsAdapter {
  return new EventsAdapter(createEventBridgeClient(options));
}
