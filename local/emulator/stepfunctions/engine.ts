/**
 * Runs one Step Functions execution: the real ASL, interpreted by aws-local-stepfunctions, with
 * everything that involves time or the outside world routed through the emulator:
 *
 * - Wait states follow the injected Clock. The library would sleep in real time, so each Wait state
 *   is handed to it as a Task state whose local handler computes the wait (Seconds, Timestamp,
 *   SecondsPath, TimestampPath, on the state's effective input) and sleeps on the clock. The
 *   library's events still mark the state's entry and exit, and the history records it as
 *   `WaitStateEntered`/`WaitStateExited`: transitions are counted as AWS counts them.
 * - Retry intervals follow the clock: the library's own retry sleep is overridden to 0 for Task
 *   states and the same interval (IntervalSeconds × BackoffRate^n, MaxDelaySeconds, JitterStrategy)
 *   is slept on the clock before the next attempt. (Retry on Parallel/Map states retries at once.)
 * - Task states: Lambda function ARNs and `arn:aws:states:::lambda:invoke[.waitForTaskToken]` run
 *   the real handler through the local Lambda runner; `arn:aws:states:::events:putEvents
 *   [.waitForTaskToken]` hands the entries to the injected putEvents callback (the EventBridge
 *   stand-in). `.waitForTaskToken` tasks then park until SendTaskSuccess/Failure answers the token
 *   that `$$.Task.Token` put into their Parameters, or until TimeoutSeconds/HeartbeatSeconds elapse
 *   on the clock (States.Timeout / States.HeartbeatTimeout).
 * - TimeoutSeconds of a state and of the execution: the parts of a task that wait on something
 *   time-driven (task tokens) are bounded on the clock; a running Lambda handler is real code
 *   running in real time, so the task timeout is measured in wall time while it runs (an
 *   auto-advancing VirtualClock would otherwise expire it while the handler awaits I/O). The
 *   execution timeout is checked on the clock whenever the execution waits and after each task.
 *
 * - Service limits (Step Functions developer guide, "Step Functions service quotas" and "Error
 *   handling"): a state's input or output, and a task's result, of more than 256 KiB (UTF-8 bytes
 *   of the JSON) fail the execution with `States.DataLimitExceeded`, a terminal error that
 *   `States.ALL` does not catch (no Retry or Catch applies: the guide calls it terminal, so not
 *   even a catcher naming it is honoured here: the strict reading). The execution history holds at
 *   most 25,000 events ("a hard quota"; reaching it fails the execution): the 25,000th is the
 *   ExecutionFailed. The error name of that failure is not documented; `States.Runtime` is used.
 *
 * Known differences: `$$.State.*` and `$$.Execution.StartTime` come from the library (the latter in
 * wall time); `$$.Task.Token` is only meaningful in `.waitForTaskToken` tasks; JSONata is not run.
 */
import { randomUUID } from 'node:crypto';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { Clock } from '../../clock.ts';
import { queryReferencePath } from './jsonpath.ts';
import { HistoryRecorder, MAX_PAYLOAD_BYTES, jsonBytes } from './history.ts';
import { TokenRegistry, type TokenOutcome } from './tokens.ts';

export { MAX_HISTORY_EVENTS, MAX_PAYLOAD_BYTES } from './history.ts';
export { TokenRegistry, type TokenAnswer } from './tokens.ts';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface HistoryEvent {
  id: number;
  previousEventId: number;
  /** Clock time, epoch ms. */
  timestamp: number;
  type: string;
  /** Detail member name (e.g. `stateEnteredEventDetails`) -> details, as the API returns them. */
  details?: { key: string; value: Record<string, unknown> };
}

export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  /** JSON text, as in the PutEvents API. */
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: string;
  TraceHeader?: string;
}

export interface PutEventsOutput {
  Entries?: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[];
  FailedEntryCount?: number;
}

