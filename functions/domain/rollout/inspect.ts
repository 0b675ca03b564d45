/**
 * Reading a rollout execution's history (GetExecutionHistory events, SDK shape): how many state
 * transitions it used, where it is (phase, time left in a bake), the last gate figures, and the
 * task token of a pending approval. Pure: the events are fetched by the caller
 * (functions/adapters/sfn-history.ts).
 */
import type { RolloutState, VerifyResult } from './contract.ts';

/** One GetExecutionHistory event (the SDK's HistoryEvent, loosely typed). */
export interface HistoryEventLike {
  id?: number;
  type?: string;
  timestamp?: Date | string | number;
  stateEnteredEventDetails?: { name?: string; input?: string };
  stateExitedEventDetails?: { name?: string; output?: string };
  lambdaFunctionSucceededEventDetails?: { output?: string };
  taskScheduledEventDetails?: { resource?: string; resourceType?: string; parameters?: string };
  [key: string]: unknown;
}

const SCHEDULED = new Set(['LambdaFunctionScheduled', 'TaskScheduled']);

/**
 * State transitions as Step Functions bills them: one per state entered, plus one per retry of a
 * task (a second scheduling inside the same state visit).
 */
export function countTransitions(events: readonly HistoryEventLike[]): number {
  let count = 0;
  let scheduledInVisit = 0;
  for (const e of events) {
    const type = e.type ?? '';
    if (type.endsWith('StateEntered')) {
      count++;
      scheduledInVisit = 0;
    } else if (SCHEDULED.has(type)) {
      scheduledInVisit++;
      if (scheduledInVisit > 1) count++;
    }
  }
  return count;
}

function time(t: HistoryEventLike['timestamp']): number | undefined {
  if (t === undefined) return undefined;
  if (t instanceof Date) return t.getTime();
  if (typeof t === 'number') return t < 1e12 ? t * 1000 : t;
  return Date.parse(t);
}

function json(text: string | undefined): any {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export type RolloutPhase =
  | 'PREFLIGHT'
  | 'LOG_ONLY'
  | 'SHADOW_BAKE'
  | 'SHADOW_VERIFY'
  | 'AWAITING_APPROVAL'
  | 'ENFORCE'
  | 'ENFORCE_BAKE'
  | 'ENFORCE_VERIFY'
  | 'ROLLING_BACK'
  | 'REPORTING'
  | 'DRY_RUN'
  | 'DONE';

const PHASES: [RegExp, RolloutPhase][] = [
  [/^RunPreflight$|^ChooseRolloutPath$/, 'PREFLIGHT'],
  [/DryRun|WouldPromote|WouldHalt/, 'DRY_RUN'],
  [/LogOnly|^PublishStarted$/, 'LOG_ONLY'],
  [/^BakeShadow$/, 'SHADOW_BAKE'],
  [/Shadow/, 'SHADOW_VERIFY'],
  [/Approval/, 'AWAITING_APPROVAL'],
  [/^BakeEnforce$/, 'ENFORCE_BAKE'],
  [/^VerifyEnforce$|^RouteEnforceVerdict$|^MarkEnforceGatesFailed$/, 'ENFORCE_VERIFY'],
  [/Enforce/, 'ENFORCE'],
  [/Restore|Rollback|RolledBack|ReadyTimeout/, 'ROLLING_BACK'],
];

export function phaseOf(stateName: string | undefined): RolloutPhase {
  if (!stateName) return 'PREFLIGHT';
  for (const [re, phase] of PHASES) if (re.test(stateName)) return phase;
  return 'REPORTING';
}

export interface RolloutProgress {
  /** The state entered last (inside the approval Parallel: RequestApproval). */
  state: string | undefined;
  phase: RolloutPhase;
  /** When that state was entered (epoch ms). */
  enteredAt: number | undefined;
  /** During a bake: when it ends (epoch ms) and how long is left at `now` (seconds, >= 0). */
  bakeEndsAt?: number;
  bakeSecondsLeft?: number;
  /** The last verification of each stage (gate figures). */
  shadow: VerifyResult | null;
  enforce: VerifyResult | null;
  /** The preflight's state document, once it ran (settings, plan, rollback point). */
  preflight: RolloutState | null;
  /** The pending approval's task token (null when no approval is waiting). */
  approvalToken: string | null;
  approvalDeadline?: number;
}

/** Where a rollout is, from its history (`now` in epoch ms, for the bake countdown). */
export function rolloutProgress(events: readonly HistoryEventLike[], now: number): RolloutProgress {
  let state: string | undefined;
  let enteredAt: number | undefined;
  let enteredInput: any;
  let shadow: VerifyResult | null = null;
  let enforce: VerifyResult | null = null;
  let preflight: RolloutState | null = null;
  let approvalToken: string | null = null;
  let approvalDeadline: number | undefined;
  let current: string | undefined;
  for (const e of events) {
    const type = e.type ?? '';
    if (type.endsWith('StateEntered')) {
      current = e.stateEnteredEventDetails?.name;
      state = current;
      enteredAt = time(e.timestamp);
      enteredInput = json(e.stateEnteredEventDetails?.input);
    } else if (type === 'LambdaFunctionSucceeded') {
      const out = json(e.lambdaFunctionSucceededEventDetails?.output);
      if (current === 'RunPreflight' && out?.rollout) preflight = out as RolloutState;
      if ((current === 'VerifyShadow' || current === 'VerifyDryRun') && out?.report) shadow = out as VerifyResult;
      if (current === 'VerifyEnforce' && out?.report) enforce = out as VerifyResult;
    } else if (type === 'TaskScheduled' && String(e.taskScheduledEventDetails?.resource ?? '').endsWith('.waitForTaskToken')) {
      const params = json(e.taskScheduledEventDetails?.parameters);
      // AwaitApproval invokes rolloutPublish with the token in its Payload (never on the bus).
      const detail = params?.Payload;
      const token = detail?.taskToken;
      approvalToken = typeof token === 'string' ? token : null;
      const timeout = Number(detail?.approvalTimeoutSeconds);
      const at = time(e.timestamp);
      approvalDeadline = at !== undefined && Number.isFinite(timeout) ? at + timeout * 1000 : undefined;
    } else if (type === 'TaskSucceeded' || type === 'TaskFailed' || type === 'TaskTimedOut' || type === 'TaskSubmitFailed') {
      approvalToken = null;
      approvalDeadline = undefined;
    } else if (/^Execution(Succeeded|Failed|Aborted|TimedOut)$/.test(type)) {
      approvalToken = null;
      approvalDeadline = undefined;
    }
  }
  const progress: RolloutProgress = {
    state,
    phase: events.some((e) => /^Execution(Succeeded|Failed|Aborted|TimedOut)$/.test(e.type ?? '')) ? 'DONE' : phaseOf(state),
    enteredAt,
    shadow,
    enforce,
    preflight,
    approvalToken,
    ...(approvalDeadline !== undefined && { approvalDeadline }),
  };
  if (progress.phase !== 'DONE' && (state === 'BakeShadow' || state === 'BakeEnforce') && enteredAt !== undefined) {
    const seconds = Number(state === 'BakeShadow' ? enteredInput?.rollout?.plan?.bakeSeconds : enteredInput?.rollout?.plan?.enforceBakeSeconds);
    if (Number.isFinite(seconds)) {
      progress.bakeEndsAt = enteredAt + seconds * 1000;
      progress.bakeSecondsLeft = Math.max(0, Math.round((progress.bakeEndsAt - now) / 1000));
    }
  }
  return progress;
}
