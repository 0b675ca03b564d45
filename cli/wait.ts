/**
 * Waiting in the CLI: `--timeout` durations and the poll loop of `--wait` / `--watch`. Timeouts
 * are wall-clock time (what a pipeline budgets), whatever clock the stack runs on.
 */
import { followStackClock } from './aws.ts';
import { timedOut, UsageError } from './errors.ts';
import type { ActionContext } from './types.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `90s`, `10m`, `1h30m`, `500ms`, or a plain number of seconds -> milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t) {
    throw new UsageError(`${flag} must be a duration such as 90s, 10m or 1h30m (got ${JSON.stringify(text)})`);
  }
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]], 0);
  if (!(ms > 0)) throw new UsageError(`${flag} must be longer than 0 (got ${JSON.stringify(text)})`);
  return ms;
}

/** A human duration for messages: 45s, 10m, 1h 30m. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return [h && `${h}h`, m && `${m}m`, rest && `${rest}s`].filter(Boolean).join(' ');
}

export interface PollOptions {
  intervalMs: number;
  /** Give up after this long (wall clock); undefined: wait as long as it takes. */
  timeoutMs?: number;
  /** What is being waited for, for the timeout message ("rollout X (stage SHADOW_BAKE)"). */
  describe: () => string;
  sleep?: (ms: number) => Promise<void>;
}

/** Calls `step` until it returns a value; throws a Timeout error (exit 5) when --timeout runs out first. */
export async function poll<T>(options: PollOptions, step: () => Promise<T | undefined>): Promise<T> {
  const started = Date.now();
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (;;) {
    const result = await step();
    if (result !== undefined) return result;
    const left = options.timeoutMs === undefined ? Infinity : options.timeoutMs - (Date.now() - started);
    if (left <= 0) throw timedOut(`timed out after ${formatDuration(options.timeoutMs!)} waiting for ${options.describe()}; it goes on`);
    await sleep(Math.min(options.intervalMs, left));
  }
}

/** What `watchExecution` reads each time: an execution's status as a command shows it. */
export interface ExecutionView {
  name: string;
  status: string;
  stage: string;
}

/**
 * `status [--watch]` of a staged execution: prints the status once, or again every interval until
 * it ends (text: every state, blank-line separated; json/yaml: only the final state, one
 * document). Each reading after the first follows the local stack's clock first.
 */
export async function watchExecution<S extends ExecutionView>(args: {
  ctx: Pick<ActionContext, 'io' | 'out'>;
  /** `rollout`, `promotion`: for the timeout message. */
  kind: string;
  executionArn: string;
  watch: boolean;
  intervalMs: number;
  timeoutMs?: number;
  read: () => Promise<S>;
  render: (s: S) => string;
}): Promise<S> {
  const { io, out } = args.ctx;
  let printed = false;
  let current: S | undefined;
  return poll({ intervalMs: args.intervalMs, timeoutMs: args.timeoutMs, describe: () => `${args.kind} ${current?.name ?? args.executionArn} (stage ${current?.stage ?? '?'})` }, async () => {
    if (printed) await followStackClock(io);
    const s = await args.read();
    current = s;
    const last = !args.watch || s.status !== 'RUNNING';
    if (!out.structured) {
      if (printed) io.stdout('');
      io.stdout(args.render(s));
      printed = true;
    } else if (last) out.document(s);
    return last ? s : undefined;
  });
}
