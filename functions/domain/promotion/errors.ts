/**
 * Errors of the policy-promotion tasks. Each `name` is a contract with
 * statemachines/policy-promotion.asl.yaml (Retry/Catch `ErrorEquals`).
 */
import { AutopilotError } from '../../lib/errors.ts';

/** The request is unusable, or names an engine or policy the config does not declare. */
export class InvalidPromotionRequestError extends AutopilotError {}

/** Another promotion of the same policy is RUNNING; nothing was changed. */
export class PromotionInProgressError extends AutopilotError {}

/** The policy (or its trial copy) is CREATING/UPDATING/DELETING: waited for by the state machine. */
export class PolicyNotReadyError extends AutopilotError {}

/** The policy engine is missing or not ACTIVE. */
export class PolicyEngineUnavailableError extends AutopilotError {}

/** CreatePolicy/UpdatePolicy ended CREATE_FAILED/UPDATE_FAILED: the statement was refused (reasons attached). */
export class PolicyValidationFailedError extends AutopilotError {}

/** The policy did not settle (ACTIVE status) before the deadline or the poll budget ran out. */
export class PolicyReadyTimeoutError extends AutopilotError {}

/** The config's statement changed since the preflight (a redeploy during the bake): nothing is written. */
export class DeclarationChangedError extends AutopilotError {}

/** A restore settled but the policy does not show what was restored. */
export class PolicyRestoreNotAppliedError extends AutopilotError {}

/** Raised by the state machine (a Pass): the ACTIVE verification failed or stayed inconclusive. */
export class ActiveGatesFailedError extends AutopilotError {}

/** The state machine's Fail state when putting the policy back failed. */
export class PromotionRollbackFailedError extends AutopilotError {}

export const PROMOTION_OWN_ERROR_NAMES = [
  'InvalidPromotionRequestError',
  'PromotionInProgressError',
  'PolicyNotReadyError',
  'PolicyEngineUnavailableError',
  'PolicyValidationFailedError',
  'PolicyReadyTimeoutError',
  'DeclarationChangedError',
  'PolicyRestoreNotAppliedError',
  'ActiveGatesFailedError',
  'PromotionRollbackFailedError',
  'ApprovalRejectedError',
] as const;
