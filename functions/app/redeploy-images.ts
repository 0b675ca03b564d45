/**
 * What a redeploy asks ECR: the tags and push time of a digest (stale-tag and older-than-live guards),
 * the tags of the live digest (semver rules), and whether the pushed artifact is a deployable image.
 */
import type { ImagePush } from '../domain/redeploy/events.ts';
import type { ImageLookup } from '../domain/redeploy/guards.ts';
import { parseImageUri } from '../domain/redeploy/image-ref.ts';
import { describeError } from '../domain/redeploy/outcome-events.ts';
import type { LiveRuntimeLike } from '../domain/redeploy/plan.ts';
import { tagPolicyKind, tagVersion } from '../domain/redeploy/tag-policy.ts';
import type { TrackRule } from '../lib/config/index.ts';
import { ResourceNotFoundError } from '../lib/errors.ts';

import { isRetryableAwsError, type RedeployContext } from './redeploy.ts';
import { DEPLOYABLE_MANIFEST_TYPES, manifestVerdict, type ArtifactVerdict } from '../domain/redeploy/artifact.ts';

/** Tags ECR holds for `digest` (undefined when the lookup fails: the plan then works without them). */
export async function tagsOfDigest(ctx: RedeployContext, repository: string, digest: string, registryId: string): Promise<string[] | undefined> {
  const found = await lookupImage(ctx, repository, digest, registryId);
  return found.state === 'found' ? [...found.tags] : undefined;
}

/**
 * DescribeImages of one digest: found (tags, push time), missing (ECR says the image or the
 * repository does not exist) or unknown (the lookup failed, or the image lives in another region
 * than the ECR client's, which cannot see it). Never throws.
 */
export async function lookupImage(ctx: RedeployContext, repository: string, digest: string, registryId: string, region?: string): Promise<ImageLookup> {
  const ecr = ecrFor(ctx, region);
  if (ecr === undefined) return { state: 'unknown' };
  try {
    const [detail] = await ecr.describeImages(repository, [{ imageDigest: digest }], { registryId });
    if (!detail) return { state: 'missing' };
    const pushedAt = detail.imagePushedAt === undefined ? undefined : new Date(detail.imagePushedAt);
    return { state: 'found', tags: detail.imageTags ?? [], ...(pushedAt !== undefined && { pushedAt }) };
  } catch (err) {
    if (err instanceof ResourceNotFoundError) return { state: 'missing' };
    ctx.log.warn('Image details not available', { repository, digest, error: describeError(err).name });
    return { state: 'unknown' };
  }
}

/**
 * The ECR client for images in `region`: the home one for the home region (or when either is
 * unknown), `ctx.ecrIn(region)` for another, undefined when there is none.
 */
export function ecrFor(ctx: RedeployContext, region: string | undefined): Pick<RedeployContext['adapters']['ecr'], 'describeImages' | 'getManifest' | 'getImageDigest'> | undefined {
  if (region === undefined || ctx.home?.region === undefined || region === ctx.home.region) return ctx.adapters.ecr;
  return ctx.ecrIn?.(region);
}

/** What the pushed artifact is, per its manifest in ECR; `missing` when ECR no longer has it, `unknown` when it could not be asked. */
export type Inspection = ArtifactVerdict | { kind: 'missing' } | { kind: 'unknown'; reason: string; retryable: boolean };

/**
 * BatchGetImage of one digest (in its own region), judged by manifestVerdict. A manifest of a type
 * none of the deployable ones (ECR refuses to return it as one) is not an image. Never throws.
 */
