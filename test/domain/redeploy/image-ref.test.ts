import { describe, expect, it } from 'vitest';
import { validateShape } from '../../../functions/lib/model/validate.ts';
import { digestOnlyUri, parseImageUri, pinnedUri, sameDigest, sameImage } from '../../../functions/domain/redeploy/image-ref.ts';

const D = `sha256:${'0123456789abcdef'.repeat(4)}`;
const D2 = `sha256:${'f'.repeat(64)}`;
const HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

describe('parseImageUri', () => {
  it.each([
    [`${HOST}/agent@${D}`, { registry: HOST, account: '123456789012', region: 'us-east-1', isPublic: false, repository: 'agent', digest: D }],
    [`${HOST}/team/my-agent:v1.2@${D}`, { registry: HOST, account: '123456789012', region: 'us-east-1', isPublic: false, repository: 'team/my-agent', tag: 'v1.2', digest: D }],
    [`${HOST}/agent:latest`, { registry: HOST, account: '123456789012', region: 'us-east-1', isPublic: false, repository: 'agent', tag: 'latest' }],
    [`${HOST}/agent`, { registry: HOST, account: '123456789012', region: 'us-east-1', isPublic: false, repository: 'agent' }],
    [
      `123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/agent@${D}`,
      { registry: '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn', account: '123456789012', region: 'cn-north-1', isPublic: false, repository: 'agent', digest: D },
    ],
    [`public.ecr.aws/myalias/agent:1.0`, { registry: 'public.ecr.aws', isPublic: true, repository: 'myalias/agent', tag: '1.0' }],
  ])('parses %s', (uri, expected) => {
    expect(parseImageUri(uri)).toEqual(expected);
    expect(validateShape('RuntimeContainerUri', uri)).toEqual([]);
  });

  it.each([
    `${HOST}/Agent:latest`, // uppercase repository
    `docker.io/library/nginx:latest`,
    `${HOST}/agent@sha256:abc`, // the model accepts any digest text; we do not
    `${HOST}/agent@md5:${'a'.repeat(32)}`,
    `${HOST}/agent:a:b`,
    `https://${HOST}/agent`,
    '',
    42,
    undefined,
  ])('refuses %s', (uri) => {
    expect(parseImageUri(uri)).toBeUndefined();
  });
});

describe('pinnedUri', () => {
  const base = { account: '123456789012', region: 'us-east-1', repository: 'team/agent', digest: D };

  it.each([
    [{ ...base, keepTag: false }, `${HOST}/team/agent@${D}`],
    [{ ...base, tag: 'v1.2.3', keepTag: false }, `${HOST}/team/agent@${D}`],
    [{ ...base, tag: 'v1.2.3', keepTag: true }, `${HOST}/team/agent:v1.2.3@${D}`],
    [{ ...base, keepTag: true }, `${HOST}/team/agent@${D}`], // digest-only push: nothing to keep
    [{ ...base, region: 'cn-northwest-1', keepTag: false }, `123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/team/agent@${D}`],
  ])('pins %j', (input, expected) => {
    const uri = pinnedUri(input);
    expect(uri).toBe(expected);
    expect(validateShape('RuntimeContainerUri', uri)).toEqual([]);
    expect(parseImageUri(uri)?.digest).toBe(D);
  });

  it.each([
    [{ ...base, account: '1234', keepTag: false }, /account/],
    [{ ...base, region: 'US-EAST-1', keepTag: false }, /region/],
    [{ ...base, repository: 'Team/Agent', keepTag: false }, /repository/],
    [{ ...base, digest: 'sha256:xyz', keepTag: false }, /digest/],
    [{ ...base, tag: 'bad tag', keepTag: true }, /tag/],
  ])('refuses malformed parts %j', (input, message) => {
    expect(() => pinnedUri(input)).toThrow(message);
  });
});

describe('sameDigest / sameImage / digestOnlyUri', () => {
  it('compares digests, never tags', () => {
    expect(sameDigest(`${HOST}/agent:v1@${D}`, D)).toBe(true);
    expect(sameDigest(`${HOST}/agent:latest@${D}`, D)).toBe(true);
    expect(sameDigest(`${HOST}/agent@${D2}`, D)).toBe(false);
    expect(sameDigest(`${HOST}/agent:latest`, D)).toBe(false); // digest unknown: not the same
    expect(sameDigest(undefined, D)).toBe(false);
  });

  it('requires the same registry and repository for sameImage', () => {
    const image = { account: '123456789012', region: 'us-east-1', repository: 'agent', digest: D };
    expect(sameImage(`${HOST}/agent:v2@${D}`, image)).toBe(true);
    expect(sameImage(`${HOST}/other@${D}`, image)).toBe(false);
    expect(sameImage(`210987654321.dkr.ecr.us-east-1.amazonaws.com/agent@${D}`, image)).toBe(false);
    expect(sameImage(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/agent@${D}`, image)).toBe(false);
  });

  it('drops the tag', () => {
    expect(digestOnlyUri(`${HOST}/agent:v2@${D}`)).toBe(`${HOST}/agent@${D}`);
    expect(digestOnlyUri(`${HOST}/agent:v2`)).toBeUndefined();
  });
});
