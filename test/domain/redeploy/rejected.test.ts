import { describe, expect, it } from 'vitest';
import { validateShape } from '../../../functions/lib/model/validate.ts';
import { MAX_REJECTED, REJECTED_DIGESTS_TAG, decodeRejected, encodeRejected, isRejected } from '../../../functions/domain/redeploy/rejected.ts';

const hex = (c: string) => c.repeat(64);
const d = (c: string) => `sha256:${hex(c)}`;

describe('rejected digests tag', () => {
  it('uses the documented tag key, valid for AgentCore', () => {
    expect(REJECTED_DIGESTS_TAG).toBe('autopilot:rejected-digests');
    expect(validateShape('TagKey', REJECTED_DIGESTS_TAG)).toEqual([]);
  });

  it('decodes nothing from absent tags or an absent/empty value', () => {
    expect(decodeRejected(undefined)).toEqual([]);
    expect(decodeRejected({})).toEqual([]);
    expect(decodeRejected({ other: hex('a') })).toEqual([]);
    expect(decodeRejected({ [REJECTED_DIGESTS_TAG]: '' })).toEqual([]);
  });

  it('decodes hex entries as sha256 digests, newest first', () => {
    expect(decodeRejected({ [REJECTED_DIGESTS_TAG]: `${hex('a')} ${hex('b')}` })).toEqual([d('a'), d('b')]);
  });

  it('ignores malformed entries, tolerates prefixes, case, extra whitespace and duplicates', () => {
    const value = `  garbage ${hex('a').toUpperCase()}  sha256:${hex('b')} abc ${'g'.repeat(64)} ${hex('a')} md5:${'c'.repeat(32)} ${hex('c')}x `;
    expect(decodeRejected({ [REJECTED_DIGESTS_TAG]: value })).toEqual([d('a'), d('b')]);
    expect(decodeRejected({ [REJECTED_DIGESTS_TAG]: 42 as unknown as string })).toEqual([]);
  });

  it('encodes newest first without the prefix', () => {
    expect(encodeRejected([], d('a'))).toBe(hex('a'));
    expect(encodeRejected([d('a')], d('b'))).toBe(`${hex('b')} ${hex('a')}`);
  });

  it('deduplicates: re-rejecting a digest moves it to the front', () => {
    expect(encodeRejected([d('a'), d('b')], d('b'))).toBe(`${hex('b')} ${hex('a')}`);
  });

  it(`keeps at most ${MAX_REJECTED}, within the 256-character tag value limit and pattern`, () => {
    const value = encodeRejected([d('c'), d('b'), d('a')], d('d'));
    expect(value).toBe(`${hex('d')} ${hex('c')} ${hex('b')}`);
    expect(value.length).toBeLessThanOrEqual(256);
    expect(validateShape('TagValue', value)).toEqual([]);
  });

  it('drops malformed previous entries and does not mutate its input', () => {
    const previous = ['nope', d('a'), '', d('a')];
    const copy = [...previous];
    expect(encodeRejected(previous, d('b'))).toBe(`${hex('b')} ${hex('a')}`);
    expect(previous).toEqual(copy);
  });

  it('refuses to encode a digest that is not sha256', () => {
    expect(() => encodeRejected([], 'sha256:abc')).toThrow(TypeError);
    expect(() => encodeRejected([], '')).toThrow(TypeError);
  });

  it('round-trips', () => {
    let tags: Record<string, string> = {};
    for (const c of ['a', 'b', 'c', 'd']) tags = { [REJECTED_DIGESTS_TAG]: encodeRejected(decodeRejected(tags), d(c)) };
    expect(decodeRejected(tags)).toEqual([d('d'), d('c'), d('b')]);
    expect(isRejected(tags, d('c'))).toBe(true);
    expect(isRejected(tags, `SHA256:${hex('c').toUpperCase()}`)).toBe(true);
    expect(isRejected(tags, d('a'))).toBe(false);
    expect(isRejected(tags, undefined)).toBe(false);
  });
});