export async function inspectArtifact(ctx: RedeployContext, repository: string, digest: string, registryId: string, region: string | undefined): Promise<Inspection> {
  const ecr = ecrFor(ctx, region);
  if (ecr === undefined) return { kind: 'unknown', reason: `no ECR client for region ${region}`, retryable: false };
  try {
    const found = await ecr.getManifest(repository, digest, DEPLOYABLE_MANIFEST_TYPES, { registryId });
    if (found.state === 'missing') return { kind: 'missing' };
    if (found.state === 'refused') return { kind: 'not-an-image', reason: `ECR does not return it as an image manifest or index (${found.failureCode})` };
    return manifestVerdict(found.mediaType, found.manifest);
  } catch (err) {
    if (err instanceof ResourceNotFoundError) return { kind: 'missing' };
    const e = describeError(err);
    ctx.log.warn('Image manifest not available', { repository, digest, error: e.name });
    return { kind: 'unknown', reason: `BatchGetImage failed: ${e.name}`, retryable: isRetryableAwsError(err) };
  }
}

/** Whether a requested image (change request, `autopilot redeploy`) may be deployed, and its digest. */
export type ImageCheck =
  | { ok: true; digest: string }
  /** Refused: the image does not exist in its registry, or is no deployable container image. */
  | { ok: false; reason: string }
  /** ECR could not be asked: nothing may be deployed yet. */
  | { ok: false; reason: string; lookupFailed: true; retryable: boolean };

/**
 * The checks a push passes, for an image named by hand: it exists in its own region's registry
 * (a tag is resolved to its digest; with both, the tag must point to the digest), and it is a
 * container image ECR can return (an index with linux/arm64). Never throws.
 */
export async function checkRequestedImage(ctx: RedeployContext, ref: { account: string; region: string; repository: string; tag?: string; digest?: string }): Promise<ImageCheck> {
  const where = `ECR repository ${ref.repository} (${ref.account}, ${ref.region})`;
  const ecr = ecrFor(ctx, ref.region);
  if (ecr === undefined) return { ok: false, reason: `no ECR client for ${ref.region}: the image cannot be checked`, lookupFailed: true, retryable: false };
  let digest = ref.digest;
  try {
    if (ref.tag !== undefined) {
      const tagged = await ecr.getImageDigest(ref.repository, ref.tag, { registryId: ref.account });
      if (digest !== undefined && tagged !== digest) return { ok: false, reason: `tag ${ref.tag} points to ${tagged}, not ${digest}, in ${where}` };
      digest = tagged;
    } else if (digest !== undefined) {
      await ecr.describeImages(ref.repository, [{ imageDigest: digest }], { registryId: ref.account });
    } else {
      return { ok: false, reason: 'the image names neither a tag nor a digest' };
    }
  } catch (err) {
    if (err instanceof ResourceNotFoundError) return { ok: false, reason: `no image ${ref.tag !== undefined ? `tagged ${ref.tag}` : digest} in ${where}` };
    const e = describeError(err);
    return { ok: false, reason: `the image could not be looked up in ${where}: ${e.name}`, lookupFailed: true, retryable: isRetryableAwsError(err) };
  }
  const artifact = await inspectArtifact(ctx, ref.repository, digest, ref.account, ref.region);
  if (artifact.kind === 'deployable') return { ok: true, digest };
  if (artifact.kind === 'missing') return { ok: false, reason: `no image ${digest} in ${where}` };
  if (artifact.kind === 'unknown') return { ok: false, reason: `the image could not be inspected in ${where}: ${artifact.reason}`, lookupFailed: true, retryable: artifact.retryable };
  return { ok: false, reason: `${digest} is not deployable: ${artifact.reason}` };
}

/** Under a semver rule, the tags of the live digest tell which version runs when the URI has none. */
export async function liveTagsFor(ctx: RedeployContext, rule: TrackRule, live: LiveRuntimeLike, push: ImagePush): Promise<string[] | undefined> {
  if (tagPolicyKind(rule.tagPolicy) !== 'semver') return undefined;
  const ref = parseImageUri(live.agentRuntimeArtifact?.containerConfiguration?.containerUri);
  if (!ref?.digest || ref.isPublic || ref.repository !== rule.repository || tagVersion(ref.tag) !== undefined) return undefined;
  if (ref.digest === push.digest) return undefined;
  return tagsOfDigest(ctx, ref.repository, ref.digest, ref.account as string);
}

