/**
 * onImagePush's use case: an `ECR Image Action` push (or `ECR Replication Action` into this region)
 * redeploys every runtime whose tracking rule follows it (functions/app/redeploy.ts does the update).
 */
import { containerUriOf } from '../domain/runtime-update.ts';
import { parseEcrImageAction } from '../domain/redeploy/events.ts';
import {
  comparableLiveImage,
  olderThanLiveRefusal,
  rejectedRefusal,
  staleTagRefusal,
  type ImageLookup,
} from '../domain/redeploy/guards.ts';
import { describeError, redeployFailed, redeploySkipped, type RedeploySubject } from '../domain/redeploy/outcome-events.ts';
import { planRedeploy, trackDecision, type LiveRuntimeLike } from '../domain/redeploy/plan.ts';
import { tagPolicyKind } from '../domain/redeploy/tag-policy.ts';
import { mapWithConcurrency } from '../lib/concurrency.ts';
import type { RuntimeSpec, TrackRule } from '../lib/config/index.ts';

import {
  applyRuntimeUpdate,
  finish,
  isRetryableAwsError,
  publish,
  quietSkip,
  rejected,
  resolveRuntimeId,
  unexpected,
  type RedeployContext,
  type RedeployResult,
  type RuntimeOutcome,
} from './redeploy.ts';
import { tagsForRejectedCheck } from './redeploy-tags.ts';
import { inspectArtifact, liveTagsFor, lookupImage } from './redeploy-images.ts';
import { eventMediaTypeRefusal } from '../domain/redeploy/artifact.ts';

/**
 * Handles one `ECR Image Action` push (or `ECR Replication Action` into this region): every
 * configured runtime whose tracking rule follows the push is updated (bounded concurrency), each
 * pinned to the pushed digest. Refused events make no API call at all; untagged pushes and
 * non-image artifacts are skipped quietly (status `skipped`, no event); an image index without a
 * linux/arm64 image is `Skipped` per runtime (reason `no-linux-arm64`). Throws
 * RedeployIncompleteError when a runtime failed with a retryable error, after every runtime has
 * been handled and every outcome published.
 */