/** What executions need from the outside world. */
export interface EngineDeps {
  clock: Clock;
  region: string;
  accountId: string;
  /** Runs a Lambda function by ARN/name (the local Lambda runner's invoke). */
  invokeLambda?: (target: string, payload: unknown, opts?: { signal?: AbortSignal }) => Promise<unknown>;
  /** Delivers EventBridge entries (the EventBridge stand-in's PutEvents). */
  putEvents?: (entries: PutEventsEntry[]) => Promise<PutEventsOutput | void> | PutEventsOutput | void;
  /** Task tokens: registered while a `.waitForTaskToken` task waits. */
  tokens: TokenRegistry;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type StateDef = Record<string, unknown> & { Type: string };
interface Definition { StartAt: string; States: Record<string, StateDef>; TimeoutSeconds?: number; [k: string]: unknown }


/** Largest task timeout the library's setTimeout accepts without overflowing (ms < 2^31). */
const LIBRARY_MAX_TIMEOUT_SECONDS = 2_147_483;
const WAIT_RESOURCE = 'arn:aws:states:::emulator:wait';

// --- errors ----------------------------------------------------------------------------------

/** An error as the ASL sees it: `name` is the Error (matched by ErrorEquals), `message` the Cause. */
function stateError(name: string, cause: string): Error {
  const e = new Error(cause);
  e.name = name;
  return e;
}

let statesTimeoutCtor: (new () => Error) | undefined;

/**
 * aws-local-stepfunctions excludes its own StatesTimeoutError from `States.TaskFailed` (as AWS
 * does for States.Timeout) by `instanceof`, and does not export the class. We get it once from a
 * 1 ms probe run so that clock-driven timeouts are that class too.
 */
export async function loadStatesTimeoutClass(): Promise<void> {
  if (statesTimeoutCtor) return;
  const probe = new StateMachine(
    { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:probe', TimeoutSeconds: 0.001, End: true } } } as never,
    { validationOptions: { noValidate: true } },
  );
  const run = probe.run({}, { overrides: { taskResourceLocalHandlers: { T: () => new Promise<never>(() => {}) } } });
  try {
    await run.result;
  } catch (err) {
    const cause = (err as Error).cause as Error | undefined;
    if (cause?.name === 'States.Timeout') statesTimeoutCtor = cause.constructor as new () => Error;
  }
  if (!statesTimeoutCtor) throw new Error('aws-local-stepfunctions: could not obtain its States.Timeout error class');
}

function timeoutError(name: 'States.Timeout' | 'States.HeartbeatTimeout', cause: string): Error {
  const e = statesTimeoutCtor ? new statesTimeoutCtor() : new Error();
  e.name = name;
  e.message = cause;
  return e;
}

/** How AWS reports a Lambda function error to Step Functions: Error = errorType, Cause = JSON. */
function lambdaStateError(err: unknown): Error {
  const name = (err as Error)?.name || 'Error';
  const message = (err as Error)?.message ?? String(err);
  const trace = typeof (err as Error)?.stack === 'string' ? (err as Error).stack!.split('\n') : [];
  return stateError(name, JSON.stringify({ errorType: name, errorMessage: message, trace }));
}

// --- definition preprocessing ------------------------------------------------------------------

interface Prepared {
  definition: Definition;
  /** Original definition of every Task and Wait state, by name. */
  tasks: Map<string, StateDef>;
  waits: Map<string, StateDef>;
  originalTypes: Map<string, string>;
  mapItemsPaths: Map<string, string>;
}

function prepare(original: Definition): Prepared {
  const tasks = new Map<string, StateDef>();
  const waits = new Map<string, StateDef>();
  const originalTypes = new Map<string, string>();
  const mapItemsPaths = new Map<string, string>();

  const walk = (def: Definition): Definition => {
    const states: Record<string, StateDef> = {};
    for (const [name, s] of Object.entries(def.States)) {
      originalTypes.set(name, s.Type);
      if (s.Type === 'Wait') {
        waits.set(name, s);
        const t: StateDef = { Type: 'Task', Resource: WAIT_RESOURCE, TimeoutSeconds: LIBRARY_MAX_TIMEOUT_SECONDS };
        for (const k of ['InputPath', 'OutputPath', 'Next', 'End', 'Comment']) if (k in s) t[k] = s[k];
        states[name] = t;
      } else if (s.Type === 'Task') {
        tasks.set(name, s);
        const t: StateDef = { ...s, TimeoutSeconds: LIBRARY_MAX_TIMEOUT_SECONDS };
        delete t.TimeoutSecondsPath;
        delete t.HeartbeatSeconds;
        delete t.HeartbeatSecondsPath;
        states[name] = t;
      } else if (s.Type === 'Parallel') {
        states[name] = { ...s, Branches: (s.Branches as Definition[]).map(walk) };
      } else if (s.Type === 'Map') {
        const m: StateDef = { ...s };
        mapItemsPaths.set(name, (s.ItemsPath as string | undefined) ?? '$');
        if (s.Iterator) m.Iterator = walk(s.Iterator as Definition);
        if (s.ItemProcessor) m.ItemProcessor = walk(s.ItemProcessor as Definition);
        states[name] = m;
      } else {
        states[name] = s;
      }
    }
    const out: Definition = { ...def, States: states };
    delete out.TimeoutSeconds;
    return out;
  };
  return { definition: walk(original), tasks, waits, originalTypes, mapItemsPaths };
}

const validated = new Map<string, string | undefined>();

/**
 * Validates a definition the way the library would (asl-validator); returns the error text or
 * undefined. asl-validator takes ~0.5 s per call, so results are cached by definition text.
 */
export function validateDefinition(definition: unknown): string | undefined {
  const key = JSON.stringify(definition);
  if (validated.has(key)) return validated.get(key);
  let problem: string | undefined;
  try {
    new StateMachine(definition as never, { validationOptions: { checkArn: true, checkPaths: true } });
  } catch (err) {
    problem = (err as Error).message;
  }
  validated.set(key, problem);
  return problem;
}

// --- execution ---------------------------------------------------------------------------------

export interface ExecutionInit {
  executionArn: string;
  name: string;
  stateMachineArn: string;
  stateMachineName: string;
  roleArn: string;
  definition: Record<string, unknown>;
  /** Input JSON text. */
  input: string;
}

class AbortedByEmulator extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'ExecutionStopped';
  }
}

