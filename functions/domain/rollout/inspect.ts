/**
 * Reading a rollout execution's history (GetExecutionHistory events, SDK shape): how many state
 * transitions it used, where it is (phase, time left in a bake), the last gate figures, and the
 * task token of a pending approval. Pure: the events are fetched by the caller
 * (functions/adapters/sfn-history.ts).
 */
import { executionProgress, type HistoryEvent, type ProgressSpec } from '../execution-progress.ts';
import type { RolloutState, VerifyResult } from './contract.ts';

/** One GetExecutionHistory event (the SDK's HistoryEvent, loosely typed). */
export type HistoryEventLike = HistoryEvent;

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

const PHASES: readonly [RegExp, RolloutPhase][] = [
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

const SPEC: ProgressSpec<RolloutPhase> = {
  phases: PHASES,
  other: 'REPORTING',
  before: 'PREFLIGHT',
  done: 'DONE',
  outputs: { RunPreflight: 'preflight', VerifyShadow: 'shadow', VerifyDryRun: 'shadow', VerifyEnforce: 'enforce' },
  bakes: {
    BakeShadow: (input) => input?.rollout?.plan?.bakeSeconds,
    BakeEnforce: (input) => input?.rollout?.plan?.enforceBakeSeconds,
  },
};

/** Where a rollout is, from its history (`now` in epoch ms, for the bake countdown). */
export function rolloutProgress(events: readonly HistoryEventLike[], now: number): RolloutProgress {
  const { outputs, ...rest } = executionProgress(SPEC, events, now);
  return {
    ...rest,
    shadow: outputs.shadow?.report ? (outputs.shadow as VerifyResult) : null,
    enforce: outputs.enforce?.report ? (outputs.enforce as VerifyResult) : null,
    preflight: outputs.preflight?.rollout ? (outputs.preflight as RolloutState) : null,
  };
}
