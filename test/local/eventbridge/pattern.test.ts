import { describe, expect, it } from 'vitest';
import { EventPatternError, matchesPattern, validatePattern } from '../../../local/emulator/eventbridge/pattern.ts';

const ecrPush = {
  version: '0',
  id: 'e1',
  'detail-type': 'ECR Image Action',
  source: 'aws.ecr',
  account: '123456789012',
  time: '2026-01-01T00:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: {
    result: 'SUCCESS',
    'repository-name': 'support-agent',
    'image-digest': 'sha256:abc',
    'action-type': 'PUSH',
    'image-tag': 'v1.2.3',
    size: 1200,
    labels: ['prod', 'canary'],
    layers: [{ media: 'gzip', bytes: 10 }, { media: 'zstd', bytes: 70 }],
    nothing: null,
  },
};

const m = (pattern: unknown) => matchesPattern(pattern, ecrPush);

describe('matchesPattern', () => {
  it('exact values, arrays as OR, nested fields, AND across fields', () => {
    expect(m({ source: ['aws.ecr'] })).toBe(true);
    expect(m({ source: ['aws.s3', 'aws.ecr'] })).toBe(true);
    expect(m({ source: ['aws.s3'] })).toBe(false);
    expect(m({ source: ['aws.ecr'], detail: { 'action-type': ['PUSH'], result: ['SUCCESS'] } })).toBe(true);
    expect(m({ source: ['aws.ecr'], detail: { 'action-type': ['DELETE'] } })).toBe(false);
    expect(m({ detail: { size: [1200] } })).toBe(true);
    expect(m({ detail: { size: ['1200'] } })).toBe(false);
    expect(m({ detail: { nothing: [null] } })).toBe(true);
    expect(m({ detail: { result: [null] } })).toBe(false);
  });

  it('matches array event values when any element matches, and flattens arrays of objects', () => {
    expect(m({ detail: { labels: ['canary'] } })).toBe(true);
    expect(m({ detail: { labels: ['dev'] } })).toBe(false);
    expect(m({ detail: { layers: { media: ['zstd'] } } })).toBe(true);
    expect(m({ detail: { layers: { media: ['lz4'] } } })).toBe(false);
  });

  it('prefix and suffix (also ignoring case)', () => {
    expect(m({ detail: { 'image-tag': [{ prefix: 'v1.' }] } })).toBe(true);
    expect(m({ detail: { 'image-tag': [{ prefix: 'v2.' }] } })).toBe(false);
    expect(m({ detail: { 'repository-name': [{ suffix: '-agent' }] } })).toBe(true);
    expect(m({ detail: { 'repository-name': [{ suffix: '-gateway' }] } })).toBe(false);
    expect(m({ detail: { 'repository-name': [{ prefix: { 'equals-ignore-case': 'SUPPORT' } }] } })).toBe(true);
    expect(m({ detail: { 'repository-name': [{ suffix: { 'equals-ignore-case': 'AGENT' } }] } })).toBe(true);
    expect(m({ detail: { size: [{ prefix: '12' }] } })).toBe(false); // numbers never prefix-match
  });

  it('anything-but with a value, a list, prefix, suffix, equals-ignore-case and wildcard', () => {
    expect(m({ detail: { result: [{ 'anything-but': 'FAILURE' }] } })).toBe(true);
    expect(m({ detail: { result: [{ 'anything-but': 'SUCCESS' }] } })).toBe(false);
    expect(m({ detail: { result: [{ 'anything-but': ['FAILURE', 'SUCCESS'] }] } })).toBe(false);
    expect(m({ detail: { size: [{ 'anything-but': [1, 2] }] } })).toBe(true);
    expect(m({ detail: { size: [{ 'anything-but': 1200 }] } })).toBe(false);
    expect(m({ detail: { 'image-tag': [{ 'anything-but': { prefix: 'v1' } }] } })).toBe(false);
    expect(m({ detail: { 'image-tag': [{ 'anything-but': { prefix: 'dev-' } }] } })).toBe(true);
    expect(m({ detail: { 'image-tag': [{ 'anything-but': { suffix: '.3' } }] } })).toBe(false);
    expect(m({ detail: { result: [{ 'anything-but': { 'equals-ignore-case': ['success'] } }] } })).toBe(false);
    expect(m({ detail: { result: [{ 'anything-but': { wildcard: 'FAIL*' } }] } })).toBe(true);
    expect(m({ detail: { missing: [{ 'anything-but': 'x' }] } })).toBe(false); // needs the field
  });

  it('exists true / false, including missing parent objects', () => {
    expect(m({ detail: { 'image-tag': [{ exists: true }] } })).toBe(true);
    expect(m({ detail: { 'image-tag': [{ exists: false }] } })).toBe(false);
    expect(m({ detail: { 'artifact-media-type': [{ exists: false }] } })).toBe(true);
    expect(m({ detail: { 'artifact-media-type': [{ exists: true }] } })).toBe(false);
    expect(m({ extra: { deep: [{ exists: false }] } })).toBe(true);
  });

  it('numeric ranges and equality', () => {
    expect(m({ detail: { size: [{ numeric: ['>', 1000, '<=', 1200] }] } })).toBe(true);
    expect(m({ detail: { size: [{ numeric: ['>', 1200] }] } })).toBe(false);
    expect(m({ detail: { size: [{ numeric: ['>=', 1200] }] } })).toBe(true);
    expect(m({ detail: { size: [{ numeric: ['<', 1200] }] } })).toBe(false);
    expect(m({ detail: { size: [{ numeric: ['=', 1200] }] } })).toBe(true);
    expect(m({ detail: { layers: { bytes: [{ numeric: ['>', 50] }] } } })).toBe(true);
    expect(m({ detail: { result: [{ numeric: ['>', 0] }] } })).toBe(false); // strings never match numerically
  });

  it('equals-ignore-case', () => {
    expect(m({ detail: { 'action-type': [{ 'equals-ignore-case': 'push' }] } })).toBe(true);
    expect(m({ detail: { 'action-type': [{ 'equals-ignore-case': 'pull' }] } })).toBe(false);
  });

  it('wildcard, with escaped stars', () => {
    expect(m({ detail: { 'image-tag': [{ wildcard: 'v*.3' }] } })).toBe(true);
    expect(m({ detail: { 'image-tag': [{ wildcard: 'v*.4' }] } })).toBe(false);
    expect(m({ detail: { 'repository-name': [{ wildcard: '*agent' }] } })).toBe(true);
    expect(matchesPattern({ a: [{ wildcard: 'x\\*y' }] }, { a: 'x*y' })).toBe(true);
    expect(matchesPattern({ a: [{ wildcard: 'x\\*y' }] }, { a: 'xzzy' })).toBe(false);
  });

  it('$or between alternative sub-patterns, at the top level and nested', () => {
    const or = { source: ['aws.ecr'], $or: [{ detail: { 'image-tag': ['latest'] } }, { detail: { size: [{ numeric: ['>', 1000] }] } }] };
    expect(m(or)).toBe(true);
    expect(m({ ...or, source: ['aws.s3'] })).toBe(false);
    expect(m({ $or: [{ detail: { 'image-tag': ['latest'] } }, { detail: { size: [{ numeric: ['<', 10] }] } }] })).toBe(false);
    expect(m({ detail: { $or: [{ result: ['FAILURE'] }, { 'action-type': ['PUSH'] }] } })).toBe(true);
  });
});

