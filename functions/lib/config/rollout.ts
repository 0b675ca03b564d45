/**
 * Settings of a staged policy rollout: the schema used for `gateways[].policyEngine.rollout`, and
 * the same validation for per-start overrides (a rollout started by hand or by drift can tighten
 * or relax a gate for that one run).
 */
// zod/mini: the overrides are validated at run time, and zod/mini keeps classic zod out of the
// function bundles (fields.ts). The namespace import lets esbuild drop what is not used.
import * as z from '../zod-mini.ts';
import { ConfigError } from './config-error.ts';
import { alarmName, checkedString, count, minutes, positiveCount, ratio, uniqueList } from './fields.ts';
import { fromZodIssues, zodErrorMap } from './issues.ts';
import { COMPARISON_OPERATORS, DEFAULT_ROLLOUT_SETTINGS } from './defaults.ts';
import type { RolloutSettings } from './types.ts';
import {
  HISTORY_BUDGET, MAX_EXECUTION_MINUTES, PAYLOAD_QUOTA_BYTES, rolloutDurationBound, rolloutHistoryBound,
} from '../step-functions-limits.ts';

/**
 * Bounds that keep a rollout's Step Functions execution well inside the service quotas
 * (functions/domain/step-functions-limits.ts): its history under half the 25,000 events at the
 * longest waits (three readiness waits of 15 s polls, two bakes with every extension), its run
 * under a year, and its state (which carries these settings through every state) far from 256 KiB.
 */
export const MAX_READY_TIMEOUT_MINUTES = 60;
export const MAX_BAKE_EXTENSIONS = 100;
export const MAX_ALARMS = 100;
export const MAX_METRIC_GATES = 10;
/** The settings' JSON may use this much of the 256 KiB a state may hold. */
export const MAX_SETTINGS_BYTES = PAYLOAD_QUOTA_BYTES / 8;

export { COMPARISON_OPERATORS, DEFAULT_ROLLOUT_SETTINGS };

const STANDARD_STATS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum', 'IQM'];
// Percentile / trimmed / winsorized / trimmed count / trimmed sum: p99, p99.9, tm90, wm95, tc80, ts90.
const EXTENDED_STAT = /^(p|tm|wm|tc|ts)(100|[0-9]{1,2}(\.[0-9]{1,10})?)$/;

function checkStat(value: string): string | undefined {
  if (STANDARD_STATS.includes(value) || EXTENDED_STAT.test(value)) return undefined;
  return `must be one of ${STANDARD_STATS.join(', ')} or a percentile-style statistic such as p99, p99.9, tm90`;
}

const COMPARISONS = ['GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold'] as const;

export const metricGateSchema = z.strictObject({
  // GetMetricData MetricDataQuery.Id.
  id: checkedString((v) => (/^[a-z][a-zA-Z0-9_]{0,254}$/.test(v) ? undefined : 'must match the pattern [a-z][a-zA-Z0-9_]* (a GetMetricData query id), at most 255 characters')),
  namespace: checkedString((v) => (v.length > 255 ? 'must be at most 255 characters' : v.startsWith(':') ? 'must not start with ":"' : undefined)),
  metricName: z.string().check(z.minLength(1), z.maxLength(255)),
  dimensions: z._default(z.record(z.string().check(z.minLength(1), z.maxLength(255)), z.string().check(z.minLength(1), z.maxLength(1024)))
    .check(z.superRefine((d, ctx) => {
      if (Object.keys(d).length > 30) ctx.addIssue({ code: 'custom', message: 'must have at most 30 entries (the CloudWatch limit)' });
    })), () => ({})),
  stat: checkedString(checkStat),
  threshold: z.number(),
  comparison: z.enum(COMPARISONS),
  // CloudWatch periods: 1, 5, 10, 30 (high resolution) or a multiple of 60 seconds.
  periodSeconds: z._default(z.number().check(z.int(), z.superRefine((p, ctx) => {
    if (!([1, 5, 10, 30].includes(p) || (p >= 60 && p % 60 === 0 && p <= 86_400))) {
      ctx.addIssue({ code: 'custom', message: 'must be 1, 5, 10, 30 or a multiple of 60 up to 86400' });
    }
  })), 60),
});

