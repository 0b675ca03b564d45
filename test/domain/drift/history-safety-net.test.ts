import { describe, expect, it } from 'vitest';
import { afterCorrection, decodeHistory, encodeHistory, HISTORY_TAG, STREAK_RESET_MS } from '../../../functions/domain/drift/history.ts';
import { newestAllowedImage, rankAllowedImages } from '../../../functions/domain/drift/safety-net.ts';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const registry = { account: '123456789012', region: 'us-east-1' };

describe('correction history tag', () => {
  it('round-trips and ignores malformed values', () => {
    const h = { count: 3, lastAt: 1767225600000 };
    expect(decodeHistory({ [HISTORY_TAG]: encodeHistory(h) })).toEqual(h);
    expect(decodeHistory({ [HISTORY_TAG]: 'three' })).toBeUndefined();
    expect(decodeHistory({})).toBeUndefined();
  });
  it('continues a streak and starts over after a quiet day', () => {
    expect(afterCorrection(undefined, 10)).toEqual({ count: 1, lastAt: 10 });
    expect(afterCorrection({ count: 2, lastAt: 10 }, 20)).toEqual({ count: 3, lastAt: 20 });
    expect(afterCorrection({ count: 5, lastAt: 10 }, 10 + STREAK_RESET_MS)).toEqual({ count: 1, lastAt: 10 + STREAK_RESET_MS });
  });
});

describe('newestAllowedImage', () => {
  const images = [
    { imageDigest: d('1'), imageTags: ['1.2.0'], imagePushedAt: 1 },
    { imageDigest: d('2'), imageTags: ['1.10.0', 'stable'], imagePushedAt: 2 },
    { imageDigest: d('3'), imageTags: ['2.0.0'], imagePushedAt: 3 },
    { imageDigest: d('4'), imageTags: ['release-b'], imagePushedAt: 5 },
    { imageDigest: d('5'), imageTags: ['release-a'], imagePushedAt: 4 },
  ];
  it('takes the highest version under a semver rule (not the last pushed)', () => {
    expect(newestAllowedImage({ repository: 'app', tagPolicy: { semver: '^1.2.0' }, keepTag: false }, images, registry))
      .toEqual({ uri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/app@${d('2')}`, digest: d('2'), tag: '1.10.0' });
  });
  it('takes the most recently pushed matching image otherwise, keeping the tag when asked', () => {
    expect(newestAllowedImage({ repository: 'app', tagPolicy: { glob: 'release-*' }, keepTag: true }, images, registry))
      .toEqual({ uri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/app:release-b@${d('4')}`, digest: d('4'), tag: 'release-b' });
  });
  it('finds nothing when no tag matches', () => {
    expect(newestAllowedImage({ repository: 'app', tagPolicy: { exact: 'latest' }, keepTag: false }, images, registry)).toBeUndefined();
  });
});

describe('newestAllowedImage with rejected digests', () => {
  const rule = { repository: 'app', tagPolicy: { semver: '^1.2.0' }, keepTag: false };
  const images = [
    { imageDigest: d('1'), imageTags: ['1.2.0'], imagePushedAt: 1 },
    { imageDigest: d('2'), imageTags: ['1.3.0'], imagePushedAt: 2 },
    { imageDigest: d('3'), imageTags: ['1.3.1'], imagePushedAt: 3 },
  ];
  it('never chooses a rejected digest: the newest one not rejected', () => {
    expect(newestAllowedImage(rule, images, registry, { rejected: [d('3')] })?.digest).toBe(d('2'));
    expect(newestAllowedImage(rule, images, registry, { rejected: [d('3'), d('2'), d('1')] })).toBeUndefined();
  });
  it('never goes below the live image: the live digest ends the search', () => {
    expect(newestAllowedImage(rule, images, registry, { rejected: [d('3')], liveDigest: d('2') })?.digest).toBe(d('2'));
    // Live on the rejected 1.3.1 itself: it stays (no downgrade to 1.3.0).
    expect(newestAllowedImage(rule, images, registry, { rejected: [d('3')], liveDigest: d('3') })?.digest).toBe(d('3'));
  });
  it('ranks by version under semver and by push time otherwise', () => {
    expect(rankAllowedImages(rule, images).map((i) => i.tag)).toEqual(['1.3.1', '1.3.0', '1.2.0']);
    const glob = { repository: 'app', tagPolicy: { glob: '*' }, keepTag: false };
    expect(rankAllowedImages(glob, [...images].reverse()).map((i) => i.digest)).toEqual([d('3'), d('2'), d('1')]);
  });
});

describe('safety net and non-image artifacts', () => {
  it('never picks an artifact DescribeImages shows is no container image', () => {
    const rule = { repository: 'agent', tagPolicy: { kind: 'glob', glob: '*' } as const, keepTag: false };
    const images = [
      { imageDigest: `sha256:${'1'.repeat(64)}`, imageTags: ['release-1'], imagePushedAt: 1, imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json', artifactMediaType: 'application/vnd.docker.container.image.v1+json' },
      { imageDigest: `sha256:${'2'.repeat(64)}`, imageTags: ['chart-1'], imagePushedAt: 2, imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json', artifactMediaType: 'application/vnd.cncf.helm.config.v1+json' },
      { imageDigest: `sha256:${'3'.repeat(64)}`, imageTags: ['sbom-1'], imagePushedAt: 3, imageManifestMediaType: 'application/vnd.cncf.oras.artifact.manifest.v1+json', artifactMediaType: 'text/sbom+json' },
    ];
    expect(rankAllowedImages(rule as never, images).map((i) => i.tag)).toEqual(['release-1']);
  });
});