describe('validatePattern', () => {
  const bad = (p: unknown, re: RegExp) => expect(() => validatePattern(p)).toThrow(re);

  it('accepts JSON strings and returns the parsed pattern', () => {
    expect(validatePattern('{"source":["aws.ecr"]}')).toEqual({ source: ['aws.ecr'] });
  });

  it('rejects malformed patterns with a clear message', () => {
    expect(() => validatePattern('{bad json')).toThrow(EventPatternError);
    bad([], /JSON object/);
    bad({}, /must not be empty/);
    bad({ source: 'aws.ecr' }, /source must be an object or an array/);
    bad({ source: [] }, /empty array/);
    bad({ detail: { size: [{ numeric: ['>', 'x'] }] } }, /not a number/);
    bad({ detail: { size: [{ numeric: ['>', 1, '>', 2] }] } }, /one lower and one upper/);
    bad({ detail: { size: [{ numeric: ['>', 10, '<', 5] }] } }, /bottom must be less than top/);
    bad({ detail: { size: [{ numeric: ['~', 1] }] } }, /unknown comparison/);
    bad({ a: [{ prefix: 1 }] }, /"prefix" at a must be a string/);
    bad({ a: [{ exists: 'yes' }] }, /true or false/);
    bad({ a: [{ wildcard: 'a**b' }] }, /consecutive wildcard/);
    bad({ a: [{ 'anything-but': [] }] }, /empty array/);
    bad({ a: [{ 'anything-but': ['x', 1] }] }, /only strings or only numbers/);
    bad({ a: [{ regex: 'x' }] }, /unknown operator "regex"/);
    bad({ a: [{ prefix: 'x', suffix: 'y' }] }, /exactly one operator/);
    bad({ $or: [{ a: ['x'] }] }, /at least 2/);
  });
});
