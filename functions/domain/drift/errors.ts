/**
 * Errors of the drift job's apply step (reported per resource as a failed correction).
 */
import { AutopilotError } from '../../lib/errors.ts';

/**
 * A missed-push redeploy of a runtime whose tracking rule promotes to named endpoints, while the
 * runtime-promotion state machine is unknown (PROMOTION_STATE_MACHINE_ARN unset, none found):
 * nothing is written, rather than a new version the endpoints would never be moved to.
 */
export class PromotionStateMachineUnknownError extends AutopilotError {}

/** A staged ENFORCE rollout is needed but the policy-rollout state machine is unknown. */
export class RolloutStateMachineUnknownError extends AutopilotError {}