export async function redeployImagePush(ctx: RedeployContext, event: unknown): Promise<RedeployResult> {
  const parsed = parseEcrImageAction(event);
  if (!parsed.ok) return rejected(ctx, parsed.reason);
  const { push } = parsed;
  const facts = { repository: push.repository, digest: push.digest, tag: push.tag, eventId: push.eventId };

  const tracking = ctx.config.runtimes.filter((r): r is RuntimeSpec & { track: TrackRule } => r.track?.repository === push.repository);
  if (tracking.length === 0) return rejected(ctx, `repository ${push.repository} is not tracked by any runtime`, facts);
  const decisions = tracking.map((spec) => ({ spec, decision: trackDecision(spec.track, push, ctx.home) }));
  const inRegistry = decisions.filter(({ decision }) => decision.match || decision.reason !== 'registry-not-allowed');
  if (inRegistry.length === 0) {
    const first = decisions[0].decision;
    return rejected(ctx, first.match ? 'registry not allowed' : first.message, facts);
  }
  // Routine pushes no tag policy follows: every per-platform manifest of a multi-platform push is
  // pushed untagged, and so are signatures and attestations attached by digest.
  if (push.tag === undefined) return quietSkip(ctx, 'untagged', 'an untagged push (e.g. a per-platform manifest of a multi-platform image): no tag for a tag policy to follow', facts);
  const byEvent = eventMediaTypeRefusal(push.manifestMediaType, push.artifactMediaType);
  if (byEvent) return quietSkip(ctx, 'not-an-image', byEvent.reason, facts);

  ctx.log.info('Image push received', { ...facts, runtimes: inRegistry.length });
  const subjectOf = (runtimeId: string): RedeploySubject => ({ runtimeId, push });

  const matching = inRegistry.filter(({ decision }) => decision.match);
  const skipped: RuntimeOutcome[] = [];
  for (const { spec, decision } of inRegistry) {
    if (decision.match) continue;
    const runtimeId = spec.id ?? spec.name ?? '';
    skipped.push({ runtimeId, status: 'skipped', reason: decision.reason, message: decision.message });
    ctx.log.info('Runtime skipped', { runtimeId, reason: decision.reason, explanation: decision.message });
    await publish(ctx, redeploySkipped(subjectOf(runtimeId), { reason: decision.reason, message: decision.message }));
  }

  const pushImage = matching.length > 0 ? await lookupImage(ctx, push.repository, push.digest, push.account, push.region) : undefined;
  const pushTags = pushImage?.state === 'found' ? pushImage.tags : undefined;

  // A late or redelivered event whose tag has moved on (or whose image is gone) deploys nothing.
  const stale = staleTagRefusal(push, pushImage);
  if (stale !== undefined) {
    for (const { spec } of matching) {
      const runtimeId = spec.id ?? spec.name ?? '';
      skipped.push({ runtimeId, status: 'skipped', reason: stale.reason, message: stale.message });
      ctx.log.info('Runtime skipped', { runtimeId, reason: stale.reason, explanation: stale.message });
      await publish(ctx, redeploySkipped(subjectOf(runtimeId), { reason: stale.reason, message: stale.message }));
    }
    return finish(ctx, { status: 'processed', push: { repository: push.repository, digest: push.digest, tag: push.tag }, outcomes: skipped });
  }

  // Only container images deploy, and an index only with a linux/arm64 image (artifact.ts).
  if (matching.length > 0) {
    const artifact = await inspectArtifact(ctx, push.repository, push.digest, push.account, push.region);
    if (artifact.kind === 'not-an-image') return quietSkip(ctx, 'not-an-image', artifact.reason, facts);
    if (artifact.kind !== 'deployable') {
      const refusal = artifact.kind === 'missing'
        ? { status: 'skipped' as const, reason: 'stale-tag', message: `${push.repository}@${push.digest} is no longer in ECR` }
        : artifact.kind === 'no-linux-arm64'
          ? { status: 'skipped' as const, reason: 'no-linux-arm64', message: artifact.reason }
          : { status: 'failed' as const, reason: 'image-not-inspected', message: `the pushed image could not be inspected in ECR (${artifact.reason}); nothing deployed`, retryable: artifact.retryable };
      for (const { spec } of matching) {
        const runtimeId = spec.id ?? spec.name ?? '';
        skipped.push({ runtimeId, ...refusal });
        if (refusal.status === 'failed') {
          ctx.log.error('Runtime not updated', { runtimeId, reason: refusal.reason, explanation: refusal.message });
          await publish(ctx, redeployFailed(subjectOf(runtimeId), { reason: refusal.reason, message: refusal.message }));
        } else {
          ctx.log[refusal.reason === 'no-linux-arm64' ? 'warn' : 'info']('Runtime skipped', { runtimeId, reason: refusal.reason, explanation: refusal.message });
          await publish(ctx, redeploySkipped(subjectOf(runtimeId), { reason: refusal.reason, message: refusal.message }));
        }
      }
      return finish(ctx, { status: 'processed', push: { repository: push.repository, digest: push.digest, tag: push.tag }, outcomes: skipped });
    }
  }

  // Live images looked up once per invocation (several runtimes often run the same one).
  const liveImages = new Map<string, Promise<ImageLookup>>();
  const liveImage = (ref: { repository: string; digest: string; account: string }): Promise<ImageLookup> => {
    const key = `${ref.account}/${ref.repository}@${ref.digest}`;
    let found = liveImages.get(key);
    if (found === undefined) liveImages.set(key, (found = lookupImage(ctx, ref.repository, ref.digest, ref.account, push.region)));
    return found;
  };

  const settled = await mapWithConcurrency(matching, ctx.config.redeploy.concurrency, async ({ spec }): Promise<RuntimeOutcome> => {
    let runtimeId: string;
    try {
      runtimeId = await resolveRuntimeId(ctx, spec);
    } catch (err) {
      const ref = spec.id ?? spec.name ?? '';
      const retryable = isRetryableAwsError(err);
      ctx.log.error('Runtime not resolved', { runtime: ref, error: describeError(err) });
      await publish(ctx, redeployFailed(subjectOf(ref), { reason: 'runtime-not-found', error: err }));
      return { runtimeId: ref, status: 'failed', reason: 'runtime-not-found', error: describeError(err), retryable };
    }
    return applyRuntimeUpdate(ctx, {
      runtimeId,
      subject: subjectOf(runtimeId),
      redeployToken: true,
      dryRun: false,
      promote: spec.track.promote,
      follow: true,
      decide: async (live) => {
        const liveTags = await liveTagsFor(ctx, spec.track, live as LiveRuntimeLike, push);
        const [d] = planRedeploy({
          push,
          home: ctx.home,
          pushTags,
          runtimes: [{ runtimeId, rule: spec.track, live: live as LiveRuntimeLike, ...(liveTags !== undefined && { liveTags }) }],
        });
        if (d.action === 'skip' || d.newUri === undefined) return { action: 'skip', reason: d.reason, message: d.message };
        // No going back in push time under exact/glob/regex rules (a late redelivery of an older push).
        if (tagPolicyKind(spec.track.tagPolicy) !== 'semver') {
          const liveRef = comparableLiveImage(push, containerUriOf(live));
          const older = liveRef && olderThanLiveRefusal(spec.track.tagPolicy, push, pushImage, { digest: liveRef.digest, image: await liveImage(liveRef) });
          if (older) return { action: 'skip', reason: older.reason, message: older.message };
        }
        // A digest this runtime rolled back or saw fail does not come back by itself.
        const refused = rejectedRefusal(await tagsForRejectedCheck(ctx, runtimeId, live), push.digest);
        if (refused) return { action: 'skip', reason: refused.reason, message: refused.message };
        return { action: 'update', change: { containerUri: d.newUri }, reason: d.reason, message: d.message };
      },
    });
  });
  const outcomes = [...skipped, ...settled.map((s, i) => (s.status === 'fulfilled' ? s.value : unexpected(matching[i].spec, s.reason)))];
  return finish(ctx, { status: 'processed', push: { repository: push.repository, digest: push.digest, ...(push.tag !== undefined && { tag: push.tag }) }, outcomes });
}

