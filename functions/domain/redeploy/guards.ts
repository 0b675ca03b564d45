/**
 * Guards an image push must pass before it may replace a runtime's image, besides the tag policy
 * and the downgrade check of plan.ts. Pure: the handler looks the images up in ECR and the
 * runtime's tags up in AgentCore and passes what it found.
 *
 * - stale-tag: the event's tag no longer points to the event's digest in ECR (the tag moved on, or
 *   the image is gone). A late or redelivered event must not deploy what the tag no longer names.
 * - older-than-live: the live image (same registry and repository) was pushed after the event's
 *   image. Push-time ordering is the no-downgrade rule of the non-semver policies (exact, glob,
 *   regex); semver rules keep their version ordering (plan.ts isDowngrade). When the live image is
 *   not in that repository (another repository, deleted, or the lookup failed) nothing is blocked.
 * - digest-rejected: the digest is in the runtime's rejected list (rejected.ts): a promotion rolled
 *   it back, or its version ended UPDATE_FAILED. An operator retries it by clearing the tag, or
 *   deploys it with `autopilot redeploy`, which ignores the list (and says so).
 */
import type { ImagePush } from './events.ts';
import { parseImageUri } from './image-ref.ts';
import { REJECTED_DIGESTS_TAG, decodeRejected } from './rejected.ts';
import { tagPolicyKind, type TagPolicy } from './tag-policy.ts';

export type GuardReason = 'stale-tag' | 'older-than-live' | 'digest-rejected';

export interface GuardRefusal {
  reason: GuardReason;
  /** One line for logs and events (tags, digests, times; never configuration values). */
  message: string;
}

/** What ECR said about one image: found (its tags and push time), missing, or not known (lookup failed). */
export type ImageLookup =
  | { state: 'found'; tags: readonly string[]; pushedAt?: Date }
  | { state: 'missing' }
  | { state: 'unknown' };

/** stale-tag when ECR says the event's tag does not point to the event's digest (any more). */
export function staleTagRefusal(push: Pick<ImagePush, 'repository' | 'digest' | 'tag'>, image: ImageLookup | undefined): GuardRefusal | undefined {
  if (push.tag === undefined || image === undefined || image.state === 'unknown') return undefined;
  if (image.state === 'missing') {
    return { reason: 'stale-tag', message: `${push.repository}@${push.digest} is no longer in ECR; tag ${push.tag} does not point to it` };
  }
  if (image.tags.includes(push.tag)) return undefined;
  return { reason: 'stale-tag', message: `tag ${push.tag} no longer points to ${push.digest} in ${push.repository}` };
}

/**
 * The live image a push competes with, when it lives in the push's own registry and repository
 * with a digest (undefined otherwise: nothing to compare with).
 */
export function comparableLiveImage(
  push: Pick<ImagePush, 'account' | 'region' | 'repository' | 'digest'>,
  liveUri: string | undefined,
): { repository: string; digest: string; account: string } | undefined {
  const ref = parseImageUri(liveUri);
  if (!ref?.digest || ref.isPublic || ref.account === undefined) return undefined;
  if (ref.account !== push.account || ref.region !== push.region || ref.repository !== push.repository) return undefined;
  if (ref.digest === push.digest) return undefined;
  return { repository: ref.repository, digest: ref.digest, account: ref.account };
}

/** older-than-live under a non-semver policy, when both push times are known and the live one is later. */
export function olderThanLiveRefusal(
  policy: TagPolicy,
  push: Pick<ImagePush, 'digest' | 'tag'>,
  pushedImage: ImageLookup | undefined,
  live: { digest: string; image: ImageLookup | undefined } | undefined,
): GuardRefusal | undefined {
  if (tagPolicyKind(policy) === 'semver' || live === undefined) return undefined;
  const pushedAt = pushedImage?.state === 'found' ? pushedImage.pushedAt : undefined;
  const liveAt = live.image?.state === 'found' ? live.image.pushedAt : undefined;
  if (!isDate(pushedAt) || !isDate(liveAt) || liveAt.getTime() <= pushedAt.getTime()) return undefined;
  return {
    reason: 'older-than-live',
    message: `${push.digest}${push.tag ? ` (tag ${push.tag})` : ''} was pushed at ${pushedAt.toISOString()}, before the live ${live.digest} (pushed at ${liveAt.toISOString()})`,
  };
}

/** digest-rejected when the runtime's rejected list names the digest. */
export function rejectedRefusal(tags: Record<string, string> | undefined, digest: string): GuardRefusal | undefined {
  if (!decodeRejected(tags).includes(digest)) return undefined;
  return {
    reason: 'digest-rejected',
    message: `${digest} was rolled back or failed on this runtime before (tag ${REJECTED_DIGESTS_TAG}); clear that tag, or deploy it with \`autopilot redeploy\`, to retry it`,
  };
}

function isDate(d: Date | undefined): d is Date {
  return d instanceof Date && !Number.isNaN(d.getTime());
}
