/**
 * onChangeRequest's use case: a `Runtime Change Requested` event, applied losslessly.
 */
import type { RuntimeChange } from '../domain/runtime-update.ts';
import { CHANGE_REQUEST_DETAIL_TYPE, parseChangeRequest, requestedImageUri } from '../domain/redeploy/events.ts';
import { requestRefused } from '../domain/requests/refusal.ts';
import { undeclaredRuntime } from '../domain/requests/scope.ts';
import { SecretUnresolvedError, hasSecretRefs, refProblems, resolveEnv, type SecretReader } from '../domain/secrets/refs.ts';
import { refuseRequest } from './request-refusal.ts';
import { describeError, redeployFailed, type RedeploySubject } from '../domain/redeploy/outcome-events.ts';
import { requestedImageRefusal } from '../domain/redeploy/plan.ts';
import { parseImageUri } from '../domain/redeploy/image-ref.ts';
import { checkRequestedImage } from './redeploy-images.ts';
import type { RuntimeSpec } from '../lib/config/index.ts';

import {
  applyRuntimeUpdate,
  finish,
  isRetryableAwsError,
  publish,
  resolveRuntimeId,
  specFor,
  type RedeployContext,
  type RedeployResult,
} from './redeploy.ts';

/**
 * Handles one `Runtime Change Requested` event: the schema-validated partial change is applied
 * losslessly (read-merge-write). A requested image must pass the push rules: the Docker tag grammar
 * (checked by the parser), the registry scope of the runtime's tracking rule (its registry
 * accounts/regions, or the home account/region), present in its own region's registry and a
 * deployable container image (an index with linux/arm64). The new version is followed like an image push's
 * (promoted when the tracking rule names endpoints). Refused events make no write call.
 */
export async function applyChangeRequest(ctx: RedeployContext, event: unknown): Promise<RedeployResult> {
  const eventId = typeof (event as { id?: unknown } | null)?.id === 'string' ? (event as { id: string }).id : undefined;
  const parsed = parseChangeRequest(event);
  if (!parsed.ok) return refused(ctx, { reason: 'invalid-request', problems: [parsed.reason] }, { eventId });
  const { request } = parsed;
  const ref = 'id' in request.runtime ? request.runtime.id : request.runtime.name;
  const ids = { resource: ref, requestId: request.requestId, eventId: request.eventId };
  // Only a runtime the config declares, named as declared: anything else makes no call at all.
  const undeclared = undeclaredRuntime(ctx.config, request.runtime);
  if (undeclared) return refused(ctx, undeclared, ids);
  const badRefs = [
    ...refProblems(request.change.environmentVariables?.set, 'change.environmentVariables.set'),
    ...refProblems(request.change.set?.environmentVariables as Record<string, unknown> | undefined, 'change.set.environmentVariables'),
  ];
  if (badRefs.length > 0) return refused(ctx, { reason: 'invalid-request', problems: badRefs }, ids);
  const selectorName = 'name' in request.runtime ? request.runtime.name : undefined;
  const image = requestedImageUri(request.change);
  // The image must come from where the runtime's tracking rule allows pushes from (home by default).
  const imageRefusal = (runtimeSpec: RuntimeSpec | undefined) =>
    image === undefined ? undefined : requestedImageRefusal(image, runtimeSpec?.track?.registry, ctx.home);
  const early = imageRefusal(specFor(ctx.config, 'id' in request.runtime ? request.runtime.id : '', selectorName));
  if (early !== undefined) return refused(ctx, { reason: 'image-not-allowed', problems: [early] }, ids);
  const subject = (runtimeId: string): RedeploySubject => ({
    runtimeId,
    eventId: request.eventId,
    ...(request.requestId !== undefined && { requestId: request.requestId }),
  });
  ctx.log.info('Change request received', {
    runtime: ref,
    requestId: request.requestId,
    eventId: request.eventId,
    dryRun: request.dryRun,
    fields: changedFieldNames(request.change),
  });
  let runtimeId: string;
  try {
    runtimeId = 'id' in request.runtime ? request.runtime.id : await resolveRuntimeId(ctx, { name: request.runtime.name });
  } catch (err) {
    const retryable = isRetryableAwsError(err);
    ctx.log.error('Runtime not resolved', { runtime: ref, error: describeError(err) });
    if (!request.dryRun) await publish(ctx, redeployFailed(subject(ref), { reason: 'runtime-not-found', error: err }));
    return finish(ctx, { status: 'processed', outcomes: [{ runtimeId: ref, status: 'failed', reason: 'runtime-not-found', error: describeError(err), retryable }] });
  }
  const spec = specFor(ctx.config, runtimeId, selectorName);
  const late = imageRefusal(spec);
  if (late !== undefined) return refused(ctx, { reason: 'image-not-allowed', problems: [late] }, { ...ids, resource: runtimeId });
  // Like a push: the image exists in its own region's registry and is a deployable container image.
  const imageRef = image === undefined ? undefined : parseImageUri(image);
  if (imageRef?.account !== undefined && imageRef.region !== undefined) {
    const checked = await checkRequestedImage(ctx, { account: imageRef.account, region: imageRef.region, repository: imageRef.repository, tag: imageRef.tag, digest: imageRef.digest });
    if (!checked.ok && !('lookupFailed' in checked)) {
      return refused(ctx, { reason: 'image-not-allowed', problems: [`the requested image is refused: ${checked.reason}`] }, { ...ids, resource: runtimeId });
    }
    if (!checked.ok) {
      ctx.log.error('Requested image not checked', { runtimeId, reason: checked.reason });
      if (!request.dryRun) await publish(ctx, redeployFailed(subject(runtimeId), { reason: 'image-not-inspected', message: checked.reason }));
      return finish(ctx, { status: 'processed', outcomes: [{ runtimeId, status: 'failed', reason: 'image-not-inspected', message: checked.reason, retryable: checked.retryable }] });
    }
  }
  // Secret references in the change are read now, in memory, and only written to the runtime.
  let change: RuntimeChange;
  try {
    change = await resolveChangeSecrets(request.change, ctx.readSecret);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    ctx.log.error('Secret reference not resolved', { runtimeId, requestId: request.requestId, error: message });
    if (!request.dryRun) await publish(ctx, redeployFailed(subject(runtimeId), { reason: 'secret-unresolved', message, error: err }));
    return finish(ctx, { status: 'processed', outcomes: [{ runtimeId, status: 'failed', reason: 'secret-unresolved', message, retryable: false }] });
  }
  const outcome = await applyRuntimeUpdate(ctx, {
    runtimeId,
    subject: subject(runtimeId),
    redeployToken: request.change.containerUri !== undefined,
    dryRun: request.dryRun,
    promote: spec?.track?.promote,
    follow: true,
    decide: () => ({ action: 'update', change, reason: 'change-request', message: `change requested${request.requestId ? ` (${request.requestId})` : ''}` }),
  });
  return finish(ctx, { status: 'processed', outcomes: [outcome] });
}

