/**
 * Verification gates of a policy rollout: what CloudWatch is asked (metricQueries), how the
 * answers become window figures (windowFigures), and the verdicts (evaluateShadowGates,
 * evaluateEnforceGates, nextStep).
 *
 * Metric dimensions: the AWS docs list the AgentCore policy metrics (AllowDecisions, DenyDecisions,
 * MismatchErrors, NoDeterminingPolicies, SystemErrors in `AWS/Bedrock-AgentCore`) but only one of
 * their dimensions (OperationName); the rest is undocumented (agentcore-api.md §12). CloudWatch
 * matches a MetricStat's dimension set exactly, so the sets are a parameter: by default one set
 * `{Resource: <gateway ARN>}` (the dimension the gateway metrics use). Several sets (e.g. one per
 * OperationName) are summed. Confirm with `aws cloudwatch list-metrics --namespace
 * AWS/Bedrock-AgentCore` and configure accordingly.
 *
 * Assumption: in LOG_ONLY, DenyDecisions counts the decisions that would have been denies.
 */
import type { GateComparison, RolloutMetricGate, RolloutSettings } from './settings.ts';

export const POLICY_METRICS_NAMESPACE = 'AWS/Bedrock-AgentCore';

/** Figure -> CloudWatch metric name of the built-in policy gates. */
export const POLICY_METRIC_NAMES = {
  allow: 'AllowDecisions',
  deny: 'DenyDecisions',
  mismatchErrors: 'MismatchErrors',
  noDeterminingPolicies: 'NoDeterminingPolicies',
  systemErrors: 'SystemErrors',
} as const;
export type PolicyFigure = keyof typeof POLICY_METRIC_NAMES;
const POLICY_FIGURES = Object.keys(POLICY_METRIC_NAMES) as PolicyFigure[];

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** Sums over one verification window. */
export interface WindowFigures {
  allow: number;
  deny: number;
  mismatchErrors: number;
  noDeterminingPolicies: number;
  systemErrors: number;
  /** Custom metric gate id -> value over the window; null when CloudWatch returned no data. */
  metrics: Record<string, number | null>;
  /** Alarm name -> state; a configured alarm missing here was not found. */
  alarms: Record<string, AlarmState>;
}

export type GateVerdict = 'PASS' | 'FAIL' | 'INCONCLUSIVE';

export interface GateResult {
  name: string;
  value: number | string | null;
  threshold: number | string;
  comparison: GateComparison | '==';
  /** null: not decidable (too few decisions, no data); makes the verdict at best INCONCLUSIVE. */
  passed: boolean | null;
}

export interface GateReport {
  verdict: GateVerdict;
  gates: GateResult[];
  /** deny / (allow + deny); 0 when there were no decisions. */
  denyRatio: number;
  /** allow + deny. */
  decisions: number;
  /** One line per failed or undecidable gate. */
  reasons: string[];
}

/** The shadow figures the ENFORCE stage compares against. */
export interface GateBaseline {
  denyRatio: number;
  decisions: number;
}

type ShadowSettings = Pick<
  RolloutSettings,
  'maxDenyRatio' | 'maxMismatchErrors' | 'maxNoDeterminingPolicies' | 'minDecisions' | 'alarms' | 'metrics'
>;
type EnforceSettings = Pick<
  RolloutSettings,
  'maxDenySpikeRatio' | 'maxDenyRatio' | 'maxSystemErrors' | 'minDecisions' | 'alarms' | 'metrics'
>;

/** `value <comparison> threshold`. */
export function compare(value: number, comparison: GateComparison, threshold: number): boolean {
  switch (comparison) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
  }
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(6)));
}

function negate(comparison: GateComparison): string {
  return { '<': '>=', '<=': '>', '>': '<=', '>=': '<' }[comparison];
}

function numericGate(name: string, value: number, comparison: GateComparison, threshold: number): GateResult {
  return { name, value, threshold, comparison, passed: compare(value, comparison, threshold) };
}

