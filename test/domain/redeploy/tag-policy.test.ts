import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  highestSemverTag,
  isDowngrade,
  isValidTagPolicy,
  matchesTagPolicy,
  tagVersion,
  type TagPolicy,
} from '../../../functions/domain/redeploy/tag-policy.ts';

describe('matchesTagPolicy', () => {
  it.each<[TagPolicy, string | undefined, boolean]>([
    // exact
    [{ exact: 'latest' }, 'latest', true],
    [{ exact: 'latest' }, 'Latest', false],
    [{ exact: 'latest' }, 'latest2', false],
    [{ exact: 'latest' }, undefined, false],
    // semver, with and without the v prefix
    [{ semver: '^1.2.0' }, '1.2.0', true],
    [{ semver: '^1.2.0' }, 'v1.9.3', true],
    [{ semver: '^1.2.0' }, '2.0.0', false],
    [{ semver: '^1.2.0' }, '1.1.9', false],
    [{ semver: '>=1.0.0 <2' }, 'v1.0.0', true],
    [{ semver: '1.x' }, '1.4.2', true],
    [{ semver: '1.x' }, '1.4.2+build.7', false], // '+' is not a tag character: registries cannot hold such a tag
    [{ semver: '^1.2.0' }, 'latest', false],
    [{ semver: '^1.2.0' }, '1.2', false],
    [{ semver: '^1.2.0' }, 'V1.2.3', false],
    [{ semver: '^1.2.0' }, 'vv1.2.3', false],
    [{ semver: '^1.2.0' }, '01.2.3', false],
    [{ semver: '*' }, 'sha-abc', false],
    // prereleases: only for a range naming a prerelease on the same major.minor.patch
    [{ semver: '^1.2.0' }, '1.3.0-rc.1', false],
    [{ semver: '>=1.3.0-rc.0 <2' }, '1.3.0-rc.1', true],
    [{ semver: '>=1.3.0-rc.0 <2' }, '1.4.0-rc.1', false],
    [{ semver: 'not a range' }, '1.2.3', false],
    // glob
    [{ glob: 'v1.*' }, 'v1.2.3', true],
    [{ glob: 'v1.*' }, 'v10.2', false],
    [{ glob: 'v1.*' }, 'xv1.2', false],
    [{ glob: 'release-?' }, 'release-7', true],
    [{ glob: 'release-?' }, 'release-17', false],
    [{ glob: 'v[0-9].*' }, 'v3.1', true],
    [{ glob: 'v[0-9].*' }, 'vx.1', false],
    [{ glob: 'build-[!a-z]*' }, 'build-1', true],
    [{ glob: 'build-[!a-z]*' }, 'build-a', false],
    [{ glob: 'build-[^a-z]*' }, 'build-a', false],
    [{ glob: 'a[-_]x' }, 'a-x', true],
    [{ glob: 'a[-_]x' }, 'a_x', true],
    [{ glob: 'a[b-]' }, 'a-', true],
    [{ glob: 'a[b-]' }, 'ac', false],
    [{ glob: '*' }, 'anything_goes', true],
    [{ glob: 'a*b*c' }, 'aXXbYYc', true],
    [{ glob: 'a*b*c' }, 'aXXbYY', false],
    // regex metacharacters in a glob are literals (no injection)
    [{ glob: 'v1.(2|3)' }, 'v1.(2|3)', false], // "(" and "|" are not valid tag characters: never match
    [{ glob: 'v1.2+' }, 'v1.22', false],
    [{ glob: 'v1.2.3' }, 'v1x2x3', false],
    [{ glob: 'v1\\*' }, 'v1*', false], // "*" is not a tag character
    [{ glob: 'v1\\.2' }, 'v1.2', true],
    [{ glob: '[a-' }, 'a', false], // unterminated class never matches
    // regex: anchored whole-tag match
    [{ regex: 'v1\\.[0-9]+' }, 'v1.42', true],
    [{ regex: 'v1\\.[0-9]+' }, 'v1.42-hotfix', false],
    [{ regex: 'v1\\.[0-9]+' }, 'xv1.42', false],
    [{ regex: 'main|release' }, 'release', true],
    [{ regex: 'main|release' }, 'mainline', false],
    [{ regex: '(' }, '(', false],
    [{ regex: '' }, '', false],
  ])('%j with %s -> %s', (policy, tag, expected) => {
    expect(matchesTagPolicy(policy, tag)).toBe(expected);
  });

  it.each(['(a+)+b', '(a*)*b', '(a|aa)+b', '(.*a){2,}b', '((ab)*c)+', '(a)\\1', '([a-z]+)*x', '(?:a+){1,100}'])(
    'refuses the catastrophic pattern %s quickly',
    (pattern) => {
      const started = performance.now();
      expect(matchesTagPolicy({ regex: pattern }, `${'a'.repeat(40)}c`)).toBe(false);
      expect(isValidTagPolicy({ regex: pattern })).toBe(false);
      expect(performance.now() - started).toBeLessThan(500);
    },
  );

  it.each(['v[0-9]+(\\.[0-9]+){2}', '(main|release)-[0-9]+', 'v1\\.(2|3)\\.[0-9]+', 'sha-[a-f0-9]{7,40}', '(?:rc)?[0-9]+', '[(]+x', 'a{2}(b)?'])(
    'accepts the star-height-1 pattern %s',
    (pattern) => {
      expect(isValidTagPolicy({ regex: pattern })).toBe(true);
    },
  );

  it('never matches a tag longer than 128 characters', () => {
    expect(matchesTagPolicy({ regex: 'a+' }, 'a'.repeat(128))).toBe(true);
    expect(matchesTagPolicy({ regex: 'a+' }, 'a'.repeat(129))).toBe(false);
  });

  it('refuses patterns longer than 256 characters', () => {
    expect(matchesTagPolicy({ regex: `${'a'.repeat(257)}` }, 'a')).toBe(false);
    expect(isValidTagPolicy({ glob: '*'.repeat(257) })).toBe(false);
  });

  it('matches a glob with no wildcards exactly like exact (property)', () => {
    const tagChar = fc.constantFrom(...'abcXYZ019._-');
    const tag = fc.tuple(fc.constantFrom(...'abc019_'), fc.array(tagChar, { maxLength: 20 })).map(([h, t]) => h + t.join(''));
    fc.assert(
      fc.property(tag, tag, (a, b) => {
        expect(matchesTagPolicy({ glob: a }, b)).toBe(a === b);
        expect(matchesTagPolicy({ glob: '*' }, b)).toBe(true);
        expect(matchesTagPolicy({ glob: `${a}*` }, b)).toBe(b.startsWith(a));
      }),
    );
  });
});

