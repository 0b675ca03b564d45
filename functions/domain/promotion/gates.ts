/**
 * Verification gates of a policy promotion.
 *
 * LOG_ONLY stage (the policy is evaluated beside the ACTIVE ones and never decides; developer guide
 * policy-test-a-policy): it must have matched requests at all (LogOnlyMatches: evidence that it
 * evaluates; a policy that cannot evaluate matches nothing and would deny everything it should
 * permit once ACTIVE), its flips (LogOnlyDecisionFlips: decisions it would change) must stay under
 * maxFlipRatio of the gateways' decisions, and it must show no evaluation failures (MismatchErrors
 * with PolicyEnforcementMode LOG_ONLY and this Policy).
 *
 * ACTIVE stage: the gateways' deny ratio (Mode ENFORCE) may not spike over the one measured during
 * the LOG_ONLY bake; no evaluation failures of the now ACTIVE policy; alarms OK.
 *
 * Every figure reads one exact projection (default below, configurable per engine). The dimension
 * sets of the LOG_ONLY metrics are not documented (agentcore-policy.md section 7): an unpublished
 * stream is NO_EVIDENCE, never a zero that passes.
 */
import type { PromotionSettings } from '../../lib/config/policies.ts';
import { compare, denySpikeThreshold, nextStep, type GateReport, type GateResult, type GateVerdict } from '../rollout/gates.ts';
import { combineDatapoints, POLICY_METRICS_NAMESPACE, sumQuery, windowPeriodSeconds, type AlarmState, type MetricDataQuery, type MetricWindow } from '../rollout/metric-queries.ts';
import { describeStream, sameDimensions, type Dimensions } from '../rollout/projections.ts';
import type { PromotionContext, PromotionVerifyInput, PromotionVerifyResult } from './contract.ts';

export const DEFAULT_PROMOTION_PROJECTIONS = Object.freeze({
  logOnly: Object.freeze({ OperationName: 'AuthorizeAction', Policy: '{policyId}' }),
  evaluationFailures: Object.freeze({ OperationName: 'AuthorizeAction', PolicyEnforcementMode: '{mode}', Policy: '{policyId}' }),
  decisions: Object.freeze({ OperationName: 'AuthorizeAction', TargetResource: '{gatewayId}', Mode: 'ENFORCE' }),
});

export interface PromotionStreams {
  logOnly: Dimensions;
  evaluationFailures: Dimensions;
  /** One set per gateway (disjoint: each gateway's decisions are its own, so they add up). */
  decisions: { gatewayId: string; dimensions: Dimensions }[];
}

function fill(template: Record<string, string>, values: Record<string, string>): Dimensions {
  return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, v.replace(/\{(\w+)\}/g, (m, n: string) => values[n] ?? m)]));
}

/** The exact streams one verification reads. */
export function promotionStreams(ctx: PromotionContext, stage: 'LOG_ONLY' | 'ACTIVE', policyId: string): PromotionStreams {
  const p = ctx.settings.projections;
  const common = { policyEngineId: ctx.policyEngineId, policyEngineArn: ctx.policyEngineArn, policyId, policyName: ctx.policyName, mode: stage };
  return {
    logOnly: fill(p.logOnly ?? DEFAULT_PROMOTION_PROJECTIONS.logOnly, common),
    evaluationFailures: fill(p.evaluationFailures ?? DEFAULT_PROMOTION_PROJECTIONS.evaluationFailures, common),
    decisions: ctx.gateways.map((g) => ({
      gatewayId: g.id,
      dimensions: fill(p.decisions ?? DEFAULT_PROMOTION_PROJECTIONS.decisions, { ...common, gatewayId: g.id, gatewayArn: g.arn }),
    })),
  };
}

/** ListMetrics requests (dimension filters): one per distinct set. */
export function promotionProbes(streams: PromotionStreams): Dimensions[] {
  const all = [streams.logOnly, streams.evaluationFailures, ...streams.decisions.map((d) => d.dimensions)];
  return all.filter((d, i) => all.findIndex((o) => sameDimensions(o, d)) === i);
}

export type Listed = { metricName: string; dimensions: Dimensions }[];

function listed(all: Listed, metricName: string, dims: Dimensions): boolean {
  return all.some((s) => s.metricName === metricName && sameDimensions(s.dimensions, dims));
}

export interface PromotionQueryPlan {
  queries: MetricDataQuery[];
  streams: PromotionStreams;
  startTime: string;
  endTime: string;
}

