/**
 * The scheduled drift job's scan over a fleet of any size: overlapped slices, a time budget, and a
 * cursor that carries a pass from one invocation to the next.
 *
 * Overlap. Reading every resource, then every drifted resource's tags, then correcting each one
 * (the phases of readDrift/applyDrift) leaves each AgentCore operation idle most of the run: its
 * quota is spent in one phase and unused in the others. So the fleet is cut into slices of
 * `2 x drift.concurrency` resources, runtimes and gateways interleaved in proportion, and up to
 * SLICES_IN_FLIGHT slices run at once, each through readDrift -> applyDrift -> its events: one
 * slice's reads overlap another's corrections, and the per-operation pacer (functions/lib/pacing.ts)
 * keeps every operation at its quota. Corrections stay at `drift.concurrency` at once across all
 * slices (so the error-ratio stop and the corrections cap act as in one applyDrift).
 *
 * Budget. A new slice starts only while the invocation has time for it (1.25 x the longest slice
 * so far, 30 s before one has finished), at least one per invocation so that every run makes
 * progress. In-flight slices finish; the calls' retries never wait past the invocation's budget.
 *
 * Cursor. A pass covers every declared resource once, in scan order. When an invocation stops
 * early (time, or `drift.resourcesPerRun`), it returns a cursor: where the pass goes on, the
 * corrections attempted and failed so far (`maxCorrectionsPerRun` and `maxErrorRatio` hold for the
 * whole pass), and a fingerprint of the scan order (a changed config resumes after the last
 * resource done, or restarts when that one is gone). The next invocation (the drift-scan state
 * machine's loop) goes on from there, so every resource is checked within
 * ceil(fleet work / one invocation's work) runs, and none is starved.
 */
import { createHash } from 'node:crypto';
import type { Config, GatewaySpec, RuntimeSpec } from '../lib/config/types.ts';
import { createLimiter } from '../lib/concurrency.ts';
import { monotonicNow } from '../lib/time.ts';
import { planOf, type ResourcePlan } from '../domain/drift/plan.ts';
import { applyDrift, type ApplyOutcome, type ApplyResult, type ApplyTally } from './drift-apply.ts';
import type { DriftDeps, DriftRun, ReadCache } from './drift-common.ts';
import { readDrift } from './drift-read.ts';

/** Slices whose read, apply and events may overlap. */
export const SLICES_IN_FLIGHT = 4;
/** Time an invocation must have left to start a second slice before any has finished (ms). */
export const FIRST_SLICES_MIN_MS = 30_000;
/** A pass gives up (with a note) after this many invocations. */
export const MAX_RUNS_PER_PASS = 50;

/** Where a pass goes on: carried from one invocation to the next. */
export interface ScanCursor {
  /** The pass (ISO time its first invocation started). */
  pass: string;
  /** Index, in scan order, of the next resource to check. */
  next: number;
  /** Resources in the scan order when the cursor was made. */
  total: number;
  /** Fingerprint of the scan order (the declared refs in order). */
  order: string;
  /** Key of the last resource checked (where a changed config resumes). */
  after?: string;
  /** Corrections attempted and failed so far in the pass, and why it stopped correcting (if it did). */
  attempted: number;
  failed: number;
  stopped?: ApplyResult['stopped'];
  /** Invocations of the pass so far. */
  runs: number;
}

export interface ScanOptions {
  reportOnly?: boolean;
  /** Where to go on (absent: a new pass from the first resource). */
  cursor?: ScanCursor;
  /** Milliseconds the invocation may still spend on the scan (default: no limit). */
  remainingMs?: () => number;
  /** When the pass started (ISO; default now). */
  passStartedAt?: string;
  /** Called before every write (the drift lock's guard, see ApplyOptions.guard). */
  guard?: () => Promise<void>;
  /** Called once per finished slice (the Lambda publishes the slice's events here). */
  onSlice?: (slice: { run: DriftRun; applied: ApplyResult }) => Promise<void> | void;
}

