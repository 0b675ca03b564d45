/**
 * Policy promotion outcomes and the EventBridge events every transition publishes (source
 * `agentcore-autopilot`). Details carry ids, statement hashes and gate figures, never a statement.
 *
 * Left behind per outcome:
 * - PROMOTED: the declared statement is ACTIVE (the trial copy of a changed policy is deleted);
 * - HALTED_IN_LOG_ONLY: the LOG_ONLY gates failed or stayed without evidence: the statement stays in
 *   LOG_ONLY (decides nothing; a changed ACTIVE policy keeps enforcing its previous statement);
 * - ROLLED_BACK: the ACTIVE gates failed (or a step after ACTIVE did): the policy is back in LOG_ONLY,
 *   or back on its previous statement (`restore` says which);
 * - CONFLICT: someone else changed the policy during the promotion: left as it is;
 * - ABORTED: approval rejected or timed out, or `autopilot policy abort`;
 * - FAILED: refused before any change, or the staged statement was rejected (CREATE_FAILED...).
 */
import { causeMessage } from '../rollout/outcome.ts';
import type { PolicyRestoreReport, PromotionOutcome, PromotionRequest, PromotionState, PromotionVerifyResult, StateError } from './contract.ts';

export const PROMOTION_DETAIL_TYPES = [
  'Policy Promotion Started',
  'Policy Promotion Stage Passed',
  'Policy Promotion Awaiting Approval',
  'Policy Promotion Promoted',
  'Policy Promotion Halted',
  'Policy Promotion Rolled Back',
  'Policy Promotion Conflict',
  'Policy Promotion Aborted',
  'Policy Promotion Failed',
] as const;
export type PromotionDetailType = (typeof PROMOTION_DETAIL_TYPES)[number];

export type PromotionStage = 'STARTED' | 'LOG_ONLY_READY' | 'LOG_ONLY_VERIFIED' | 'ACTIVE_READY' | 'AWAITING_APPROVAL' | 'PROMOTED' | 'HALTED' | 'ROLLED_BACK' | 'ROLLBACK_FAILED' | 'CONFLICT' | 'ABORTED' | 'FAILED';
export type PromotionEventOutcome = Exclude<PromotionOutcome, 'WOULD_PROMOTE' | 'WOULD_HALT'> | 'ROLLBACK_FAILED' | 'FAILED';

export interface PromotionEventDetail {
  promotionId: string;
  policyEngineArn: string;
  policyName: string;
  /** sha256 (12 hex) of the declared statement (Cedar-canonical). */
  statementHash: string;
  change: string | null;
  stage: PromotionStage;
  outcome: PromotionEventOutcome | null;
  logOnly: PromotionVerifyResult | null;
  active: PromotionVerifyResult | null;
  restore: PolicyRestoreReport | null;
  error: { error: string; cause: string } | null;
}

function errorOf(e: StateError | null | undefined): PromotionEventDetail['error'] {
  if (!e) return null;
  const cause = causeMessage(e.Cause);
  return { error: e.Error, cause: cause.length > 1000 ? `${cause.slice(0, 1000)}...` : cause };
}

function stageOf(detailType: PromotionDetailType, state: PromotionState, stage?: PromotionStage): { stage: PromotionStage; outcome: PromotionEventOutcome | null } {
  switch (detailType) {
    case 'Policy Promotion Started': return { stage: 'STARTED', outcome: null };
    case 'Policy Promotion Stage Passed':
      if (!stage) throw new TypeError('A "Policy Promotion Stage Passed" event needs a stage');
      return { stage, outcome: null };
    case 'Policy Promotion Awaiting Approval': return { stage: 'AWAITING_APPROVAL', outcome: null };
    case 'Policy Promotion Promoted': return { stage: 'PROMOTED', outcome: 'PROMOTED' };
    case 'Policy Promotion Halted': return { stage: 'HALTED', outcome: 'HALTED_IN_LOG_ONLY' };
    case 'Policy Promotion Rolled Back':
      return state.rollbackError ? { stage: 'ROLLBACK_FAILED', outcome: 'ROLLBACK_FAILED' } : { stage: 'ROLLED_BACK', outcome: 'ROLLED_BACK' };
    case 'Policy Promotion Conflict': return { stage: 'CONFLICT', outcome: 'CONFLICT' };
    case 'Policy Promotion Aborted': return { stage: 'ABORTED', outcome: 'ABORTED' };
    case 'Policy Promotion Failed': return { stage: 'FAILED', outcome: 'FAILED' };
  }
}

/** The event of one promotion transition. */
export function promotionEvent(detailType: PromotionDetailType, state: PromotionState, stage?: PromotionStage): { detailType: PromotionDetailType; detail: PromotionEventDetail } {
  if (!(PROMOTION_DETAIL_TYPES as readonly string[]).includes(detailType)) throw new TypeError(`Unknown promotion detail-type: ${String(detailType)}`);
  const p = state.promotion;
  const so = stageOf(detailType, state, stage);
  return {
    detailType,
    detail: {
      promotionId: p.promotionId,
      policyEngineArn: p.policyEngineArn,
      policyName: p.policyName,
      statementHash: p.statementHash,
      change: p.change,
      ...so,
      logOnly: structuredClone(state.logOnly),
      active: structuredClone(state.active),
      restore: structuredClone(state.restore ?? null),
      error: errorOf(state.rollbackError ?? state.error),
    },
  };
}

/** `Policy Promotion Failed` of a promotion refused before it had a state document. */
export function promotionRefusedEvent(args: { executionArn: string; request: Partial<PromotionRequest>; error: StateError }): { detailType: 'Policy Promotion Failed'; detail: PromotionEventDetail } {
  return {
    detailType: 'Policy Promotion Failed',
    detail: {
      promotionId: args.executionArn.slice(args.executionArn.lastIndexOf(':') + 1),
      policyEngineArn: typeof args.request.policyEngineArn === 'string' ? args.request.policyEngineArn : '',
      policyName: typeof args.request.policyName === 'string' ? args.request.policyName : '',
      statementHash: '',
      change: null,
      stage: 'FAILED',
      outcome: 'FAILED',
      logOnly: null,
      active: null,
      restore: null,
      error: errorOf(args.error),
    },
  };
}