function decisionsOf(figures: WindowFigures): { decisions: number; denyRatio: number } {
  const decisions = figures.allow + figures.deny;
  return { decisions, denyRatio: decisions === 0 ? 0 : figures.deny / decisions };
}

function sampleGate(decisions: number, minDecisions: number): GateResult {
  return {
    name: 'decisions',
    value: decisions,
    threshold: minDecisions,
    comparison: '>=',
    passed: decisions >= minDecisions ? true : null,
  };
}

function alarmGates(alarms: string[], states: Record<string, AlarmState>): GateResult[] {
  return alarms.map((alarm) => {
    const state = Object.hasOwn(states, alarm) ? states[alarm] : null;
    return { name: `alarm:${alarm}`, value: state, threshold: 'OK', comparison: '==', passed: state === 'OK' };
  });
}

function metricGates(metrics: RolloutMetricGate[], values: Record<string, number | null>): GateResult[] {
  return metrics.map((metric) => {
    const value = Object.hasOwn(values, metric.id) ? values[metric.id] : null;
    return {
      name: `metric:${metric.id}`,
      value,
      threshold: metric.threshold,
      comparison: metric.comparison,
      passed: value === null ? null : compare(value, metric.comparison, metric.threshold),
    };
  });
}

function reasonFor(gate: GateResult): string {
  if (gate.name === 'decisions') {
    return `only ${gate.value} decisions in the window, fewer than the ${gate.threshold} required`;
  }
  if (gate.name.startsWith('alarm:')) {
    return gate.value === null
      ? `${gate.name} was not found`
      : `${gate.name} is ${gate.value}, not OK`;
  }
  if (gate.passed === null) {
    return gate.value === null ? `${gate.name} has no data in the window` : `${gate.name} is not decidable on too few decisions`;
  }
  return `${gate.name} is ${fmt(gate.value as number)}, ${negate(gate.comparison as GateComparison)} ${fmt(gate.threshold as number)}`;
}

function report(gates: GateResult[], decisions: number, denyRatio: number): GateReport {
  const failed = gates.filter((g) => g.passed === false);
  const undecided = gates.filter((g) => g.passed === null);
  const verdict: GateVerdict = failed.length > 0 ? 'FAIL' : undecided.length > 0 ? 'INCONCLUSIVE' : 'PASS';
  return { verdict, gates, denyRatio, decisions, reasons: [...failed, ...undecided].map(reasonFor) };
}

/**
 * LOG_ONLY gates. Absolute counts (mismatch errors, no-determining-policy denials, alarms, custom
 * metrics) fail at any sample size; the deny ratio is only judged on at least minDecisions
 * decisions, otherwise the verdict is INCONCLUSIVE.
 */
export function evaluateShadowGates(figures: WindowFigures, settings: ShadowSettings): GateReport {
  const { decisions, denyRatio } = decisionsOf(figures);
  const enough = decisions >= settings.minDecisions;
  const ratioGate = numericGate('denyRatio', denyRatio, '<=', settings.maxDenyRatio);
  const gates: GateResult[] = [
    sampleGate(decisions, settings.minDecisions),
    enough ? ratioGate : { ...ratioGate, passed: null },
    numericGate('mismatchErrors', figures.mismatchErrors, '<=', settings.maxMismatchErrors),
    numericGate('noDeterminingPolicies', figures.noDeterminingPolicies, '<=', settings.maxNoDeterminingPolicies),
    ...metricGates(settings.metrics, figures.metrics),
    ...alarmGates(settings.alarms, figures.alarms),
  ];
  return report(gates, decisions, denyRatio);
}

/**
 * The deny ratio ENFORCE may reach: maxDenySpikeRatio x the shadow baseline. A baseline of 0 is
 * only known to within one decision of the shadow sample, so it counts as 1/decisions (and, with
 * no shadow decisions at all, as maxDenyRatio): otherwise a single deny would fail a clean rollout.
 */
