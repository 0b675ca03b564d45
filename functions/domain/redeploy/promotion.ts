/**
 * The contract of statemachines/runtime-promotion.asl.yaml: its input, its output and the Lambda
 * function keys (serverless.yml `functions:`) it invokes. Built here, from a redeploy decision and
 * the tracking rule, so the handler that starts an execution sends exactly what the ASL reads.
 */
import { InvalidPromotionInputError } from './errors.ts';
import type { RedeployOrigin } from './outcome-events.ts';

/** serverless.yml function keys the state machine references as `<Key>LambdaFunction`. */
export const PROMOTION_FUNCTION_KEYS = {
  /** GetAgentRuntime(version) -> {status}; throws RuntimeVersionFailedError on *_FAILED. */
  checkRuntime: 'promotionCheckRuntime',
  /** DescribeAlarms -> {state: OK}; throws AlarmNotOkError unless every alarm is OK. */
  checkAlarms: 'promotionCheckAlarms',
  /** UpdateAgentRuntimeEndpoint(targetVersion) -> {endpointName, targetVersion}; no-op when already there. */
  moveEndpoint: 'promotionMoveEndpoint',
  /** GetAgentRuntimeEndpoint -> {endpointName, status, liveVersion, targetVersion?}; throws EndpointUpdateFailedError on *_FAILED. */
  checkEndpoint: 'promotionCheckEndpoint',
  /** Restores the previous containerUri with the lossless builder -> {rolledBackVersion}. */
  rollback: 'promotionRollback',
  /** Publishes the outcome event (Runtime Redeploy Promoted / Rolled Back / Failed). */
  report: 'promotionReport',
} as const;

/** CloudFormation logical id serverless gives a function key: `promotionCheckRuntime` -> `PromotionCheckRuntimeLambdaFunction`. */
export function lambdaLogicalId(functionKey: string): string {
  return `${functionKey.charAt(0).toUpperCase()}${functionKey.slice(1)}LambdaFunction`;
}

/** Input of one execution. Versions are AgentCore version strings ("1".."99999"). */
export interface PromotionInput {
  runtimeId: string;
  newVersion: string;
  previousVersion: string;
  previousUri: string;
  newUri: string;
  /**
   * Named endpoints to move, in order (DEFAULT follows the latest version by itself). Empty for a
   * runtime without `promote`: the execution then only follows the new version until it is READY
   * (reported as Promoted with `endpoints: []`: READY and serving DEFAULT) or failed (reported as
   * Failed; VERIFY_ONLY never rolls back).
   */
  endpoints: string[];
  /** CloudWatch alarm names that must all be OK before any endpoint moves. */
  alarms: string[];
  rollbackOnFailure: boolean;
  /** Waiting budget per poll loop (runtime version READY; each endpoint live). */
  timeoutSeconds: number;
  /** Longest wait between two polls (the steady interval). */
  pollSeconds: number;
  /** Wait between two polls during a loop's first `fastPollSeconds` (then waits double up to pollSeconds). */
  firstPollSeconds: number;
  /** How long each loop polls every firstPollSeconds: 0 for a version only followed (nobody waits for it). */
  fastPollSeconds: number;
  /**
   * Unique per starting invocation. StartExecution with a taken name and another input is
   * ExecutionAlreadyExists, so of several deliveries that got the same version back from
   * UpdateAgentRuntime (a client-token replay) exactly one owns the execution and reports Started;
   * the retries of one invocation send the same input and stay idempotent. Ignored by the ASL.
   */
  claim?: string;
  /**
   * What started the redeploy, carried to the report task so the Promoted / Rolled Back / Failed
   * events say the same trigger (and image) as the Started event. Ignored by the ASL.
   */
  origin?: PromotionOrigin;
}

/** The trigger of the redeploy a promotion follows (names, ids and digests only). */
export type PromotionOrigin = RedeployOrigin;

