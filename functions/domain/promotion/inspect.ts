/**
 * Where a policy promotion is (statemachines/policy-promotion.asl.yaml), from its execution
 * history: stage, time left in a bake, the last gate figures, the pending approval.
 */
import { executionProgress, type ExecutionProgress, type HistoryEvent, type ProgressSpec } from '../execution-progress.ts';
import type { PromotionState, PromotionVerifyResult } from './contract.ts';

export type PromotionPhase =
  | 'PREFLIGHT' | 'DRY_RUN' | 'LOG_ONLY' | 'LOG_ONLY_BAKE' | 'LOG_ONLY_VERIFY' | 'AWAITING_APPROVAL'
  | 'ACTIVE' | 'ACTIVE_BAKE' | 'ACTIVE_VERIFY' | 'ROLLING_BACK' | 'REPORTING' | 'DONE';

const SPEC: ProgressSpec<PromotionPhase> = {
  phases: [
    [/^RunPreflight$|^ChoosePath$/, 'PREFLIGHT'],
    [/DryRun|WouldPromote|WouldHalt/, 'DRY_RUN'],
    [/^BakeLogOnly$/, 'LOG_ONLY_BAKE'],
    [/^VerifyLogOnly$|^RouteLogOnly$/, 'LOG_ONLY_VERIFY'],
    [/^PublishStarted$|^StageLogOnly$|Staged$|^MarkStageTimeout$|^PublishLogOnlyReady$/, 'LOG_ONLY'],
    [/Approval/, 'AWAITING_APPROVAL'],
    [/^BakeActive$/, 'ACTIVE_BAKE'],
    [/^VerifyActive$|^RouteActive$|^MarkActiveGatesFailed$/, 'ACTIVE_VERIFY'],
    [/^PromoteActive$|^CheckActive$|^IsActive$|^WaitActive$|^MarkActiveTimeout$|^PublishActiveReady$/, 'ACTIVE'],
    [/Restore|Rollback/, 'ROLLING_BACK'],
  ],
  other: 'REPORTING',
  before: 'PREFLIGHT',
  done: 'DONE',
  outputs: { RunPreflight: 'preflight', VerifyDryRun: 'logOnly', VerifyLogOnly: 'logOnly', VerifyActive: 'active' },
  bakes: {
    BakeLogOnly: (input) => input?.promotion?.plan?.bakeSeconds,
    BakeActive: (input) => input?.promotion?.plan?.activeBakeSeconds,
  },
};

export interface PromotionProgress extends Omit<ExecutionProgress<PromotionPhase>, 'outputs'> {
  /** The preflight's state document, once it ran (context, plan, what a restore puts back). */
  preflight: PromotionState | null;
  logOnly: PromotionVerifyResult | null;
  active: PromotionVerifyResult | null;
}

export function promotionProgress(events: readonly HistoryEvent[], now: number): PromotionProgress {
  const { outputs, ...rest } = executionProgress(SPEC, events, now);
  return {
    ...rest,
    preflight: outputs.preflight?.promotion ? (outputs.preflight as PromotionState) : null,
    logOnly: outputs.logOnly?.report ? (outputs.logOnly as PromotionVerifyResult) : null,
    active: outputs.active?.report ? (outputs.active as PromotionVerifyResult) : null,
  };
}
