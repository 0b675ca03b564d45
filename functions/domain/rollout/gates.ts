/**
 * Verification gates of a policy rollout: the verdicts over one window's figures
 * (evaluateShadowGates, evaluateEnforceGates) and what the state machine does next (nextStep).
 * The figures come from metric-queries.ts: each gate reads exactly one published stream
 * (projections.ts), which every gate result names.
 *
 * Verdicts: FAIL (a gate failed), NO_EVIDENCE (the decision stream of this gateway and mode is not
 * published at all: a zero there proves nothing), INCONCLUSIVE (published, too few decisions or a
 * custom metric without data), PASS. Only PASS proceeds; NO_EVIDENCE and INCONCLUSIVE extend the
 * bake while extensions remain, then stop (halt in LOG_ONLY, or roll back from ENFORCE).
 */
import type { GateComparison, RolloutMetricGate, RolloutSettings } from './settings.ts';
import type { AlarmState, PolicyFigure, ToolListFigures, WindowFigures } from './metric-queries.ts';

export type { AlarmState, WindowFigures } from './metric-queries.ts';
export { verifyWindow, type MetricWindow } from './metric-queries.ts';

export type GateVerdict = 'PASS' | 'FAIL' | 'INCONCLUSIVE' | 'NO_EVIDENCE';