export class Execution {
  readonly executionArn: string;
  readonly name: string;
  readonly stateMachineArn: string;
  readonly input: string;
  readonly startDate: number;
  status: ExecutionStatus = 'RUNNING';
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  /** Resolves once the execution has stopped and its history is complete. */
  readonly done: Promise<void>;

  private readonly deps: EngineDeps;
  private readonly init: ExecutionInit;
  private readonly prepared: Prepared;
  private readonly recorder: HistoryRecorder;
  private readonly ctl = new AbortController();
  private readonly deadline: number;
  private readonly issued = new Set<string>();
  private libAbort?: () => void;
  private settleDone!: () => void;
  private readonly retries = new Map<string, { attempts: number[]; pendingDelayMs?: number }>();

  constructor(init: ExecutionInit, deps: EngineDeps) {
    this.init = init;
    this.deps = deps;
    this.executionArn = init.executionArn;
    this.name = init.name;
    this.stateMachineArn = init.stateMachineArn;
    this.input = init.input;
    this.startDate = deps.clock.now();
    this.prepared = prepare(init.definition as unknown as Definition);
    this.recorder = new HistoryRecorder(deps.clock, this.prepared.originalTypes, this.prepared.mapItemsPaths, (error, cause) => this.terminate(error, cause));
    const timeout = (init.definition as { TimeoutSeconds?: number }).TimeoutSeconds;
    this.deadline = typeof timeout === 'number' ? this.startDate + timeout * 1000 : Number.POSITIVE_INFINITY;
    this.done = new Promise((resolve) => { this.settleDone = resolve; });
  }

  get history(): readonly HistoryEvent[] {
    return this.recorder.events;
  }

  /** Starts running (returns at once). */
  start(): void {
    this.recorder.add('ExecutionStarted', {
      input: this.input, inputDetails: { truncated: false }, roleArn: this.init.roleArn,
      stateMachineAliasArn: undefined, stateMachineVersionArn: undefined,
    });
    void this.run();
  }

  /** StopExecution. */
  stop(error?: string, cause?: string): void {
    if (this.status !== 'RUNNING') return;
    this.finish('ABORTED', { error, cause });
    this.halt('aborted');
  }

  private halt(why: string): void {
    this.ctl.abort(new AbortedByEmulator(why));
    this.libAbort?.();
  }

  private finish(status: ExecutionStatus, r: { output?: string; error?: string; cause?: string }): void {
    if (this.status !== 'RUNNING') return;
    this.status = status;
    this.stopDate = this.deps.clock.now();
    this.output = r.output;
    this.error = r.error;
    this.cause = r.cause;
  }

  /** A terminal failure no Retry or Catch applies to (a service limit): FAILED, and the run stops. */
  private terminate(error: string, cause: string): void {
    this.finish('FAILED', { error, cause });
    this.halt(error);
  }

