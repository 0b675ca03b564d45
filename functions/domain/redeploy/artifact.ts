/**
 * Which pushed artifacts AgentCore can run. ECR stores (and announces, with the same `ECR Image
 * Action` event) container images next to signatures, attestations, SBOMs and Helm charts, all as
 * tagged manifests; a tag rule (a glob, a regex) can match a cosign `sha256-<digest>.sig` tag as
 * easily as a release tag. Only image manifests and image indexes deploy, and an index only when
 * it has a linux/arm64 image: AgentCore runtimes run linux/arm64 (agentcore-api.md §3).
 *
 * Media types: Docker Image Manifest V2 Schema 2 and manifest list (distribution spec), OCI
 * image-spec (`media-types.md`: manifest, index, image config, layers; `manifest.md`:
 * `artifactType` marks a non-image artifact), as ECR reports them (`imageManifestMediaType`,
 * `artifactMediaType`; event `manifest-media-type`, `artifact-media-type`).
 */

export const IMAGE_MANIFEST_TYPES: readonly string[] = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
];
export const INDEX_TYPES: readonly string[] = [
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
];
/** What BatchGetImage is asked for: every manifest type that can be a runnable image. */
export const DEPLOYABLE_MANIFEST_TYPES: readonly string[] = [...IMAGE_MANIFEST_TYPES, ...INDEX_TYPES];
export const IMAGE_CONFIG_TYPES: readonly string[] = [
  'application/vnd.docker.container.image.v1+json',
  'application/vnd.oci.image.config.v1+json',
];
/** Filesystem layers of a runnable image (compressed or not, distributable or not). */
export const IMAGE_LAYER_TYPES: readonly string[] = [
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
];

/** The platform AgentCore runs containers on. */
export const RUNTIME_PLATFORM = 'linux/arm64';

export type ArtifactVerdict =
  /** An image manifest, or an index with a linux/arm64 image: deployable. */
  | { kind: 'deployable'; index: boolean; platforms?: string[] }
  /** Not a container image (signature, attestation, SBOM, chart...): skipped quietly. */
  | { kind: 'not-an-image'; reason: string }
  /** An image index without a linux/arm64 image: refused, with the platforms it has. */
  | { kind: 'no-linux-arm64'; platforms: string[]; reason: string };

const short = (t: string) => (t.length > 100 ? `${t.slice(0, 100)}...` : t);

/**
 * What the event's own media types already say: `not-an-image` when the manifest is neither an
 * image manifest nor an index, or an image manifest's artifact type is not an image config.
 * Undefined when they say nothing against it (absent, or an image/index): ECR is asked.
 */
export function eventMediaTypeRefusal(manifestMediaType: string | undefined, artifactMediaType: string | undefined): Extract<ArtifactVerdict, { kind: 'not-an-image' }> | undefined {
  if (manifestMediaType !== undefined && !DEPLOYABLE_MANIFEST_TYPES.includes(manifestMediaType)) {
    return { kind: 'not-an-image', reason: `manifest media type ${short(manifestMediaType)} is not a container image manifest or index` };
  }
  if (artifactMediaType !== undefined && (manifestMediaType === undefined || IMAGE_MANIFEST_TYPES.includes(manifestMediaType)) && !IMAGE_CONFIG_TYPES.includes(artifactMediaType)) {
    return { kind: 'not-an-image', reason: `artifact media type ${short(artifactMediaType)} is not a container image config` };
  }
  return undefined;
}

interface Descriptor { mediaType?: unknown; platform?: { os?: unknown; architecture?: unknown; variant?: unknown }; annotations?: Record<string, unknown> }

function platformOf(d: Descriptor): string | undefined {
  const p = d.platform;
  if (typeof p?.os !== 'string' || typeof p.architecture !== 'string') return undefined;
  return `${p.os}/${p.architecture}${typeof p.variant === 'string' ? `/${p.variant}` : ''}`;
}

/**
 * Judges a manifest as ECR returned it (BatchGetImage: media type and JSON text). An image
 * manifest must have an image config, no OCI `artifactType` and only filesystem layers (a cosign
 * signature has an image config but simplesigning layers). An index deploys when one of its image
 * manifests is linux/arm64 (any arm64 variant); buildx attestation entries (platform
 * unknown/unknown) do not count.
 */
export function manifestVerdict(mediaType: string | undefined, manifestText: string): ArtifactVerdict {
  let manifest: { mediaType?: unknown; artifactType?: unknown; config?: Descriptor; layers?: unknown; manifests?: unknown };
  try {
    manifest = JSON.parse(manifestText);
  } catch {
    return { kind: 'not-an-image', reason: 'the manifest is not JSON' };
  }
  const type = mediaType ?? (typeof manifest.mediaType === 'string' ? manifest.mediaType : undefined);
  if (type === undefined || !DEPLOYABLE_MANIFEST_TYPES.includes(type)) {
    return { kind: 'not-an-image', reason: `manifest media type ${short(String(type ?? 'absent'))} is not a container image manifest or index` };
  }
  if (INDEX_TYPES.includes(type)) {
    const entries = (Array.isArray(manifest.manifests) ? manifest.manifests : []) as Descriptor[];
    const images = entries.filter((e) => typeof e.mediaType === 'string' && IMAGE_MANIFEST_TYPES.includes(e.mediaType)
      && e.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest' && platformOf(e) !== undefined && platformOf(e) !== 'unknown/unknown');
    const platforms = [...new Set(images.map((e) => platformOf(e)!))];
    if (platforms.some((p) => p === RUNTIME_PLATFORM || p.startsWith(`${RUNTIME_PLATFORM}/`))) return { kind: 'deployable', index: true, platforms };
    return {
      kind: 'no-linux-arm64', platforms,
      reason: `the image index has no ${RUNTIME_PLATFORM} image (it has ${platforms.length > 0 ? platforms.join(', ') : 'no image platform'}); AgentCore runs ${RUNTIME_PLATFORM}`,
    };
  }
  if (manifest.artifactType !== undefined) {
    return { kind: 'not-an-image', reason: `the manifest is an OCI artifact (artifactType ${short(String(manifest.artifactType))})` };
  }
  const config = typeof manifest.config?.mediaType === 'string' ? manifest.config.mediaType : undefined;
  if (config === undefined || !IMAGE_CONFIG_TYPES.includes(config)) {
    return { kind: 'not-an-image', reason: `config media type ${short(String(config ?? 'absent'))} is not a container image config` };
  }
  const layers = (Array.isArray(manifest.layers) ? manifest.layers : []) as Descriptor[];
  const foreign = layers.map((l) => l.mediaType).find((t) => typeof t !== 'string' || !IMAGE_LAYER_TYPES.includes(t));
  if (foreign !== undefined) return { kind: 'not-an-image', reason: `layer media type ${short(String(foreign))} is not a container filesystem layer` };
  return { kind: 'deployable', index: false };
}