describe('isValidTagPolicy', () => {
  it.each<[TagPolicy, boolean]>([
    [{ exact: 'latest' }, true],
    [{ exact: 'has space' }, false],
    [{ semver: '^1.2' }, true],
    [{ semver: 'banana' }, false],
    [{ glob: 'v[0-9]*' }, true],
    [{ glob: 'v[9-0]*' }, false],
    [{ glob: '' }, false],
    [{ regex: 'v\\d+' }, true],
    [{ regex: '[' }, false],
  ])('%j -> %s', (policy, valid) => expect(isValidTagPolicy(policy)).toBe(valid));
});

describe('tagVersion and highestSemverTag', () => {
  it('strips one v prefix and refuses loose forms', () => {
    expect(tagVersion('v1.2.3')).toBe('1.2.3');
    expect(tagVersion('1.2.3-rc.1')).toBe('1.2.3-rc.1');
    expect(tagVersion('=1.2.3')).toBeUndefined();
    expect(tagVersion('latest')).toBeUndefined();
  });

  it('picks the highest version, stable between v-prefixed and bare twins', () => {
    expect(highestSemverTag(['latest', 'v1.2.3', '1.10.0', '1.9.9'])).toBe('1.10.0');
    expect(highestSemverTag(['v1.2.3', '1.2.3'])).toBe('1.2.3');
    expect(highestSemverTag(['1.2.3', 'v1.2.3'])).toBe('1.2.3');
    expect(highestSemverTag(['1.3.0-rc.1', '1.2.9'])).toBe('1.3.0-rc.1');
    expect(highestSemverTag(['latest'])).toBeUndefined();
  });
});

describe('isDowngrade', () => {
  const semverRule: TagPolicy = { semver: '>=1.0.0' };
  it.each<[TagPolicy, string | undefined, string | undefined, boolean]>([
    [semverRule, '1.4.0', '1.3.9', true],
    [semverRule, 'v1.4.0', '1.3.9', true],
    [semverRule, '1.4.0', 'v1.10.0', false],
    [semverRule, '1.4.0', '1.4.0', false], // same version rebuilt: not a downgrade
    [semverRule, '1.4.0', '1.4.0-rc.1', true], // a prerelease sorts before its release
    [semverRule, '1.4.0+b.2', '1.4.0+b.1', false], // build metadata carries no order
    [semverRule, undefined, '1.0.0', false], // live version unknown
    [semverRule, 'latest', '1.0.0', false],
    [semverRule, '2.0.0', 'latest', false],
    [{ glob: '*' }, '1.4.0', '1.3.9', false], // only semver rules order tags
    [{ exact: '1.3.9' }, '1.4.0', '1.3.9', false],
  ])('%j live %s new %s -> %s', (policy, live, next, expected) => {
    expect(isDowngrade(policy, live, next)).toBe(expected);
  });
});