export function denySpikeThreshold(baseline: GateBaseline, settings: Pick<RolloutSettings, 'maxDenySpikeRatio' | 'maxDenyRatio'>): number {
  const effective =
    baseline.denyRatio > 0 ? baseline.denyRatio : baseline.decisions > 0 ? 1 / baseline.decisions : settings.maxDenyRatio;
  return Math.min(1, settings.maxDenySpikeRatio * effective);
}

/** ENFORCE gates: alarms, system errors, custom metrics, and the deny-ratio spike over the shadow baseline. */
export function evaluateEnforceGates(figures: WindowFigures, baseline: GateBaseline, settings: EnforceSettings): GateReport {
  const { decisions, denyRatio } = decisionsOf(figures);
  const enough = decisions >= settings.minDecisions;
  const spikeGate = numericGate('denySpike', denyRatio, '<=', denySpikeThreshold(baseline, settings));
  const gates: GateResult[] = [
    sampleGate(decisions, settings.minDecisions),
    enough ? spikeGate : { ...spikeGate, passed: null },
    numericGate('systemErrors', figures.systemErrors, '<=', settings.maxSystemErrors),
    ...metricGates(settings.metrics, figures.metrics),
    ...alarmGates(settings.alarms, figures.alarms),
  ];
  return report(gates, decisions, denyRatio);
}

/** What the state machine does after a verification. */
export type NextStep = 'PROCEED' | 'EXTEND' | 'STOP';

/**
 * PASS proceeds; INCONCLUSIVE extends the bake while extensions remain; everything else stops
 * (shadow: halt in LOG_ONLY; enforce: roll back). Returns the extensions used after this step.
 */
export function nextStep(verdict: GateVerdict, extensionsUsed: number, maxBakeExtensions: number): { decision: NextStep; extensionsUsed: number } {
  if (verdict === 'PASS') return { decision: 'PROCEED', extensionsUsed };
  if (verdict === 'INCONCLUSIVE' && extensionsUsed < maxBakeExtensions) {
    return { decision: 'EXTEND', extensionsUsed: extensionsUsed + 1 };
  }
  return { decision: 'STOP', extensionsUsed };
}

// --- CloudWatch -------------------------------------------------------------------------------

/** A verification window, whole minutes, ISO-8601 UTC. */
export interface MetricWindow {
  start: string;
  end: string;
}

const MINUTE_MS = 60_000;

/**
 * The window a verification reads: from the bake start (or, without one, `lookbackSeconds` back)
 * to now, both floored to the minute (CloudWatch's one-minute batches), at least one minute long.
 */
export function verifyWindow(args: { now: Date; startedAt?: string | null; lookbackSeconds: number }): MetricWindow {
  const end = Math.floor(args.now.getTime() / MINUTE_MS) * MINUTE_MS;
  const from = args.startedAt ? Date.parse(args.startedAt) : end - Math.ceil(args.lookbackSeconds / 60) * MINUTE_MS;
  const start = Math.min(Math.floor(from / MINUTE_MS) * MINUTE_MS, end - MINUTE_MS);
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
}

/** The window length rounded up to a whole minute (CloudWatch periods are multiples of 60 s). */
export function windowPeriodSeconds(window: MetricWindow): number {
  const seconds = (Date.parse(window.end) - Date.parse(window.start)) / 1000;
  return Math.max(60, Math.ceil(seconds / 60) * 60);
}

/** GetMetricData `MetricDataQueries` member (SDK shape, declared here to keep the domain SDK-free). */
export interface MetricDataQuery {
  Id: string;
  MetricStat: {
    Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] };
    Period: number;
    Stat: string;
  };
  ReturnData: true;
}

export type QuerySource = { kind: 'policy'; figure: PolicyFigure } | { kind: 'custom'; id: string; stat: string };

export interface MetricQueryPlan {
  queries: MetricDataQuery[];
  /** Query id -> what it measures (several ids may feed one figure). */
  sources: Record<string, QuerySource>;
  startTime: string;
  endTime: string;
  periodSeconds: number;
}

export interface PolicyMetricTarget {
  gatewayArn: string;
  /** Complete dimension sets of the policy metrics; default `[{Resource: gatewayArn}]` (see the header). */
  dimensionSets?: Record<string, string>[];
}

