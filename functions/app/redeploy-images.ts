/**
 * What a redeploy asks ECR: the tags and push time of a digest (stale-tag and older-than-live guards),
 * the tags of the live digest (semver rules), and whether the pushed artifact is a deployable image.
 */
import { type ImagePush } from '../domain/redeploy/events.ts';
import { type ImageLookup } from '../domain/redeploy/guards.ts';
import { parseImageUri } from '../domain/redeploy/image-ref.ts';
import { describeError } from '../domain/redeploy/outcome-events.ts';
import { type LiveRuntimeLike } from '../domain/redeploy/plan.ts';
import { tagPolicyKind, tagVersion } from '../domain/redeploy/tag-policy.ts';
import type { TrackRule } from '../lib/config/index.ts';
import { ResourceNotFoundError } from '../lib/errors.ts';

import { rejected, type RedeployContext } from './redeploy.ts';

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
  if (region !== undefined && ctx.home?.region !== undefined && region !== ctx.home.region) return { state: 'unknown' };
  try {
    const [detail] = await ctx.adapters.ecr.describeImages(repository, [{ imageDigest: digest }], { registryId });
    if (!detail) return { state: 'missing' };
    const pushedAt = detail.imagePushedAt === undefined ? undefined : new Date(detail.imagePushedAt);
    return { state: 'found', tags: detail.imageTags ?? [], ...(pushedAt !== undefined && { pushedAt }) };
  } catch (err) {
    if (err instanceof ResourceNotFoundError) return { state: 'missing' };
    ctx.log.warn('Image details not available', { repository, digest, error: describeError(err).name });
    return { state: 'unknown' };
  }
}

/** Under a semver rule, the tags of the live digest tell which version runs when the URI has none. */
export async function liveTagsFor(ctx: RedeployContext, rule: TrackRule, live: LiveRuntimeLike, push: ImagePush): Promise<string[] | undefined> {
  if (tagPolicyKind(rule.tagPolicy) !== 'semver') return undefined;
  const ref = parseImageUri(live.agentRuntimeArtifact?.containerConfiguration?.containerUri);
  if (!ref?.digest || ref.isPublic || ref.repository !== rule.repository || tagVersion(ref.tag) !== undefined) return undefined;
  if (ref.digest === push.digest) return undefined;
  return tagsOfDigest(ctx, ref.repository, ref.digest, ref.account as string);
}