/** The change with the secret references of its environment (patch or full set) replaced by their values. */
async function resolveChangeSecrets(change: RuntimeChange, read: SecretReader | undefined): Promise<RuntimeChange> {
  const patch = change.environmentVariables?.set;
  const full = change.set?.environmentVariables as Record<string, string> | undefined;
  if (!hasSecretRefs(patch) && !hasSecretRefs(full)) return change;
  if (!read) throw new SecretUnresolvedError('the change references secrets, but no secret reader is available');
  const out: RuntimeChange = { ...change };
  if (patch && hasSecretRefs(patch)) out.environmentVariables = { ...change.environmentVariables, set: await resolveEnv(patch, read) };
  if (full && hasSecretRefs(full)) out.set = { ...change.set, environmentVariables: await resolveEnv(full, read) };
  return out;
}

/** A refused change request: logged, reported (`Request Refused`), answered without an error (no retry). */
async function refused(
  ctx: RedeployContext, refusal: Parameters<typeof requestRefused>[1], ids: { resource?: string; requestId?: string; eventId?: string },
): Promise<RedeployResult> {
  await refuseRequest({ events: ctx.adapters.events, config: ctx.config, log: ctx.log }, requestRefused(CHANGE_REQUEST_DETAIL_TYPE, refusal, ids));
  return { status: 'rejected', reason: refusal.problems.join('; ') };
}

/** Top-level fields a change touches (names only). */
function changedFieldNames(change: RuntimeChange): string[] {
  const fields = new Set<string>();
  if (change.containerUri !== undefined) fields.add('agentRuntimeArtifact');
  if (change.environmentVariables !== undefined) fields.add('environmentVariables');
  for (const k of Object.keys(change.set ?? {})) fields.add(k);
  for (const k of change.unset ?? []) fields.add(k);
  return [...fields];
}
