/**
 * Which tracking runtimes an image push updates, and to what. Pure: the handler fetches the live
 * runtimes (and, optionally, the tags ECR holds for the digests involved) and executes the plan.
 *
 * Idempotency (one image pushed under several tags; one event delivered twice):
 * - "Already deployed" compares registry + repository + digest, never the URI text: with keepTag
 *   `repo:v1.2.3@sha256:X` and `repo:latest@sha256:X` are the same deployment, and a second event
 *   for the same digest is a skip once the first update is visible in GetAgentRuntime.
 * - With keepTag the tag in the URI must not depend on which tag's event arrived first. When the
 *   handler passes `pushTags` (every tag ECR holds for the pushed digest, from DescribeImages), the
 *   tag is chosen from that set: the highest version under a semver rule, else the lexically
 *   smallest tag the rule follows. Two events for the same digest then build the same request.
 * - The client token is computed over the digest-only form of the URI (see idempotency.ts), so
 *   even two concurrent updates that picked different tags (tags added between the two lookups,
 *   or no pushTags at all) carry the same token for the same runtime, live version and digest: the
 *   service accepts one and answers the other with ValidationException
 *   IdempotentParameterMismatchException, which the handler reports as a duplicate skip.
 * - Without keepTag the URI is `<repo>@<digest>` whatever the tag, so the request is identical.
 */
import { parseImageUri, pinnedUri, sameImage } from './image-ref.ts';
import type { ImagePush } from './events.ts';
import { highestSemverTag, isDowngrade, matchesTagPolicy, tagPolicyKind, tagVersion, type TagPolicy } from './tag-policy.ts';
import type { PromoteSettings } from './promotion.ts';

/** Registry accounts and regions a rule accepts pushes from. An empty list means the home account (or region). */
export interface RegistryScopeLike {
  accounts: readonly string[];
  regions: readonly string[];
}

/** Where autopilot runs: what an empty registry list in a rule stands for. */
export interface HomeRegistry {
  account?: string;
  region?: string;
}

/**
 * The parts of a tracking rule the plan reads: structurally the config's TrackRule
 * (functions/lib/config/types.ts), restated so the domain does not depend on the config loader.
 */
export interface TrackRuleLike {
  repository: string;
  tagPolicy: TagPolicy;
  registry: RegistryScopeLike;
  keepTag: boolean;
  promote?: PromoteSettings;
}

/** Why a runtime is or is not updated. */
export type RedeployReason =
  | 'new-digest'
  | 'already-on-digest'
  | 'repository-not-tracked'
  | 'registry-not-allowed'
  | 'push-has-no-tag'
  | 'tag-not-matched'
  | 'downgrade-refused'
  | 'live-artifact-missing'
  | 'live-artifact-not-container'
  | 'duplicate-runtime';

export type TrackDecision = { match: true } | { match: false; reason: RedeployReason; message: string };

// An empty list stands for the home account/region; without a known home it allows nothing.
function inScope(list: readonly string[], value: string, home: string | undefined): boolean {
  return list.length > 0 ? list.includes(value) : home !== undefined && home === value;
}

/**
 * Whether `rule` follows `push`: same repository, an allowed registry, a tag the policy follows.
 * A replicated push is judged by the registry it was pushed to (the replication's source): the
 * rule's registry scope says whose pushes count, wherever ECR copied them.
 */
export function trackDecision(rule: TrackRuleLike, push: ImagePush, home?: HomeRegistry): TrackDecision {
  if (rule.repository !== push.repository) {
    return { match: false, reason: 'repository-not-tracked', message: `rule tracks ${rule.repository}, not ${push.repository}` };
  }
  const origin = push.replicatedFrom ?? push;
  const scope = registryScopeRefusal(rule.registry, origin.account, origin.region, home);
  if (scope !== undefined) return { match: false, reason: 'registry-not-allowed', message: scope };
  if (push.tag === undefined) return { match: false, reason: 'push-has-no-tag', message: 'digest-only push: no tag for the tag policy to follow' };
  if (!matchesTagPolicy(rule.tagPolicy, push.tag)) {
    return { match: false, reason: 'tag-not-matched', message: `tag ${push.tag} is not followed by the ${tagPolicyKind(rule.tagPolicy)} policy` };
  }
  return { match: true };
}

/**
 * Why an image in `account`/`region` is outside a rule's registry scope (undefined when inside).
 * `scope` undefined (a runtime without a tracking rule) means the home account and region, the
 * same default an empty list stands for.
 */
export function registryScopeRefusal(scope: RegistryScopeLike | undefined, account: string, region: string, home?: HomeRegistry): string | undefined {
  if (!inScope(scope?.accounts ?? [], account, home?.account)) return `registry account ${account} is not allowed`;
  if (!inScope(scope?.regions ?? [], region, home?.region)) return `registry region ${region} is not allowed`;
  return undefined;
}

/**
 * Why a change request may not deploy `uri` (undefined when it may): the image must be a private
 * ECR image inside the registry scope of the runtime's tracking rule (or the home account/region
 * for runtimes without one), exactly as for pushes. Callers pass a URI the request parser accepted.
 */
export function requestedImageRefusal(uri: string, scope: RegistryScopeLike | undefined, home?: HomeRegistry): string | undefined {
  const ref = parseImageUri(uri);
  if (ref === undefined) return 'the requested image is not an ECR image URI';
  if (ref.isPublic || ref.account === undefined || ref.region === undefined) {
    return 'the requested image is not in a private ECR registry the runtime may pull from (public.ecr.aws is outside every registry scope)';
  }
  const refusal = registryScopeRefusal(scope, ref.account, ref.region, home);
  return refusal === undefined ? undefined : `the requested image's ${refusal} (the tracking rule's registry accounts/regions, or the home account/region when it names none)`;
}

