/**
 * The ECR stand-in's images as ECR stores and announces them: manifest and artifact media types,
 * multi-platform indexes pushed as untagged per-platform manifests first, non-image artifacts,
 * BatchGetImage, and replication events.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchGetImageCommand, DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { VirtualClock } from '../../../local/clock.ts';
import { startHttpCore, type HttpCore } from '../../../local/emulator/server.ts';
import { EcrStandIn, MEDIA, type EcrImageActionEvent } from '../../../local/emulator/ecr/ecr.ts';

const D1 = `sha256:${'1'.repeat(64)}`;
const ALL_TYPES = [MEDIA.dockerManifest, MEDIA.dockerManifestList, MEDIA.ociManifest, MEDIA.ociIndex];

let ecr: EcrStandIn;
let emitted: EcrImageActionEvent[];
let core: HttpCore;
let client: ECRClient;

beforeEach(async () => {
  const clock = new VirtualClock({ start: Date.UTC(2026, 0, 1) });
  emitted = [];
  ecr = new EcrStandIn({ clock, emit: (e) => emitted.push(e) });
  ecr.seed({ repositories: [{ name: 'agent' }] });
  core = await startHttpCore({ services: [ecr], clock });
  client = new ECRClient({ endpoint: core.url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' } });
});
afterEach(async () => {
  client.destroy();
  await core.close();
});

describe('ECR stand-in: manifests and media types', () => {
  it('a single-platform push: Docker V2 schema 2, with both media types in the event and DescribeImages', async () => {
    ecr.push({ repository: 'agent', tags: ['1.0.0'], digest: D1 });
    expect(emitted[0].detail).toMatchObject({ 'manifest-media-type': MEDIA.dockerManifest, 'artifact-media-type': MEDIA.dockerConfig, 'image-tag': '1.0.0' });
    const [detail] = (await client.send(new DescribeImagesCommand({ repositoryName: 'agent', imageIds: [{ imageDigest: D1 }] }))).imageDetails!;
    expect(detail).toMatchObject({ imageManifestMediaType: MEDIA.dockerManifest, artifactMediaType: MEDIA.dockerConfig });
    const got = await client.send(new BatchGetImageCommand({ repositoryName: 'agent', imageIds: [{ imageTag: '1.0.0' }] }));
    expect(got.failures).toEqual([]);
    expect(got.images![0]).toMatchObject({ imageId: { imageDigest: D1, imageTag: '1.0.0' }, imageManifestMediaType: MEDIA.dockerManifest });
    const manifest = JSON.parse(got.images![0].imageManifest!);
    expect(manifest.config.mediaType).toBe(MEDIA.dockerConfig);
    expect(manifest.layers.every((l: { mediaType: string }) => l.mediaType === MEDIA.dockerLayer)).toBe(true);
  });

  it('a multi-platform push: one untagged event per platform manifest, then the tagged index', async () => {
    const pushed = ecr.push({ repository: 'agent', tags: ['2.0.0'], digest: D1, platforms: ['linux/amd64', 'linux/arm64'], provenance: true });
    expect(emitted.map((e) => [e.detail['image-tag'], e.detail['manifest-media-type']])).toEqual([
      [undefined, MEDIA.ociManifest], [undefined, MEDIA.ociManifest], ['2.0.0', MEDIA.ociIndex],
    ]);
    expect(emitted[2].detail).not.toHaveProperty('artifact-media-type');
    // Without the index types among the accepted ones, the index is not returned.
    const refused = await client.send(new BatchGetImageCommand({ repositoryName: 'agent', imageIds: [{ imageDigest: D1 }] }));
    expect(refused.images).toEqual([]);
    expect(refused.failures![0]).toMatchObject({ failureCode: 'UnsupportedImageType' });
    const got = await client.send(new BatchGetImageCommand({ repositoryName: 'agent', imageIds: [{ imageDigest: D1 }], acceptedMediaTypes: ALL_TYPES }));
    const index = JSON.parse(got.images![0].imageManifest!);
    expect(index.manifests.map((m: { platform: { os: string; architecture: string } }) => `${m.platform.os}/${m.platform.architecture}`))
      .toEqual(['linux/amd64', 'linux/arm64', 'unknown/unknown', 'unknown/unknown']);
    expect(index.manifests[1].digest).toBe(pushed.children[1].imageDigest);
    const missing = await client.send(new BatchGetImageCommand({ repositoryName: 'agent', imageIds: [{ imageDigest: `sha256:${'9'.repeat(64)}` }], acceptedMediaTypes: ALL_TYPES }));
    expect(missing.failures![0]).toMatchObject({ failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
  });

  it('non-image artifacts: a cosign signature looks like an image in the event, its layers say otherwise; Helm and SBOM say so at once', async () => {
    ecr.push({ repository: 'agent', tags: [`sha256-${'1'.repeat(64)}.sig`], artifact: 'cosign-signature' });
    ecr.push({ repository: 'agent', tags: ['chart-1.0.0'], artifact: 'helm-chart' });
    ecr.push({ repository: 'agent', tags: ['sbom-1'], artifact: 'sbom' });
    expect(emitted.map((e) => e.detail['artifact-media-type'])).toEqual([MEDIA.ociConfig, MEDIA.helmConfig, MEDIA.sbom]);
    const got = await client.send(new BatchGetImageCommand({ repositoryName: 'agent', imageIds: [{ imageTag: `sha256-${'1'.repeat(64)}.sig` }] }));
    expect(JSON.parse(got.images![0].imageManifest!).layers[0].mediaType).toBe(MEDIA.cosignSignature);
  });

  it('replication: the image lands in the destination region and ECR Replication Action names the source', async () => {
    ecr.replicate({ repository: 'agent', region: 'us-east-1', tags: ['3.0.0'], digest: D1, from: { account: '210987654321', region: 'us-west-2' } });
    expect(emitted).toHaveLength(1);
    expect(emitted[0]).toMatchObject({
      'detail-type': 'ECR Replication Action', account: '123456789012', region: 'us-east-1',
      resources: ['arn:aws:ecr:us-east-1:123456789012:repository/agent'],
      detail: { result: 'SUCCESS', 'action-type': 'REPLICATE', 'repository-name': 'agent', 'image-digest': D1, 'image-tag': '3.0.0', 'source-account': '210987654321', 'source-region': 'us-west-2' },
    });
    expect((await client.send(new DescribeImagesCommand({ repositoryName: 'agent', imageIds: [{ imageTag: '3.0.0' }] }))).imageDetails![0].imageDigest).toBe(D1);
  });
});
