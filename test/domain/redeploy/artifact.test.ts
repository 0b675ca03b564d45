/** Which pushed artifacts deploy: media types from the event, then the manifest ECR returns. */
import { describe, expect, it } from 'vitest';
import { eventMediaTypeRefusal, manifestVerdict } from '../../../functions/domain/redeploy/artifact.ts';
import { parseEcrImageAction } from '../../../functions/domain/redeploy/events.ts';

const DOCKER = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const layer = (mediaType: string) => ({ mediaType, size: 1, digest: `sha256:${'a'.repeat(64)}` });
const manifest = (config: string, layers: string[], extra: object = {}) => JSON.stringify({ schemaVersion: 2, mediaType: OCI, config: layer(config), layers: layers.map(layer), ...extra });
const entry = (platform: string, annotations?: object) => {
  const [os, architecture, variant] = platform.split('/');
  return { mediaType: OCI, size: 1, digest: `sha256:${'b'.repeat(64)}`, platform: { os, architecture, ...(variant && { variant }) }, ...(annotations && { annotations }) };
};

describe('eventMediaTypeRefusal', () => {
  it.each([
    [undefined, undefined, false],
    [DOCKER, 'application/vnd.docker.container.image.v1+json', false],
    [INDEX, undefined, false],
    ['application/vnd.cncf.oras.artifact.manifest.v1+json', 'text/sbom+json', true],
    [OCI, 'application/vnd.cncf.helm.config.v1+json', true],
    [undefined, 'application/vnd.dev.cosign.artifact.sig.v1+json', true],
  ])('%s / %s refused: %s', (m, a, refused) => {
    expect(eventMediaTypeRefusal(m, a) !== undefined).toBe(refused);
  });
});

describe('manifestVerdict', () => {
  it('an image manifest with image layers deploys; a signature, an attestation, an OCI artifact do not', () => {
    expect(manifestVerdict(OCI, manifest('application/vnd.oci.image.config.v1+json', ['application/vnd.oci.image.layer.v1.tar+gzip']))).toEqual({ kind: 'deployable', index: false });
    expect(manifestVerdict(OCI, manifest('application/vnd.oci.image.config.v1+json', ['application/vnd.dev.cosign.simplesigning.v1+json'])).kind).toBe('not-an-image');
    expect(manifestVerdict(OCI, manifest('application/vnd.oci.empty.v1+json', ['text/spdx+json'], { artifactType: 'application/spdx+json' })).kind).toBe('not-an-image');
    expect(manifestVerdict(undefined, 'not json').kind).toBe('not-an-image');
  });

  it('an index deploys only with a linux/arm64 image (attestation entries do not count)', () => {
    const idx = (entries: object[]) => JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: entries });
    expect(manifestVerdict(INDEX, idx([entry('linux/amd64'), entry('linux/arm64/v8')]))).toEqual({ kind: 'deployable', index: true, platforms: ['linux/amd64', 'linux/arm64/v8'] });
    const noArm = manifestVerdict(INDEX, idx([entry('linux/amd64'), entry('unknown/unknown', { 'vnd.docker.reference.type': 'attestation-manifest' })]));
    expect(noArm).toMatchObject({ kind: 'no-linux-arm64', platforms: ['linux/amd64'] });
    expect(manifestVerdict(INDEX, idx([entry('windows/arm64')])).kind).toBe('no-linux-arm64');
  });
});

describe('parseEcrImageAction: media types and replication', () => {
  const base = { version: '0', id: 'e-1', source: 'aws.ecr', account: '123456789012', time: '2026-11-16T01:54:34Z', region: 'us-east-1', resources: [] };
  const detail = { result: 'SUCCESS', 'repository-name': 'agent', 'image-digest': `sha256:${'c'.repeat(64)}`, 'image-tag': '1.0.0' };

  it('keeps the media types of a push', () => {
    const r = parseEcrImageAction({ ...base, 'detail-type': 'ECR Image Action', detail: { ...detail, 'action-type': 'PUSH', 'manifest-media-type': OCI, 'artifact-media-type': 'text/sbom+json' } });
    expect(r).toMatchObject({ ok: true, push: { manifestMediaType: OCI, artifactMediaType: 'text/sbom+json' } });
    expect(parseEcrImageAction({ ...base, 'detail-type': 'ECR Image Action', detail: { ...detail, 'action-type': 'PUSH', 'manifest-media-type': 'a b' } }))
      .toEqual({ ok: false, reason: 'manifest-media-type is not a media type' });
  });

  it('reads a replication as a push of the replica, naming its source registry', () => {
    const r = parseEcrImageAction({ ...base, 'detail-type': 'ECR Replication Action', detail: { ...detail, 'action-type': 'REPLICATE', 'source-account': '210987654321', 'source-region': 'us-west-2' } });
    expect(r).toMatchObject({ ok: true, push: { account: '123456789012', region: 'us-east-1', replicatedFrom: { account: '210987654321', region: 'us-west-2' } } });
    expect(parseEcrImageAction({ ...base, 'detail-type': 'ECR Replication Action', detail: { ...detail, 'action-type': 'PUSH' } })).toMatchObject({ ok: false, reason: 'action-type PUSH is not a replication' });
    expect(parseEcrImageAction({ ...base, 'detail-type': 'ECR Replication Action', detail: { ...detail, 'action-type': 'REPLICATE' } })).toMatchObject({ ok: false, reason: 'a replication without source-account and source-region' });
  });
});