export interface ScanResult {
  /** Plan of the resources this invocation checked, in config order (runtimes, then gateways). */
  run: DriftRun;
  outcomes: ApplyOutcome[];
  stopped?: ApplyResult['stopped'];
  /** Where the pass goes on; undefined when this invocation finished it. */
  cursor?: ScanCursor;
  /** Scan-order range checked by this invocation, of `total`. */
  range: { from: number; to: number; total: number };
  /** Slices run, and the longest one (ms). */
  slices: number;
  longestSliceMs: number;
  /** Why the pass was given up early (runs cap), if it was. */
  gaveUp?: string;
}

interface Item { kind: 'runtime' | 'gateway'; index: number; key: string }

const keyOf = (kind: string, spec: RuntimeSpec | GatewaySpec) => `${kind}:${spec.id !== undefined ? `id:${spec.id}` : `name:${spec.name}`}`;

/**
 * The scan order: runtimes and gateways interleaved in proportion (gateway j goes where runtime
 * j * R / G would be), so every slice has some of each and the operations of both kinds are busy
 * throughout the pass.
 */
export function scanOrder(config: Pick<Config, 'runtimes' | 'gateways'>): Item[] {
  const r = config.runtimes.length;
  const g = config.gateways.length;
  const items = [
    ...config.runtimes.map((spec, index) => ({ kind: 'runtime' as const, index, key: keyOf('runtime', spec), at: (index + 0.5) / r })),
    ...config.gateways.map((spec, index) => ({ kind: 'gateway' as const, index, key: keyOf('gateway', spec), at: (index + 0.5) / g })),
  ];
  // Stable: ties keep runtimes first.
  return items.sort((a, b) => a.at - b.at).map(({ kind, index, key }) => ({ kind, index, key }));
}

function fingerprint(order: readonly Item[]): string {
  const h = createHash('sha256');
  for (const it of order) h.update(`${it.key}\n`);
  return h.digest('hex').slice(0, 16);
}

/** Where a cursor resumes in the current order (0: a new pass). */
function resumeAt(cursor: ScanCursor | undefined, order: readonly Item[], fp: string): number {
  if (!cursor) return 0;
  if (cursor.order === fp) return Math.min(Math.max(0, cursor.next), order.length);
  // The config changed since: go on after the last resource done, or restart when it is gone.
  const i = cursor.after === undefined ? -1 : order.findIndex((it) => it.key === cursor.after);
  return i < 0 ? 0 : i + 1;
}