/** GetMetricData queries for one window (Period = the whole window). */
export function promotionQueries(streams: PromotionStreams, window: MetricWindow): PromotionQueryPlan {
  const period = windowPeriodSeconds(window);
  const queries: MetricDataQuery[] = [
    sumQuery('matches', 'LogOnlyMatches', streams.logOnly, period),
    sumQuery('flips', 'LogOnlyDecisionFlips', streams.logOnly, period),
    sumQuery('failures', 'MismatchErrors', streams.evaluationFailures, period),
  ];
  streams.decisions.forEach((d, i) => {
    queries.push(sumQuery(`allow_${i}`, 'AllowDecisions', d.dimensions, period), sumQuery(`deny_${i}`, 'DenyDecisions', d.dimensions, period));
  });
  return { queries, streams, startTime: window.start, endTime: window.end };
}

export interface PromotionFigures {
  matches: number;
  flips: number;
  evaluationFailures: number;
  allow: number;
  deny: number;
  published: { matches: boolean; flips: boolean; evaluationFailures: boolean; decisions: boolean };
  streams: { logOnly: string; evaluationFailures: string; decisions: string };
  alarms: Record<string, AlarmState>;
}

/** Window sums + which streams exist -> figures. */
export function promotionFigures(plan: PromotionQueryPlan, results: { Id?: string; Values?: number[] }[], all: Listed, alarms: Record<string, AlarmState>): PromotionFigures {
  const values = new Map<string, number[]>();
  for (const r of results) if (r.Id) values.set(r.Id, [...(values.get(r.Id) ?? []), ...(r.Values ?? [])]);
  const sum = (id: string) => combineDatapoints('Sum', values.get(id) ?? []) ?? 0;
  const has = (id: string) => (values.get(id) ?? []).length > 0;
  const s = plan.streams;
  let allow = 0;
  let deny = 0;
  let decisionsPublished = false;
  s.decisions.forEach((d, i) => {
    allow += sum(`allow_${i}`);
    deny += sum(`deny_${i}`);
    decisionsPublished ||= has(`allow_${i}`) || has(`deny_${i}`) || listed(all, 'AllowDecisions', d.dimensions) || listed(all, 'DenyDecisions', d.dimensions);
  });
  return {
    matches: sum('matches'),
    flips: sum('flips'),
    evaluationFailures: sum('failures'),
    allow,
    deny,
    published: {
      matches: has('matches') || listed(all, 'LogOnlyMatches', s.logOnly),
      flips: has('flips') || listed(all, 'LogOnlyDecisionFlips', s.logOnly),
      evaluationFailures: has('failures') || listed(all, 'MismatchErrors', s.evaluationFailures),
      decisions: decisionsPublished,
    },
    streams: {
      logOnly: describeStream('LogOnlyMatches|LogOnlyDecisionFlips', s.logOnly),
      evaluationFailures: describeStream('MismatchErrors', s.evaluationFailures),
      decisions: s.decisions.map((d) => describeStream('AllowDecisions|DenyDecisions', d.dimensions)).join(' + '),
    },
    alarms: { ...alarms },
  };
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(6)));
}

function gate(name: string, value: number | string | null, comparison: GateResult['comparison'], threshold: number | string, passed: boolean | null, stream?: string, published?: boolean): GateResult {
  return { name, value, threshold, comparison, passed, ...(stream !== undefined && { stream }), ...(published !== undefined && { published }) };
}

function reason(g: GateResult, policyName: string): string {
  switch (g.name) {
    case 'evidence:logOnly':
      return `policy ${policyName} has no LOG_ONLY match published (${g.stream}): it matched no request, so there is no evidence it evaluates at all (it may never match its traffic, or fail on a missing attribute), or the LOG_ONLY metrics are not published for this engine (its gateways must be in ENFORCE): not promoting without evidence`;
    case 'evidence:decisions':
      return `no decision stream is published for the engine's gateways (${g.stream}): check that traffic reaches them and that they ENFORCE this engine`;
    case 'matches':
      return `policy ${policyName} matched only ${g.value} requests, fewer than the ${g.threshold} required: wait for more traffic (the bake is extended while extensions remain) or lower minMatches`;
    case 'decisions':
      return `only ${g.value} decisions on the engine's gateways, fewer than the ${g.threshold} required`;
    case 'evaluationFailures':
      return `policy ${policyName} failed to evaluate on ${g.value} requests (missing attribute or type mismatch; ${g.stream}): once ACTIVE it would decide nothing on them`;
    default:
      if (g.name.startsWith('alarm:')) return g.value === null ? `${g.name} was not found` : `${g.name} is ${g.value}, not OK`;
      if (g.passed === null) return `${g.name} is not decidable without enough decisions`;
      return `${g.name} is ${fmt(g.value as number)}, above ${fmt(g.threshold as number)}`;
  }
}

function alarmGates(alarms: string[], states: Record<string, AlarmState>): GateResult[] {
  return alarms.map((a) => {
    const state = Object.hasOwn(states, a) ? states[a] : null;
    return gate(`alarm:${a}`, state, '==', 'OK', state === 'OK');
  });
}

