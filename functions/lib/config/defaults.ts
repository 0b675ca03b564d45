/**
 * Constants of the config that the functions use at run time, apart from the schemas that check
 * the config: a packaged function gets its config compiled at package time (scripts/esbuild-plugins.ts)
 * and must not bundle zod schemas only to read a default.
 */
import type { MetricComparison, MetricGate, RolloutSettings } from './types.ts';

/** Deep-frozen so no consumer can change the defaults of every later parse. */
export const DEFAULT_ROLLOUT_SETTINGS: RolloutSettings = Object.freeze({
  bakeMinutes: 60,
  enforceBakeMinutes: 30,
  maxDenyRatio: 0.05,
  maxMismatchErrors: 0,
  maxNoDeterminingPolicies: 0,
  minDecisions: 100,
  maxBakeExtensions: 2,
  maxDenySpikeRatio: 2,
  maxSystemErrors: 0,
  readyTimeoutMinutes: 15,
  alarms: Object.freeze([]) as unknown as string[],
  metrics: Object.freeze([]) as unknown as MetricGate[],
  approval: Object.freeze({ required: false, timeoutMinutes: 60 }),
  projections: Object.freeze({}),
});

/** The operator each CloudWatch comparison name stands for (the gate passes when `value <op> threshold`). */
export const COMPARISON_OPERATORS: Readonly<Record<MetricComparison, '>=' | '>' | '<' | '<='>> = Object.freeze({
  GreaterThanOrEqualToThreshold: '>=',
  GreaterThanThreshold: '>',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '<=',
});

/** Suffix of the trial copy a changed ACTIVE policy is baked as (its name must fit CreatePolicy's 48). */
export const CANDIDATE_SUFFIX = '_next';
/** PolicyName is 1-48 characters; the trial copy adds CANDIDATE_SUFFIX. */
export const MAX_DECLARED_POLICY_NAME = 48 - CANDIDATE_SUFFIX.length;
