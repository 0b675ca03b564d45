/**
 * Missed-push safety net: ECR push events are best effort, so each drift run asks ECR for the
 * newest image a tracking rule allows and plans a redeploy when the runtime is not on it.
 * "Newest": under a semver rule the highest version among the followed tags; otherwise the most
 * recently pushed image carrying a followed tag. Images whose digest the runtime rejected (its
 * `autopilot:rejected-digests` tag: rolled back by a promotion, or UPDATE_FAILED) are never chosen,
 * so a rolled-back image is not brought back by the next drift run. Artifacts DescribeImages
 * already shows are no container image (a Helm chart, an SBOM: their manifest or artifact media
 * type) are never chosen either; what only the manifest tells (a signature's layers, an index's
 * platforms) is left to the promotion, which reports a version that fails. Pure: the caller lists
 * the images and reads the tag.
 */
import { eventMediaTypeRefusal } from '../redeploy/artifact.ts';
import { pinnedUri } from '../redeploy/image-ref.ts';
import { highestSemverTag, matchesTagPolicy, tagPolicyKind, type TagPolicy } from '../redeploy/tag-policy.ts';

export interface ImageListing {
  imageDigest?: string;
  imageTags?: string[];
  imagePushedAt?: Date | number | string;
  imageManifestMediaType?: string;
  artifactMediaType?: string;
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

export interface RankedImage {
  digest: string;
  /** The followed tag the image is known by (the highest version under semver). */
  tag: string;
}

/** Every image `rule` allows, newest first (see the module comment for "newest"). */
export function rankAllowedImages(rule: SafetyNetRule, images: readonly ImageListing[]): RankedImage[] {
  const semverRule = tagPolicyKind(rule.tagPolicy) === 'semver';
  const candidates = images
    .filter((i) => typeof i.imageDigest === 'string' && eventMediaTypeRefusal(i.imageManifestMediaType, i.artifactMediaType) === undefined)
    .map((i) => {
      const tags = (i.imageTags ?? []).filter((t) => matchesTagPolicy(rule.tagPolicy, t));
      const tag = semverRule ? highestSemverTag(tags) : [...tags].sort()[0];
      return { digest: (i.imageDigest as string).toLowerCase(), at: epoch(i.imagePushedAt), tag };
    })
    .filter((c): c is { digest: string; at: number; tag: string } => c.tag !== undefined);
  const byDigest = (a: { digest: string }, b: { digest: string }) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0);
  const sorted = semverRule
    ? candidates.sort((a, b) => (a.tag === b.tag ? byDigest(a, b) : highestSemverTag([a.tag, b.tag]) === a.tag ? -1 : 1))
    : candidates.sort((a, b) => b.at - a.at || byDigest(a, b));
  return sorted.map(({ digest, tag }) => ({ digest, tag }));
}

export interface NewestImageOptions {
  /** Digests (`sha256:<hex>`) the runtime rejected: never chosen. */
  rejected?: readonly string[];
  /** The digest the runtime runs: when it is the newest acceptable image, it is the answer (nothing older is ever chosen). */
  liveDigest?: string;
}

/**
 * The newest image `rule` allows among `images` (registry `account`/`region`), pinned by digest:
 * the first of rankAllowedImages that is the live digest or not rejected.
 */
export function newestAllowedImage(
  rule: SafetyNetRule, images: readonly ImageListing[], registry: { account: string; region: string }, options: NewestImageOptions = {},
): NewestImage | undefined {
  const rejected = new Set((options.rejected ?? []).map((d) => d.toLowerCase()));
  const live = options.liveDigest?.toLowerCase();
  const chosen = rankAllowedImages(rule, images).find((c) => c.digest === live || !rejected.has(c.digest));
  if (!chosen) return undefined;
  const uri = pinnedUri({ account: registry.account, region: registry.region, repository: rule.repository, digest: chosen.digest, tag: chosen.tag, keepTag: rule.keepTag });
  return { uri, digest: chosen.digest, tag: chosen.tag };
}
