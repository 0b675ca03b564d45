/**
 * Rollout outcomes and the EventBridge events every transition publishes (source
 * `agentcore-autopilot`). Event details carry the gate figures, never the recorded gateway
 * configuration (the rollback point stays inside the execution).
 *
 * Configuration left behind per outcome:
 * - ENFORCED: the engine is attached in ENFORCE.
 * - HALTED_IN_LOG_ONLY: the shadow gates failed (or stayed inconclusive); the engine stays
 *   attached in LOG_ONLY, which decides nothing: a safe observation mode to investigate and rerun.
 *   (A different engine that was enforcing is refused at preflight, so halting never leaves a
 *   gateway less protected than before.)
 * - ABORTED: approval rejected or timed out (or the execution was stopped): like HALTED.
 * - ROLLED_BACK: something failed after the first change, or the ENFORCE gates failed: the
 *   gateway's policyEngineConfiguration was put back as recorded before the rollout (nothing else
 *   was touched; `restore` says what changed).
 * - CONFLICT: a rollback found the gateway's policyEngineConfiguration changed by someone else
 *   during the rollout and did not overwrite it (`restore.from` is their value).
 * - ROLLBACK_FAILED: restoring failed; the execution ends in the Fail state RollbackFailedError.
 * - FAILED: the preflight refused (nothing was changed); `error` says why.
 */
import type { PassedStage, RolloutOutcome, RolloutRequest, RolloutState, StateError, VerifyResult } from './contract.ts';
import type { RestoreReport } from './restore.ts';

export const ROLLOUT_EVENT_SOURCE = 'agentcore-autopilot';

export const ROLLOUT_DETAIL_TYPES = [
  'Policy Rollout Started',
  'Policy Rollout Stage Passed',
  'Policy Rollout Awaiting Approval',
  'Policy Rollout Enforced',
  'Policy Rollout Halted',
  'Policy Rollout Rolled Back',
  'Policy Rollout Conflict',
  'Policy Rollout Aborted',
  'Policy Rollout Failed',
] as const;
export type RolloutDetailType = (typeof ROLLOUT_DETAIL_TYPES)[number];

export type EventStage =
  | 'STARTED'
  | PassedStage
  | 'AWAITING_APPROVAL'
  | 'ENFORCED'
  | 'HALTED'
  | 'ROLLED_BACK'
  | 'ROLLBACK_FAILED'
  | 'CONFLICT'
  | 'ABORTED'
  | 'FAILED';

export type EventOutcome = Exclude<RolloutOutcome, 'WOULD_PROMOTE' | 'WOULD_HALT'> | 'ROLLBACK_FAILED' | 'FAILED';

/**
 * Detail of every rollout event. The Awaiting Approval event carries no task token: the token
 * stays in the execution history, for the approveRollout function only.
 */
export interface RolloutEventDetail {
  rolloutId: string;
  gatewayId: string;
  gatewayArn: string;
  policyEngineArn: string;
  stage: EventStage;
  outcome: EventOutcome | null;
  shadow: VerifyResult | null;
  enforce: VerifyResult | null;
  approval: RolloutState['approval'];
  error: { error: string; cause: string } | null;
  /** Rolled Back / Conflict / Aborted: what was restored, or what someone else changed. */
  restore?: RestoreReport | null;
  /** Aborted from the CLI: who stopped it and why. */
  abortedBy?: string;
  reason?: string;
  /** Awaiting Approval only: how long the approver has. */
  approvalTimeoutSeconds?: number;
}

/** Keys of RolloutEventDetail. */
export const ROLLOUT_EVENT_DETAIL_KEYS = [
  'rolloutId',
  'gatewayId',
  'gatewayArn',
  'policyEngineArn',
  'stage',
  'outcome',
  'shadow',
  'enforce',
  'approval',
  'error',
] as const;

export interface RolloutEventContext {
  state: RolloutState;
  /** Required for `Policy Rollout Stage Passed`. */
  stage?: PassedStage;
}

const MAX_CAUSE = 1000;

/** The message of a Step Functions error Cause (a Lambda error's Cause is its JSON, stack trace included). */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (parsed && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: a plain cause
  }
  return cause;
}

function errorOf(error: StateError | null | undefined): RolloutEventDetail['error'] {
  if (!error) return null;
  const cause = causeMessage(error.Cause);
  return { error: error.Error, cause: cause.length > MAX_CAUSE ? `${cause.slice(0, MAX_CAUSE)}...` : cause };
}

