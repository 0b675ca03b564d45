/**
 * Rollout settings as the policy-rollout domain reads them, and the plan derived from them: the
 * whole numbers the state machine waits and counts with (ASL cannot do arithmetic beyond
 * States.MathAdd, so every duration arrives precomputed).
 *
 * `RolloutSettings` is the config's type of the same name (functions/lib/config/types.ts) with its
 * metric gates in the domain's form: the comparison as an operator (`<`, `<=`, `>`, `>=`) and no
 * per-gate period (one MetricStat covers the whole window). `rolloutSettingsFromConfig` maps one
 * to the other.
 */
import type { MetricGate, RolloutSettings as ConfiguredRolloutSettings } from '../../lib/config/types.ts';
import { COMPARISON_OPERATORS } from '../../lib/config/defaults.ts';
import { InvalidRolloutInputError } from './errors.ts';

/** How a gate compares its value with its threshold: the condition under which the gate PASSES. */
export type GateComparison = (typeof COMPARISON_OPERATORS)[keyof typeof COMPARISON_OPERATORS];

/** A user-defined CloudWatch metric gate (one GetMetricData MetricStat over the whole window). */
export interface RolloutMetricGate extends Omit<MetricGate, 'dimensions' | 'comparison' | 'periodSeconds'> {
  /** Dimension name -> value; the metric's complete dimension set (CloudWatch matches it exactly). */
  dimensions?: Record<string, string>;
  /** The gate passes when `value <comparison> threshold` holds. */
  comparison: GateComparison;
}

/** The configured rollout settings with the metric gates in the domain's form. */
export interface RolloutSettings extends Omit<ConfiguredRolloutSettings, 'metrics'> {
  metrics: RolloutMetricGate[];
}

/** Config-syntax rollout settings -> the domain's (comparison operators, no per-gate period); input untouched. */
export function rolloutSettingsFromConfig(settings: ConfiguredRolloutSettings): RolloutSettings {
  return {
    ...structuredClone(settings),
    metrics: settings.metrics.map((m) => ({
      id: m.id,
      namespace: m.namespace,
      metricName: m.metricName,
      dimensions: { ...m.dimensions },
      stat: m.stat,
      threshold: m.threshold,
      comparison: COMPARISON_OPERATORS[m.comparison],
    })),
    approval: { ...settings.approval },
  };
}

/** Seconds between two readiness polls (GetGateway). */
export const READY_POLL_SECONDS = 15;

/** The numbers the state machine runs on; produced once by the preflight. */
export interface RolloutPlan {
  bakeSeconds: number;
  enforceBakeSeconds: number;
  maxBakeExtensions: number;
  readyPollSeconds: number;
  readyTimeoutSeconds: number;
  /** Upper bound of readiness polls per wait (deadline / poll interval, plus the first look). */
  maxReadyPolls: number;
  approvalRequired: boolean;
  /** >= 1 (Step Functions TimeoutSecondsPath needs a positive integer) even when not required. */
  approvalTimeoutSeconds: number;
}

/** Step Functions Wait and task timeouts accept at most one year. */
const MAX_STATE_SECONDS = 365 * 24 * 3600;

function wholeSeconds(field: string, minutes: number, min: number): number {
  if (typeof minutes !== 'number' || !Number.isFinite(minutes) || minutes * 60 < min) {
    throw new InvalidRolloutInputError(`${field} must be a number of minutes >= ${min / 60}`, { details: { field } });
  }
  const seconds = Math.round(minutes * 60);
  if (seconds > MAX_STATE_SECONDS) {
    throw new InvalidRolloutInputError(`${field} exceeds one year (Step Functions limit)`, { details: { field } });
  }
  return seconds;
}

function requireRange(field: string, value: number, min: number, max = Number.POSITIVE_INFINITY): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Number.POSITIVE_INFINITY ? `>= ${min}` : `between ${min} and ${max}`;
    throw new InvalidRolloutInputError(`${field} must be a number ${range}`, { details: { field } });
  }
}

/** Derives the state machine's plan from settings; throws InvalidRolloutInputError on unusable values. */
export function rolloutPlan(settings: RolloutSettings): RolloutPlan {
  requireRange('maxDenyRatio', settings.maxDenyRatio, 0, 1);
  requireRange('maxMismatchErrors', settings.maxMismatchErrors, 0);
  requireRange('maxNoDeterminingPolicies', settings.maxNoDeterminingPolicies, 0);
  requireRange('minDecisions', settings.minDecisions, 0);
  requireRange('maxDenySpikeRatio', settings.maxDenySpikeRatio, 0);
  requireRange('maxSystemErrors', settings.maxSystemErrors, 0);
  requireRange('maxBakeExtensions', settings.maxBakeExtensions, 0, 100);
  if (!Number.isInteger(settings.maxBakeExtensions)) {
    throw new InvalidRolloutInputError('maxBakeExtensions must be a whole number', { details: { field: 'maxBakeExtensions' } });
  }
  const ids = new Set<string>();
  for (const metric of settings.metrics) {
    if (ids.has(metric.id)) {
      throw new InvalidRolloutInputError(`metric gate id "${metric.id}" is used twice`, { details: { field: 'metrics' } });
    }
    ids.add(metric.id);
    requireRange(`metrics.${metric.id}.threshold`, metric.threshold, Number.NEGATIVE_INFINITY);
  }
  const readyTimeoutSeconds = wholeSeconds('readyTimeoutMinutes', settings.readyTimeoutMinutes, 60);
  return {
    bakeSeconds: wholeSeconds('bakeMinutes', settings.bakeMinutes, 60),
    enforceBakeSeconds: wholeSeconds('enforceBakeMinutes', settings.enforceBakeMinutes, 60),
    maxBakeExtensions: settings.maxBakeExtensions,
    readyPollSeconds: READY_POLL_SECONDS,
    readyTimeoutSeconds,
    maxReadyPolls: Math.ceil(readyTimeoutSeconds / READY_POLL_SECONDS) + 1,
    approvalRequired: settings.approval.required,
    approvalTimeoutSeconds: settings.approval.required
      ? wholeSeconds('approval.timeoutMinutes', settings.approval.timeoutMinutes, 60)
      : 1,
  };
}
