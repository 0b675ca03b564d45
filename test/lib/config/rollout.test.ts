import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COMPARISON_OPERATORS, ConfigError, DEFAULT_ROLLOUT_SETTINGS, parseRolloutOverrides, rolloutSettingsSchema, type RolloutSettings,
} from '../../../functions/lib/config/index.ts';

const gate = { id: 'errors', namespace: 'AWS/Bedrock-AgentCore', metricName: 'SystemErrors', stat: 'Sum', threshold: 0, comparison: 'LessThanOrEqualToThreshold' };

describe('rolloutSettingsSchema', () => {
  it('produces the documented defaults from an empty object', () => {
    expect(rolloutSettingsSchema.parse({})).toEqual({
      bakeMinutes: 60, enforceBakeMinutes: 30, maxDenyRatio: 0.05, maxMismatchErrors: 0, maxNoDeterminingPolicies: 0,
      minDecisions: 100, maxBakeExtensions: 2, maxDenySpikeRatio: 2, maxSystemErrors: 0, readyTimeoutMinutes: 15,
      alarms: [], metrics: [], approval: { required: false, timeoutMinutes: 60 }, projections: {},
    });
    expect(rolloutSettingsSchema.parse({})).toEqual(DEFAULT_ROLLOUT_SETTINGS);
  });

  it('fills metric gate defaults', () => {
    expect(rolloutSettingsSchema.parse({ metrics: [gate] }).metrics).toEqual([{ ...gate, dimensions: {}, periodSeconds: 60 }]);
  });

  it('maps every comparison name to its operator', () => {
    expect(COMPARISON_OPERATORS).toEqual({
      GreaterThanOrEqualToThreshold: '>=', GreaterThanThreshold: '>', LessThanThreshold: '<', LessThanOrEqualToThreshold: '<=',
    });
  });

  it('keeps DEFAULT_ROLLOUT_SETTINGS frozen', () => {
    expect(Object.isFrozen(DEFAULT_ROLLOUT_SETTINGS)).toBe(true);
    expect(Object.isFrozen(DEFAULT_ROLLOUT_SETTINGS.approval)).toBe(true);
    expect(() => DEFAULT_ROLLOUT_SETTINGS.alarms.push('x')).toThrow(TypeError);
  });
});

describe('parseRolloutOverrides', () => {
  const base: RolloutSettings = { ...DEFAULT_ROLLOUT_SETTINGS, bakeMinutes: 120, alarms: ['a'], approval: { required: true, timeoutMinutes: 30 } };

  it('applies overrides over the base: scalars and lists replace, approval merges', () => {
    const merged = parseRolloutOverrides({ bakeMinutes: 5, alarms: ['b', 'c'], metrics: [gate], approval: { timeoutMinutes: 10 } }, base);
    expect(merged).toEqual({
      ...base,
      bakeMinutes: 5,
      alarms: ['b', 'c'],
      metrics: [{ ...gate, dimensions: {}, periodSeconds: 60 }],
      approval: { required: true, timeoutMinutes: 10 },
    });
  });

  it('returns a copy of the defaults when there are no overrides', () => {
    const merged = parseRolloutOverrides(undefined);
    expect(merged).toEqual(DEFAULT_ROLLOUT_SETTINGS);
    expect(merged).not.toBe(DEFAULT_ROLLOUT_SETTINGS);
    merged.alarms.push('mine');
    expect(DEFAULT_ROLLOUT_SETTINGS.alarms).toEqual([]);
  });

  it('never mutates the base', () => {
    const snapshot = structuredClone(base);
    parseRolloutOverrides({ alarms: ['z'], approval: { required: false } }, base);
    expect(base).toEqual(snapshot);
  });

  it('rejects invalid overrides with the same paths and messages as the config file', () => {
    const err = (() => {
      try {
        parseRolloutOverrides({ maxDenyRatio: 2, bakeMinutes: 0, bakeMinuts: 3, approval: { required: 'yes' } }, base, 'rollout start input');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message.split('\n')).toEqual([
      'rollout start input: bakeMinutes: must be at least 1',
      'rollout start input: maxDenyRatio: must be at most 1',
      'rollout start input: approval.required: must be a boolean (got a string)',
      expect.stringMatching(/^rollout start input: bakeMinuts: is not a known key \(did you mean "bakeMinutes"\?\)/),
    ]);
  });

  it('rejects overrides that are not an object', () => {
    expect(() => parseRolloutOverrides('fast', base)).toThrow('rollout overrides: (root): must be an object (got a string)');
  });

  it('keeps every key it is not given, for any valid subset of overrides', () => {
    const overrides = fc.record({
      bakeMinutes: fc.integer({ min: 1, max: 1000 }),
      maxDenyRatio: fc.double({ min: 0, max: 1, noNaN: true }),
      minDecisions: fc.integer({ min: 1, max: 10_000 }),
      maxBakeExtensions: fc.integer({ min: 0, max: 10 }),
      approval: fc.record({ required: fc.boolean() }, { requiredKeys: [] }),
    }, { requiredKeys: [] });
    fc.assert(fc.property(overrides, (o) => {
      const merged = parseRolloutOverrides(o, base);
      for (const key of Object.keys(base) as (keyof RolloutSettings)[]) {
        if (key === 'approval') continue;
        expect(merged[key]).toEqual(key in o ? (o as Record<string, unknown>)[key] : base[key]);
      }
      expect(merged.approval).toEqual({ ...base.approval, ...(o.approval ?? {}) });
    }));
  });
});