/** Final output of every execution that gets as far as reporting. */
export type PromotionOutcome = 'PROMOTED' | 'ROLLED_BACK' | 'FAILED';

export const DEFAULT_POLL_SECONDS = 15;
export const MIN_POLL_SECONDS = 5;
/**
 * Polls while a production endpoint waits: every 2 s (the AWS SDK waiters' shortest delay) for the
 * first minute of each wait loop, which covers the 20-60 s a version or an endpoint move takes.
 */
export const FIRST_POLL_SECONDS = 2;
export const FAST_POLL_SECONDS = 60;

/** Promotion settings of a tracking rule (config `promote`). */
export interface PromoteSettings {
  endpoints: readonly string[];
  alarms?: readonly string[];
  rollbackOnFailure: boolean;
  timeoutMinutes: number;
}

/**
 * What a runtime without `promote` gets: its new version is followed until READY (or failed), no
 * endpoint moves, no alarm is read and nothing is rolled back (only reported).
 */
export const VERIFY_ONLY: PromoteSettings = Object.freeze({ endpoints: Object.freeze([]), alarms: Object.freeze([]), rollbackOnFailure: false, timeoutMinutes: 30 });

/** Builds (and checks) the execution input; throws InvalidPromotionInputError. */
export function buildPromotionInput(args: {
  runtimeId: string;
  newVersion: string;
  previousVersion: string;
  previousUri: string;
  newUri: string;
  promote: PromoteSettings;
  pollSeconds?: number;
  claim?: string;
  origin?: PromotionOrigin;
}): PromotionInput {
  const { promote } = args;
  const timeoutSeconds = Math.round(promote.timeoutMinutes * 60);
  const pollSeconds = args.pollSeconds ?? DEFAULT_POLL_SECONDS;
  const version = /^[1-9][0-9]{0,4}$/;
  if (!version.test(args.newVersion) || !version.test(args.previousVersion)) {
    throw new InvalidPromotionInputError('versions must be AgentCore version numbers', { details: { runtimeId: args.runtimeId } });
  }
  if (args.newVersion === args.previousVersion) {
    throw new InvalidPromotionInputError('newVersion equals previousVersion: nothing to promote', { details: { runtimeId: args.runtimeId } });
  }
  if (new Set(promote.endpoints).size !== promote.endpoints.length) {
    throw new InvalidPromotionInputError('an endpoint is named twice', { details: { runtimeId: args.runtimeId } });
  }
  if (!Number.isInteger(pollSeconds) || pollSeconds < MIN_POLL_SECONDS) {
    throw new InvalidPromotionInputError(`pollSeconds must be an integer >= ${MIN_POLL_SECONDS}`, { details: { pollSeconds } });
  }
  if (!(timeoutSeconds >= pollSeconds)) {
    throw new InvalidPromotionInputError('timeout must be at least one poll interval', { details: { timeoutSeconds, pollSeconds } });
  }
  return {
    runtimeId: args.runtimeId,
    newVersion: args.newVersion,
    previousVersion: args.previousVersion,
    previousUri: args.previousUri,
    newUri: args.newUri,
    endpoints: [...promote.endpoints],
    alarms: [...(promote.alarms ?? [])],
    rollbackOnFailure: promote.rollbackOnFailure,
    timeoutSeconds,
    pollSeconds,
    firstPollSeconds: Math.min(FIRST_POLL_SECONDS, pollSeconds),
    // Fast polls only where endpoints wait for the version: a followed version is not worth the quota.
    fastPollSeconds: promote.endpoints.length > 0 ? FAST_POLL_SECONDS : 0,
    ...(args.claim !== undefined && { claim: args.claim }),
    ...(args.origin !== undefined && { origin: { ...args.origin } }),
  };
}

/** Deterministic execution name (80 chars max, [A-Za-z0-9-_]): one execution per runtime version. */
export function promotionExecutionName(runtimeId: string, newVersion: string): string {
  return `promote-${runtimeId}-v${newVersion}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80);
}
