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
import { describeError, redeployFailed, redeployPromoted, redeployRolledBack, type OutcomeEvent } from '../domain/redeploy/outcome-events.ts';
import type { PromotionOutcome } from '../domain/redeploy/promotion.ts';
import type { EventsSettings } from '../lib/config/index.ts';
import { ResourceNotFoundError } from '../lib/errors.ts';
import { retryWithBackoff, RetryBudgetExceededError } from '../lib/retry.ts';
import { sleep } from '../lib/time.ts';
import { isRetryableAwsError, type Log } from './redeploy.ts';

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

/**
 * {runtimeId, previousUri, failedVersion, previousVersion} -> {rolledBackVersion}: the previous image
 * as a new runtime version, every other field carried from the live runtime (lossless builder).
 * Idempotent: when the latest version is newer than the failed one and already runs previousUri,
 * that version is the answer.
 */
export async function rollback(ctx: PromotionTaskContext, input: unknown): Promise<{ rolledBackVersion: string }> {
  const runtimeId = field(input, 'runtimeId', RUNTIME_ID);
  const failedVersion = field(input, 'failedVersion', VERSION);
  field(input, 'previousVersion', VERSION);
  const previousUri = isObject(input) ? input.previousUri : undefined;
  if (typeof previousUri !== 'string' || previousUri.length === 0) {
    throw new InvalidPromotionInputError('previousUri is missing', { details: { field: 'previousUri' } });
  }
  try {
    const rolledBackVersion = await retrying(ctx, 'UpdateAgentRuntime', async () => {
      const { $metadata: _m, ...live } = await ctx.adapters.agentCore.getRuntime(runtimeId);
      const liveVersion = live.agentRuntimeVersion ?? '';
      if (containerUriOf(live) === previousUri && Number(liveVersion) > Number(failedVersion)) return liveVersion;
      const request = buildRuntimeUpdate(live as LiveRuntime, { containerUri: previousUri });
      const response = await ctx.adapters.agentCore.updateRuntime(request);
      return response.agentRuntimeVersion ?? '';
    });
    ctx.log.info('Runtime rolled back', { runtimeId, failedVersion, rolledBackVersion });
    return { rolledBackVersion };
  } catch (err) {
    // Out of budget on a busy runtime: let the state machine retry with a fresh invocation.
    if (err instanceof RetryBudgetExceededError) throw err;
    throw new RollbackFailedError(`rolling runtime ${runtimeId} back failed: ${describeError(err).name}`, { cause: err, details: { runtimeId, failedVersion } });
  }
}

interface PromotionState {
  runtimeId?: unknown;
  newVersion?: unknown;
  previousVersion?: unknown;
  previousUri?: unknown;
  newUri?: unknown;
  endpoints?: unknown;
  failure?: { Error?: unknown; Cause?: unknown };
  rollback?: { rolledBackVersion?: unknown };
  rollbackError?: { Error?: unknown };
  restoreError?: { Error?: unknown };
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

/** The outcome event of a finished promotion. */
export function promotionEvent(outcome: PromotionOutcome, state: PromotionState): OutcomeEvent {
  const runtimeId = field(state, 'runtimeId', RUNTIME_ID);
  const subject = { runtimeId };
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
      message: why,
      endpoints,
    });
  }
  const message = [why, str(state.rollbackError?.Error) && `rollback: ${str(state.rollbackError?.Error)}`, str(state.restoreError?.Error) && `restore: ${str(state.restoreError?.Error)}`]
    .filter(Boolean)
    .join('; ');
  // The new version itself failed (e.g. UPDATE_FAILED) vs. a later step of the promotion.
  const reason = failure === 'RuntimeVersionFailedError' ? 'version-failed' : 'promotion-failed';
  return redeployFailed(subject, { reason, message, fromVersion: previousVersion, toVersion: newVersion, endpoints });
}

/** {outcome, promotion} -> publishes Runtime Redeploy Promoted / Rolled Back / Failed. */
export async function report(ctx: PromotionTaskContext, input: unknown): Promise<{ published: string }> {
  const outcome = isObject(input) ? input.outcome : undefined;
  if (outcome !== 'PROMOTED' && outcome !== 'ROLLED_BACK' && outcome !== 'FAILED') {
    throw new InvalidPromotionInputError('outcome must be PROMOTED, ROLLED_BACK or FAILED', { details: { field: 'outcome' } });
  }
  const state = isObject(input) && isObject(input.promotion) ? (input.promotion as PromotionState) : {};
  const event = promotionEvent(outcome, state);
  const settings = ctx.events ? await ctx.events() : { source: event.source, busName: 'default' };
  await retrying(ctx, 'PutEvents', () => ctx.adapters.events.publish(event.detailType, event.detail, { source: settings.source, busName: settings.busName }));
  ctx.log.info('Promotion reported', { runtimeId: event.detail.runtimeId, outcome, detailType: event.detailType });
  return { published: event.detailType };
}