export interface GateResult {
  name: string;
  value: number | string | null;
  threshold: number | string;
  comparison: GateComparison | '==';
  /** null: not decidable (no evidence, too few decisions, no data); the verdict is then at best NO_EVIDENCE/INCONCLUSIVE. */
  passed: boolean | null;
  /** The one stream the value was read from (`Metric{Dim=value,...}`), for the built-in policy gates. */
  stream?: string;
  /** Whether that stream is published at all; false reads as "not published", never as a measured zero. */
  published?: boolean;
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
  /** tools/list filtering (per tool listing), reported beside the per-call gates, never gated. */
  toolList?: ToolListFigures | null;
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

/** Where a stage reads its figures, for the sentences that explain a verdict. */
export interface GateContext {
  gatewayId: string;
  /** The engine mode the stage reads (LOG_ONLY for the shadow stage, ENFORCE after). */
  mode: 'LOG_ONLY' | 'ENFORCE';
}

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

/** The stream facts of a figure (absent when the figures carry none). */
function streamOf(figures: WindowFigures, figure: PolicyFigure): Pick<GateResult, 'stream' | 'published'> {
  const s = figures.streams?.[figure];
  return s ? { stream: s.stream, published: s.published } : {};
}

function numericGate(name: string, value: number, comparison: GateComparison, threshold: number, stream: Pick<GateResult, 'stream' | 'published'> = {}): GateResult {
  return { name, value, threshold, comparison, passed: compare(value, comparison, threshold), ...stream };
}

/** Whether the decision stream of this gateway and mode is published (Allow or Deny); unknown is no. */
function hasEvidence(figures: WindowFigures): boolean {
  return figures.streams?.allow?.published === true || figures.streams?.deny?.published === true;
}

function evidenceGate(figures: WindowFigures): GateResult {
  const published = hasEvidence(figures);
  const stream = figures.streams?.deny?.stream ?? figures.streams?.allow?.stream;
  return {
    name: 'evidence',
    value: published ? 'published' : 'not published',
    threshold: 'published',
    comparison: '==',
    passed: published ? true : null,
    ...(stream ? { stream: stream.replace(/^DenyDecisions/, 'AllowDecisions|DenyDecisions'), published } : {}),
  };
}

function sampleGate(decisions: number, minDecisions: number, stream: Pick<GateResult, 'stream' | 'published'>): GateResult {
  return {
    name: 'decisions',
    value: decisions,
    threshold: minDecisions,
    comparison: '>=',
    passed: decisions >= minDecisions ? true : null,
    ...stream,
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

function reasonFor(gate: GateResult, ctx: GateContext | undefined): string {
  if (gate.name === 'evidence') {
    const where = ctx ? `gateway ${ctx.gatewayId} in mode ${ctx.mode}` : 'this gateway and mode';
    return `no policy decision stream is published for ${where}${gate.stream ? ` (${gate.stream})` : ''}: check that traffic reaches the gateway, that the policy engine is attached, and that this projection is the one your account publishes (aws cloudwatch list-metrics --namespace AWS/Bedrock-AgentCore --metric-name DenyDecisions)`;
  }
  if (gate.name === 'decisions') {
    return `only ${gate.value} decisions in the window, fewer than the ${gate.threshold} required: wait for more traffic (the bake is extended while extensions remain) or lower minDecisions`;
  }
  if (gate.name.startsWith('alarm:')) {
    return gate.value === null
      ? `${gate.name} was not found`
      : `${gate.name} is ${gate.value}, not OK`;
  }
  if (gate.passed === null) {
    return gate.value === null ? `${gate.name} has no data in the window` : `${gate.name} is not decidable without enough decisions`;
  }
  return `${gate.name} is ${fmt(gate.value as number)}, ${negate(gate.comparison as GateComparison)} ${fmt(gate.threshold as number)}`;
}

function report(gates: GateResult[], figures: WindowFigures, ctx: GateContext | undefined): GateReport {
  const decisions = figures.allow + figures.deny;
  const denyRatio = decisions === 0 ? 0 : figures.deny / decisions;
  const failed = gates.filter((g) => g.passed === false);
  const undecided = gates.filter((g) => g.passed === null);
  const noEvidence = gates.some((g) => g.name === 'evidence' && g.passed === null);
  const verdict: GateVerdict = failed.length > 0 ? 'FAIL' : noEvidence ? 'NO_EVIDENCE' : undecided.length > 0 ? 'INCONCLUSIVE' : 'PASS';
  // With no evidence, the sample and ratio gates only repeat it: explain the verdict once.
  const explained = noEvidence ? [...failed, ...undecided.filter((g) => !['decisions', 'denyRatio', 'denySpike'].includes(g.name))] : [...failed, ...undecided];
  return {
    verdict,
    gates,
    denyRatio,
    decisions,
    reasons: explained.map((g) => reasonFor(g, ctx)),
    ...(figures.toolList !== undefined ? { toolList: figures.toolList } : {}),
  };
}

/**
 * LOG_ONLY gates. Absolute counts (mismatch errors, no-determining-policy denials, alarms, custom
 * metrics) fail at any sample size; the deny ratio is only judged on at least minDecisions
 * decisions, and only once the decision stream is known to be published.
 */
export function evaluateShadowGates(figures: WindowFigures, settings: ShadowSettings, ctx?: GateContext): GateReport {
  const decisions = figures.allow + figures.deny;
  const denyRatio = decisions === 0 ? 0 : figures.deny / decisions;
  const evidence = evidenceGate(figures);
  const enough = evidence.passed === true && decisions >= settings.minDecisions;
  const decisionStream = streamOf(figures, 'deny');
  const ratioGate = numericGate('denyRatio', denyRatio, '<=', settings.maxDenyRatio, decisionStream);
  const gates: GateResult[] = [
    evidence,
    sampleGate(decisions, settings.minDecisions, decisionStream),
    enough ? ratioGate : { ...ratioGate, passed: null },
    numericGate('mismatchErrors', figures.mismatchErrors, '<=', settings.maxMismatchErrors, streamOf(figures, 'mismatchErrors')),
    numericGate('noDeterminingPolicies', figures.noDeterminingPolicies, '<=', settings.maxNoDeterminingPolicies, streamOf(figures, 'noDeterminingPolicies')),
    ...metricGates(settings.metrics, figures.metrics),
    ...alarmGates(settings.alarms, figures.alarms),
  ];
  return report(gates, figures, ctx);
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

/** ENFORCE gates: evidence, alarms, system errors, custom metrics, and the deny-ratio spike over the shadow baseline. */
export function evaluateEnforceGates(figures: WindowFigures, baseline: GateBaseline, settings: EnforceSettings, ctx?: GateContext): GateReport {
  const decisions = figures.allow + figures.deny;
  const denyRatio = decisions === 0 ? 0 : figures.deny / decisions;
  const evidence = evidenceGate(figures);
  const enough = evidence.passed === true && decisions >= settings.minDecisions;
  const decisionStream = streamOf(figures, 'deny');
  const spikeGate = numericGate('denySpike', denyRatio, '<=', denySpikeThreshold(baseline, settings), decisionStream);
  const gates: GateResult[] = [
    evidence,
    sampleGate(decisions, settings.minDecisions, decisionStream),
    enough ? spikeGate : { ...spikeGate, passed: null },
    numericGate('systemErrors', figures.systemErrors, '<=', settings.maxSystemErrors, streamOf(figures, 'systemErrors')),
    ...metricGates(settings.metrics, figures.metrics),
    ...alarmGates(settings.alarms, figures.alarms),
  ];
  return report(gates, figures, ctx);
}

/** What the state machine does after a verification. */
export type NextStep = 'PROCEED' | 'EXTEND' | 'STOP';

/**
 * PASS proceeds; INCONCLUSIVE and NO_EVIDENCE extend the bake while extensions remain (traffic may
 * start, a new stream may still be on its way to ListMetrics); everything else stops (shadow: halt
 * in LOG_ONLY; enforce: roll back). Returns the extensions used after this step.
 */
export function nextStep(verdict: GateVerdict, extensionsUsed: number, maxBakeExtensions: number): { decision: NextStep; extensionsUsed: number } {
  if (verdict === 'PASS') return { decision: 'PROCEED', extensionsUsed };
  if ((verdict === 'INCONCLUSIVE' || verdict === 'NO_EVIDENCE') && extensionsUsed < maxBakeExtensions) {
    return { decision: 'EXTEND', extensionsUsed: extensionsUsed + 1 };
  }
  return { decision: 'STOP', extensionsUsed };
}
