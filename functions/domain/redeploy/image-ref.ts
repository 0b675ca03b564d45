/**
 * ECR image references as AgentCore accepts them in `containerUri` (model shape
 * RuntimeContainerUri): `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repo>[:tag][@digest]` or
 * `public.ecr.aws/<alias>/<repo>[:tag][@digest]`. The model pattern accepts any text after `@`;
 * we only deal in `sha256:<64 lowercase hex>` digests, which is what ECR reports, so anything else
 * is treated as malformed rather than guessed at.
 */

/** `sha256:` followed by 64 lowercase hex characters (ECR's imageDigest form). */
export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;
/** Docker/ECR tag grammar: up to 128 characters. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** ECR repository names (lowercase path components), the model's repository group. */
export const REPOSITORY_PATTERN = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
export const ACCOUNT_PATTERN = /^[0-9]{12}$/;
export const REGION_PATTERN = /^[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}$/;

// The model's RuntimeContainerUri pattern, with names for its groups.
const URI_PATTERN =
  /^(?:(?<account>[0-9]{12})\.dkr\.ecr\.(?<region>[a-z0-9-]+)\.amazonaws\.com(?<cn>\.cn)?|(?<public>public\.ecr\.aws))\/(?<repository>(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)(?::(?<tag>[^:@]{1,300}))?(?:@(?<digest>.+))?$/;

/** The parts of a container image reference. */
export interface ImageRef {
  /** Registry host, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com` or `public.ecr.aws`. */
  registry: string;
  /** Private ECR only. */
  account?: string;
  /** Private ECR only. */
  region?: string;
  isPublic: boolean;
  /** Path inside the registry (for public.ecr.aws this starts with the registry alias). */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Parses a containerUri; undefined when it is not an ECR reference or its digest is not sha256:<64 hex>. */
export function parseImageUri(uri: unknown): ImageRef | undefined {
  if (typeof uri !== 'string' || uri.length === 0 || uri.length > 1024) return undefined;
  const m = URI_PATTERN.exec(uri);
  if (!m?.groups) return undefined;
  const g = m.groups;
  if (g.digest !== undefined && !DIGEST_PATTERN.test(g.digest)) return undefined;
  const registry = uri.slice(0, uri.indexOf('/'));
  const ref: ImageRef = { registry, isPublic: g.public !== undefined, repository: g.repository };
  if (g.account !== undefined) ref.account = g.account;
  if (g.region !== undefined) ref.region = g.region;
  if (g.tag !== undefined) ref.tag = g.tag;
  if (g.digest !== undefined) ref.digest = g.digest;
  return ref;
}

/** What pinnedUri needs: the registry, repository and digest of a push, plus the tag policy. */
export interface PinInput {
  account: string;
  region: string;
  repository: string;
  digest: string;
  tag?: string;
  /** Keep `:<tag>` in front of the digest (readable in the console; the digest still decides). */
  keepTag: boolean;
}

/** Private ECR registry host; China regions use the `.amazonaws.com.cn` suffix. */
export function registryHost(account: string, region: string): string {
  return `${account}.dkr.ecr.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/**
 * `<registry>/<repo>@sha256:<digest>`, or `<registry>/<repo>:<tag>@sha256:<digest>` when keepTag
 * and a tag is given. Throws a TypeError on malformed parts (callers pass parsed events).
 */
export function pinnedUri(input: PinInput): string {
  const { account, region, repository, digest, tag, keepTag } = input;
  if (!ACCOUNT_PATTERN.test(account)) throw new TypeError('pinnedUri: account must be 12 digits');
  if (!REGION_PATTERN.test(region)) throw new TypeError('pinnedUri: region is malformed');
  if (!REPOSITORY_PATTERN.test(repository)) throw new TypeError('pinnedUri: repository is malformed');
  if (!DIGEST_PATTERN.test(digest)) throw new TypeError('pinnedUri: digest must be sha256:<64 hex>');
  if (keepTag && tag !== undefined && !TAG_PATTERN.test(tag)) throw new TypeError('pinnedUri: tag is malformed');
  const tagPart = keepTag && tag !== undefined ? `:${tag}` : '';
  return `${registryHost(account, region)}/${repository}${tagPart}@${digest}`;
}

/** The same reference without its tag (`<registry>/<repo>@<digest>`); undefined when it has no digest. */
export function digestOnlyUri(uri: string): string | undefined {
  const ref = parseImageUri(uri);
  if (!ref?.digest) return undefined;
  return `${ref.registry}/${ref.repository}@${ref.digest}`;
}

/** True when `uri` is pinned to exactly `digest` (a tag-only URI never is: its digest is unknown). */
export function sameDigest(uri: unknown, digest: string): boolean {
  const ref = parseImageUri(uri);
  return ref?.digest !== undefined && ref.digest === digest;
}

/**
 * True when `uri` points at `digest` in the given private registry and repository. A digest is
 * content-addressed, but the same content in another repository is another pull location (and
 * another set of permissions), so it does not count as "already deployed".
 */
export function sameImage(uri: unknown, image: { account: string; region: string; repository: string; digest: string }): boolean {
  const ref = parseImageUri(uri);
  return (
    ref !== undefined &&
    !ref.isPublic &&
    ref.account === image.account &&
    ref.region === image.region &&
    ref.repository === image.repository &&
    ref.digest === image.digest
  );
}
