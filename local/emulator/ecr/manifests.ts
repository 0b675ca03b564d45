/**
 * What the ECR stand-in stores for an image: its manifest (the JSON text BatchGetImage returns),
 * the manifest media type (DescribeImages `imageManifestMediaType`, event `manifest-media-type`)
 * and the artifact media type (`artifactMediaType`, event `artifact-media-type`: the config
 * descriptor's media type, or an OCI 1.1 manifest's `artifactType`).
 *
 * Sources: Docker Image Manifest V2 Schema 2 and manifest list (distribution spec
 * `manifest-v2-2.md`); OCI image-spec `media-types.md`, `manifest.md` (artifactType, the empty
 * config `application/vnd.oci.empty.v1+json`), `image-index.md` (platform os/architecture/
 * variant); ECR user guide "Container image manifest format support" (ECR stores Docker V2 schema
 * 2, manifest lists, OCI manifests and indexes) and "Amazon ECR events and EventBridge" (an SBOM
 * referrer reported as manifest `application/vnd.cncf.oras.artifact.manifest.v1+json`, artifact
 * `text/sbom+json`); cosign's signature/attestation layout (`sha256-<digest>.sig` / `.att` tags,
 * simplesigning and DSSE layers); Helm's OCI support (helm config and chart content media types);
 * buildx provenance (attestation manifests in the index with platform unknown/unknown and
 * annotation `vnd.docker.reference.type: attestation-manifest`).
 */
import { createHash } from 'node:crypto';

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  orasArtifactManifest: 'application/vnd.cncf.oras.artifact.manifest.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  cosignSignature: 'application/vnd.dev.cosign.simplesigning.v1+json',
  dsseEnvelope: 'application/vnd.dsse.envelope.v1+json',
  inToto: 'application/vnd.in-toto+json',
  helmConfig: 'application/vnd.cncf.helm.config.v1+json',
  helmChart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
  sbom: 'text/sbom+json',
} as const;

/** Non-image artifacts as the tools that push them lay them out. */
export type ArtifactPreset = 'cosign-signature' | 'attestation' | 'sbom' | 'helm-chart';

/** One stored manifest. `children` are the per-platform manifests of an index (pushed untagged before it). */
export interface StoredManifest {
  mediaType: string;
  /** Absent for indexes (ECR reports no artifact media type for them: undocumented, kept strict). */
  artifactMediaType?: string;
  text: string;
  children: { platform: string; text: string; mediaType: string; artifactMediaType: string; digest: string }[];
}

export interface ManifestOptions {
  /** Manifest media type (default Docker V2 schema 2; for `platforms`: the OCI index). */
  mediaType?: string;
  artifact?: ArtifactPreset;
  /** `os/architecture[/variant]` of each image in a multi-platform push: the push is an index. */
  platforms?: string[];
  /** With `platforms`: add buildx-style provenance attestation manifests to the index. */
  provenance?: boolean;
}

const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const descriptor = (mediaType: string, seed: string, size = 1024) => ({ mediaType, size, digest: sha(seed) });

function imageManifestText(mediaType: string, seed: string, platform?: string): string {
  const config = mediaType === MEDIA.dockerManifest ? MEDIA.dockerConfig : MEDIA.ociConfig;
  const layer = mediaType === MEDIA.dockerManifest ? MEDIA.dockerLayer : MEDIA.ociLayer;
  return JSON.stringify({
    schemaVersion: 2, mediaType,
    config: descriptor(config, `${seed}/config/${platform ?? ''}`, 1469),
    layers: [descriptor(layer, `${seed}/layer0/${platform ?? ''}`, 31_000_000), descriptor(layer, `${seed}/layer1/${platform ?? ''}`, 2_000_000)],
  });
}

function artifactManifest(preset: ArtifactPreset, seed: string): StoredManifest {
  const oci = (config: string, layers: string[], extra: Record<string, unknown> = {}) => JSON.stringify({
    schemaVersion: 2, mediaType: MEDIA.ociManifest, ...extra,
    config: descriptor(config, `${seed}/config`, config === MEDIA.ociEmpty ? 2 : 233),
    layers: layers.map((l, i) => descriptor(l, `${seed}/layer${i}`, 300)),
  });
  switch (preset) {
    // cosign's tag-based signature: an OCI manifest with an image config but simplesigning layers.
    case 'cosign-signature':
      return { mediaType: MEDIA.ociManifest, artifactMediaType: MEDIA.ociConfig, text: oci(MEDIA.ociConfig, [MEDIA.cosignSignature]), children: [] };
    // cosign attest (`.att` tag): DSSE envelopes of in-toto statements.
    case 'attestation':
      return { mediaType: MEDIA.ociManifest, artifactMediaType: MEDIA.ociConfig, text: oci(MEDIA.ociConfig, [MEDIA.dsseEnvelope]), children: [] };
    // An OCI 1.1 artifact: empty config, artifactType text/sbom+json (as the ECR user guide's SBOM referrer).
    case 'sbom':
      return { mediaType: MEDIA.ociManifest, artifactMediaType: MEDIA.sbom, text: oci(MEDIA.ociEmpty, [MEDIA.sbom], { artifactType: MEDIA.sbom }), children: [] };
    case 'helm-chart':
      return { mediaType: MEDIA.ociManifest, artifactMediaType: MEDIA.helmConfig, text: oci(MEDIA.helmConfig, [MEDIA.helmChart]), children: [] };
  }
}

/** The manifest a push stores, from its options; `seed` makes every descriptor digest deterministic. */
export function buildManifest(opts: ManifestOptions, seed: string): StoredManifest {
  if (opts.artifact) return artifactManifest(opts.artifact, seed);
  if (!opts.platforms || opts.platforms.length === 0) {
    const mediaType = opts.mediaType ?? MEDIA.dockerManifest;
    return { mediaType, artifactMediaType: mediaType === MEDIA.dockerManifest ? MEDIA.dockerConfig : MEDIA.ociConfig, text: imageManifestText(mediaType, seed), children: [] };
  }
  const mediaType = opts.mediaType ?? MEDIA.ociIndex;
  const childType = mediaType === MEDIA.dockerManifestList ? MEDIA.dockerManifest : MEDIA.ociManifest;
  const children = opts.platforms.map((platform) => {
    const text = imageManifestText(childType, seed, platform);
    return { platform, text, mediaType: childType, artifactMediaType: childType === MEDIA.dockerManifest ? MEDIA.dockerConfig : MEDIA.ociConfig, digest: sha(text) };
  });
  const entries: Record<string, unknown>[] = children.map((c) => {
    const [os, architecture, variant] = c.platform.split('/');
    return { mediaType: c.mediaType, size: c.text.length, digest: c.digest, platform: { architecture, os, ...(variant && { variant }) } };
  });
  if (opts.provenance) {
    for (const c of children) {
      entries.push({
        mediaType: MEDIA.ociManifest, size: 840, digest: sha(`${seed}/attestation/${c.platform}`),
        annotations: { 'vnd.docker.reference.digest': c.digest, 'vnd.docker.reference.type': 'attestation-manifest' },
        platform: { architecture: 'unknown', os: 'unknown' },
      });
    }
  }
  return { mediaType, text: JSON.stringify({ schemaVersion: 2, mediaType, manifests: entries }), children };
}
