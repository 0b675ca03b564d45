/**
 * Runs the project's real Lambda handlers in-process, the way the Lambda Node.js 24 runtime would:
 * the handler module (the TypeScript source; Node strips the types) is imported once per function
 * and the named export is called with a JSON copy of the event and a realistic context.
 *
 * Environment. Handlers read `process.env`. Each invocation sees exactly
 *   runner `env`  <  the function's environment from serverless.yml  <  Lambda's reserved variables
 * (AWS_LAMBDA_FUNCTION_NAME, AWS_REGION, ...). Instead of mutating the process-wide environment
 * (which would force concurrent invocations with different environments to be serialised),
 * `process.env` is replaced once by a proxy that reads the current invocation's environment from
 * an AsyncLocalStorage: every invocation, including the timers and I/O it starts, sees its own
 * environment, invocations run concurrently, and nothing leaks: code outside an invocation (the
 * emulator, the tests) sees the real process environment, unchanged. Writes a handler makes to
 * `process.env` stay in its own invocation.
 *
 * Timeout. The function's `timeout` (serverless default 6 s) is measured on the runner's clock
 * (default: wall time; handler code runs in real time, so an auto-advancing VirtualClock would time
 * out handlers that await real I/O: pass one only on purpose). When it elapses the invocation
 * rejects with a `LambdaTimeoutError` named `Sandbox.Timedout`, the errorType the Lambda service
 * reports for a timed-out invoke, with its message `RequestId: <id> Error: Task timed out after
 * N.00 seconds`. In-process code cannot be killed: the handler's promise is abandoned.
 *
 * Errors thrown by a handler are rethrown as they are (same object, same `name`): Step Functions
 * Retry/Catch match on the name.
 *
 * Reserved concurrency. A function with `reservedConcurrency` runs at most that many invocations
 * at once; one more is not run but throttled: `LambdaThrottledError`, the Invoke API's
 * TooManyRequestsException (429, Reason ReservedFunctionConcurrentInvocationLimitExceeded: Lambda
 * API Reference, Invoke, Errors; Developer Guide, "Configuring reserved concurrency"). A Step
 * Functions task sees it as `Lambda.TooManyRequestsException`; the asynchronous queue
 * (async-invoke.ts) puts the event back and tries again later.
 *
 * Shared module state: all functions share one module graph (a real Lambda has one process per
 * function); a handler module's top-level code runs once per process, when the first invocation
 * loads it, outside that invocation's environment. Whatever depends on a function's environment
 * is read per invocation (the log level: followEnvironmentLogLevel in functions/lib/logger.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { SystemClock, type Clock } from '../clock.ts';
import type { FunctionConfig, ServerlessConfig } from './serverless-config.ts';

export interface LambdaRunnerOptions {
  config: ServerlessConfig;
  /** Base environment of every invocation, e.g. `{ AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ... }`. */
  env?: Record<string, string | undefined>;
  /** Clock the timeout and getRemainingTimeInMillis() are measured on (default: wall time). */
  clock?: Clock;
}

export interface InvokeOptions {
  /** Aborts the wait for the handler (the handler itself keeps running in the background). */
  signal?: AbortSignal;
}

export interface InvocationRecord {
  requestId: string;
  functionKey: string;
  /** clock.now() at start and end. */
  startedAt: number;
  endedAt?: number;
  outcome?: 'succeeded' | 'failed' | 'timedOut';
  /** Error name when the invocation failed. */
  error?: string;
}

export interface LambdaRunner {
  /** Invokes a function by serverless key, deployed name or (qualified) function ARN; resolves to its JSON result. */
  invoke(target: string, event: unknown, opts?: InvokeOptions): Promise<unknown>;
  /** The function a key, name or ARN denotes (throws `ResourceNotFoundException` when none). */
  resolve(target: string): FunctionConfig;
  /** Every invocation so far, in start order. */
  readonly invocations: readonly InvocationRecord[];
}

/** The function is at its reserved concurrency: this invocation was not run (HTTP 429). */
export class LambdaThrottledError extends Error {
  readonly reason = 'ReservedFunctionConcurrentInvocationLimitExceeded';
  readonly statusCode = 429;
  /** An error of the Lambda service, not of the function (Step Functions prefixes it with `Lambda.`). */
  readonly serviceError = true;
  constructor(functionName: string) {
    super(`Rate Exceeded. (function ${functionName} is at its reserved concurrency)`);
    this.name = 'TooManyRequestsException';
  }
}