const PLACEHOLDERS = ['gatewayId', 'gatewayArn', 'policyEngineId', 'policyEngineArn', 'mode'];

/**
 * One dimension-set template: the complete set a gate reads (CloudWatch matches it exactly), with
 * `{placeholder}`s from `placeholders`; 1 to 30 dimensions (the CloudWatch limit).
 */
export function dimensionSetSchema(placeholders: readonly string[]) {
  return z.record(z.string().check(z.minLength(1), z.maxLength(255)), checkedString((v) => {
    if (v.length > 1024) return 'must be at most 1024 characters';
    const unknown = [...v.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).filter((n) => !placeholders.includes(n));
    return unknown.length > 0 ? `uses unknown placeholder {${unknown[0]}} (known: ${placeholders.map((n) => `{${n}}`).join(' ')})` : undefined;
  })).check(z.superRefine((d, ctx) => {
    const n = Object.keys(d).length;
    if (n === 0 || n > 30) ctx.addIssue({ code: 'custom', message: 'must have between 1 and 30 dimensions (the CloudWatch limit)' });
  }));
}

const projectionSchema = dimensionSetSchema(PLACEHOLDERS);

export const projectionsSchema = z.strictObject({
  decisions: z.optional(projectionSchema),
  mismatch: z.optional(projectionSchema),
  toolList: z.optional(projectionSchema),
});

const fields = {
  bakeMinutes: minutes(),
  enforceBakeMinutes: minutes(),
  maxDenyRatio: ratio(),
  maxMismatchErrors: count(),
  maxNoDeterminingPolicies: count(),
  minDecisions: positiveCount(),
  maxBakeExtensions: count().check(z.maximum(MAX_BAKE_EXTENSIONS, { error: `must be at most ${MAX_BAKE_EXTENSIONS} (each extension adds history events to the rollout's Step Functions execution)` })),
  // A multiple of the shadow baseline: below 1 would fail any rollout whose deny ratio holds steady.
  maxDenySpikeRatio: z.number().check(z.minimum(1)),
  maxSystemErrors: count(),
  readyTimeoutMinutes: minutes().check(z.maximum(MAX_READY_TIMEOUT_MINUTES, {
    error: `must be at most ${MAX_READY_TIMEOUT_MINUTES}: the rollout polls the gateway every 15 s, and its Step Functions execution history is limited to 25,000 events`,
  })),
  alarms: uniqueList(alarmName(), 'alarm').check(z.maxLength(MAX_ALARMS, { error: `must have at most ${MAX_ALARMS} items (DescribeAlarms takes 100 names)` })),
  metrics: uniqueList(metricGateSchema, 'the id of metric', (m) => m.id).check(z.maxLength(MAX_METRIC_GATES, {
    error: `must have at most ${MAX_METRIC_GATES} gates (the rollout state carries them through every Step Functions state, 256 KiB each)`,
  })),
};

const D = DEFAULT_ROLLOUT_SETTINGS;

const approvalSchema = z.strictObject({
  required: z._default(z.boolean(), D.approval.required),
  timeoutMinutes: z._default(minutes(), D.approval.timeoutMinutes),
});

/**
 * What the settings as a whole may not exceed: the run of a standard execution (one year), the
 * history budget, and their share of the state's 256 KiB. Each problem is `[path, message]`.
 */
export function rolloutLimitProblems(s: RolloutSettings): [string, string][] {
  const problems: [string, string][] = [];
  const minutes = rolloutDurationBound(s);
  if (minutes > MAX_EXECUTION_MINUTES) {
    problems.push(['bakeMinutes', `with enforceBakeMinutes, maxBakeExtensions, the approval timeout and readyTimeoutMinutes, a rollout could run ${minutes} minutes, more than a Step Functions execution may (${MAX_EXECUTION_MINUTES}, one year)`]);
  }
  const events = rolloutHistoryBound(s.readyTimeoutMinutes, s.maxBakeExtensions);
  if (events > HISTORY_BUDGET) {
    problems.push(['readyTimeoutMinutes', `with maxBakeExtensions, the rollout's execution history could reach ${events} events, more than half the 25,000-event quota`]);
  }
  const bytes = Buffer.byteLength(JSON.stringify(s), 'utf8');
  if (bytes > MAX_SETTINGS_BYTES) {
    problems.push(['metrics', `the settings take ${bytes} bytes of JSON, more than ${MAX_SETTINGS_BYTES} (they travel in the rollout state, limited to 256 KiB per state)`]);
  }
  return problems;
}

