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
 * - Task states (Lambda functions, lambda:invoke and events:putEvents integrations, task tokens):
 *   see tasks.ts.
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
 *   A standard execution runs at most one year: then it ends TIMED_OUT (States.Timeout), as with
 *   the definition's TimeoutSeconds.
 *
 * Steps: definition.ts (preprocessing, validation), tasks.ts (Task resources and task tokens),
 * history.ts (the AWS-style history and its quotas), errors.ts; this file runs the execution
 * (lifecycle, Wait states, Retry delays, payload checks).
 *
 * Known differences: `$$.State.*` and `$$.Execution.StartTime` come from the library (the latter in
 * wall time); `$$.Task.Token` is only meaningful in `.waitForTaskToken` tasks; JSONata is not run.
 */
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { queryReferencePath } from './jsonpath.ts';
import { prepare, type Prepared } from './definition.ts';
import { isStatesTimeout, loadStatesTimeoutClass, stateError } from './errors.ts';
import { HistoryRecorder, MAX_PAYLOAD_BYTES, jsonBytes } from './history.ts';
import { TaskRunner } from './tasks.ts';
import type { Definition, EngineDeps, ExecutionStatus, HistoryEvent, Json, StateDef } from './types.ts';

export { MAX_HISTORY_EVENTS, MAX_PAYLOAD_BYTES } from './history.ts';

/** Longest run of a standard execution: one year. */
export const MAX_EXECUTION_MS = 365 * 24 * 3600 * 1000;
export { TokenRegistry, type TokenAnswer } from './tokens.ts';
export { validateDefinition } from './definition.ts';
export { loadStatesTimeoutClass } from './errors.ts';
export type { EngineDeps, ExecutionStatus, HistoryEvent, PutEventsEntry, PutEventsOutput } from './types.ts';

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
  private readonly tasks: TaskRunner;

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
    // A standard execution runs at most one year ("Step Functions service quotas": past it, the
    // execution fails with a timeout); TimeoutSeconds may only shorten that.
    const timeout = (init.definition as { TimeoutSeconds?: number }).TimeoutSeconds;
    this.deadline = this.startDate + Math.min(typeof timeout === 'number' ? timeout * 1000 : Number.POSITIVE_INFINITY, MAX_EXECUTION_MS);
    this.done = new Promise((resolve) => { this.settleDone = resolve; });
    this.tasks = new TaskRunner({
      executionArn: this.executionArn, deps, recorder: this.recorder, signal: this.ctl.signal, issued: this.issued,
      deadline: this.deadline, timedOut: () => this.timedOut(),
    });
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
      const out = await this.tasks.dispatchTask(name, s, input);
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
    const isTimeout = isStatesTimeout(err);
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
}
