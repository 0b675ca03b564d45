/**
 * The six task functions of statemachines/runtime-promotion.asl.yaml (contract in
 * functions/domain/redeploy/promotion.ts, PROMOTION_FUNCTION_KEYS). Each one does a single short
 * step; the waiting happens in the state machine. Errors are the named errors the ASL matches:
 * RuntimeVersionFailedError, AlarmNotOkError, EndpointUpdateFailedError, RollbackFailedError,
 * InvalidPromotionInputError, and RetryBudgetExceededError / ThrottledError when a busy or
 * throttled API outlasted the task's own time budget (the ASL retries those).
 */
import { createHash } from 'node:crypto';
import type { Adapters } from '../adapters/index.ts';
import { buildRuntimeUpdate, containerUriOf, type LiveRuntime } from '../domain/runtime-update.ts';
import {
  AlarmNotOkError,
  EndpointUpdateFailedError,
  InvalidPromotionInputError,
  RollbackFailedError,
  RuntimeVersionFailedError,
} from '../domain/redeploy/errors.ts';
import {
  describeError,
  redeployFailed,
  redeployPromoted,
  redeployRolledBack,
  type OutcomeEvent,
  type RedeploySubject,
} from '../domain/redeploy/outcome-events.ts';
import { parseImageUri, sameImage } from '../domain/redeploy/image-ref.ts';
import type { PromotionOutcome } from '../domain/redeploy/promotion.ts';
import { REJECTED_DIGESTS_TAG } from '../domain/redeploy/rejected.ts';
import type { EventsSettings } from '../lib/config/index.ts';
import { ResourceNotFoundError } from '../lib/errors.ts';
import { retryWithBackoff, RetryBudgetExceededError } from '../lib/retry.ts';
import { sleep } from '../lib/time.ts';
import { isRetryableAwsError, type Log } from './redeploy.ts';
import { recordRejectedDigest } from './redeploy-tags.ts';

