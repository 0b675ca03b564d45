/**
 * What a request may ask for: only resources the config declares, and settings that only tighten
 * the declared ones. Pure: the config and the request in, the refusal (or nothing) out. A refused
 * request makes no AgentCore call.
 *
 * - A runtime is named the way the config declares it (by id, or by name): resolving one form to
 *   the other would take an AgentCore call before knowing whether the request may make any.
 * - A gateway is named by the id the config declares; a policy engine, when named, is the one the
 *   config declares for that gateway (a gateway without a declared engine takes no rollout request).
 * - Rollout settings may only make a rollout halt or abort sooner or more often: longer bakes,
 *   more decisions, lower limits, fewer bake extensions, a shorter wait for READY, the declared
 *   alarms and metric gates kept (gates may only move their threshold to the stricter side; new
 *   alarms and gates may be added), approval kept on (and its window no longer than declared).
 */
import type { Config, MetricGate, RolloutSettings } from '../../lib/config/types.ts';
import { DEFAULT_ROLLOUT_SETTINGS } from '../../lib/config/defaults.ts';

export type RefusalReason = 'invalid-request' | 'undeclared-runtime' | 'undeclared-gateway' | 'undeclared-policy-engine' | 'loosening' | 'not-an-approver' | 'undeclared-policy';

export interface Refusal {
  reason: RefusalReason;
  /** What is wrong, naming fields and ids only (never a value of the request's settings or variables). */
  problems: string[];
}

/** A change request's runtime selector. */
export type RuntimeSelector = { id: string } | { name: string };

/** Refusal for a runtime the config does not declare (as the request names it). */
export function undeclaredRuntime(config: Config, runtime: RuntimeSelector): Refusal | undefined {
  const declared = 'id' in runtime
    ? config.runtimes.some((r) => r.id === runtime.id)
    : config.runtimes.some((r) => r.name === runtime.name);
  if (declared) return undefined;
  const how = 'id' in runtime ? `id ${runtime.id}` : `name ${runtime.name}`;
  return { reason: 'undeclared-runtime', problems: [`runtime ${how} is not declared in the config (requests name a runtime the way the config declares it)`] };
}

type NumberKey = 'bakeMinutes' | 'enforceBakeMinutes' | 'minDecisions' | 'maxDenyRatio' | 'maxMismatchErrors' | 'maxNoDeterminingPolicies'
  | 'maxDenySpikeRatio' | 'maxSystemErrors' | 'maxBakeExtensions' | 'readyTimeoutMinutes';
/** Direction in which each number tightens a rollout. */
const TIGHTER: Record<NumberKey, 'higher' | 'lower'> = {
  bakeMinutes: 'higher',
  enforceBakeMinutes: 'higher',
  minDecisions: 'higher',
  maxDenyRatio: 'lower',
  maxMismatchErrors: 'lower',
  maxNoDeterminingPolicies: 'lower',
  maxDenySpikeRatio: 'lower',
  maxSystemErrors: 'lower',
  maxBakeExtensions: 'lower',
  readyTimeoutMinutes: 'lower',
};

const sameMetric = (a: MetricGate, b: MetricGate) =>
  a.namespace === b.namespace && a.metricName === b.metricName && a.stat === b.stat && a.comparison === b.comparison
  && a.periodSeconds === b.periodSeconds && JSON.stringify(Object.entries(a.dimensions).sort()) === JSON.stringify(Object.entries(b.dimensions).sort());

/** The ways `requested` (the declared settings with the request's overrides applied) loosens `declared`. */
export function looseningOf(declared: RolloutSettings, requested: RolloutSettings): string[] {
  const problems: string[] = [];
  for (const [key, way] of Object.entries(TIGHTER) as [NumberKey, 'higher' | 'lower'][]) {
    const [d, r] = [declared[key], requested[key]];
    if (way === 'higher' ? r < d : r > d) problems.push(`settings.${key} may only be ${way === 'higher' ? 'raised' : 'lowered'} from the declared ${d}`);
  }
  for (const alarm of declared.alarms) {
    if (!requested.alarms.includes(alarm)) problems.push(`settings.alarms drops the declared alarm ${alarm}`);
  }
  for (const gate of declared.metrics) {
    const kept = requested.metrics.find((m) => m.id === gate.id);
    if (!kept || !sameMetric(gate, kept)) {
      problems.push(`settings.metrics drops or changes the declared gate ${gate.id}`);
      continue;
    }
    // The gate passes when `value <comparison> threshold`: "<" gates tighten downwards, ">" gates upwards.
    const lowerIsStricter = gate.comparison.startsWith('Less');
    if (lowerIsStricter ? kept.threshold > gate.threshold : kept.threshold < gate.threshold) {
      problems.push(`settings.metrics.${gate.id}.threshold may only move to the stricter side of the declared ${gate.threshold}`);
    }
  }
  if (declared.approval.required && !requested.approval.required) problems.push('settings.approval.required cannot turn off the declared approval');
  if (declared.approval.required && requested.approval.timeoutMinutes > declared.approval.timeoutMinutes) {
    problems.push(`settings.approval.timeoutMinutes may only be shortened from the declared ${declared.approval.timeoutMinutes}`);
  }
  return problems;
}

/** A rollout request's target, checked against the config. */
export function undeclaredRolloutTarget(config: Config, gatewayId: string, policyEngineArn: string | undefined): Refusal | undefined {
  const gateway = config.gateways.find((g) => g.id === gatewayId);
  if (!gateway) return { reason: 'undeclared-gateway', problems: [`gateway ${gatewayId} is not declared in the config (by id)`] };
  const engine = gateway.policyEngine?.arn;
  if (!engine) return { reason: 'undeclared-policy-engine', problems: [`gateway ${gatewayId} declares no policy engine`] };
  if (policyEngineArn !== undefined && policyEngineArn !== engine) {
    return { reason: 'undeclared-policy-engine', problems: [`policy engine ${policyEngineArn} is not the one declared for gateway ${gatewayId}`] };
  }
  return undefined;
}

/** The declared rollout settings of a gateway (the defaults when it declares none). */
export function declaredRolloutSettings(config: Config, gatewayId: string): RolloutSettings {
  return config.gateways.find((g) => g.id === gatewayId)?.policyEngine?.rollout ?? DEFAULT_ROLLOUT_SETTINGS;
}