  private timedOut(): never {
    this.finish('TIMED_OUT', { error: 'States.Timeout', cause: 'The execution timed out.' });
    this.halt('timed out');
    throw this.ctl.signal.reason;
  }

  private checkDeadline(): void {
    if (this.deps.clock.now() >= this.deadline) this.timedOut();
  }

  /** Sleeps on the clock, bounded by the execution deadline and cancelled by stop/timeout. */
  private async sleep(ms: number): Promise<void> {
    const remaining = this.deadline - this.deps.clock.now();
    if (ms < remaining) {
      await this.deps.clock.sleep(ms, this.ctl.signal);
      return;
    }
    await this.deps.clock.sleep(remaining, this.ctl.signal);
    this.timedOut();
  }

  private async run(): Promise<void> {
    await loadStatesTimeoutClass();
    const { definition, tasks, waits } = this.prepared;
    const handlers: Record<string, (input: Json) => Promise<Json>> = {};
    const retryOverrides: Record<string, number> = {};
    for (const name of tasks.keys()) {
      handlers[name] = (input) => this.runTask(name, input);
      retryOverrides[name] = 0;
    }
    for (const name of waits.keys()) handlers[name] = (input) => this.runWait(name, input);
    for (const [name, s] of this.prepared.originalTypes) if (s === 'Parallel' || s === 'Map') retryOverrides[name] = 0;

    const tokens = this.deps.tokens;
    const issued = this.issued;
    const executionArn = this.executionArn;
    const context = {
      Execution: { Id: this.executionArn, Name: this.name, RoleArn: this.init.roleArn, StartTime: new Date(this.startDate).toISOString() },
      StateMachine: { Id: this.stateMachineArn, Name: this.init.stateMachineName },
      // A getter: each evaluation of $$.Task.Token issues a token; the task that receives it claims it.
      Task: Object.defineProperty({}, 'Token', {
        enumerable: true,
        get: () => {
          const t = tokens.issue(executionArn, '');
          issued.add(t);
          return t;
        },
      }),
    };

    let machine: StateMachine;
    try {
      machine = new StateMachine(definition as never, { validationOptions: { noValidate: true } });
    } catch (err) {
      this.finish('FAILED', { error: 'States.Runtime', cause: (err as Error).message });
      this.recorder.add('ExecutionFailed', { error: this.error, cause: this.cause });
      this.settleDone();
      return;
    }
    const run = machine.run(JSON.parse(this.input) as Json, {
      overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: retryOverrides },
      context: context as never,
    });
    this.libAbort = run.abort;
    if (this.status !== 'RUNNING') run.abort();

    const consumer = (async () => {
      for await (const ev of run.eventLogs) this.recorder.onLibraryEvent(ev as unknown as Record<string, unknown>);
    })();
    let outcome: { ok: true; output: unknown } | { ok: false; err: unknown };
    try {
      outcome = { ok: true, output: await run.result };
    } catch (err) {
      outcome = { ok: false, err };
    }
    await consumer;
    this.recorder.flushAll();