export interface PromotionTaskContext {
  adapters: Pick<Adapters, 'agentCore' | 'cloudWatch' | 'events'>;
  log: Log;
  /** Milliseconds left for retries inside this invocation. */
  remainingMs: () => number;
  /** Where outcome events go (config `events`); loaded only by the report task. */
  events?: () => Promise<EventsSettings>;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const VERSION = /^[1-9][0-9]{0,4}$/;
const RUNTIME_ID = /^[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10}$/;
const ENDPOINT_NAME = /^[a-zA-Z][a-zA-Z0-9_]{0,47}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(input: unknown, name: string, pattern: RegExp): string {
  const v = isObject(input) ? input[name] : undefined;
  if (typeof v !== 'string' || !pattern.test(v)) throw new InvalidPromotionInputError(`${name} is missing or malformed`, { details: { field: name } });
  return v;
}

function retrying<T>(ctx: PromotionTaskContext, operation: string, fn: () => Promise<T>): Promise<T> {
  return retryWithBackoff(fn, {
    isRetryable: isRetryableAwsError,
    baseMs: 250,
    maxMs: 5_000,
    deadline: ctx.remainingMs,
    sleep: ctx.sleep ?? sleep,
    random: ctx.random,
    onRetry: ({ attempt, waitMs, error }) => ctx.log.warn('Retrying a busy or throttled call', { operation, attempt, waitMs, error: describeError(error).name }),
  });
}

/** {runtimeId, version} -> {status}; RuntimeVersionFailedError when the version failed or vanished. */
export async function checkRuntime(ctx: PromotionTaskContext, input: unknown): Promise<{ status: string }> {
  const runtimeId = field(input, 'runtimeId', RUNTIME_ID);
  const version = field(input, 'version', VERSION);
  let status: string;
  try {
    const live = await retrying(ctx, 'GetAgentRuntime', () => ctx.adapters.agentCore.getRuntime(runtimeId, version));
    status = live.status ?? 'UNKNOWN';
  } catch (err) {
    if (err instanceof ResourceNotFoundError) {
      throw new RuntimeVersionFailedError(`version ${version} of runtime ${runtimeId} does not exist`, { cause: err, details: { runtimeId, version } });
    }
    throw err;
  }
  ctx.log.info('Runtime version checked', { runtimeId, version, status });
  if (status.endsWith('_FAILED') || status === 'DELETING') {
    throw new RuntimeVersionFailedError(`version ${version} of runtime ${runtimeId} is ${status}`, { details: { runtimeId, version, status } });
  }
  return { status };
}

/** {runtimeId, alarms} -> {state: OK}; AlarmNotOkError unless every alarm is OK (missing counts as not OK). */
export async function checkAlarms(ctx: PromotionTaskContext, input: unknown): Promise<{ state: 'OK' }> {
  const runtimeId = field(input, 'runtimeId', RUNTIME_ID);
  const alarms = isObject(input) ? input.alarms : undefined;
  if (!Array.isArray(alarms) || alarms.some((a) => typeof a !== 'string' || a.length === 0 || a.length > 255)) {
    throw new InvalidPromotionInputError('alarms must be a list of alarm names', { details: { field: 'alarms' } });
  }
  const states = await retrying(ctx, 'DescribeAlarms', () => ctx.adapters.cloudWatch.describeAlarms(alarms as string[]));
  const bad = states.filter((s) => s.state !== 'OK');
  ctx.log.info('Alarms checked', { runtimeId, alarms: states.map((s) => ({ name: s.name, state: s.state })) });
  if (bad.length > 0) {
    throw new AlarmNotOkError(`alarm(s) not OK: ${bad.map((s) => `${s.name}=${s.state}`).join(', ')}`, { details: { runtimeId, alarms: bad.map((s) => s.name) } });
  }
  return { state: 'OK' };
}

export interface EndpointState {
  endpointName: string;
  status: string;
  /** '' when the endpoint serves no version yet. */
  liveVersion: string;
  targetVersion?: string;
}

async function readEndpoint(ctx: PromotionTaskContext, runtimeId: string, endpointName: string) {
  return retrying(ctx, 'GetAgentRuntimeEndpoint', () => ctx.adapters.agentCore.getRuntimeEndpoint(runtimeId, endpointName));
}

/** {runtimeId, endpointName} -> its state; EndpointUpdateFailedError when it is in a failed state. */
export async function checkEndpoint(ctx: PromotionTaskContext, input: unknown): Promise<EndpointState> {
  const runtimeId = field(input, 'runtimeId', RUNTIME_ID);
  const endpointName = field(input, 'endpointName', ENDPOINT_NAME);
  const ep = await readEndpoint(ctx, runtimeId, endpointName);
  const state: EndpointState = { endpointName, status: ep.status ?? 'UNKNOWN', liveVersion: ep.liveVersion ?? '' };
  if (ep.targetVersion !== undefined && ep.targetVersion !== null) state.targetVersion = ep.targetVersion;
  ctx.log.info('Endpoint checked', { runtimeId, ...state });
  if (state.status.endsWith('_FAILED')) {
    throw new EndpointUpdateFailedError(`endpoint ${endpointName} of runtime ${runtimeId} is ${state.status}`, { details: { runtimeId, ...state } });
  }
  return state;
}

/** Deterministic token of one endpoint move from one live version to one target. */
export function endpointClientToken(runtimeId: string, endpointName: string, fromVersion: string, targetVersion: string): string {
  const digest = createHash('sha256').update(JSON.stringify(['endpoint', runtimeId, endpointName, fromVersion, targetVersion]), 'utf8').digest('hex');
  return `autopilot-${digest}`;
}

/** {runtimeId, endpointName, targetVersion} -> {endpointName, targetVersion}; a no-op when already there. */
export async function moveEndpoint(ctx: PromotionTaskContext, input: unknown): Promise<{ endpointName: string; targetVersion: string }> {
  const runtimeId = field(input, 'runtimeId', RUNTIME_ID);
  const endpointName = field(input, 'endpointName', ENDPOINT_NAME);
  const targetVersion = field(input, 'targetVersion', VERSION);
  await retrying(ctx, 'UpdateAgentRuntimeEndpoint', async () => {
    const ep = await ctx.adapters.agentCore.getRuntimeEndpoint(runtimeId, endpointName);
    const pending = ep.targetVersion ?? undefined;
    if (ep.liveVersion === targetVersion && (pending === undefined || pending === targetVersion) && !String(ep.status).endsWith('_FAILED')) {
      ctx.log.info('Endpoint already on the target version', { runtimeId, endpointName, targetVersion });
      return;
    }
    if (pending === targetVersion && ep.status === 'UPDATING') {
      ctx.log.info('Endpoint already moving to the target version', { runtimeId, endpointName, targetVersion });
      return;
    }
    // UpdateAgentRuntimeEndpoint replaces the endpoint's configuration: carry the description over.
    await ctx.adapters.agentCore.updateRuntimeEndpoint({
      agentRuntimeId: runtimeId,
      endpointName,
      agentRuntimeVersion: targetVersion,
      ...(typeof ep.description === 'string' && { description: ep.description }),
      clientToken: endpointClientToken(runtimeId, endpointName, ep.liveVersion ?? '', targetVersion),
    });
    ctx.log.info('Endpoint move requested', { runtimeId, endpointName, fromVersion: ep.liveVersion, targetVersion });
  });
  return { endpointName, targetVersion };
}

/** What the rollback task answers. */
export type RollbackResult =
  /** The previous image runs again as `rolledBackVersion` (made now, or by an earlier attempt). */
  | { rolledBackVersion: string; rejectedDigest?: string }
  /**
   * A newer version than the failed one, with another image than the failed one, is live (a later
   * deployment, typically a newer push): nothing was changed. Rolling back would overwrite it.
   */
  | { superseded: true; liveVersion: string; liveUri?: string; rejectedDigest?: string };

/** The digest of an image URI, when it has one. */
function digestOf(uri: string | undefined): string | undefined {
  return parseImageUri(uri)?.digest;
}

/**
 * Records the failed digest in the runtime's rejected list, so that neither a redelivered push nor
 * the drift safety net brings it back by itself. Throttling past the budget is thrown
 * (RetryBudgetExceededError: the state machine retries the task, which is idempotent); any other
 * failure is logged and the digest is not recorded.
 */
async function rejectDigest(ctx: PromotionTaskContext, runtimeId: string, arn: string | undefined, digest: string | undefined): Promise<string | undefined> {
  if (digest === undefined || arn === undefined || arn === '') {
    ctx.log.warn('Failed digest not recorded: no digest or runtime ARN', { runtimeId, digest });
    return undefined;
  }
  try {
    await retrying(ctx, 'TagResource', () => recordRejectedDigest(ctx.adapters.agentCore, arn, digest));
    ctx.log.info('Failed digest recorded as rejected', { runtimeId, digest, tag: REJECTED_DIGESTS_TAG });
    return digest;
  } catch (err) {
    if (err instanceof RetryBudgetExceededError) throw err;
    ctx.log.error('Failed digest not recorded as rejected', { runtimeId, digest, error: describeError(err) });
    return undefined;
  }
}

/**
 * {runtimeId, previousUri, failedVersion, previousVersion, failedUri?} -> RollbackResult: the
 * previous image as a new runtime version, every other field carried from the live runtime
 * (lossless builder), and the failed image's digest recorded in the runtime's rejected list.
 * Idempotent: when the latest version is newer than the failed one and already runs previousUri,
 * that version is the answer. Never overwrites a newer deployment: when the latest version is newer
 * than the failed one and runs another image than the failed one, the answer is `superseded` and
 * nothing is updated (a retried or late rollback must not undo a good deploy that came after).
 */
export async function rollback(ctx: PromotionTaskContext, input: unknown): Promise<RollbackResult> {
  const runtimeId = field(input, 'runtimeId', RUNTIME_ID);
  const failedVersion = field(input, 'failedVersion', VERSION);
  field(input, 'previousVersion', VERSION);
  const previousUri = isObject(input) ? input.previousUri : undefined;
  if (typeof previousUri !== 'string' || previousUri.length === 0) {
    throw new InvalidPromotionInputError('previousUri is missing', { details: { field: 'previousUri' } });
  }
  const givenFailedUri = isObject(input) && typeof input.failedUri === 'string' && input.failedUri.length > 0 ? input.failedUri : undefined;
  let arn: string | undefined;
  let failedUri = givenFailedUri;
  let result: RollbackResult;
  try {
    result = await retrying(ctx, 'UpdateAgentRuntime', async (): Promise<RollbackResult> => {
      const { $metadata: _m, ...live } = await ctx.adapters.agentCore.getRuntime(runtimeId);
      arn = live.agentRuntimeArn;
      const liveVersion = live.agentRuntimeVersion ?? '';
      const liveUri = containerUriOf(live);
      const newer = Number(liveVersion) > Number(failedVersion);
      if (liveVersion === failedVersion) failedUri ??= liveUri;
      if (newer && failedUri === undefined) {
        // An input without failedUri (an execution started before it was passed): read the failed version.
        const { $metadata: _f, ...failed } = await ctx.adapters.agentCore.getRuntime(runtimeId, failedVersion);
        failedUri = containerUriOf(failed);
      }
      if (newer && liveUri === previousUri) return { rolledBackVersion: liveVersion };
      if (newer && !runsImage(liveUri, failedUri)) return { superseded: true, liveVersion, ...(liveUri !== undefined && { liveUri }) };
      const request = buildRuntimeUpdate(live as LiveRuntime, { containerUri: previousUri });
      const response = await ctx.adapters.agentCore.updateRuntime(request);
      return { rolledBackVersion: response.agentRuntimeVersion ?? '' };
    });
  } catch (err) {
    // Out of budget on a busy runtime: let the state machine retry with a fresh invocation.
    if (err instanceof RetryBudgetExceededError) throw err;
    throw new RollbackFailedError(`rolling runtime ${runtimeId} back failed: ${describeError(err).name}`, { cause: err, details: { runtimeId, failedVersion } });
  }
  if ('superseded' in result) {
    ctx.log.warn('Rollback skipped: a newer deployment superseded the failed version', { runtimeId, failedVersion, liveVersion: result.liveVersion });
  } else {
    ctx.log.info('Runtime rolled back', { runtimeId, failedVersion, rolledBackVersion: result.rolledBackVersion });
  }
  const rejected = await rejectDigest(ctx, runtimeId, arn, digestOf(failedUri));
  if (rejected !== undefined) result.rejectedDigest = rejected;
  return result;
}

/** Whether `liveUri` runs the image of `failedUri` (same registry, repository and digest; else the same text). */
function runsImage(liveUri: string | undefined, failedUri: string | undefined): boolean {
  if (liveUri === undefined || failedUri === undefined) return liveUri === failedUri;
  const failed = parseImageUri(failedUri);
  if (failed?.digest && failed.account !== undefined && failed.region !== undefined) {
    return sameImage(liveUri, { account: failed.account, region: failed.region, repository: failed.repository, digest: failed.digest });
  }
  return liveUri === failedUri;
}

interface PromotionState {
  runtimeId?: unknown;
  newVersion?: unknown;
  previousVersion?: unknown;
  previousUri?: unknown;
  newUri?: unknown;
  endpoints?: unknown;
  failure?: { Error?: unknown; Cause?: unknown };
  rollback?: { rolledBackVersion?: unknown; superseded?: unknown; liveVersion?: unknown; rejectedDigest?: unknown };
  origin?: unknown;
  rollbackError?: { Error?: unknown };
  restoreError?: { Error?: unknown };
  /** Set by the report task when it recorded a failed version's digest itself. */
  rejectedDigest?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Errors whose messages are ours and value-free (task errors and the ASL's own timeout). */
const OWN_FAILURES = new Set(['RuntimeVersionFailedError', 'AlarmNotOkError', 'EndpointUpdateFailedError', 'PromotionTimeoutError', 'RollbackFailedError', 'InvalidPromotionInputError']);

/**
 * What went wrong, for the event's `message`: the error name, plus its message when the error is
 * one of ours (a Lambda failure's Cause is `{errorType, errorMessage, trace}`; an ASL Pass state's
 * Cause is plain text). Foreign errors travel by name only: their messages may echo values.
 */
export function failureMessage(failure: PromotionState['failure']): string {
  const name = str(failure?.Error) ?? 'PromotionFailed';
  const cause = str(failure?.Cause);
  if (!OWN_FAILURES.has(name) || cause === undefined) return name;
  let text: string | undefined = cause;
  try {
    const parsed = JSON.parse(cause) as unknown;
    text = isObject(parsed) ? str(parsed.errorMessage) : undefined;
  } catch {
    // plain text Cause (the ASL's timeout states)
  }
  return text ? `${name}: ${text.slice(0, 400)}` : name;
}

/** The subject of a report: the runtime, and the trigger/image the execution was started for. */
function subjectOf(runtimeId: string, origin: unknown): RedeploySubject {
  const subject: RedeploySubject = { runtimeId };
  if (!isObject(origin)) return subject;
  const trigger = origin.trigger;
  if (trigger === 'image-push' || trigger === 'change-request' || trigger === 'manual' || trigger === 'drift') subject.trigger = trigger;
  const repository = str(origin.repository);
  const digest = str(origin.digest);
  const tag = str(origin.tag);
  if (repository !== undefined && digest !== undefined) subject.image = { repository, digest, ...(tag !== undefined && { tag }) };
  if (str(origin.eventId) !== undefined) subject.eventId = str(origin.eventId);
  if (str(origin.requestId) !== undefined) subject.requestId = str(origin.requestId);
  return subject;
}

const rejectedNote = (digest: unknown): string | undefined =>
  typeof digest === 'string' ? `${digest} recorded in the runtime's ${REJECTED_DIGESTS_TAG} tag` : undefined;

/** The outcome event of a finished promotion. */
export function promotionEvent(outcome: PromotionOutcome, state: PromotionState): OutcomeEvent {
  const runtimeId = field(state, 'runtimeId', RUNTIME_ID);
  const subject = subjectOf(runtimeId, state.origin);
  const endpoints = Array.isArray(state.endpoints) ? state.endpoints.filter((e): e is string => typeof e === 'string') : [];
  const newVersion = str(state.newVersion);
  const previousVersion = str(state.previousVersion);
  const failure = str(state.failure?.Error) ?? 'PromotionFailed';
  const why = failureMessage(state.failure);
  if (outcome === 'PROMOTED') {
    // endpoints [] (a runtime without `promote`): the new version is READY and serving DEFAULT.
    return redeployPromoted(subject, { fromVersion: previousVersion, toVersion: newVersion ?? '', endpoints, toUri: str(state.newUri) });
  }
  if (outcome === 'ROLLED_BACK') {
    return redeployRolledBack(subject, {
      fromVersion: newVersion ?? '',
      toVersion: str(state.rollback?.rolledBackVersion),
      fromUri: str(state.newUri) ?? '',
      toUri: str(state.previousUri),
      reason: failure,
      message: [why, rejectedNote(state.rollback?.rejectedDigest)].filter(Boolean).join('; '),
      endpoints,
    });
  }
  const superseded = state.rollback?.superseded === true;
  const message = [
    why,
    superseded && `not rolled back: version ${str(state.rollback?.liveVersion) ?? '?'} superseded version ${newVersion ?? '?'}`,
    str(state.rollbackError?.Error) && `rollback: ${str(state.rollbackError?.Error)}`,
    str(state.restoreError?.Error) && `restore: ${str(state.restoreError?.Error)}`,
    rejectedNote(state.rollback?.rejectedDigest ?? state.rejectedDigest),
  ]
    .filter(Boolean)
    .join('; ');
  // A newer deployment made the rollback moot; else the new version itself failed (e.g.
  // UPDATE_FAILED) vs. a later step of the promotion.
  const reason = superseded ? 'superseded' : failure === 'RuntimeVersionFailedError' ? 'version-failed' : 'promotion-failed';
  return redeployFailed(subject, { reason, message, fromVersion: previousVersion, toVersion: newVersion, endpoints });
}

/** Records the failed version's digest as rejected (GetAgentRuntime for the ARN). Never throws but for a spent budget. */
async function rejectFailedVersion(ctx: PromotionTaskContext, runtimeId: string, newUri: string | undefined): Promise<string | undefined> {
  let arn: string | undefined;
  try {
    arn = (await retrying(ctx, 'GetAgentRuntime', () => ctx.adapters.agentCore.getRuntime(runtimeId))).agentRuntimeArn;
  } catch (err) {
    if (err instanceof RetryBudgetExceededError) throw err;
    ctx.log.error('Failed digest not recorded as rejected: runtime not read', { runtimeId, error: describeError(err) });
    return undefined;
  }
  return rejectDigest(ctx, runtimeId, arn, digestOf(newUri));
}

/** {outcome, promotion} -> publishes Runtime Redeploy Promoted / Rolled Back / Failed. */
export async function report(ctx: PromotionTaskContext, input: unknown): Promise<{ published: string }> {
  const outcome = isObject(input) ? input.outcome : undefined;
  if (outcome !== 'PROMOTED' && outcome !== 'ROLLED_BACK' && outcome !== 'FAILED') {
    throw new InvalidPromotionInputError('outcome must be PROMOTED, ROLLED_BACK or FAILED', { details: { field: 'outcome' } });
  }
  let state = isObject(input) && isObject(input.promotion) ? (input.promotion as PromotionState) : {};
  // A version that ended *_FAILED without a rollback (none asked for, or the rollback failed): its
  // digest is rejected here; a rollback records it itself.
  if (outcome === 'FAILED' && str(state.failure?.Error) === 'RuntimeVersionFailedError' && state.rollback === undefined) {
    const runtimeId = field(state, 'runtimeId', RUNTIME_ID);
    const rejectedDigest = await rejectFailedVersion(ctx, runtimeId, str(state.newUri));
    if (rejectedDigest !== undefined) state = { ...state, rejectedDigest };
  }
  const event = promotionEvent(outcome, state);
  const settings = ctx.events ? await ctx.events() : { source: event.source, busName: 'default' };
  await retrying(ctx, 'PutEvents', () => ctx.adapters.events.publish(event.detailType, event.detail, { source: settings.source, busName: settings.busName }));
  ctx.log.info('Promotion reported', { runtimeId: event.detail.runtimeId, outcome, detailType: event.detailType });
  return { published: event.detailType };
}
