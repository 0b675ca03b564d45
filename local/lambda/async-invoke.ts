/**
 * Lambda's asynchronous invocation, the way EventBridge (and S3, SNS, ...) invoke functions: the
 * Invoke call only queues the event (202); Lambda then runs the function from its own queue.
 * Source: AWS Lambda Developer Guide, "How Lambda handles errors and retries with asynchronous
 * invocation" (docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html),
 * "Configuring error handling for asynchronous invocation" and "Capturing records of Lambda
 * asynchronous invocations" (invocation-async-retain-records.html); API Reference
 * FunctionEventInvokeConfig.
 *
 * - A function error (an exception, a timeout, a runtime error) is retried MaximumRetryAttempts
 *   times (0-2, default 2): one minute before the first retry, two minutes before the second.
 * - A throttle (the function's reserved concurrency is in use) puts the event back: retried with
 *   a delay growing exponentially from 1 second to at most 5 minutes, for as long as the event is
 *   younger than MaximumEventAgeInSeconds (60-21600, default 6 hours).
 * - An event whose retries are exhausted (condition RetriesExhausted) or that got too old
 *   (EventAgeExceeded) goes, as an invocation record, to the on-failure destination when the
 *   function has one; otherwise Lambda discards it. A success goes to the on-success destination.
 * - Only Amazon SQS destinations are emulated (the stack's dead-letter queue); another kind is an
 *   error at configuration time.
 * Not modelled: duplicate deliveries of the same event (the docs warn they happen), and the
 * slower reading Lambda applies to a long queue.
 *
 * Delays run on the injected clock, so with an auto VirtualClock the 1 + 2 minutes of retries
 * take no real time.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { FunctionConfig } from './serverless-config.ts';
import { LambdaThrottledError, type LambdaRunner } from './runner.ts';

/** FunctionEventInvokeConfig (API Reference): what serverless.yml's function keys compile to. */
export interface AsyncInvokeConfig {
  /** 0-2; default 2. */
  maximumRetryAttempts: number;
  /** 60-21600 seconds; default 21600 (6 hours). */
  maximumEventAgeSeconds: number;
  onFailure?: string;
  onSuccess?: string;
}

export const DEFAULT_ASYNC_CONFIG: AsyncInvokeConfig = { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21_600 };
/** Waits before retry 1 and 2 after a function error ("one-minute wait ... two minutes"). */
export const FUNCTION_ERROR_RETRY_DELAYS_MS = [60_000, 120_000];
/** Throttle and system-error retries: "from 1 second after the first attempt to a maximum of 5 minutes". */
export const THROTTLE_RETRY_MIN_MS = 1_000;
export const THROTTLE_RETRY_MAX_MS = 300_000;

export type FailureCondition = 'RetriesExhausted' | 'EventAgeExceeded';

/** The invocation record Lambda sends to a destination (invocation-async-retain-records.html). */
export interface InvocationRecord {
  version: '1.0';
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: FailureCondition | 'Success';
    approximateInvokeCount: number;
  };
  requestPayload: unknown;
  responseContext?: { statusCode: number; executedVersion: string; functionError?: 'Unhandled' };
  responsePayload?: unknown;
}

export interface AsyncInvocation {
  requestId: string;
  functionKey: string;
  payload: unknown;
  enqueuedAt: number;
  /** Runs of the function (throttles not counted). */
  attempts: number;
  /** Clock time at which each run started. */
  attemptTimes: number[];
  throttles: number;
  outcome: 'pending' | 'succeeded' | 'failed';
  condition?: FailureCondition;
  /** `<name>: <message>` of every failed run. */
  errors: string[];
  /** The function's result, when it succeeded. */
  result?: unknown;
  /** Where the invocation record went (on-failure / on-success destination), if anywhere. */
  destination?: string;
  finishedAt?: number;
}

export interface AsyncLambdaOptions {
  runner: LambdaRunner;
  clock: Clock;
  /** The function's async settings (default: DEFAULT_ASYNC_CONFIG, no destination). */
  configOf: (f: FunctionConfig) => Partial<AsyncInvokeConfig>;
  /** Reserved concurrency of a function (undefined: unreserved, never throttled locally). */
  reservedConcurrencyOf?: (f: FunctionConfig) => number | undefined;
  /** Called for every throttled attempt (the stack records AWS/Lambda Throttles). */
  onThrottle?: (f: FunctionConfig) => void;
  /** Sends an invocation record to a destination ARN (throws for a destination that cannot take it). */
  deliver: (destinationArn: string, record: InvocationRecord) => Promise<void> | void;
}

export class AsyncLambda {
  readonly invocations: AsyncInvocation[] = [];
  private readonly opts: AsyncLambdaOptions;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly running = new Map<string, number>();

  constructor(opts: AsyncLambdaOptions) {
    this.opts = opts;
  }

  /**
   * `Invoke` with InvocationType Event: queues `payload` for the function and returns at once. The
   * returned `done` settles when Lambda is finished with the event (it never rejects: failures are
   * in the record). Throws ResourceNotFoundException, as the Invoke API does, for an unknown function.
   */
  invoke(target: string, payload: unknown): { requestId: string; statusCode: 202; done: Promise<AsyncInvocation> } {
    const f = this.opts.runner.resolve(target);
    const config = { ...DEFAULT_ASYNC_CONFIG, ...this.opts.configOf(f) };
    const inv: AsyncInvocation = {
      requestId: randomUUID(),
      functionKey: f.key,
      payload: JSON.parse(JSON.stringify(payload ?? null)),
      enqueuedAt: this.opts.clock.now(),
      attempts: 0,
      attemptTimes: [],
      throttles: 0,
      outcome: 'pending',
      errors: [],
    };
    this.invocations.push(inv);
    const done = this.process(f, config, inv);
    const tracked = done.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
    return { requestId: inv.requestId, statusCode: 202, done };
  }

