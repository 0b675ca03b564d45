/**
 * Aborting a running policy promotion (`autopilot policy abort`): stop the execution, put the
 * policy back as the promotion found it (the same restore the state machine runs: only what the
 * promotion changed, nothing when someone else changed it meanwhile: conflict), and publish
 * `Policy Promotion Aborted`: a stopped execution runs none of its own publish states.
 */
import type { PolicyRestoreReport, PromotionState, PromotionVerifyResult } from '../domain/promotion/contract.ts';
import { promotionEvent } from '../domain/promotion/outcome.ts';
import { ROLLOUT_EVENT_SOURCE } from '../domain/rollout/outcome.ts';
import { write, type PromotionDeps } from './promotion.ts';

export interface PromotionAbortRequest {
  executionArn: string;
  /** The preflight's state document (null when the promotion never got past its preflight). */
  state: PromotionState | null;
  /** The latest gate figures the execution recorded. */
  logOnly?: PromotionVerifyResult | null;
  active?: PromotionVerifyResult | null;
  reason: string;
  by: string;
  /** False: stop only, leave the policy as it is. */
  restore: boolean;
}

export interface PromotionAbortResult {
  aborted: string;
  /** What was restored, or the conflict that stopped the restore; null when nothing was attempted. */
  restore: PolicyRestoreReport | null;
  eventIds: string[];
}

export async function abortPromotion(deps: PromotionDeps, request: PromotionAbortRequest): Promise<PromotionAbortResult> {
  const cause = `${request.by}: ${request.reason}`;
  await deps.adapters.sfn.stopExecution(request.executionArn, { error: 'PromotionAborted', cause: cause.slice(0, 256) });
  const state = request.state;
  if (!state || state.promotion.dryRun) return { aborted: request.executionArn, restore: null, eventIds: [] };
  let report: PolicyRestoreReport | null = null;
  if (request.restore && state.promotion.change !== 'none') {
    report = (await write(deps, { action: 'restore', promotion: state.promotion })).restore ?? null;
  }
  const { detailType, detail } = promotionEvent('Policy Promotion Aborted', {
    ...state,
    logOnly: request.logOnly ?? state.logOnly,
    active: request.active ?? state.active,
    error: { Error: 'PromotionAborted', Cause: cause },
    ...(report && { restore: report }),
  });
  const eventIds = await deps.adapters.events.publish(detailType, { ...detail, abortedBy: request.by, reason: request.reason }, {
    source: ROLLOUT_EVENT_SOURCE,
    busName: state.promotion.eventBusName,
    resources: [state.promotion.policyEngineArn],
  });
  return { aborted: request.executionArn, restore: report, eventIds };
}
