/**
 * Missed-push safety net: ECR push events are best effort, so each drift run asks ECR for the
 * newest image a tracking rule allows and plans a redeploy when the runtime is not on it.
 * "Newest": under a semver rule the highest version among the followed tags; otherwise the most
 * recently pushed image carrying a followed tag. Pure: the caller lists the images.
 */
import { pinnedUri } from '../redeploy/image-ref.ts';
import { highestSemverTag, matchesTagPolicy, tagPolicyKind, type TagPolicy } from '../redeploy/tag-policy.ts';

export interface ImageListing {
  imageDigest?: string;
  imageTags?: string[];
  imagePushedAt?: Date | number | string;
}

export interface SafetyNetRule {
  repository: string;
  tagPolicy: TagPolicy;
  keepTag: boolean;
}

export interface NewestImage {
  uri: string;
  digest: string;
  tag?: string;
}

const epoch = (t: ImageListing['imagePushedAt']): number => (t === undefined ? 0 : new Date(t).getTime());

/** The newest image `rule` allows among `images` (registry `account`/`region`), pinned by digest. */
export function newestAllowedImage(rule: SafetyNetRule, images: readonly ImageListing[], registry: { account: string; region: string }): NewestImage | undefined {
  const candidates = images
    .filter((i) => typeof i.imageDigest === 'string')
    .map((i) => ({ digest: i.imageDigest as string, at: epoch(i.imagePushedAt), tags: (i.imageTags ?? []).filter((t) => matchesTagPolicy(rule.tagPolicy, t)) }))
    .filter((i) => i.tags.length > 0);
  if (candidates.length === 0) return undefined;
  let chosen: { digest: string; tag: string } | undefined;
  if (tagPolicyKind(rule.tagPolicy) === 'semver') {
    const best = highestSemverTag(candidates.flatMap((c) => c.tags));
    const image = candidates.find((c) => best !== undefined && c.tags.includes(best));
    if (image && best) chosen = { digest: image.digest, tag: best };
  } else {
    const newest = [...candidates].sort((a, b) => b.at - a.at || (a.digest < b.digest ? -1 : 1))[0];
    chosen = { digest: newest.digest, tag: [...newest.tags].sort()[0] };
  }
  if (!chosen) return undefined;
  const uri = pinnedUri({ account: registry.account, region: registry.region, repository: rule.repository, digest: chosen.digest, tag: chosen.tag, keepTag: rule.keepTag });
  return { uri, digest: chosen.digest, tag: chosen.tag };
}