  /** Resolves when no queued event is waiting or running. */
  async whenIdle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  pendingCount(): number {
    return this.pending.size;
  }

  private async process(f: FunctionConfig, config: AsyncInvokeConfig, inv: AsyncInvocation): Promise<AsyncInvocation> {
    const { clock } = this.opts;
    // The Invoke call has returned before the function runs.
    await new Promise<void>((r) => setImmediate(r));
    const maxAgeMs = config.maximumEventAgeSeconds * 1000;
    const tooOld = () => clock.now() - inv.enqueuedAt > maxAgeMs;
    let lastError: unknown;
    let throttleDelay = THROTTLE_RETRY_MIN_MS;
    let throttled = false;
    for (;;) {
      if (tooOld()) return this.fail(f, inv, 'EventAgeExceeded', lastError, config);
      const limit = this.opts.reservedConcurrencyOf?.(f);
      const busy = this.running.get(f.key) ?? 0;
      if (limit !== undefined && busy >= limit) {
        // Throttled (429): back to the queue, exponential backoff, bounded by the event age only.
        inv.throttles++;
        this.opts.onThrottle?.(f);
        await clock.sleep(throttleDelay);
        throttleDelay = Math.min(throttleDelay * 2, THROTTLE_RETRY_MAX_MS);
        continue;
      }
      inv.attempts++;
      inv.attemptTimes.push(clock.now());
      this.running.set(f.key, busy + 1);
      try {
        inv.result = await this.opts.runner.invoke(f.key, inv.payload);
        inv.outcome = 'succeeded';
        inv.finishedAt = clock.now();
        if (config.onSuccess) await this.send(config.onSuccess, inv, this.record(f, inv, 'Success', undefined));
        return inv;
      } catch (err) {
        if (err instanceof LambdaThrottledError) {
          // At its reserved concurrency through another caller (a synchronous Invoke, a Step
          // Functions task): not run, so not an attempt; back to the queue like any throttle.
          inv.attempts--;
          inv.attemptTimes.pop();
          inv.throttles++; // its Throttles metric is the runner's (local/monitoring.ts)
          throttled = true;
        } else {
          lastError = err;
          inv.errors.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
        }
      } finally {
        this.running.set(f.key, (this.running.get(f.key) ?? 1) - 1);
      }
      if (throttled) {
        throttled = false;
        await clock.sleep(throttleDelay);
        throttleDelay = Math.min(throttleDelay * 2, THROTTLE_RETRY_MAX_MS);
        continue;
      }
      const retry = inv.attempts; // the retry about to be made, 1-based
      if (retry > config.maximumRetryAttempts) return this.fail(f, inv, 'RetriesExhausted', lastError, config);
      const delay = FUNCTION_ERROR_RETRY_DELAYS_MS[retry - 1];
      // An event that would be too old when its retry comes up is given up now.
      if (clock.now() + delay - inv.enqueuedAt > maxAgeMs) return this.fail(f, inv, 'EventAgeExceeded', lastError, config);
      await clock.sleep(delay);
    }
  }

  private async fail(f: FunctionConfig, inv: AsyncInvocation, condition: FailureCondition, error: unknown, config: AsyncInvokeConfig): Promise<AsyncInvocation> {
    inv.outcome = 'failed';
    inv.condition = condition;
    inv.finishedAt = this.opts.clock.now();
    if (config.onFailure) await this.send(config.onFailure, inv, this.record(f, inv, condition, error));
    return inv;
  }

  private async send(destination: string, inv: AsyncInvocation, record: InvocationRecord): Promise<void> {
    try {
      await this.opts.deliver(destination, record);
      inv.destination = destination;
    } catch (err) {
      // Lambda reports this as the DestinationDeliveryFailures metric; the record is lost.
      inv.errors.push(`destination delivery failed: ${(err as Error).message}`);
    }
  }

  private record(f: FunctionConfig, inv: AsyncInvocation, condition: InvocationRecord['requestContext']['condition'], error: unknown): InvocationRecord {
    const record: InvocationRecord = {
      version: '1.0',
      timestamp: new Date(this.opts.clock.now()).toISOString(),
      requestContext: { requestId: inv.requestId, functionArn: `${f.arn}:$LATEST`, condition, approximateInvokeCount: inv.attempts },
      requestPayload: inv.payload,
    };
    if (inv.attempts === 0) return record; // expired before any run: nothing to report of a response
    if (condition === 'Success') {
      record.responseContext = { statusCode: 200, executedVersion: '$LATEST' };
      record.responsePayload = inv.result ?? null;
    } else {
      record.responseContext = { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' };
      const e = error instanceof Error ? error : new Error(String(error));
      // The Node.js runtime's error document (Lambda Developer Guide, "AWS Lambda function errors in
      // Node.js"): errorType, errorMessage, trace (the stack, first line included).
      record.responsePayload = { errorType: e.name, errorMessage: e.message, trace: (e.stack ?? `${e.name}: ${e.message}`).split('\n') };
    }
    return record;
  }
}