    if (this.status === 'RUNNING') {
      if (outcome.ok) {
        this.finish('SUCCEEDED', { output: JSON.stringify(outcome.output ?? null) });
      } else {
        const cause = outcome.err instanceof ExecutionError ? (outcome.err.cause as Error) : (outcome.err as Error);
        this.finish('FAILED', { error: cause?.name, cause: cause?.message });
      }
    }
    switch (this.status) {
      case 'SUCCEEDED':
        this.recorder.add('ExecutionSucceeded', { output: this.output, outputDetails: { truncated: false } });
        break;
      case 'FAILED':
        this.recorder.add('ExecutionFailed', { error: this.error, cause: this.cause });
        break;
      case 'ABORTED':
        this.recorder.add('ExecutionAborted', { error: this.error, cause: this.cause });
        break;
      case 'TIMED_OUT':
        this.recorder.add('ExecutionTimedOut', { error: this.error, cause: this.cause });
        break;
      default:
        break;
    }
    for (const t of this.issued) {
      const w = tokens.get(t);
      if (w) w.state = 'closed';
    }
    this.settleDone();
  }

  // --- Wait ----------------------------------------------------------------------------------

  private async runWait(name: string, input: Json): Promise<Json> {
    const s = this.prepared.waits.get(name)!;
    const now = this.deps.clock.now();
    let ms = 0;
    const at = (ts: unknown, field: string): number => {
      const t = typeof ts === 'string' ? Date.parse(ts) : Number.NaN;
      if (Number.isNaN(t)) throw stateError('States.Runtime', `${field} of Wait state ${name} is not an RFC3339 timestamp: ${JSON.stringify(ts)}`);
      return t - now;
    };
    if (typeof s.Seconds === 'number') ms = s.Seconds * 1000;
    else if (typeof s.Timestamp === 'string') ms = at(s.Timestamp, 'Timestamp');
    else if (typeof s.SecondsPath === 'string') {
      const v = queryReferencePath(s.SecondsPath, input);
      if (typeof v !== 'number' || v < 0) throw stateError('States.Runtime', `SecondsPath ${s.SecondsPath} of Wait state ${name} does not point to a non-negative number`);
      ms = v * 1000;
    } else if (typeof s.TimestampPath === 'string') ms = at(queryReferencePath(s.TimestampPath, input), 'TimestampPath');
    if (ms > 0) await this.sleep(ms);
    this.checkDeadline();
    return input;
  }

  // --- Task ----------------------------------------------------------------------------------

  private async runTask(name: string, input: Json): Promise<Json> {
    // Stopped (a terminal limit, StopExecution, a timeout): the library may still try a retrier; run nothing.
    if (this.ctl.signal.aborted) throw this.ctl.signal.reason;
    const s = this.prepared.tasks.get(name)!;
    const retry = this.retries.get(name);
    if (retry?.pendingDelayMs !== undefined) {
      const delay = retry.pendingDelayMs;
      retry.pendingDelayMs = undefined;
      if (delay > 0) await this.sleep(delay);
    }
    this.checkDeadline();
    // The effective input (after Parameters) and the task's result count against the payload quota.
    this.checkPayload(`The input of task ${name} (after Parameters)`, input);
    try {
      const out = await this.dispatchTask(name, s, input);
      this.checkPayload(`The result of task ${name}`, out);
      this.retries.delete(name);
      this.checkDeadline();
      return out;
    } catch (err) {
      if (this.ctl.signal.aborted) throw err;
      this.planRetry(name, s, err as Error);
      throw err;
    }
  }

  /** States.DataLimitExceeded (terminal: no Retry or Catch) when `value` is over the payload quota. */
  private checkPayload(what: string, value: unknown): void {
    const bytes = jsonBytes(value);
    if (bytes <= MAX_PAYLOAD_BYTES) return;
    this.terminate('States.DataLimitExceeded', `${what} is ${bytes} bytes, more than the ${MAX_PAYLOAD_BYTES}-byte payload quota.`);
    throw this.ctl.signal.reason;
  }

  /** Mirrors the library's retrier selection to know whether, and after how long, it retries. */
  private planRetry(name: string, s: StateDef, err: Error): void {
    const retriers = (s.Retry ?? []) as { ErrorEquals: string[]; IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number; MaxDelaySeconds?: number; JitterStrategy?: string }[];
    const state = this.retries.get(name) ?? { attempts: retriers.map(() => 0) };
    const isTimeout = statesTimeoutCtor !== undefined && err instanceof statesTimeoutCtor;
    for (let i = 0; i < retriers.length; i++) {
      const r = retriers[i];
      const match = r.ErrorEquals.some((e) => e === err.name || e === 'States.ALL' || (e === 'States.TaskFailed' && !isTimeout));
      if (!match) continue;
      if (state.attempts[i] >= (r.MaxAttempts ?? 3)) break;
      let seconds = (r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** state.attempts[i];
      if (r.MaxDelaySeconds) seconds = Math.min(seconds, r.MaxDelaySeconds);
      let ms = seconds * 1000;
      if (r.JitterStrategy === 'FULL') ms = Math.floor(Math.random() * (ms + 1));
      state.attempts[i]++;
      state.pendingDelayMs = ms;
      this.retries.set(name, state);
      return;
    }
    this.retries.delete(name);
  }

  private taskTimeoutSeconds(s: StateDef, input: Json): number | undefined {
    return secondsOf(s, 'TimeoutSeconds', input);
  }

  private heartbeatSeconds(s: StateDef, input: Json): number | undefined {
    return secondsOf(s, 'HeartbeatSeconds', input);
  }

  private async dispatchTask(name: string, s: StateDef, input: Json): Promise<Json> {
    const resource = String(s.Resource);
    const timeout = this.taskTimeoutSeconds(s, input);
    if (/^arn:aws[\w-]*:lambda:[^:]+:\d{12}:function:/.test(resource)) {
      return this.runLambdaArnTask(name, resource, input, timeout);
    }
    const m = /^arn:aws[\w-]*:states:::([a-z0-9-]+):([A-Za-z]+)(\.waitForTaskToken|\.sync(?::2)?)?$/.exec(resource);
    if (m) {
      const [, service, action, mode] = m;
      const integration = `${service}:${action}`;
      if ((integration === 'lambda:invoke' || integration === 'events:putEvents') && mode !== '.sync' && mode !== '.sync:2') {
        return this.runIntegrationTask(name, s, service, action, mode === '.waitForTaskToken', input, timeout);
      }
    }
    const err = stateError('States.Runtime', `the local Step Functions emulator does not support the Task resource "${resource}" (state ${name})`);
    this.recorder.side(name, 'TaskFailed', { resourceType: 'emulator', resource, error: err.name, cause: err.message });
    throw err;
  }

  /** Races `work` against a wall-time timeout (real code runs in real time). */
  private async withWallTimeout<T>(work: Promise<T>, seconds: number | undefined, onTimeout: () => Error): Promise<T> {
    if (seconds === undefined) return work;
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(onTimeout()), Math.min(seconds * 1000, 2 ** 31 - 1)); });
    try {
      return await Promise.race([work, t]);
    } finally {
      clearTimeout(timer);
    }
  }

  private requireLambda(): NonNullable<EngineDeps['invokeLambda']> {
    if (!this.deps.invokeLambda) throw stateError('States.Runtime', 'no Lambda runner is connected to the Step Functions emulator');
    return this.deps.invokeLambda;
  }

  private async runLambdaArnTask(name: string, resource: string, input: Json, timeout: number | undefined): Promise<Json> {
    this.recorder.side(name, 'LambdaFunctionScheduled', {
      resource, input: JSON.stringify(input), inputDetails: { truncated: false }, timeoutInSeconds: timeout,
    });
    const invoke = this.requireLambda();
    this.recorder.side(name, 'LambdaFunctionStarted');
    try {
      const out = await this.withWallTimeout(
        invoke(resource, input, { signal: this.ctl.signal }),
        timeout,
        () => timeoutError('States.Timeout', `Task timed out after ${timeout} seconds`),
      );
      this.recorder.side(name, 'LambdaFunctionSucceeded', { output: JSON.stringify(out ?? null), outputDetails: { truncated: false } });
      return (out ?? null) as Json;
    } catch (err) {
      if (this.ctl.signal.aborted) throw err;
      if (statesTimeoutCtor && err instanceof statesTimeoutCtor) {
        this.recorder.side(name, 'LambdaFunctionTimedOut', { error: err.name, cause: err.message });
        throw err;
      }
      const e = lambdaStateError(err);
      this.recorder.side(name, 'LambdaFunctionFailed', { error: e.name, cause: e.message });
      throw e;
    }
  }

  private async runIntegrationTask(
    name: string, s: StateDef, service: string, action: string, waitForToken: boolean, input: Json, timeout: number | undefined,
  ): Promise<Json> {
    const resourceType = service;
    const resource = waitForToken ? `${action}.waitForTaskToken` : action;
    const heartbeat = waitForToken ? this.heartbeatSeconds(s, input) : undefined;
    this.recorder.side(name, 'TaskScheduled', {
      resourceType, resource, region: this.deps.region, parameters: JSON.stringify(input),
      timeoutInSeconds: timeout, heartbeatInSeconds: heartbeat,
    });
    this.recorder.side(name, 'TaskStarted', { resourceType, resource });
    const fail = (err: Error): Error => {
      this.recorder.side(name, err.name === 'States.Timeout' || err.name === 'States.HeartbeatTimeout' ? 'TaskTimedOut' : 'TaskFailed',
        { resourceType, resource, error: err.name, cause: err.message });
      return err;
    };

    // Claim the token $$.Task.Token put into the parameters (issue one if the ASL did not).
    // Answers may arrive while the integration call is still running (a Lambda function that calls
    // SendTaskSuccess itself): the token accepts them from now on and keeps the first one.
    let token: string | undefined;
    let early: TokenOutcome | undefined;
    if (waitForToken) {
      const tokens = this.deps.tokens;
      token = findToken(input, (t) => this.issued.has(t) && tokens.get(t)?.state === 'issued') ?? tokens.issue(this.executionArn, name);
      this.issued.add(token);
      const w = tokens.get(token)!;
      w.stateName = name;
      w.state = 'waiting';
      w.settle = (outcome) => { early = outcome; };
      w.heartbeat = () => {};
    }
    const startedAt = this.deps.clock.now();

    // 1. Call the integration.
    let callResult: Json;
    try {
      callResult = await this.withWallTimeout(
        this.callIntegration(service, action, input, waitForToken),
        timeout,
        () => timeoutError('States.Timeout', `Task timed out after ${timeout} seconds`),
      );
    } catch (err) {
      if (this.ctl.signal.aborted) throw err;
      if (token) this.deps.tokens.get(token)!.state = 'closed';
      if (statesTimeoutCtor && err instanceof statesTimeoutCtor) throw fail(err);
      throw fail(service === 'lambda' ? lambdaStateError(err) : stateError((err as Error)?.name || 'Error', (err as Error)?.message ?? String(err)));
    }
    if (!waitForToken) {
      this.recorder.side(name, 'TaskSucceeded', { resourceType, resource, output: JSON.stringify(callResult), outputDetails: { truncated: false } });
      return callResult;
    }
    this.recorder.side(name, 'TaskSubmitted', { resourceType, resource, output: JSON.stringify(callResult), outputDetails: { truncated: false } });

    // 2. Park until the token is answered, or a timeout elapses on the clock.
    const elapsedMs = this.deps.clock.now() - startedAt;
    try {
      const output = await this.awaitToken(token!, s, timeout === undefined ? undefined : timeout * 1000 - elapsedMs, heartbeat, early);
      this.recorder.side(name, 'TaskSucceeded', { resourceType, resource, output: JSON.stringify(output), outputDetails: { truncated: false } });
      return output;
    } catch (err) {
      if (this.ctl.signal.aborted) throw err;
      throw fail(err as Error);
    }
  }

  private async callIntegration(service: string, action: string, input: Json, waitForToken: boolean): Promise<Json> {
    const params = (input ?? {}) as Record<string, Json>;
    if (service === 'lambda') {
      const fn = params.FunctionName;
      if (typeof fn !== 'string') throw stateError('States.Runtime', 'lambda:invoke needs Parameters.FunctionName');
      const invoke = this.requireLambda();
      const requestId = randomUUID();
      if (waitForToken) {
        // RequestResponse invoke: a function error fails the task; its result is not the task's output.
        const out = await invoke(fn, params.Payload ?? null, { signal: this.ctl.signal });
        return { ExecutedVersion: '$LATEST', Payload: (out ?? null) as Json, StatusCode: 200 };
      }
      const out = await invoke(fn, params.Payload ?? null, { signal: this.ctl.signal });
      return {
        ExecutedVersion: '$LATEST',
        Payload: (out ?? null) as Json,
        SdkHttpMetadata: { HttpStatusCode: 200 },
        SdkResponseMetadata: { RequestId: requestId },
        StatusCode: 200,
      };
    }
    // events:putEvents
    if (!this.deps.putEvents) throw stateError('States.Runtime', 'no EventBridge stand-in (putEvents) is connected to the Step Functions emulator');
    const rawEntries = params.Entries;
    if (!Array.isArray(rawEntries) || rawEntries.length === 0) throw stateError('States.Runtime', 'events:putEvents needs Parameters.Entries');
    const entries: PutEventsEntry[] = rawEntries.map((e) => {
      const entry = { ...(e as Record<string, unknown>) } as Record<string, unknown>;
      if (entry.Detail !== undefined && typeof entry.Detail !== 'string') entry.Detail = JSON.stringify(entry.Detail);
      return entry as PutEventsEntry;
    });
    const out = await this.deps.putEvents(entries);
    const result: PutEventsOutput = out ?? { Entries: entries.map(() => ({ EventId: randomUUID() })), FailedEntryCount: 0 };
    if ((result.FailedEntryCount ?? 0) > 0) {
      const failed = result.Entries?.find((e) => e.ErrorCode);
      throw stateError('EventBridge.EventBridgeException', `${result.FailedEntryCount} entries failed: ${failed?.ErrorCode ?? ''} ${failed?.ErrorMessage ?? ''}`.trim());
    }
    return { Entries: (result.Entries ?? []) as Json, FailedEntryCount: result.FailedEntryCount ?? 0 };
  }

  /** Waits on the clock for SendTaskSuccess/Failure, a task timeout or a missed heartbeat. */
  private awaitToken(
    token: string, s: StateDef, timeoutMs: number | undefined, heartbeatSeconds: number | undefined, early: TokenOutcome | undefined,
  ): Promise<Json> {
    const clock = this.deps.clock;
    const w = this.deps.tokens.get(token)!;
    if (early) {
      return 'output' in early ? Promise.resolve(early.output as Json) : Promise.reject(stateError(early.error, early.cause));
    }
    const taskDeadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : clock.now() + Math.max(0, timeoutMs);
    let lastBeat = clock.now();
    const heartbeatErrorName = mentions(s, 'States.HeartbeatTimeout') ? 'States.HeartbeatTimeout' : 'States.Timeout';

    return new Promise<Json>((resolve, reject) => {
      let sleeper: AbortController | undefined;
      let settled = false;
      const end = (fn: () => void) => {
        if (settled) return;
        settled = true;
        w.state = 'closed';
        sleeper?.abort();
        this.ctl.signal.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = () => end(() => reject(this.ctl.signal.reason));
      this.ctl.signal.addEventListener('abort', onAbort, { once: true });
      w.settle = (outcome) => end(() => {
        if ('output' in outcome) resolve(outcome.output as Json);
        else reject(stateError(outcome.error, outcome.cause));
      });
      const arm = () => {
        if (settled) return;
        sleeper?.abort();
        const hbDeadline = heartbeatSeconds === undefined ? Number.POSITIVE_INFINITY : lastBeat + heartbeatSeconds * 1000;
        const wake = Math.min(taskDeadline, hbDeadline, this.deadline);
        if (wake === Number.POSITIVE_INFINITY) return;
        const ctl = new AbortController();
        sleeper = ctl;
        clock.sleep(Math.max(0, wake - clock.now()), ctl.signal).then(() => {
          if (settled || ctl.signal.aborted) return;
          const now = clock.now();
          if (now >= this.deadline) {
            end(() => {
              try { this.timedOut(); } catch (e) { reject(e); }
            });
          } else if (now >= taskDeadline) {
            end(() => reject(timeoutError('States.Timeout', `Task timed out after ${(timeoutMs ?? 0) / 1000} seconds`)));
          } else if (heartbeatSeconds !== undefined && now >= lastBeat + heartbeatSeconds * 1000) {
            end(() => reject(timeoutError(heartbeatErrorName, `No heartbeat received for ${heartbeatSeconds} seconds`)));
          } else {
            arm();
          }
        }, () => { /* re-armed or settled */ });
      };
      w.heartbeat = () => {
        lastBeat = clock.now();
        arm();
      };
      arm();
    });
  }
}

