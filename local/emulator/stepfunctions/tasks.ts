/**
 * The Task states of one execution (see engine.ts): Lambda function ARNs and
 * `arn:aws:states:::lambda:invoke[.waitForTaskToken]` run the real handler through the local Lambda
 * runner; `arn:aws:states:::events:putEvents[.waitForTaskToken]` hands the entries to the injected
 * putEvents callback (the EventBridge stand-in). `.waitForTaskToken` tasks then park until
 * SendTaskSuccess/Failure answers the token that `$$.Task.Token` put into their Parameters, or until
 * TimeoutSeconds/HeartbeatSeconds elapse on the clock (States.Timeout / States.HeartbeatTimeout).
 * A running Lambda handler is real code running in real time, so its task timeout is measured in
 * wall time. Each step is recorded in the history as AWS records it (LambdaFunctionScheduled,
 * TaskSubmitted, ...).
 */
import { randomUUID } from 'node:crypto';
import { queryReferencePath } from './jsonpath.ts';
import { isStatesTimeout, lambdaStateError, stateError, timeoutError } from './errors.ts';
import type { HistoryRecorder } from './history.ts';
import type { TokenOutcome } from './tokens.ts';
import type { EngineDeps, Json, PutEventsEntry, PutEventsOutput, StateDef } from './types.ts';

/** What the task runner needs of its execution. */
export interface TaskHost {
  executionArn: string;
  deps: EngineDeps;
  recorder: HistoryRecorder;
  /** Aborted when the execution stops (StopExecution, a timeout, a terminal limit). */
  signal: AbortSignal;
  /** The tokens `$$.Task.Token` issued in this execution. */
  issued: Set<string>;
  /** The execution's deadline on the clock (epoch ms; Infinity without TimeoutSeconds). */
  deadline: number;
  /** Ends the execution TIMED_OUT and throws the stop reason. */
  timedOut: () => never;
}

export class TaskRunner {
  private readonly executionArn: string;
  private readonly deps: EngineDeps;
  private readonly recorder: HistoryRecorder;
  private readonly ctl: { signal: AbortSignal };
  private readonly issued: Set<string>;
  private readonly deadline: number;
  private readonly timedOut: () => never;

  constructor(host: TaskHost) {
    this.executionArn = host.executionArn;
    this.deps = host.deps;
    this.recorder = host.recorder;
    this.ctl = { signal: host.signal };
    this.issued = host.issued;
    this.deadline = host.deadline;
    this.timedOut = host.timedOut;
  }

  private taskTimeoutSeconds(s: StateDef, input: Json): number | undefined {
    return secondsOf(s, 'TimeoutSeconds', input);
  }

  private heartbeatSeconds(s: StateDef, input: Json): number | undefined {
    return secondsOf(s, 'HeartbeatSeconds', input);
  }

  /** Runs one Task state's resource (the Execution has already applied Retry delays and payload checks). */
  async dispatchTask(name: string, s: StateDef, input: Json): Promise<Json> {
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
      if (isStatesTimeout(err)) {
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
      if (isStatesTimeout(err)) throw fail(err);
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