function report(gates: GateResult[], f: PromotionFigures, policyName: string): GateReport {
  const decisions = f.allow + f.deny;
  const denyRatio = decisions === 0 ? 0 : f.deny / decisions;
  const failed = gates.filter((g) => g.passed === false);
  const undecided = gates.filter((g) => g.passed === null);
  const noEvidence = undecided.some((g) => g.name.startsWith('evidence:'));
  const verdict: GateVerdict = failed.length > 0 ? 'FAIL' : noEvidence ? 'NO_EVIDENCE' : undecided.length > 0 ? 'INCONCLUSIVE' : 'PASS';
  const explained = noEvidence ? [...failed, ...undecided.filter((g) => g.name.startsWith('evidence:') || g.name.startsWith('alarm:'))] : [...failed, ...undecided];
  return { verdict, gates, denyRatio, decisions, reasons: explained.map((g) => reason(g, policyName)) };
}

/** LOG_ONLY gates: evidence, matches, flip ratio, evaluation failures, alarms. */
export function evaluateLogOnlyGates(f: PromotionFigures, s: PromotionSettings, policyName: string): GateReport {
  const decisions = f.allow + f.deny;
  const flipRatio = decisions === 0 ? 0 : f.flips / decisions;
  const enough = f.published.decisions && decisions >= s.minDecisions;
  const gates: GateResult[] = [
    gate('evidence:logOnly', f.published.matches ? 'published' : 'not published', '==', 'published', f.published.matches ? true : null, f.streams.logOnly, f.published.matches),
    gate('evidence:decisions', f.published.decisions ? 'published' : 'not published', '==', 'published', f.published.decisions ? true : null, f.streams.decisions, f.published.decisions),
    gate('matches', f.matches, '>=', s.minMatches, f.published.matches && f.matches >= s.minMatches ? true : null, f.streams.logOnly, f.published.matches),
    gate('decisions', decisions, '>=', s.minDecisions, enough ? true : null, f.streams.decisions, f.published.decisions),
    gate('flipRatio', flipRatio, '<=', s.maxFlipRatio, enough ? compare(flipRatio, '<=', s.maxFlipRatio) : null, f.streams.logOnly, f.published.flips),
    gate('evaluationFailures', f.evaluationFailures, '<=', s.maxEvaluationFailures, compare(f.evaluationFailures, '<=', s.maxEvaluationFailures), f.streams.evaluationFailures, f.published.evaluationFailures),
    ...alarmGates(s.alarms, f.alarms),
  ];
  return report(gates, f, policyName);
}

/** ACTIVE gates: evidence, deny-ratio spike over the LOG_ONLY baseline, evaluation failures, alarms. */
export function evaluateActiveGates(f: PromotionFigures, baseline: { denyRatio: number; decisions: number }, s: PromotionSettings, policyName: string): GateReport {
  const decisions = f.allow + f.deny;
  const denyRatio = decisions === 0 ? 0 : f.deny / decisions;
  const enough = f.published.decisions && decisions >= s.minDecisions;
  const threshold = denySpikeThreshold(baseline, { maxDenySpikeRatio: s.maxDenySpikeRatio, maxDenyRatio: s.maxFlipRatio });
  const gates: GateResult[] = [
    gate('evidence:decisions', f.published.decisions ? 'published' : 'not published', '==', 'published', f.published.decisions ? true : null, f.streams.decisions, f.published.decisions),
    gate('decisions', decisions, '>=', s.minDecisions, enough ? true : null, f.streams.decisions, f.published.decisions),
    gate('denySpike', denyRatio, '<=', threshold, enough ? compare(denyRatio, '<=', threshold) : null, f.streams.decisions, f.published.decisions),
    gate('evaluationFailures', f.evaluationFailures, '<=', s.maxEvaluationFailures, compare(f.evaluationFailures, '<=', s.maxEvaluationFailures), f.streams.evaluationFailures, f.published.evaluationFailures),
    ...alarmGates(s.alarms, f.alarms),
  ];
  return report(gates, f, policyName);
}

/** Gates the figures for the input's stage and decides PROCEED / EXTEND / STOP. */
export function promotionVerifyResult(input: PromotionVerifyInput, f: PromotionFigures, window: MetricWindow): PromotionVerifyResult {
  const s = input.promotion.settings;
  const name = input.promotion.policyName;
  const r = input.stage === 'LOG_ONLY'
    ? evaluateLogOnlyGates(f, s, name)
    : evaluateActiveGates(f, input.baseline ?? { denyRatio: 0, decisions: 0 }, s, name);
  const used = input.previous?.extensionsUsed ?? 0;
  const step = nextStep(r.verdict, used, input.dryRun ? 0 : s.maxBakeExtensions);
  return { stage: input.stage, verdict: r.verdict, decision: step.decision, extensionsUsed: step.extensionsUsed, window, report: r };
}

export { POLICY_METRICS_NAMESPACE };