/** Full rollout settings; every omitted key takes its DEFAULT_ROLLOUT_SETTINGS value. */
export const rolloutSettingsSchema = z.strictObject({
  bakeMinutes: z._default(fields.bakeMinutes, D.bakeMinutes),
  enforceBakeMinutes: z._default(fields.enforceBakeMinutes, D.enforceBakeMinutes),
  maxDenyRatio: z._default(fields.maxDenyRatio, D.maxDenyRatio),
  maxMismatchErrors: z._default(fields.maxMismatchErrors, D.maxMismatchErrors),
  maxNoDeterminingPolicies: z._default(fields.maxNoDeterminingPolicies, D.maxNoDeterminingPolicies),
  minDecisions: z._default(fields.minDecisions, D.minDecisions),
  maxBakeExtensions: z._default(fields.maxBakeExtensions, D.maxBakeExtensions),
  maxDenySpikeRatio: z._default(fields.maxDenySpikeRatio, D.maxDenySpikeRatio),
  maxSystemErrors: z._default(fields.maxSystemErrors, D.maxSystemErrors),
  readyTimeoutMinutes: z._default(fields.readyTimeoutMinutes, D.readyTimeoutMinutes),
  alarms: z._default(fields.alarms, () => []),
  metrics: z._default(fields.metrics, () => []),
  approval: z.prefault(approvalSchema, {}),
  // Which published streams the gates read: per gateway, never per request (overrides cannot change it).
  projections: z._default(projectionsSchema, () => ({})),
}).check(z.superRefine((s, ctx) => {
  for (const [path, message] of rolloutLimitProblems(s as RolloutSettings)) ctx.addIssue({ code: 'custom', path: [path], message });
}));

/** Per-start overrides: any subset of the settings (approval too), validated like the config. */
export const rolloutOverridesSchema = z.partial(z.strictObject({
  ...fields,
  approval: z.partial(z.strictObject({ required: z.boolean(), timeoutMinutes: minutes() })),
}));

export type RolloutOverrides = z.output<typeof rolloutOverridesSchema>;

function cloneSettings(s: RolloutSettings): RolloutSettings {
  return {
    ...s,
    alarms: [...s.alarms],
    metrics: s.metrics.map((m) => ({ ...m, dimensions: { ...m.dimensions } })),
    approval: { ...s.approval },
    projections: structuredClone(s.projections ?? {}),
  };
}

/**
 * Validates per-start overrides and applies them over `base` (lists replace, approval merges).
 * Throws a ConfigError naming `source` and every bad key; `base` is never mutated.
 */
export function parseRolloutOverrides(
  obj: unknown,
  base: RolloutSettings = DEFAULT_ROLLOUT_SETTINGS,
  source = 'rollout overrides',
): RolloutSettings {
  const result = rolloutOverridesSchema.safeParse(obj ?? {}, { error: zodErrorMap });
  if (!result.success) {
    const issues = fromZodIssues(result.error.issues).map(({ path, message }) => ({ path: path || '(root)', message }));
    throw new ConfigError(source, issues);
  }
  const { approval, ...rest } = result.data;
  const merged = cloneSettings(base);
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
  }
  if (approval) merged.approval = { ...merged.approval, ...Object.fromEntries(Object.entries(approval).filter(([, v]) => v !== undefined)) };
  const limits = rolloutLimitProblems(merged);
  if (limits.length > 0) throw new ConfigError(source, limits.map(([path, message]) => ({ path, message })));
  return merged;
}