/** The configured runtimes (entries with a `track` rule) that follow `push`, in their original order. */
export function matchingRuntimes<T extends { track?: TrackRuleLike }>(runtimes: readonly T[], push: ImagePush, home?: HomeRegistry): T[] {
  return runtimes.filter((r) => r.track !== undefined && trackDecision(r.track, push, home).match);
}

/** A GetAgentRuntime-like output; only the fields the plan reads. */
export interface LiveRuntimeLike {
  agentRuntimeVersion?: string;
  agentRuntimeArtifact?: {
    containerConfiguration?: { containerUri?: string };
    codeConfiguration?: unknown;
    [other: string]: unknown;
  };
  [field: string]: unknown;
}

export interface RuntimeToPlan {
  runtimeId: string;
  rule: TrackRuleLike;
  live: LiveRuntimeLike;
  /** Tags ECR holds for the live digest: the live version when the live URI carries no tag. */
  liveTags?: readonly string[];
}

export interface RedeployPlanInput {
  push: ImagePush;
  runtimes: readonly RuntimeToPlan[];
  /** The account/region autopilot runs in (what an empty registry list allows). */
  home?: HomeRegistry;
  /** Every tag ECR holds for the pushed digest (DescribeImages); makes the keepTag tag order-independent. */
  pushTags?: readonly string[];
}

export interface RedeployDecision {
  runtimeId: string;
  action: 'update' | 'skip';
  reason: RedeployReason;
  /** One line for logs and events (names, tags, digests; never configuration values). */
  message: string;
  digest: string;
  /** The live containerUri, when there is one. */
  previousUri?: string;
  /** The pinned URI to deploy (update only). */
  newUri?: string;
  /** The live version number (GetAgentRuntime agentRuntimeVersion). */
  fromVersion?: string;
  /** The live image's tag (from its URI or from liveTags), when known. */
  fromTag?: string;
  /** The tag the new URI is deployed under. */
  toTag?: string;
}

/** Decides, per runtime, whether the push is deployed; never mutates its input. */
export function planRedeploy(input: RedeployPlanInput): RedeployDecision[] {
  const { push } = input;
  const seen = new Set<string>();
  return input.runtimes.map((rt) => {
    const base = { runtimeId: rt.runtimeId, digest: push.digest };
    if (seen.has(rt.runtimeId)) {
      return { ...base, action: 'skip', reason: 'duplicate-runtime', message: 'runtime is listed more than once; planned once' };
    }
    seen.add(rt.runtimeId);
    const track = trackDecision(rt.rule, push, input.home);
    if (!track.match) return { ...base, action: 'skip', reason: track.reason, message: track.message };

    const decision: RedeployDecision = { ...base, action: 'skip', reason: 'new-digest', message: '' };
    if (rt.live.agentRuntimeVersion !== undefined) decision.fromVersion = rt.live.agentRuntimeVersion;
    const artifact = rt.live.agentRuntimeArtifact;
    if (artifact === undefined || artifact === null) {
      return { ...decision, reason: 'live-artifact-missing', message: 'live runtime has no artifact; refusing to guess one' };
    }
    const previousUri = artifact.containerConfiguration?.containerUri;
    if (typeof previousUri !== 'string') {
      return { ...decision, reason: 'live-artifact-not-container', message: 'live artifact is code, not a container image' };
    }
    decision.previousUri = previousUri;
    const liveRef = parseImageUri(previousUri);
    const fromTag = liveTag(rt.rule.tagPolicy, liveRef?.tag, rt.liveTags);
    if (fromTag !== undefined) decision.fromTag = fromTag;

    if (sameImage(previousUri, push)) {
      return { ...decision, reason: 'already-on-digest', message: `already runs ${push.digest}` };
    }
    const toTag = chooseTag(rt.rule.tagPolicy, push.tag as string, input.pushTags);
    decision.toTag = toTag;
    if (isDowngrade(rt.rule.tagPolicy, fromTag, toTag)) {
      return { ...decision, reason: 'downgrade-refused', message: `${toTag} is lower than the deployed ${fromTag}` };
    }
    const newUri = pinnedUri({ account: push.account, region: push.region, repository: push.repository, digest: push.digest, tag: toTag, keepTag: rt.rule.keepTag });
    return { ...decision, action: 'update', reason: 'new-digest', newUri, message: `deploy ${push.repository}:${toTag} (${push.digest})` };
  });
}

/**
 * The tag the live image is known by. Under a semver rule a version-like tag is needed for the
 * downgrade check: the URI's own tag when it is one, else the highest version among liveTags.
 */
function liveTag(policy: TagPolicy, uriTag: string | undefined, liveTags: readonly string[] | undefined): string | undefined {
  if (tagPolicyKind(policy) !== 'semver') return uriTag ?? (liveTags?.length ? [...liveTags].sort()[0] : undefined);
  if (tagVersion(uriTag) !== undefined) return uriTag;
  return highestSemverTag(liveTags ?? []) ?? uriTag;
}

/** Order-independent choice among the tags of the pushed digest that the policy follows. */
function chooseTag(policy: TagPolicy, eventTag: string, pushTags: readonly string[] | undefined): string {
  const candidates = [...new Set([eventTag, ...(pushTags ?? [])])].filter((t) => matchesTagPolicy(policy, t));
  if (tagPolicyKind(policy) === 'semver') return highestSemverTag(candidates) ?? eventTag;
  return candidates.sort()[0] ?? eventTag;
}
