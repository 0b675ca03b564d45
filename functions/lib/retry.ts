/**
 * Retry with exponential backoff and full jitter inside a time budget. The SDK already retries
 * throttling and 5xx three times, but not ConflictException (the runtime is UPDATING), and a
 * Lambda invocation must give up before its own timeout rather than be killed mid-call: the
 * caller passes `deadline` (ms left, e.g. `context.getRemainingTimeInMillis() - margin`) and we
 * never start a wait that would end past it. Clock and randomness are injected (`sleep`,
 * `random`), so tests are deterministic and nothing here reads a timer of its own.
 */
import { AutopilotError } from './errors.ts';

export interface RetryOptions {
  /** Whether an error is worth another attempt; others are rethrown at once, unwrapped. */
  isRetryable: (err: unknown) => boolean;
  /** First backoff ceiling in ms (attempt n waits random() * min(maxMs, baseMs * 2^(n-1))). */
  baseMs: number;
  /** Ceiling of any single wait, in ms. */
  maxMs: number;
  /** Milliseconds left in the budget, asked before every wait. */
  deadline: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Uniform in [0, 1); Math.random by default. */
  random?: () => number;
  /** Hard cap on attempts (default 50), a guard for a budget that does not shrink. */
  maxAttempts?: number;
  /** Called before each wait, e.g. to log (never log the error's message if it may carry values). */
  onRetry?: (info: { attempt: number; waitMs: number; error: unknown }) => void;
}

/** The budget (time or attempts) ran out while the error was still retryable; `cause` is the last error. */
export class RetryBudgetExceededError extends AutopilotError {
  readonly attempts: number;
  constructor(attempts: number, lastError: unknown, why: 'deadline' | 'max-attempts') {
    const lastName = lastError instanceof Error ? lastError.name : 'non-Error value';
    super(`gave up after ${attempts} attempt(s) (${why === 'deadline' ? 'time budget exhausted' : 'attempt cap reached'}); last error: ${lastName}`, {
      cause: lastError,
      details: { attempts, reason: why, lastErrorName: lastName },
    });
    this.attempts = attempts;
  }
}

export const DEFAULT_MAX_ATTEMPTS = 50;

/** The full-jitter wait before attempt `attempt + 1` (attempt counts from 1). */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Calls `fn` until it resolves, a non-retryable error occurs (rethrown as is), or the next wait
 * would not fit in the budget / the attempt cap is reached (RetryBudgetExceededError). The first
 * attempt always runs. `fn` receives the attempt number (1-based).
 */
export async function retryWithBackoff<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { isRetryable, baseMs, maxMs, deadline, sleep } = options;
  const random = options.random ?? Math.random;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!(baseMs >= 0) || !(maxMs >= 0)) throw new RangeError('retryWithBackoff: baseMs and maxMs must be >= 0');
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError('retryWithBackoff: maxAttempts must be an integer >= 1');

  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isRetryable(err)) throw err;
      if (attempt >= maxAttempts) throw new RetryBudgetExceededError(attempt, err, 'max-attempts');
      const waitMs = backoffMs(attempt, baseMs, maxMs, random);
      // The attempt after the wait needs time too: a wait that uses up the whole budget is useless.
      if (waitMs >= deadline()) throw new RetryBudgetExceededError(attempt, err, 'deadline');
      options.onRetry?.({ attempt, waitMs, error: err });
      await sleep(waitMs);
    }
  }
}