/** The invocation ran past the function's timeout. */
export class LambdaTimeoutError extends Error {
  readonly requestId: string;
  readonly timeoutSeconds: number;
  constructor(requestId: string, timeoutSeconds: number) {
    super(`RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`);
    this.name = 'Sandbox.Timedout';
    this.requestId = requestId;
    this.timeoutSeconds = timeoutSeconds;
  }
}

/** No function with that key, name or ARN in the config. */
export class FunctionNotFoundError extends Error {
  constructor(target: string) {
    super(`Function not found: ${target}`);
    this.name = 'ResourceNotFoundException';
  }
}

/** The handler module or its export could not be loaded. */
export class HandlerLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Runtime.ImportModuleError';
  }
}

// --- per-invocation process.env ---------------------------------------------------------------

const envStore = new AsyncLocalStorage<Record<string, string>>();
let envProxy: NodeJS.ProcessEnv | undefined;
let realEnv: NodeJS.ProcessEnv | undefined;

function installEnvProxy(): void {
  if (envProxy && process.env === envProxy) return;
  const base = process.env;
  realEnv = base;
  const current = (): Record<string, string | undefined> => envStore.getStore() ?? base;
  envProxy = new Proxy(base, {
    get: (_t, k) => (typeof k === 'string' ? current()[k] : Reflect.get(base, k)),
    set: (_t, k, v) => {
      if (typeof k !== 'string') return false;
      current()[k] = String(v);
      return true;
    },
    has: (_t, k) => typeof k === 'string' && k in current(),
    deleteProperty: (_t, k) => (typeof k === 'string' ? delete current()[k] : true),
    ownKeys: () => Reflect.ownKeys(current()),
    getOwnPropertyDescriptor: (_t, k) => {
      const env = current();
      if (typeof k !== 'string' || !(k in env)) return undefined;
      return { value: env[k], writable: true, enumerable: true, configurable: true };
    },
    defineProperty: (_t, k, d) => {
      if (typeof k !== 'string') return false;
      current()[k] = String(d.value);
      return true;
    },
  }) as NodeJS.ProcessEnv;
  process.env = envProxy;
}

/** The real process environment (outside any invocation), for tests. */
export function processEnvironment(): NodeJS.ProcessEnv {
  return realEnv ?? process.env;
}

// --- runner -----------------------------------------------------------------------------------

const MODULE_EXTENSIONS = ['.ts', '.mts', '.mjs', '.js', '.cjs'];

