import { describe, expect, it } from 'vitest';
import { comparableLiveImage, olderThanLiveRefusal, rejectedRefusal, staleTagRefusal } from '../../../functions/domain/redeploy/guards.ts';
import { REJECTED_DIGESTS_TAG, encodeRejected } from '../../../functions/domain/redeploy/rejected.ts';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const push = { account: '123456789012', region: 'us-east-1', repository: 'agent', digest: d('a'), tag: 'release-2' };
const at = (iso: string) => new Date(iso);

describe('staleTagRefusal', () => {
  it('passes when the tag still points to the digest, or when ECR could not tell', () => {
    expect(staleTagRefusal(push, { state: 'found', tags: ['x', 'release-2'] })).toBeUndefined();
    expect(staleTagRefusal(push, { state: 'unknown' })).toBeUndefined();
    expect(staleTagRefusal(push, undefined)).toBeUndefined();
  });
  it('refuses a tag that moved on, and an image that is gone', () => {
    expect(staleTagRefusal(push, { state: 'found', tags: ['release-1'] })).toEqual({ reason: 'stale-tag', message: `tag release-2 no longer points to ${d('a')} in agent` });
    expect(staleTagRefusal(push, { state: 'missing' })?.reason).toBe('stale-tag');
  });
});

describe('comparableLiveImage', () => {
  it('only an image with a digest in the same registry and repository, other than the pushed one', () => {
    expect(comparableLiveImage(push, `${HOST}/agent@${d('b')}`)).toEqual({ repository: 'agent', digest: d('b'), account: '123456789012' });
    expect(comparableLiveImage(push, `${HOST}/agent:v1@${d('b')}`)?.digest).toBe(d('b'));
    expect(comparableLiveImage(push, `${HOST}/other@${d('b')}`)).toBeUndefined();
    expect(comparableLiveImage(push, `999999999999.dkr.ecr.us-east-1.amazonaws.com/agent@${d('b')}`)).toBeUndefined();
    expect(comparableLiveImage(push, `123456789012.dkr.ecr.eu-west-1.amazonaws.com/agent@${d('b')}`)).toBeUndefined();
    expect(comparableLiveImage(push, `${HOST}/agent:latest`)).toBeUndefined();
    expect(comparableLiveImage(push, `${HOST}/agent@${d('a')}`)).toBeUndefined();
    expect(comparableLiveImage(push, undefined)).toBeUndefined();
  });
});

describe('olderThanLiveRefusal', () => {
  const pushed = { state: 'found' as const, tags: ['release-2'], pushedAt: at('2026-01-01T10:00:00Z') };
  const live = (iso: string) => ({ digest: d('b'), image: { state: 'found' as const, tags: [], pushedAt: at(iso) } });
  it('refuses a push older than the live image under exact, glob and regex rules', () => {
    for (const policy of [{ glob: 'release-*' }, { exact: 'release-2' }, { regex: 'release-.*' }]) {
      expect(olderThanLiveRefusal(policy as never, push, pushed, live('2026-01-01T11:00:00Z'))?.reason).toBe('older-than-live');
    }
    expect(olderThanLiveRefusal({ glob: '*' } as never, push, pushed, live('2026-01-01T11:00:00Z'))?.message)
      .toBe(`${d('a')} (tag release-2) was pushed at 2026-01-01T10:00:00.000Z, before the live ${d('b')} (pushed at 2026-01-01T11:00:00.000Z)`);
  });
  it('passes a newer or same-time push, semver rules, and unknown times', () => {
    expect(olderThanLiveRefusal({ glob: '*' } as never, push, pushed, live('2026-01-01T09:00:00Z'))).toBeUndefined();
    expect(olderThanLiveRefusal({ glob: '*' } as never, push, pushed, live('2026-01-01T10:00:00Z'))).toBeUndefined();
    expect(olderThanLiveRefusal({ semver: '^1' } as never, push, pushed, live('2026-01-01T11:00:00Z'))).toBeUndefined();
    expect(olderThanLiveRefusal({ glob: '*' } as never, push, pushed, { digest: d('b'), image: { state: 'missing' } })).toBeUndefined();
    expect(olderThanLiveRefusal({ glob: '*' } as never, push, { state: 'unknown' }, live('2026-01-01T11:00:00Z'))).toBeUndefined();
    expect(olderThanLiveRefusal({ glob: '*' } as never, push, pushed, undefined)).toBeUndefined();
  });
});

describe('rejectedRefusal', () => {
  it('refuses a digest in the rejected list only', () => {
    const tags = { [REJECTED_DIGESTS_TAG]: encodeRejected([d('c')], d('a')) };
    expect(rejectedRefusal(tags, d('a'))?.reason).toBe('digest-rejected');
    expect(rejectedRefusal(tags, d('c'))?.message).toMatch(/clear that tag, or deploy it with `autopilot redeploy`/);
    expect(rejectedRefusal(tags, d('b'))).toBeUndefined();
    expect(rejectedRefusal(undefined, d('a'))).toBeUndefined();
  });
});
