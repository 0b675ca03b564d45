import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { EventsAdapter, MAX_ENTRY_BYTES, batchEntries, entrySize } from '../../functions/adapters/events.ts';
import { EventPublishError, EventTooLargeError, ThrottledError } from '../../functions/lib/errors.ts';

const eventBridge = mockClient(EventBridgeClient);
const options = { source: 'agentcore-autopilot', busName: 'autopilot-bus' };

/** Answers every PutEvents with one id per entry. */
function acceptAll() {
  let n = 0;
  eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
    FailedEntryCount: 0,
    Entries: input.Entries.map(() => ({ EventId: `id-${++n}` })),
  }));
}

describe('EventsAdapter.publish', () => {
  let adapter: EventsAdapter;
  beforeEach(() => {
    eventBridge.reset();
    adapter = new EventsAdapter(new EventBridgeClient({ region: 'us-east-1' }));
  });

  it('sends one entry with source, detail-type, JSON detail and bus', async () => {
    acceptAll();

    const ids = await adapter.publish('Runtime Redeployed', { runtimeId: 'rt-1' }, options);

    expect(ids).toEqual(['id-1']);
    expect(eventBridge).toHaveReceivedCommandWith(PutEventsCommand, {
      Entries: [{ Source: 'agentcore-autopilot', DetailType: 'Runtime Redeployed', Detail: '{"runtimeId":"rt-1"}', EventBusName: 'autopilot-bus' }],
    });
  });

  it('batches a list of details into requests of at most 10 entries, in order', async () => {
    acceptAll();
    const details = Array.from({ length: 23 }, (_, i) => ({ i }));

    const ids = await adapter.publish('Drift Corrected', details, options);

    expect(ids).toHaveLength(23);
    const sizes = eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.length);
    expect(sizes).toEqual([10, 10, 3]);
    const sent = eventBridge.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []).map((e) => JSON.parse(e.Detail ?? '{}').i);
    expect(sent).toEqual(details.map((d) => d.i));
  });

  it('throws EventPublishError naming failed entries when FailedEntryCount > 0', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 0, Entries: Array.from({ length: 10 }, (_, i) => ({ EventId: `ok-${i}` })) })
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ EventId: 'ok-10' }, { ErrorCode: 'InternalFailure', ErrorMessage: 'nope' }] });

    const error = await adapter.publish('X', Array.from({ length: 12 }, (_, i) => ({ i })), options).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(EventPublishError);
    expect(error).toMatchObject({
      name: 'EventPublishError',
      failures: [{ index: 11, detailType: 'X', errorCode: 'InternalFailure' }],
      publishedCount: 11,
    });
  });

  it('refuses an entry over 256 KB before sending anything', async () => {
    acceptAll();

    const error = await adapter.publish('Big', [{ ok: true }, { blob: 'x'.repeat(MAX_ENTRY_BYTES) }], options).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(EventTooLargeError);
    expect(error).toMatchObject({ details: { index: 1, detailType: 'Big' } });
    expect(eventBridge).not.toHaveReceivedCommand(PutEventsCommand);
  });

  it('translates SDK failures', async () => {
    eventBridge.on(PutEventsCommand).rejects(Object.assign(new Error('slow'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));

    await expect(adapter.publish('X', {}, options)).rejects.toBeInstanceOf(ThrottledError);
  });
});

describe('batchEntries', () => {
  const entry = (bytes: number): PutEventsRequestEntry => ({ Source: 's', DetailType: 'd', Detail: 'x'.repeat(bytes - 2) });

  it('also splits when the total would exceed 256 KB', () => {
    const entries = [entry(100 * 1024), entry(100 * 1024), entry(100 * 1024)];

    expect(batchEntries(entries).map((b) => b.length)).toEqual([2, 1]);
  });

  it('counts UTF-8 bytes, resources and the Time field', () => {
    expect(entrySize({ Source: 'é', DetailType: 'd', Detail: '{}' })).toBe(2 + 1 + 2);
    expect(entrySize({ Source: 's', Resources: ['arn:a', 'arn:bb'], Time: new Date(0) })).toBe(1 + 5 + 6 + 14);
  });
});
