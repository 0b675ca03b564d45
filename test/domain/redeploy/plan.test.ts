import { describe, expect, it } from 'vitest';
import type { ImagePush } from '../../../functions/domain/redeploy/events.ts';
import {
  matchingRuntimes,
  planRedeploy,
  requestedImageRefusal,
  trackDecision,
  type LiveRuntimeLike,
  type RuntimeToPlan,
  type TrackRuleLike,
} from '../../../functions/domain/redeploy/plan.ts';

const ACCOUNT = '123456789012';
const HOST = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`;
const OLD = `sha256:${'a'.repeat(64)}`;
const NEW = `sha256:${'b'.repeat(64)}`;

const push = (over: Partial<ImagePush> = {}): ImagePush => ({
  account: ACCOUNT,
  region: 'us-east-1',
  repository: 'team/agent',
  digest: NEW,
  tag: 'v1.5.0',
  time: '2026-11-16T01:54:34Z',
  eventId: 'evt-1',
  ...over,
});

const rule = (over: Partial<TrackRuleLike> = {}): TrackRuleLike => ({
  repository: 'team/agent',
  tagPolicy: { semver: '^1.0.0' },
  registry: { accounts: [ACCOUNT], regions: ['us-east-1'] },
  keepTag: false,
  ...over,
});

const live = (uri: string | undefined, version = '7'): LiveRuntimeLike => ({
  agentRuntimeId: 'agent_one-abcdefghij',
  agentRuntimeVersion: version,
  ...(uri === undefined ? {} : { agentRuntimeArtifact: { containerConfiguration: { containerUri: uri } } }),
});

const runtime = (over: Partial<RuntimeToPlan> = {}): RuntimeToPlan => ({
  runtimeId: 'agent_one-abcdefghij',
  rule: rule(),
  live: live(`${HOST}/team/agent:v1.4.0@${OLD}`),
  ...over,
});

const plan1 = (rt: Partial<RuntimeToPlan> = {}, p: Partial<ImagePush> = {}, extra: { pushTags?: string[]; home?: { account?: string; region?: string } } = {}) =>
  planRedeploy({ push: push(p), runtimes: [runtime(rt)], ...extra })[0];

describe('planRedeploy', () => {
  it('updates a runtime on another digest to the digest-pinned URI', () => {
    expect(plan1()).toEqual({
      runtimeId: 'agent_one-abcdefghij',
      action: 'update',
      reason: 'new-digest',
      message: `deploy team/agent:v1.5.0 (${NEW})`,
      digest: NEW,
      previousUri: `${HOST}/team/agent:v1.4.0@${OLD}`,
      newUri: `${HOST}/team/agent@${NEW}`,
      fromVersion: '7',
      fromTag: 'v1.4.0',
      toTag: 'v1.5.0',
    });
  });

  it('keeps the tag before the digest when the rule says keepTag', () => {
    expect(plan1({ rule: rule({ keepTag: true }) }).newUri).toBe(`${HOST}/team/agent:v1.5.0@${NEW}`);
  });

  it.each([
    ['already on the digest (digest-only URI)', { live: live(`${HOST}/team/agent@${NEW}`) }, {}, 'already-on-digest'],
    ['already on the digest under another tag', { live: live(`${HOST}/team/agent:latest@${NEW}`) }, {}, 'already-on-digest'],
    ['tag not followed', {}, { tag: 'latest' }, 'tag-not-matched'],
    ['prerelease under a plain range', {}, { tag: '1.6.0-rc.1' }, 'tag-not-matched'],
    ['digest-only push', {}, { tag: undefined }, 'push-has-no-tag'],
    ['lower version', { live: live(`${HOST}/team/agent:v1.6.0@${OLD}`) }, {}, 'downgrade-refused'],
    ['other repository', {}, { repository: 'team/other' }, 'repository-not-tracked'],
    ['account not allowed', {}, { account: '210987654321' }, 'registry-not-allowed'],
    ['region not allowed', {}, { region: 'eu-west-1' }, 'registry-not-allowed'],
    ['code artifact', { live: { agentRuntimeVersion: '7', agentRuntimeArtifact: { codeConfiguration: { runtime: 'PYTHON_3_12' } } } }, {}, 'live-artifact-not-container'],
    ['no artifact', { live: live(undefined) }, {}, 'live-artifact-missing'],
  ])('skips: %s', (_label, rt, p, reason) => {
    const d = plan1(rt as Partial<RuntimeToPlan>, p as Partial<ImagePush>);
    expect(d.action).toBe('skip');
    expect(d.reason).toBe(reason);
    expect(d.newUri).toBeUndefined();
  });

  it('updates a tag-only live URI (its digest is unknown) and pins it', () => {
    const d = plan1({ live: live(`${HOST}/team/agent:latest`) , rule: rule({ tagPolicy: { exact: 'latest' } }) }, { tag: 'latest' });
    expect(d).toMatchObject({ action: 'update', newUri: `${HOST}/team/agent@${NEW}` });
  });

  it('moves to the tracked repository when the live image is the same digest elsewhere', () => {
    expect(plan1({ live: live(`${HOST}/team/old-agent@${NEW}`) }).action).toBe('update');
  });

  it('reads the live version from liveTags when the live URI carries no tag', () => {
    const d = plan1({ live: live(`${HOST}/team/agent@${OLD}`), liveTags: ['latest', 'v1.7.0', 'v1.6.0'] });
    expect(d).toMatchObject({ action: 'skip', reason: 'downgrade-refused', fromTag: 'v1.7.0', toTag: 'v1.5.0' });
  });

  it('allows the update when the live version is unknown', () => {
    const d = plan1({ live: live(`${HOST}/team/agent@${OLD}`) });
    expect(d.action).toBe('update');
    expect(d.fromTag).toBeUndefined();
  });

  it('treats empty registry lists as the home account and region, and as nothing without one', () => {
    const open = rule({ registry: { accounts: [], regions: [] } });
    expect(plan1({ rule: open }, {}, { home: { account: ACCOUNT, region: 'us-east-1' } }).action).toBe('update');
    expect(plan1({ rule: open }, {}, { home: { account: '210987654321', region: 'us-east-1' } }).reason).toBe('registry-not-allowed');
    expect(plan1({ rule: open }).reason).toBe('registry-not-allowed');
  });

  it('plans a runtime listed twice once', () => {
    const ds = planRedeploy({ push: push(), runtimes: [runtime(), runtime()] });
    expect(ds.map((d) => [d.action, d.reason])).toEqual([
      ['update', 'new-digest'],
      ['skip', 'duplicate-runtime'],
    ]);
  });

  it('does not mutate its input', () => {
    const input = { push: push(), runtimes: [runtime({ rule: rule({ keepTag: true }) })], pushTags: ['v1.5.0', 'latest'] };
    const before = structuredClone(input);
    planRedeploy(input);
    expect(input).toEqual(before);
  });

  describe('one digest pushed under several tags', () => {
    const tags = ['latest', 'v1.5.0', '1.5.0', 'stable'];
    const globRule = rule({ tagPolicy: { glob: '*' }, keepTag: true });

    it('builds the same URI whichever tag event arrives first (keepTag, pushTags known)', () => {
      for (const r of [rule({ keepTag: true }), globRule]) {
        const uris = new Set(
          tags
            .filter((t) => trackDecision(r, push({ tag: t })).match)
            .map((t) => planRedeploy({ push: push({ tag: t }), runtimes: [runtime({ rule: r })], pushTags: tags })[0].newUri),
        );
        expect(uris.size).toBe(1);
      }
      // Semver: the highest version; glob: the lexically smallest followed tag.
      expect(plan1({ rule: rule({ keepTag: true }) }, { tag: 'v1.5.0' }, { pushTags: tags }).newUri).toBe(`${HOST}/team/agent:1.5.0@${NEW}`);
      expect(plan1({ rule: globRule }, { tag: 'v1.5.0' }, { pushTags: tags }).newUri).toBe(`${HOST}/team/agent:1.5.0@${NEW}`);
    });

    it('builds the same URI for every tag without keepTag, even without pushTags', () => {
      const uris = new Set(tags.map((t) => plan1({ rule: rule({ tagPolicy: { glob: '*' } }) }, { tag: t }).newUri));
      expect(uris).toEqual(new Set([`${HOST}/team/agent@${NEW}`]));
    });

    it('skips the second event once the first update is live, whatever its tag', () => {
      const first = plan1({ rule: globRule }, { tag: 'latest' });
      expect(first.action).toBe('update');
      const second = plan1({ rule: globRule, live: live(first.newUri, '8') }, { tag: 'stable' });
      expect(second).toMatchObject({ action: 'skip', reason: 'already-on-digest' });
    });

    it('skips a redelivered event once its update is live', () => {
      const first = plan1();
      expect(plan1({ live: live(first.newUri, '8') })).toMatchObject({ action: 'skip', reason: 'already-on-digest' });
    });
  });
});

describe('matchingRuntimes', () => {
  it('selects configured runtimes whose track rule follows the push, in order', () => {
    const config = [
      { name: 'a', track: rule() },
      { name: 'b' },
      { name: 'c', track: rule({ repository: 'team/other' }) },
      { name: 'd', track: rule({ tagPolicy: { exact: 'latest' } }) },
      { name: 'e', track: rule({ tagPolicy: { glob: 'v1.*' }, registry: { accounts: [], regions: [] } }) },
    ];
    expect(matchingRuntimes(config, push()).map((r) => r.name)).toEqual(['a']);
    expect(matchingRuntimes(config, push(), { account: ACCOUNT, region: 'us-east-1' }).map((r) => r.name)).toEqual(['a', 'e']);
    expect(matchingRuntimes(config, push({ tag: 'latest' })).map((r) => r.name)).toEqual(['d']);
    expect(matchingRuntimes(config, push({ repository: 'unknown/repo' }))).toEqual([]);
  });

  it('accepts the config loader TagPolicy shape (with its kind tag)', () => {
    const withKind = [{ track: rule({ tagPolicy: { kind: 'semver', semver: '^1.0.0' } as never }) }];
    expect(matchingRuntimes(withKind, push())).toHaveLength(1);
  });
});

describe('requestedImageRefusal (change-request images)', () => {
  const scope = { accounts: [ACCOUNT], regions: ['us-east-1'] };
  const home = { account: ACCOUNT, region: 'us-east-1' };
  it('accepts an image inside the rule scope, or inside home when the runtime has no rule', () => {
    expect(requestedImageRefusal(`${HOST}/team/agent@${NEW}`, scope, home)).toBeUndefined();
    expect(requestedImageRefusal(`${HOST}/other/repo:1.0`, undefined, home)).toBeUndefined();
    expect(requestedImageRefusal(`999999999999.dkr.ecr.eu-west-1.amazonaws.com/a@${NEW}`, { accounts: ['999999999999'], regions: ['eu-west-1'] }, home)).toBeUndefined();
  });
  it('refuses another account or region, public images, and everything when home is unknown', () => {
    expect(requestedImageRefusal(`999999999999.dkr.ecr.us-east-1.amazonaws.com/team/agent@${NEW}`, scope, home)).toMatch(/registry account 999999999999 is not allowed/);
    expect(requestedImageRefusal(`${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/team/agent@${NEW}`, undefined, home)).toMatch(/registry region eu-west-1 is not allowed/);
    expect(requestedImageRefusal('public.ecr.aws/alias/agent:1.0', scope, home)).toMatch(/not in a private ECR registry/);
    expect(requestedImageRefusal(`${HOST}/team/agent@${NEW}`, undefined, undefined)).toMatch(/registry account/);
  });
});