/** Scans the declared fleet from the cursor (or the start) for as long as the budget allows. */
export async function scanDrift(deps: DriftDeps, config: Config, options: ScanOptions = {}): Promise<ScanResult> {
  const order = scanOrder(config);
  const fp = fingerprint(order);
  const start = resumeAt(options.cursor, order, fp);
  const runs = (options.cursor?.runs ?? 0) + 1;
  const remaining = options.remainingMs ?? (() => Infinity);
  const perRun = config.drift.resourcesPerRun ?? Infinity;
  const end = Math.min(order.length, start + perRun);
  const sliceSize = Math.max(1, 2 * config.drift.concurrency);
  const cache: ReadCache = {};
  const tally: ApplyTally = { attempted: options.cursor?.attempted ?? 0, failed: options.cursor?.failed ?? 0, stopped: options.cursor?.stopped };
  // Corrections across all slices: drift.concurrency at once, as in one applyDrift.
  const limiter = createLimiter(config.drift.concurrency);
  const driftDeps: DriftDeps = { ...deps, remainingMs: options.remainingMs ?? deps.remainingMs };

  const results: { items: Item[]; run: DriftRun; applied: ApplyResult }[] = [];
  const inFlight = new Set<Promise<void>>();
  let longest = 0;
  let next = start;
  let slices = 0;
  let failure: unknown;

  const runSlice = async (items: Item[]): Promise<void> => {
    const t0 = monotonicNow();
    const sliceConfig: Config = {
      ...config,
      runtimes: items.filter((it) => it.kind === 'runtime').map((it) => config.runtimes[it.index]),
      gateways: items.filter((it) => it.kind === 'gateway').map((it) => config.gateways[it.index]),
    };
    const run = await readDrift(driftDeps, sliceConfig, { reportOnly: options.reportOnly, cache });
    const applied = await applyDrift(driftDeps, run, { tally, limiter, ...(options.guard && { guard: options.guard }) });
    await options.onSlice?.({ run, applied });
    results.push({ items, run, applied });
    longest = Math.max(longest, monotonicNow() - t0);
  };

  while (next < end && failure === undefined) {
    // Time for one more slice? (Always one per invocation: every run makes progress. Until a slice
    // has finished, its length is a guess: FIRST_SLICES_MIN_MS.)
    if (slices > 0 && remaining() < 1.25 * (longest > 0 ? longest : FIRST_SLICES_MIN_MS)) break;
    if (inFlight.size >= SLICES_IN_FLIGHT) {
      await Promise.race(inFlight);
      continue;
    }
    const items = order.slice(next, Math.min(end, next + sliceSize));
    next += items.length;
    slices++;
    const p: Promise<void> = runSlice(items).catch((err: unknown) => { failure ??= err; }).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;

  // Back to config order: runtimes, then gateways, each in declaration order.
  const rank = (kind: string, index: number) => (kind === 'runtime' ? index : config.runtimes.length + index);
  const planned: { at: number; plan: ResourcePlan }[] = [];
  const outcomes: { at: number; outcome: ApplyOutcome }[] = [];
  const notes: string[] = [];
  for (const { items, run, applied } of results) {
    // readDrift plans the slice's runtimes, then its gateways, each in slice order.
    const sliceRanks = [...items.filter((it) => it.kind === 'runtime'), ...items.filter((it) => it.kind === 'gateway')].map((it) => rank(it.kind, it.index));
    run.plan.resources.forEach((plan, i) => planned.push({ at: sliceRanks[i], plan }));
    const atOf = new Map(run.plan.resources.map((r, i) => [`${r.kind}:${r.ref}`, sliceRanks[i]]));
    for (const o of applied.outcomes) outcomes.push({ at: atOf.get(`${o.kind}:${o.ref}`) ?? 0, outcome: o });
    notes.push(...run.notes);
  }
  planned.sort((a, b) => a.at - b.at);
  outcomes.sort((a, b) => a.at - b.at);
  const plan = planOf(planned.map((p) => p.plan), deps.now());
  const combined = { plan, notes: [...new Set(notes)], settings: config.drift } as DriftRun;
  Object.defineProperty(combined, 'targets', { value: [], enumerable: false });
  Object.defineProperty(combined, 'config', { value: config, enumerable: false });

  const passStartedAt = options.cursor?.pass ?? options.passStartedAt ?? new Date(deps.now()).toISOString();
  let cursor: ScanCursor | undefined;
  let gaveUp: string | undefined;
  if (next < order.length) {
    if (runs >= MAX_RUNS_PER_PASS) {
      gaveUp = `pass ${passStartedAt} stopped after ${runs} runs at resource ${next} of ${order.length}; the next scheduled run starts a new pass`;
    } else {
      cursor = {
        pass: passStartedAt, next, total: order.length, order: fp, after: order[next - 1]?.key,
                // A lost lock stops this run's writes only: the next run takes the lock again.
        attempted: tally.attempted, failed: tally.failed, ...(tally.stopped && tally.stopped !== 'lock-lost' && { stopped: tally.stopped }), runs,
      };
    }
  }
  return {
    run: combined,
    outcomes: outcomes.map((o) => o.outcome),
    stopped: tally.stopped,
    cursor,
    range: { from: start, to: next, total: order.length },
    slices,
    longestSliceMs: Math.round(longest),
    ...(gaveUp && { gaveUp }),
  };
}
