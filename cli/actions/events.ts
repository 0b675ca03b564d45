/**
 * `autopilot events`: prints (and with --follow, tails) the events on the local stack's bus.
 * EventBridge has no API to read a bus, so this talks to the local stack's own inspection
 * operation (`X-Amz-Target: AWSEvents.LocalListEvents`, which AWS does not have) at
 * AWS_ENDPOINT_URL. Against AWS, route the events to a target (e.g. a CloudWatch Logs group).
 */
import { CliError, networkCode, UsageError } from '../errors.ts';
import type { ActionContext } from '../types.ts';
import { describeEvent } from '../../local/scenario/timeline.ts';

interface Flags {
  follow: boolean;
  source?: string;
  detailType?: string;
  bus?: string;
  limit?: number;
  intervalMs: number;
}

function positive(value: unknown, message: (v: string) => string): number | undefined {
  if (value === undefined) return undefined;
  const v = String(value);
  if (!/^[1-9]\d*$/.test(v)) throw new UsageError(message(v));
  return Number(v);
}

function flagsOf(opts: ActionContext['opts']): Flags {
  return {
    follow: opts.follow === true,
    source: opts.source as string | undefined,
    detailType: opts.detailType as string | undefined,
    bus: opts.bus as string | undefined,
    limit: positive(opts.limit, (v) => `--limit needs a positive whole number (got '${v}')`),
    intervalMs: positive(opts.interval, (v) => `--interval needs a positive number of milliseconds (got '${v}')`) ?? 500,
  };
}

interface LocalEvent {
  Sequence: number;
  /** epoch seconds (stack clock) */
  At: number;
  EventBusName: string;
  Via: string;
  Event: import('../../local/emulator/eventbridge/eventbridge.ts').AwsEvent;
}

interface Page { Events: LocalEvent[]; NextSequence: number }

export class LocalBusError extends Error {
  override name = 'LocalBusError';
}

/** One LocalListEvents call. */
export async function listLocalEvents(endpoint: string, input: Record<string, unknown>, signal?: AbortSignal): Promise<Page> {
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.LocalListEvents' },
      body: JSON.stringify(input),
      signal,
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    const code = networkCode(err);
    throw new LocalBusError(`cannot reach the local stack at ${endpoint}: ${code ?? (err as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text.slice(0, 300);
    try {
      const body = JSON.parse(text) as { __type?: string; message?: string };
      message = `${body.__type ?? res.status}: ${body.message ?? ''}`;
    } catch { /* keep the raw text */ }
    throw new LocalBusError(`${endpoint} is not an autopilot local stack (or refused the request): ${message}`);
  }
  return JSON.parse(text) as Page;
}

/** One readable line; the time is absolute (UTC, whole seconds), never relative to the first event seen. */
function formatHuman(e: LocalEvent): string {
  const d = describeEvent(e.Event);
  const when = new Date(Math.floor(e.At) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `${when}  ${e.Event.source.padEnd(20)} ${e.Event['detail-type'].padEnd(30)} ${d.subject.padEnd(26)} ${d.why}`.trimEnd();
}

export async function run({ io, opts, out }: ActionContext): Promise<number> {
  const flags = flagsOf(opts);
  const endpoint = io.env.AWS_ENDPOINT_URL_EVENTBRIDGE ?? io.env.AWS_ENDPOINT_URL;
  if (!endpoint) {
    throw new CliError('NoLocalStack', 'AWS_ENDPOINT_URL is not set. This command reads the local stack\'s bus (EventBridge has no read API); '
      + 'start it with `npm start -- --keep-running` and export the variables it prints.', 1);
  }
  const filter = {
    ...(flags.source !== undefined ? { Source: flags.source } : {}),
    ...(flags.detailType !== undefined ? { DetailType: flags.detailType } : {}),
    ...(flags.bus !== undefined ? { EventBusName: flags.bus } : {}),
  };
  const record = (e: LocalEvent) => ({ sequence: e.Sequence, at: new Date(e.At * 1000).toISOString(), bus: e.EventBusName, via: e.Via, event: e.Event });
  // --follow with -o json/yaml: a stream has no end, so one object per line (JSON Lines).
  const emit = (e: LocalEvent) => io.stdout(out.structured ? JSON.stringify(record(e)) : formatHuman(e));

  const ac = new AbortController();
  const onSignal = () => ac.abort();
  if (flags.follow) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  try {
    // Catch up: everything so far (the last --limit of it).
    let after = 0;
    let backlog: LocalEvent[] = [];
    for (;;) {
      const page = await listLocalEvents(endpoint, { ...filter, AfterSequence: after, Limit: 1000 }, ac.signal);
      backlog.push(...page.Events);
      if (page.NextSequence === after) break;
      after = page.NextSequence;
    }
    if (flags.limit !== undefined) backlog = backlog.slice(-flags.limit);
    if (!flags.follow) {
      out.result(backlog.map(record), () => backlog.map(formatHuman));
      if (!out.structured && backlog.length === 0) io.stderr('autopilot events: no events on the bus yet');
      return 0;
    }
    for (const e of backlog) emit(e);
    while (!ac.signal.aborted) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, flags.intervalMs);
        ac.signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
      });
      if (ac.signal.aborted) break;
      const page = await listLocalEvents(endpoint, { ...filter, AfterSequence: after, Limit: 1000 }, ac.signal);
      for (const e of page.Events) emit(e);
      after = page.NextSequence;
    }
    return 0;
  } catch (err) {
    if (ac.signal.aborted) return 0;
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

