/**
 * Client-side pacing of AWS API calls: one token bucket per operation, sized from the account's
 * per-operation quotas, so a large run uses each operation's budget without being refused for it.
 *
 * AgentCore Control limits every operation separately ("Rate of <Operation> requests" in Service
 * Quotas), and answers a call beyond it with ThrottlingException (429). Discovering the quota by
 * being refused costs a wasted call, a backoff of up to 20 s in the SDK, and the goodwill of
 * every other tool sharing the account's quota. So calls wait here, before they are signed and
 * sent, until their operation's bucket allows them:
 *
 * - The bucket is a GCRA (virtual scheduling) limiter: each caller reserves the next slot of its
 *   operation, first come first served, and sleeps until it; nothing polls.
 * - Rate = quota x `share` (headroom for clock jitter and for the other callers of the account);
 *   the burst is half a second of that rate, so the service's own bucket (sized to one second of
 *   the quota) never runs dry because of us.
 * - Adaptive back-off: a ThrottlingException (someone else is using the same quota, another
 *   container of the same function, or the configured quota is too high) lowers the operation's
 *   rate to 70 % and pauses it for one slot, at most once a second (the calls already in flight
 *   when the first refusal comes back say nothing new); the rate then climbs back linearly to the
 *   configured rate over `recoverMs`. An operation without a quota is not paced.
 *
 * Time and sleep are injected (real time by default): quotas are real-time limits. The pacer is
 * per process (per Lambda container); containers do not coordinate, which is what the adaptive
 * back-off is for.
 */
import type { BedrockAgentCoreControlClient } from '@aws-sdk/client-bedrock-agentcore-control';
import { monotonicNow, sleep as defaultSleep } from './time.ts';

/** Requests per second per operation; `default` covers every operation not listed. */
export interface QuotaTable {
  default?: number;
  operations?: Record<string, number>;
}

export interface PacerOptions {
  quotas?: QuotaTable;
  /** Fraction of each quota the pacer lets through (default 0.95). */
  share?: number;
  /** Milliseconds for a throttled operation's rate to climb back to the configured rate (default 5 000). */
  recoverMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface OperationStats {
  /** Configured requests per second (after `share`). */
  rate: number;
  /** Current rate (lower after throttling). */
  currentRate: number;
  calls: number;
  throttled: number;
  /** Total time callers waited for a slot (ms). */
  waitedMs: number;
}

interface OperationState {
  /** Rate after `share` (req/s); Infinity for an operation without a quota (never paced). */
  configured: number;
  /** Current rate (lower than `configured` after throttling). */
  rate: number;
  /** Theoretical arrival time of the next call (ms, on `now`). */
  tat: number;
  /** When the rate was last lowered or raised (ms). */
  adjustedAt: number;
  /** When the rate was last lowered (ms). */
  loweredAt: number;
  calls: number;
  throttled: number;
  waitedMs: number;
}

/** Lowest rate a throttled operation falls to, as a share of its configured rate. */
const FLOOR = 0.05;
/** Multiplicative decrease on a throttle, and the least time between two decreases (ms). */
const DECREASE = 0.7;
const DECREASE_EVERY_MS = 1_000;

/** Half a second of calls (at least one) may go at once: the service's bucket holds a second's worth. */
const burstOf = (rate: number) => Math.max(1, Math.floor(rate / 2));

export class Pacer {
  private quotas: QuotaTable;
  private share: number;
  private readonly recoverMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly ops = new Map<string, OperationState>();

  constructor(options: PacerOptions = {}) {
    this.quotas = options.quotas ?? {};
    this.share = options.share ?? 0.95;
    this.recoverMs = options.recoverMs ?? 5_000;
    this.now = options.now ?? monotonicNow;
    this.sleep = options.sleep ?? defaultSleep;
  }

  /** Replaces the quotas (e.g. once the config is loaded); operations already paced restart at the new rate. */
  configure(quotas: QuotaTable, share = this.share): void {
    this.quotas = quotas;
    this.share = share;
    this.ops.clear();
  }

  /** Requests per second the pacer allows `operation` by its quota (Infinity when it has none). */
  rateOf(operation: string): number {
    const quota = this.quotas.operations?.[operation] ?? this.quotas.default;
    return quota === undefined || !(quota > 0) ? Infinity : quota * this.share;
  }