function mentions(s: StateDef, errorName: string): boolean {
  const lists = [...((s.Retry ?? []) as { ErrorEquals: string[] }[]), ...((s.Catch ?? []) as { ErrorEquals: string[] }[])];
  return lists.some((l) => l.ErrorEquals.includes(errorName));
}

/** The first string in `value` (searched depth-first) that `isCandidate` accepts. */
function findToken(value: unknown, isCandidate: (s: string) => boolean): string | undefined {
  if (typeof value === 'string') return isCandidate(value) ? value : undefined;
  if (Array.isArray(value)) {
    for (const v of value) {
      const t = findToken(v, isCandidate);
      if (t) return t;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) {
      const t = findToken(v, isCandidate);
      if (t) return t;
    }
  }
  return undefined;
}

/** A state's `<field>` (a number) or `<field>Path` (a reference path to a positive number). */
function secondsOf(s: StateDef, field: 'TimeoutSeconds' | 'HeartbeatSeconds', input: Json): number | undefined {
  const fixed = s[field];
  if (typeof fixed === 'number') return fixed;
  const path = s[`${field}Path`];
  if (typeof path === 'string') {
    const v = queryReferencePath(path, input);
    if (typeof v === 'number' && v >= 1) return v;
    throw stateError('States.Runtime', `${field}Path ${path} does not point to a positive integer`);
  }
  return undefined;
}
