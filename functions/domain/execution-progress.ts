/**
 * Where a staged execution (policy rollout or policy promotion) is, from its GetExecutionHistory
 * events (SDK shape): the state entered last, its phase, time left in a bake, the last output of
 * chosen Lambda tasks, and the task token of a pending approval. Pure: the caller fetches the
 * events (functions/adapters/sfn-history.ts) and names the states that matter (a spec).
 *
 * The history fields read are those of the Step Functions HistoryEvent shape
 * (stateEnteredEventDetails.input, lambdaFunctionSucceededEventDetails.output,
 * taskScheduledEventDetails.parameters: GetExecutionHistory API reference).
 */

/** One GetExecutionHistory event (the SDK's HistoryEvent, loosely typed). */
export interface HistoryEvent {
  id?: number;
  type?: string;
  timestamp?: Date | string | number;
  stateEnteredEventDetails?: { name?: string; input?: string };
  stateExitedEventDetails?: { name?: string; output?: string };
  lambdaFunctionSucceededEventDetails?: { output?: string };
  taskScheduledEventDetails?: { resource?: string; resourceType?: string; parameters?: string };
  [key: string]: unknown;
}

export interface ProgressSpec<Phase extends string> {
  /** First match names the phase of a state; no match: the `other` phase. */
  phases: readonly [RegExp, Phase][];
  other: Phase;
  before: Phase;
  done: Phase;
  /** Lambda task state -> the key its (last successful) output is kept under. */
  outputs: Readonly<Record<string, string>>;
  /** Wait state -> its length in seconds, read from the state's input. */
  bakes: Readonly<Record<string, (input: any) => unknown>>;
}

export interface ExecutionProgress<Phase extends string> {
  state: string | undefined;
  phase: Phase;
  enteredAt: number | undefined;
  bakeEndsAt?: number;
  bakeSecondsLeft?: number;
  /** The last output of each task named in the spec's `outputs` (null: none yet). */
  outputs: Record<string, any>;
  /** The pending approval's task token (null when no approval is waiting). */
  approvalToken: string | null;
  approvalDeadline?: number;
}

export function eventTime(t: HistoryEvent['timestamp']): number | undefined {
  if (t === undefined) return undefined;
  if (t instanceof Date) return t.getTime();
  if (typeof t === 'number') return t < 1e12 ? t * 1000 : t;
  return Date.parse(t);
}

/** JSON text of a history field; undefined when absent or not JSON (never throws). */
export function parseJson<T = any>(text: string | undefined): T | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

const json = parseJson;

const ENDED = /^Execution(Succeeded|Failed|Aborted|TimedOut)$/;

/**
 * The approval a `.waitForTaskToken` task asks for: the token and timeout sit in the task's
 * parameters, as a Lambda invoke's Payload or an EventBridge PutEvents entry's Detail.
 */
function approvalOf(parameters: any): { token: string | null; timeoutSeconds: number } {
  const carrier = parameters?.Payload ?? parameters?.Entries?.[0]?.Detail;
  const token = carrier?.taskToken;
  return { token: typeof token === 'string' ? token : null, timeoutSeconds: Number(carrier?.approvalTimeoutSeconds) };
}

export function executionProgress<Phase extends string>(spec: ProgressSpec<Phase>, events: readonly HistoryEvent[], now: number): ExecutionProgress<Phase> {
  let state: string | undefined;
  let enteredAt: number | undefined;
  let enteredInput: any;
  const outputs: Record<string, any> = Object.fromEntries(Object.values(spec.outputs).map((k) => [k, null]));
  let approvalToken: string | null = null;
  let approvalDeadline: number | undefined;
  let ended = false;
  for (const e of events) {
    const type = e.type ?? '';
    if (type.endsWith('StateEntered')) {
      state = e.stateEnteredEventDetails?.name;
      enteredAt = eventTime(e.timestamp);
      enteredInput = json(e.stateEnteredEventDetails?.input);
    } else if (type === 'LambdaFunctionSucceeded') {
      // Tasks whose Resource is a function ARN (LambdaFunction* history events).
      const key = state !== undefined ? spec.outputs[state] : undefined;
      const out = json(e.lambdaFunctionSucceededEventDetails?.output);
      if (key && out !== undefined) outputs[key] = out;
    } else if (type === 'TaskScheduled' && String(e.taskScheduledEventDetails?.resource ?? '').endsWith('.waitForTaskToken')) {
      const approval = approvalOf(json(e.taskScheduledEventDetails?.parameters));
      approvalToken = approval.token;
      const at = eventTime(e.timestamp);
      approvalDeadline = at !== undefined && Number.isFinite(approval.timeoutSeconds) ? at + approval.timeoutSeconds * 1000 : undefined;
    } else if (/^Task(Succeeded|Failed|TimedOut|SubmitFailed)$/.test(type) || ENDED.test(type)) {
      approvalToken = null;
      approvalDeadline = undefined;
    }
    if (ENDED.test(type)) ended = true;
  }
  const phase = ended ? spec.done : state === undefined ? spec.before : (spec.phases.find(([re]) => re.test(state!))?.[1] ?? spec.other);
  const progress: ExecutionProgress<Phase> = {
    state, phase, enteredAt, outputs, approvalToken,
    ...(approvalDeadline !== undefined && { approvalDeadline }),
  };
  const bake = state !== undefined ? spec.bakes[state] : undefined;
  if (!ended && bake && enteredAt !== undefined) {
    const seconds = Number(bake(enteredInput));
    if (Number.isFinite(seconds)) {
      progress.bakeEndsAt = enteredAt + seconds * 1000;
      progress.bakeSecondsLeft = Math.max(0, Math.round((progress.bakeEndsAt - now) / 1000));
    }
  }
  return progress;
}
