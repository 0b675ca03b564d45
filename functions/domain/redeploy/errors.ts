/**
 * Errors the runtime-promotion tasks throw. Their names are a contract with
 * statemachines/runtime-promotion.asl.yaml (`ErrorEquals`); test/statemachines keeps the two in sync.
 */
import { AutopilotError } from '../../lib/errors.ts';

/** The new runtime version ended in CREATE_FAILED / UPDATE_FAILED (or vanished) instead of READY. */
export class RuntimeVersionFailedError extends AutopilotError {}

/** An endpoint update ended in a failed state, or the endpoint went live on another version. */
export class EndpointUpdateFailedError extends AutopilotError {}

/** A verification alarm is in ALARM, or has no data yet (inconclusive never passes). */
export class AlarmNotOkError extends AutopilotError {}

/** The version or an endpoint did not become READY within the promotion's timeoutSeconds. */
export class PromotionTimeoutError extends AutopilotError {}

/** Rolling the runtime's artifact back to the previous image failed. */
export class RollbackFailedError extends AutopilotError {}

/** The state machine was started with input the tasks cannot work with. */
export class InvalidPromotionInputError extends AutopilotError {}

/**
 * Every error name the promotion state machine matches besides `States.*` / `Lambda.*`: the
 * promotion errors above, `RetryBudgetExceededError` (functions/lib/retry.ts: a task gave up on a
 * busy or throttled API within its own time budget, so a fresh invocation may succeed),
 * `ThrottledError` and `ServiceUnavailableError` (functions/lib/errors.ts: the adapters' names for a
 * throttled AWS call and a 5xx / unreachable service).
 */
export const PROMOTION_ERROR_NAMES = [
  'RuntimeVersionFailedError',
  'EndpointUpdateFailedError',
  'AlarmNotOkError',
  'PromotionTimeoutError',
  'RollbackFailedError',
  'InvalidPromotionInputError',
  'RetryBudgetExceededError',
  'ThrottledError',
  'ServiceUnavailableError',
] as const;
export type PromotionErrorName = (typeof PROMOTION_ERROR_NAMES)[number];