  private state(operation: string, now: number): OperationState {
    let s = this.ops.get(operation);
    if (!s) {
      const rate = this.rateOf(operation);
      s = { configured: rate, rate, tat: now, adjustedAt: now, loweredAt: -Infinity, calls: 0, throttled: 0, waitedMs: 0 };
      this.ops.set(operation, s);
    }
    return s;
  }

  /** Waits for the operation's next slot; resolves with the time waited (ms). */
  async acquire(operation: string): Promise<number> {
    const now = this.now();
    const s = this.state(operation, now);
    s.calls++;
    if (!Number.isFinite(s.rate)) return 0;
    this.recover(s, now);
    const interval = 1000 / s.rate;
    const burst = burstOf(s.rate);
    const tat = Math.max(s.tat, now);
    const allowedAt = tat - (burst - 1) * interval;
    s.tat = tat + interval;
    const wait = allowedAt - now;
    if (wait <= 0) return 0;
    s.waitedMs += wait;
    await this.sleep(wait);
    return wait;
  }

  /**
   * A call of `operation` was throttled by the service: slow the operation down (at most once a
   * second). An operation without a quota is only counted: with nothing to size a bucket from,
   * the SDK's and autopilot's retry backoff handle it.
   */
  throttled(operation: string): void {
    const now = this.now();
    const s = this.state(operation, now);
    s.throttled++;
    if (!Number.isFinite(s.configured) || now - s.loweredAt < DECREASE_EVERY_MS) return;
    this.recover(s, now);
    s.rate = Math.max(s.configured * FLOOR, s.rate * DECREASE);
    s.adjustedAt = now;
    s.loweredAt = now;
    // No burst credit left, and the next call one slot away.
    s.tat = Math.max(s.tat, now + burstOf(s.rate) * (1000 / s.rate));
  }

  /** Linear climb back towards the configured rate, `recoverMs` from the floor to the top. */
  private recover(s: OperationState, now: number): void {
    if (s.rate >= s.configured) return;
    const elapsed = now - s.adjustedAt;
    if (elapsed <= 0) return;
    s.rate = Math.min(s.configured, s.rate + (s.configured * elapsed) / this.recoverMs);
    s.adjustedAt = now;
  }

  /** Per-operation counters (for run summaries and benchmarks). */
  stats(): Record<string, OperationStats> {
    return Object.fromEntries([...this.ops].map(([op, s]) => [op, {
      rate: s.configured, currentRate: s.rate, calls: s.calls, throttled: s.throttled, waitedMs: Math.round(s.waitedMs),
    }]));
  }
}

/** Whether an SDK error is the service refusing the call for its rate. */
export function isThrottle(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === 'ThrottlingException' || e?.name === 'ThrottledException' || e?.$metadata?.httpStatusCode === 429;
}

type Stack = BedrockAgentCoreControlClient['middlewareStack'];

/**
 * Adds pacing to an SDK client: after the retry middleware (every attempt, retries included,
 * takes a slot) and before signing (the signature is dated after the wait).
 */
export function addPacing(client: { middlewareStack: Stack }, pacer: Pacer): void {
  type Middleware = Parameters<Stack['addRelativeTo']>[0];
  const middleware = ((next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
    const operation = String(context.commandName ?? '').replace(/Command$/, '');
    await pacer.acquire(operation);
    try {
      return await next(args);
    } catch (err) {
      if (isThrottle(err)) pacer.throttled(operation);
      throw err;
    }
  }) as unknown as Middleware;
  client.middlewareStack.addRelativeTo(middleware, { relation: 'after', toMiddleware: 'retryMiddleware', name: 'autopilotPacing', override: true });
}

let agentCore: Pacer | undefined;

/**
 * The process-wide pacer of AgentCore Control calls (one per Lambda container). Without quotas in
 * the config it paces nothing: AWS lists the control-plane rates per operation in Service Quotas
 * ("Rate of <Operation> requests") and they differ per operation and account (the ones seen for
 * this API range from 5 to 10), and no AWS page states them all, so autopilot does not guess
 * them: operators copy their account's values under `quotas.agentcore` in the config.
 */
export function agentCorePacer(): Pacer {
  agentCore ??= new Pacer();
  return agentCore;
}

/** Sizes the process-wide AgentCore pacer from the config's `quotas` section. */
export function configureAgentCorePacing(quotas: { share: number; agentcore: Record<string, number> }): void {
  const { default: fallback, ...operations } = quotas.agentcore;
  agentCorePacer().configure({ ...(fallback !== undefined && { default: fallback }), operations }, quotas.share);
}
