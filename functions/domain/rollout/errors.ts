/**
 * Errors the policy-rollout tasks throw. Each class `name` is a contract with
 * statemachines/policy-rollout.asl.yaml (Retry/Catch `ErrorEquals`); a test keeps the two in sync.
 */
import { AutopilotError } from '../../lib/errors.ts';

/** Preflight: the gateway is not READY (CREATING, UPDATING, FAILED...); nothing was changed. */
export class GatewayNotReadyError extends AutopilotError {}

/** Preflight: the policy engine is missing or not ACTIVE; nothing was changed. */
export class PolicyEngineNotActiveError extends AutopilotError {}

/**
 * Preflight: the gateway enforces a different policy engine. Attaching the new engine in LOG_ONLY
 * would switch that enforcement off for the whole bake, so the rollout refuses.
 */
export class PolicyEngineConflictError extends AutopilotError {}

/** Preflight: another rollout for the same gateway is RUNNING; nothing was changed. */
export class RolloutInProgressError extends AutopilotError {}

/** Preflight: the execution input or the resolved rollout settings are unusable. */
export class InvalidRolloutInputError extends AutopilotError {}

/** Readiness poll: the gateway reached UPDATE_UNSUCCESSFUL (or FAILED) after our update. */
export class GatewayUpdateFailedError extends AutopilotError {}

/** Readiness poll: the gateway did not become READY before the deadline or the poll budget ran out. */
export class ReadyTimeoutError extends AutopilotError {}

/**
 * Preflight: ENFORCE would deny every tool call. Cedar is default-deny, and the engine has no
 * ACTIVE policy that permits anything; nothing was changed.
 */
export class NoPermittingPolicyError extends AutopilotError {}

/**
 * UpdateGateway failed with InternalServerException while attaching (or switching) a policy
 * engine: what AgentCore answers when the gateway's execution role lacks AuthorizeAction,
 * PartiallyAuthorizeActions or GetPolicyEngine (developer guide, policy-permissions). Not retried.
 */
export class GatewayRolePermissionError extends AutopilotError {}

/**
 * Rollback readiness: the gateway is READY but does not show the restored policyEngineConfiguration
 * (e.g. an update without the member did not detach the engine: that behaviour is undocumented).
 */
export class RestoreNotAppliedError extends AutopilotError {}

/**
 * Raised by the state machine itself (a Pass into the rollback path, never thrown by a task): the
 * ENFORCE verification failed, or stayed inconclusive after every extension.
 */
export class EnforceGatesFailedError extends AutopilotError {}

/**
 * The state machine's final Fail state: restoring the recorded configuration failed. The gateway
 * may be left in an intermediate state and needs an operator.
 */
export class RollbackFailedError extends AutopilotError {}

/**
 * The error name `autopilot rollout reject` sends with SendTaskFailure; the approval step's Catch
 * matches it and ends the rollout as ABORTED.
 */
export class ApprovalRejectedError extends AutopilotError {}

/** Names of the rollout's own errors (classes above). */
export const ROLLOUT_OWN_ERROR_NAMES = [
  'GatewayNotReadyError',
  'PolicyEngineNotActiveError',
  'PolicyEngineConflictError',
  'RolloutInProgressError',
  'InvalidRolloutInputError',
  'GatewayUpdateFailedError',
  'ReadyTimeoutError',
  'NoPermittingPolicyError',
  'GatewayRolePermissionError',
  'RestoreNotAppliedError',
  'EnforceGatesFailedError',
  'RollbackFailedError',
  'ApprovalRejectedError',
] as const;

/**
 * Shared adapter errors (functions/lib/errors.ts) the rollout's Retry policies name: transient
 * failures worth trying again with backoff.
 */
export const RETRYABLE_ADAPTER_ERROR_NAMES = ['ThrottledError', 'ConflictError', 'ServiceUnavailableError'] as const;

/** Every error name the policy-rollout state machine may name in `ErrorEquals` or a Fail state. */
export const ROLLOUT_ERROR_NAMES: readonly string[] = [...ROLLOUT_OWN_ERROR_NAMES, ...RETRYABLE_ADAPTER_ERROR_NAMES];