/** The documented default dimension sets for the policy metrics of a gateway. */
export function defaultPolicyMetricDimensions(gatewayArn: string): Record<string, string>[] {
  return [{ Resource: gatewayArn }];
}

function dims(record: Record<string, string> | undefined): { Name: string; Value: string }[] {
  return Object.entries(record ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([Name, Value]) => ({ Name, Value }));
}

/**
 * GetMetricData queries for one window: a Sum per built-in policy metric and dimension set, and
 * one MetricStat per custom metric gate, each with Period = the whole window (one datapoint).
 */
export function metricQueries(
  target: PolicyMetricTarget,
  settings: Pick<RolloutSettings, 'metrics'>,
  window: MetricWindow,
): MetricQueryPlan {
  const periodSeconds = windowPeriodSeconds(window);
  const dimensionSets = target.dimensionSets ?? defaultPolicyMetricDimensions(target.gatewayArn);
  const queries: MetricDataQuery[] = [];
  const sources: Record<string, QuerySource> = {};
  POLICY_FIGURES.forEach((figure) => {
    dimensionSets.forEach((set, index) => {
      const id = `p_${figure}_${index}`;
      queries.push({
        Id: id,
        MetricStat: {
          Metric: { Namespace: POLICY_METRICS_NAMESPACE, MetricName: POLICY_METRIC_NAMES[figure], Dimensions: dims(set) },
          Period: periodSeconds,
          Stat: 'Sum',
        },
        ReturnData: true,
      });
      sources[id] = { kind: 'policy', figure };
    });
  });
  // Operator ids need not match GetMetricData's Id pattern ^[a-z][a-zA-Z0-9_]*$: use positions.
  settings.metrics.forEach((metric, index) => {
    const id = `c_${index}`;
    queries.push({
      Id: id,
      MetricStat: {
        Metric: { Namespace: metric.namespace, MetricName: metric.metricName, Dimensions: dims(metric.dimensions) },
        Period: periodSeconds,
        Stat: metric.stat,
      },
      ReturnData: true,
    });
    sources[id] = { kind: 'custom', id: metric.id, stat: metric.stat };
  });
  return { queries, sources, startTime: window.start, endTime: window.end, periodSeconds };
}

const COUNTING_STATS = new Set(['Sum', 'SampleCount']);

/**
 * Combines the datapoints of one query. Period = window gives one datapoint; should CloudWatch
 * split the window anyway, counts add up, extremes take the extreme, anything else averages.
 * No datapoint means nothing was counted (0) for Sum/SampleCount and no data (null) otherwise.
 */
export function combineDatapoints(stat: string, values: number[]): number | null {
  if (values.length === 0) return COUNTING_STATS.has(stat) ? 0 : null;
  if (COUNTING_STATS.has(stat)) return values.reduce((a, b) => a + b, 0);
  if (stat === 'Maximum') return Math.max(...values);
  if (stat === 'Minimum') return Math.min(...values);
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** GetMetricData results (every page's MetricDataResults) + alarm states -> window figures. */
export function windowFigures(
  plan: MetricQueryPlan,
  results: { Id?: string; Values?: number[] }[],
  alarms: Record<string, AlarmState>,
): WindowFigures {
  const valuesById = new Map<string, number[]>();
  for (const result of results) {
    if (!result.Id) continue;
    valuesById.set(result.Id, [...(valuesById.get(result.Id) ?? []), ...(result.Values ?? [])]);
  }
  const figures: WindowFigures = {
    allow: 0,
    deny: 0,
    mismatchErrors: 0,
    noDeterminingPolicies: 0,
    systemErrors: 0,
    metrics: {},
    alarms: { ...alarms },
  };
  for (const [id, source] of Object.entries(plan.sources)) {
    const values = valuesById.get(id) ?? [];
    if (source.kind === 'policy') {
      figures[source.figure] += combineDatapoints('Sum', values) ?? 0;
    } else {
      figures.metrics[source.id] = combineDatapoints(source.stat, values);
    }
  }
  return figures;
}
