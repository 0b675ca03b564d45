/**
 * `autopilot events`: prints (and with --follow, tails) the events on the local stack's bus.
 * EventBridge has no API to read a bus, so this talks to the local stack's own inspection
 * operation (`X-Amz-Target: AWSEvents.LocalListEvents`, which AWS does not have) at
 * AWS_ENDPOINT_URL. Against AWS, route the events to a target (e.g. a CloudWatch Logs group).
 */
import type { CliCommand, CliIO } from '../types.ts';
import { describeEvent } from '../../local/scenario/timeline.ts';

const help = `Usage: autopilot events [--follow] [--json] [--source S] [--detail-type T] [--bus NAME] [--limit N]

Prints the events on the local stack's EventBridge bus: ECR pushes, schedules, requests, and
autopilot's own outcome events (Runtime Redeploy *, Policy Rollout *, Drift *). Needs
AWS_ENDPOINT_URL pointing at the local stack (\`npm start -- --keep-running\` prints it); AWS has
no API to read a bus back.

Each line: time, source, detail-type, subject, details. The time is when the event reached the bus,
by the stack's clock, in UTC (ISO 8601, e.g. 2025-01-01T00:10:00Z): absolute, so it is the same
whenever you start \`autopilot events\` and whatever you filter. (The \`npm start\` timeline counts
its T+ times from the time on its "Local stack up" line.)

Options:
  -f, --follow        keep printing new events until interrupted (Ctrl+C)
  --json              one JSON object per line: {sequence, at, bus, via, event}
  --source S          only events whose source is S (e.g. agentcore-autopilot, aws.ecr)
  --detail-type T     only events whose detail-type is T (e.g. "Policy Rollout Halted")
  --bus NAME          only events on this bus (default: every bus)
  --limit N           print at most the last N matching events first (default: all)
  --interval MS       --follow polling interval in ms (default 500)
  -h, --help          show this help

Exit codes:
  0  success (also when --follow is stopped with Ctrl+C / SIGTERM)
  1  AWS_ENDPOINT_URL is not set, or the local stack is not reachable or answered with an error
  2  usage error (unknown option, bad --limit / --interval)`;

interface Flags {
  follow: boolean;
  json: boolean;
  source?: string;
  detailType?: string;
  bus?: string;
  limit?: number;
  intervalMs: number;
}

function parseFlags(argv: string[]): Flags | string {
  const flags: Flags = { follow: false, json: false, intervalMs: 500 };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) { inline = arg.slice(eq + 1); arg = arg.slice(0, eq); }
    const take = (name: string): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${name} needs a value`);
      return v;
    };
    try {
      switch (arg) {
        case '-f':
        case '--follow': flags.follow = true; break;
        case '--json': flags.json = true; break;
        case '--source': flags.source = take('--source'); break;
        case '--detail-type': flags.detailType = take('--detail-type'); break;
        case '--bus': flags.bus = take('--bus'); break;
        case '--limit': {
          const v = take('--limit');
          if (!/^[1-9]\d*$/.test(v)) return `--limit needs a positive whole number (got '${v}')`;
          flags.limit = Number(v);
          break;
        }
        case '--interval': {
          const v = take('--interval');
          if (!/^[1-9]\d*$/.test(v)) return `--interval needs a positive number of milliseconds (got '${v}')`;
          flags.intervalMs = Number(v);
          break;
        }
        default:
          return `unknown option '${argv[i]}'`;
      }
    } catch (err) {
      return (err as Error).message;
    }
  }
  return flags;
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
    throw new LocalBusError(`cannot reach the local stack at ${endpoint}: ${(err as Error).message}`);
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

async function run(argv: string[], io: CliIO): Promise<number> {
  const flags = parseFlags(argv);
  if (typeof flags === 'string') {
    io.stderr(`autopilot events: ${flags}\nRun 'autopilot events --help' for usage.`);
    return 2;
  }
  const endpoint = io.env.AWS_ENDPOINT_URL_EVENTBRIDGE ?? io.env.AWS_ENDPOINT_URL;
  if (!endpoint) {
    io.stderr('autopilot events: AWS_ENDPOINT_URL is not set. This command reads the local stack\'s bus (EventBridge has no read API);\n'
      + 'start it with `npm start -- --keep-running` and export the variables it prints.');
    return 1;
  }
  const filter = {
    ...(flags.source !== undefined ? { Source: flags.source } : {}),
    ...(flags.detailType !== undefined ? { DetailType: flags.detailType } : {}),
    ...(flags.bus !== undefined ? { EventBusName: flags.bus } : {}),
  };
  const emit = (e: LocalEvent) => {
    io.stdout(flags.json
      ? JSON.stringify({ sequence: e.Sequence, at: new Date(e.At * 1000).toISOString(), bus: e.EventBusName, via: e.Via, event: e.Event })
      : formatHuman(e));
  };

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
    for (const e of backlog) emit(e);
    if (!flags.follow) {
      if (!flags.json && backlog.length === 0) io.stderr('autopilot events: no events on the bus yet');
      return 0;
    }
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
    io.stderr(`autopilot events: ${(err as Error).message}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const command: CliCommand = {
  name: 'events',
  summary: 'Print or tail the events on the local stack\'s bus (--follow)',
  help,
  run,
};

export default command;