function stageAndOutcome(detailType: RolloutDetailType, ctx: RolloutEventContext): { stage: EventStage; outcome: EventOutcome | null } {
  switch (detailType) {
    case 'Policy Rollout Started':
      return { stage: 'STARTED', outcome: null };
    case 'Policy Rollout Stage Passed':
      if (!ctx.stage) throw new TypeError('A "Policy Rollout Stage Passed" event needs a stage');
      return { stage: ctx.stage, outcome: null };
    case 'Policy Rollout Awaiting Approval':
      return { stage: 'AWAITING_APPROVAL', outcome: null };
    case 'Policy Rollout Enforced':
      return { stage: 'ENFORCED', outcome: 'ENFORCED' };
    case 'Policy Rollout Halted':
      return { stage: 'HALTED', outcome: 'HALTED_IN_LOG_ONLY' };
    case 'Policy Rollout Rolled Back':
      return ctx.state.rollbackError
        ? { stage: 'ROLLBACK_FAILED', outcome: 'ROLLBACK_FAILED' }
        : { stage: 'ROLLED_BACK', outcome: 'ROLLED_BACK' };
    case 'Policy Rollout Conflict':
      return { stage: 'CONFLICT', outcome: 'CONFLICT' };
    case 'Policy Rollout Aborted':
      return { stage: 'ABORTED', outcome: 'ABORTED' };
    case 'Policy Rollout Failed':
      return { stage: 'FAILED', outcome: 'FAILED' };
  }
}

/** The EventBridge entry (detail-type and detail) for one rollout transition. */
export function rolloutEvent(detailType: RolloutDetailType, ctx: RolloutEventContext): { detailType: RolloutDetailType; detail: RolloutEventDetail } {
  if (!(ROLLOUT_DETAIL_TYPES as readonly string[]).includes(detailType)) {
    throw new TypeError(`Unknown rollout detail-type: ${String(detailType)}`);
  }
  const { rollout } = ctx.state;
  const { stage, outcome } = stageAndOutcome(detailType, ctx);
  // A rollback event explains the rollback; the rollback's own failure travels in `error` too.
  const error = ctx.state.rollbackError ?? ctx.state.error;
  const extra = detailType === 'Policy Rollout Awaiting Approval' ? { approvalTimeoutSeconds: rollout.plan.approvalTimeoutSeconds } : {};
  return {
    detailType,
    detail: {
      rolloutId: rollout.rolloutId,
      gatewayId: rollout.gatewayId,
      gatewayArn: rollout.gatewayArn,
      policyEngineArn: rollout.policyEngineArn,
      stage,
      outcome,
      shadow: structuredClone(ctx.state.shadow),
      enforce: structuredClone(ctx.state.enforce),
      approval: structuredClone(ctx.state.approval),
      error: errorOf(error),
      ...(ctx.state.restore !== undefined && { restore: structuredClone(ctx.state.restore) }),
      ...extra,
    },
  };
}

/** The `Policy Rollout Failed` event of a rollout whose preflight refused (no state document yet). */
export function preflightFailedEvent(args: {
  executionArn: string;
  request: Partial<RolloutRequest>;
  gatewayArn?: string;
  error: StateError;
}): { detailType: 'Policy Rollout Failed'; detail: RolloutEventDetail } {
  return {
    detailType: 'Policy Rollout Failed',
    detail: {
      rolloutId: args.executionArn.slice(args.executionArn.lastIndexOf(':') + 1),
      gatewayId: typeof args.request.gatewayId === 'string' ? args.request.gatewayId : '',
      gatewayArn: args.gatewayArn ?? '',
      policyEngineArn: typeof args.request.policyEngineArn === 'string' ? args.request.policyEngineArn : '',
      stage: 'FAILED',
      outcome: 'FAILED',
      shadow: null,
      enforce: null,
      approval: null,
      error: errorOf(args.error),
    },
  };
}

/**
 * The outcome a (possibly unfinished) state document stands for, e.g. for `autopilot rollout
 * status` reading an execution's output or last state: null while undecided.
 */
export function deriveOutcome(state: RolloutState): EventOutcome | 'WOULD_PROMOTE' | 'WOULD_HALT' | null {
  if (state.rollout.dryRun) {
    if (!state.shadow) return null;
    return state.shadow.decision === 'PROCEED' ? 'WOULD_PROMOTE' : 'WOULD_HALT';
  }
  if (state.rollbackError) return 'ROLLBACK_FAILED';
  if (state.restore?.action === 'conflict') return 'CONFLICT';
  if (state.error) return state.restored?.ready ? 'ROLLED_BACK' : null;
  if (state.rollout.startMode === 'ENFORCE') return 'ENFORCED';
  if (state.enforce?.decision === 'PROCEED') return 'ENFORCED';
  if (state.approval && 'Error' in state.approval) return 'ABORTED';
  if (state.shadow?.decision === 'STOP') return 'HALTED_IN_LOG_ONLY';
  return null;
}