export function createLambdaRunner(opts: LambdaRunnerOptions): LambdaRunner {
  const { config } = opts;
  const clock = opts.clock ?? new SystemClock();
  const baseEnv = opts.env ?? {};
  const invocations: InvocationRecord[] = [];
  const handlers = new Map<string, Promise<(event: unknown, context: Context) => unknown>>();

  const byName = new Map<string, FunctionConfig>();
  for (const f of Object.values(config.functions)) {
    byName.set(f.key, f);
    byName.set(f.name, f);
    byName.set(f.arn, f);
  }

  function resolve(target: string): FunctionConfig {
    const direct = byName.get(target);
    if (direct) return direct;
    // Qualified ARN (…:function:name:$LATEST / alias) or partial ARN (123456789012:function:name).
    const m = /(?:^|:)function:([^:]+)(?::[^:]+)?$/.exec(target);
    const f = m ? byName.get(m[1]) : undefined;
    if (!f) throw new FunctionNotFoundError(target);
    return f;
  }

  function loadHandler(f: FunctionConfig): Promise<(event: unknown, context: Context) => unknown> {
    let p = handlers.get(f.key);
    if (!p) {
      p = (async () => {
        const base = resolvePath(config.serviceDir, f.handler.file);
        const file = MODULE_EXTENSIONS.map((ext) => base + ext).find((c) => existsSync(c));
        if (!file) {
          throw new HandlerLoadError(`Cannot find module '${f.handler.file}' for function ${f.key} (looked for ${MODULE_EXTENSIONS.map((e) => base + e).join(', ')})`);
        }
        const mod = await import(pathToFileURL(file).href) as Record<string, unknown>;
        const fn = mod[f.handler.export];
        if (typeof fn !== 'function') {
          throw new HandlerLoadError(`${f.handler.file}.${f.handler.export} is undefined or not exported (function ${f.key})`);
        }
        return fn as (event: unknown, context: Context) => unknown;
      })();
      handlers.set(f.key, p);
      p.catch(() => handlers.delete(f.key));
    }
    return p;
  }

  const inFlight = new Map<string, number>();

  async function invoke(target: string, event: unknown, invokeOpts: InvokeOptions = {}): Promise<unknown> {
    const f = resolve(target);
    const busy = inFlight.get(f.key) ?? 0;
    if (f.reservedConcurrency !== undefined && busy >= f.reservedConcurrency) throw new LambdaThrottledError(f.name);
    inFlight.set(f.key, busy + 1);
    try {
      return await runInvocation(f, target, event, invokeOpts);
    } finally {
      inFlight.set(f.key, (inFlight.get(f.key) ?? 1) - 1);
    }
  }

  async function runInvocation(f: FunctionConfig, target: string, event: unknown, invokeOpts: InvokeOptions): Promise<unknown> {
    const requestId = globalThis.crypto.randomUUID();
    const startedAt = clock.now();
    const record: InvocationRecord = { requestId, functionKey: f.key, startedAt };
    invocations.push(record);
    const finish = (outcome: InvocationRecord['outcome'], error?: string) => {
      record.endedAt = clock.now();
      record.outcome = outcome;
      if (error) record.error = error;
    };

    let handler: (event: unknown, context: Context) => unknown;
    try {
      handler = await loadHandler(f);
    } catch (err) {
      finish('failed', (err as Error).name);
      throw err;
    }

    const invokedArn = target.startsWith('arn:') ? target : f.arn;
    const deadline = startedAt + f.timeout * 1000;
    const logStreamName = `${new Date(startedAt).toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${requestId.replace(/-/g, '')}`;
    const logGroupName = `/aws/lambda/${f.name}`;

    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(baseEnv)) if (v !== undefined) env[k] = v;
    Object.assign(env, f.environment, {
      AWS_REGION: config.region,
      AWS_DEFAULT_REGION: config.region,
      AWS_LAMBDA_FUNCTION_NAME: f.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(f.memorySize),
      AWS_LAMBDA_LOG_GROUP_NAME: logGroupName,
      AWS_LAMBDA_LOG_STREAM_NAME: logStreamName,
      AWS_EXECUTION_ENV: `AWS_Lambda_${f.runtime ?? 'nodejs24.x'}`,
      LAMBDA_TASK_ROOT: config.serviceDir,
      _HANDLER: `${f.handler.file}.${f.handler.export}`,
    });

    let settle: { resolve: (v: unknown) => void; reject: (e: unknown) => void } | undefined;
    const legacy = new Promise<unknown>((resolve, reject) => { settle = { resolve, reject }; });
    const context: Context = {
      awsRequestId: requestId,
      functionName: f.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: invokedArn,
      memoryLimitInMB: String(f.memorySize),
      logGroupName,
      logStreamName,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - clock.now()),
      // Deprecated completion methods, still part of the context object.
      done: (error?: Error, result?: unknown) => (error ? settle!.reject(error) : settle!.resolve(result)),
      fail: (error: Error | string) => settle!.reject(typeof error === 'string' ? new Error(error) : error),
      succeed: (result: unknown) => settle!.resolve(result),
    };

    installEnvProxy();
    // Lambda hands the handler a fresh deserialised copy of the JSON payload.
    const payload = event === undefined ? null : JSON.parse(JSON.stringify(event));
    const run = envStore.run(env, () => {
      try {
        return Promise.race([Promise.resolve(handler(payload, context)), legacy]);
      } catch (err) {
        return Promise.reject(err);
      }
    });

    const timer = new AbortController();
    const signals = invokeOpts.signal ? AbortSignal.any([timer.signal, invokeOpts.signal]) : timer.signal;
    const timeout = clock.sleep(f.timeout * 1000, signals).then(
      () => { throw new LambdaTimeoutError(requestId, f.timeout); },
      (reason: unknown) => {
        if (invokeOpts.signal?.aborted) throw reason;
        return new Promise<never>(() => {});
      },
    );
    try {
      const result = await Promise.race([run, timeout]);
      finish('succeeded');
      // Lambda serialises the result as JSON (undefined becomes null).
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    } catch (err) {
      finish(err instanceof LambdaTimeoutError ? 'timedOut' : 'failed', (err as Error)?.name ?? 'Error');
      throw err;
    } finally {
      timer.abort();
    }
  }

  return { invoke, resolve, invocations };
}
