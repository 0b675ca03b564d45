/**
 * Outcome events of a redeploy, published on autopilot's bus (source `agentcore-autopilot`).
 * Builders only: the handler publishes with the EventBridge adapter. Field diffs pass through
 * redactChanges here, whatever the caller did, so environment variable values and descriptions
 * never leave in an event; errors travel as name + message only for our own (AutopilotError)
 * errors, whose messages are value-free by contract, and as name alone otherwise.
 */
import { AutopilotError } from '../../lib/errors.ts';
import type { FieldChange } from '../diff.ts';
import { redactChanges } from '../redact.ts';
import type { ImagePush } from './events.ts';
import type { RedeployDecision } from './plan.ts';

export const OUTCOME_SOURCE = 'agentcore-autopilot';

export const REDEPLOY_DETAIL_TYPES = {
  started: 'Runtime Redeploy Started',
  skipped: 'Runtime Redeploy Skipped',
  failed: 'Runtime Redeploy Failed',
  promoted: 'Runtime Redeploy Promoted',
  rolledBack: 'Runtime Redeploy Rolled Back',
} as const;
export type RedeployDetailType = (typeof REDEPLOY_DETAIL_TYPES)[keyof typeof REDEPLOY_DETAIL_TYPES];

/** What started a redeploy: an ECR push, a change request, `autopilot redeploy` by hand, or a drift correction. */
export type RedeployTrigger = 'image-push' | 'change-request' | 'manual' | 'drift';

/** What started the redeploy. */
export interface RedeploySubject {
  runtimeId: string;
  /** The image push, for the image-push trigger. */
  push?: ImagePush;
  /** Explicit trigger (default: image-push with `push`, else change-request). */
  trigger?: RedeployTrigger;
  /** The deployed image when there is no push (a manual redeploy; a promotion reporting for one). */
  image?: { repository: string; digest: string; tag?: string };
  /** Correlation id of a Runtime Change Requested event. */
  requestId?: string;
  /** Id of the triggering EventBridge event (either trigger). */
  eventId?: string;
}

/** What started a redeploy (names, ids and digests only): carried by its events and its promotion. */
export interface RedeployOrigin {
  trigger: RedeployTrigger;
  repository?: string;
  digest?: string;
  tag?: string;
  eventId?: string;
  requestId?: string;
}

/** The origin of a subject's redeploy. */
export function originOf(subject: RedeploySubject): RedeployOrigin {
  const origin: RedeployOrigin = { trigger: subject.trigger ?? (subject.push ? 'image-push' : 'change-request') };
  const image = subject.push ?? subject.image;
  if (image) {
    origin.repository = image.repository;
    origin.digest = image.digest;
    if (image.tag !== undefined) origin.tag = image.tag;
  }
  const eventId = subject.eventId ?? subject.push?.eventId;
  if (eventId !== undefined) origin.eventId = eventId;
  if (subject.requestId !== undefined) origin.requestId = subject.requestId;
  return origin;
}

export interface RedeployEventDetail extends RedeployOrigin {
  runtimeId: string;
  fromVersion?: string;
  toVersion?: string;
  fromUri?: string;
  toUri?: string;
  /** Field-level diff of the update, redacted. */
  changes?: FieldChange[];
  endpoints?: string[];
  reason?: string;
  message?: string;
  error?: { name: string; message?: string };
}

/** An event ready for EventsAdapter.publish(detailType, detail, {source}). */
export interface OutcomeEvent {
  source: typeof OUTCOME_SOURCE;
  detailType: RedeployDetailType;
  detail: RedeployEventDetail;
}

interface Extra {
  fromVersion?: string;
  toVersion?: string;
  fromUri?: string;
  toUri?: string;
  changes?: readonly FieldChange[];
  endpoints?: readonly string[];
  reason?: string;
  message?: string;
  error?: unknown;
}

function build(detailType: RedeployDetailType, subject: RedeploySubject, extra: Extra): OutcomeEvent {
  const detail: RedeployEventDetail = { runtimeId: subject.runtimeId, ...originOf(subject) };
  for (const key of ['fromVersion', 'toVersion', 'fromUri', 'toUri', 'reason', 'message'] as const) {
    if (extra[key] !== undefined) detail[key] = extra[key];
  }
  if (extra.changes !== undefined) detail.changes = redactChanges(extra.changes);
  if (extra.endpoints !== undefined) detail.endpoints = [...extra.endpoints];
  if (extra.error !== undefined) detail.error = describeError(extra.error);
  return { source: OUTCOME_SOURCE, detailType, detail };
}

/** Name (and, for our own errors, message) of an error: never a foreign message, which may echo values. */
export function describeError(err: unknown): { name: string; message?: string } {
  if (err instanceof AutopilotError) return { name: err.name, message: err.message };
  if (err instanceof Error) return { name: err.name };
  if (typeof err === 'object' && err !== null && typeof (err as { name?: unknown }).name === 'string') {
    return { name: (err as { name: string }).name };
  }
  return { name: 'UnknownError' };
}

/** The update was accepted: a new version is being created. */
export function redeployStarted(
  subject: RedeploySubject,
  x: { fromVersion?: string; toVersion?: string; fromUri?: string; toUri?: string; changes?: readonly FieldChange[]; endpoints?: readonly string[]; message?: string },
): OutcomeEvent {
  return build(REDEPLOY_DETAIL_TYPES.started, subject, x);
}

/**
 * Nothing to do for this runtime (already on the digest, tag not followed, downgrade...), or
 * `reason: 'duplicate'`: a replayed delivery whose update the service answered with a version
 * another delivery already reported as Started.
 */
export function redeploySkipped(subject: RedeploySubject, x: { reason: string; message?: string; fromVersion?: string; fromUri?: string }): OutcomeEvent {
  return build(REDEPLOY_DETAIL_TYPES.skipped, subject, x);
}

/** The update, or its promotion, failed; `reason` is a short code, `error` the cause. */
export function redeployFailed(
  subject: RedeploySubject,
  x: { reason: string; message?: string; error?: unknown; fromVersion?: string; toVersion?: string; fromUri?: string; toUri?: string; endpoints?: readonly string[] },
): OutcomeEvent {
  return build(REDEPLOY_DETAIL_TYPES.failed, subject, x);
}

/**
 * The new version is READY and every named endpoint serves it. `endpoints: []` (a runtime without
 * `promote`, whose new version autopilot follows too): READY and serving DEFAULT, nothing moved.
 */
export function redeployPromoted(subject: RedeploySubject, x: { fromVersion?: string; toVersion: string; endpoints: readonly string[]; toUri?: string }): OutcomeEvent {
  return build(REDEPLOY_DETAIL_TYPES.promoted, subject, x);
}

/** The promotion failed and the previous image was restored as a new version; endpoints stayed put. */
export function redeployRolledBack(
  subject: RedeploySubject,
  x: { fromVersion: string; toVersion?: string; fromUri: string; toUri?: string; reason: string; message?: string; error?: unknown; endpoints?: readonly string[] },
): OutcomeEvent {
  return build(REDEPLOY_DETAIL_TYPES.rolledBack, subject, x);
}

/** The Skipped event of a skip decision; undefined for an update (Started is sent once the update is accepted). */
export function skippedFromDecision(decision: RedeployDecision, push: ImagePush): OutcomeEvent | undefined {
  if (decision.action !== 'skip') return undefined;
  return redeploySkipped(
    { runtimeId: decision.runtimeId, push },
    { reason: decision.reason, message: decision.message, fromVersion: decision.fromVersion, fromUri: decision.previousUri },
  );
}
