/**
 * Bounds of a policy promotion's settings (`policyEngines[].promotion`) that keep its Step Functions
 * execution (statemachines/policy-promotion.asl.yaml) inside the service quotas (Step Functions
 * developer guide, "Step Functions service quotas"; functions/lib/step-functions-limits.ts): its
 * history under HISTORY_BUDGET at the longest waits, its longest run under one year, and what the
 * settings put into its state (262,144 bytes per state) under PROMOTION_SETTINGS_STATE_BUDGET.
 * test/statemachines/limits-at-maximum.test.ts runs the promotion at these maxima on the stand-in.
 */
import type { PromotionSettings } from './policies.ts';
import {
  HISTORY_BUDGET, MAX_EXECUTION_MINUTES, PAYLOAD_QUOTA_BYTES, policyPromotionDurationBound, policyPromotionHistoryBound,
} from '../step-functions-limits.ts';

/**
 * Longest readiness wait: the PolicyActive waiter of the AgentCore Control model waits 2 minutes
 * (24 polls, 5 s apart), so 15 is generous; at 5 s polls, 60 would take three loops past the budget.
 */
export const MAX_PROMOTION_READY_TIMEOUT_MINUTES = 15;
export const MAX_PROMOTION_BAKE_EXTENSIONS = 100;
/** DescribeAlarms takes at most 100 alarm names. */
export const MAX_PROMOTION_ALARMS = 100;

/**
 * What the settings may put into the promotion state: 3/8 of the 256 KiB. The rest is for what they
 * do not control: the previous statement a restore writes back (at most 10,000 characters, model
 * shape Statement), up to three error causes ($.error, $.publishError, $.rollbackError; a cause is
 * at most 32,768 characters, Step Functions model shape SensitiveCause), the approval answer, and
 * the ids, hashes, plan and gate figures.
 */
export const PROMOTION_SETTINGS_STATE_BUDGET = (PAYLOAD_QUOTA_BYTES * 3) / 8;

/**
 * Longest value of each projection placeholder (AgentCore Control model shapes): gatewayId
 * GatewayIdentifier `([0-9a-z][-]?){1,100}-[0-9a-z]{10}`, gatewayArn GatewayArn
 * `arn:aws(|-cn|-us-gov):bedrock-agentcore:[a-z0-9-]{1,20}:[0-9]{12}:gateway/([0-9a-z][-]?){1,48}-[a-z0-9]{10}`,
 * policyEngineArn GatewayPolicyEngineArn (max 170), policyEngineId and policyId ResourceId (max
 * 59), policyName PolicyName (max 48), mode `LOG_ONLY`.
 */
const PLACEHOLDER_MAX: Readonly<Record<string, number>> = Object.freeze({
  gatewayId: 211, gatewayArn: 182, policyEngineArn: 170, policyEngineId: 59, policyId: 59, policyName: 48, mode: 8,
});
/**
 * The default projections (DEFAULT_PROMOTION_PROJECTIONS of functions/domain/promotion/gates.ts)
 * as described streams at their longest, bytes; the limits test checks that they fit.
 */
export const DEFAULT_PROMOTION_STREAM_BYTES = 400;
/** One gateway in the state's `promotion.gateways`: `{"id":…,"arn":…}` with the longest ARN. */
const GATEWAY_ENTRY_BYTES = 20 + PLACEHOLDER_MAX.gatewayArn;
/** An alarm gate besides its name (`{"name":"alarm:…","value":"INSUFFICIENT_DATA",…}`), and its reason's words. */
const ALARM_GATE_BYTES = 100;
const ALARM_REASON_BYTES = 40;

/** Bytes of `s` inside a JSON string (without the quotes). */
function inner(s: string): number {
  return Buffer.byteLength(JSON.stringify(s), 'utf8') - 2;
}

/** The longest description (`Metric{k=v,...}`) of a stream read through `template`, in JSON bytes. */
function streamBytes(metric: string, template: Record<string, string> | undefined, values: Record<string, number> = {}): number {
  if (!template) return DEFAULT_PROMOTION_STREAM_BYTES;
  let bytes = metric.length + 2;
  for (const [k, v] of Object.entries(template)) {
    bytes += inner(k) + 2 + inner(v);
    for (const m of v.matchAll(/\{(\w+)\}/g)) bytes += (values[m[1]] ?? PLACEHOLDER_MAX[m[1]] ?? 0) - m[0].length;
  }
  return bytes;
}

/**
 * Upper bound of the bytes the settings put into the promotion state: the settings themselves, the
 * resolved gateways, and what the two verification reports repeat (functions/domain/promotion/
 * gates.ts): the LOG_ONLY report names the policy's LOG_ONLY stream 4 times, the decision streams
 * 3 and the evaluation-failure stream 2; the ACTIVE report the decision streams 4 and the
 * evaluation failures 2 (gates and reasons); each report has a gate and a reason per alarm.
 */
export function promotionStateBytesBound(s: PromotionSettings): number {
  const p = s.projections ?? {};
  const logOnly = streamBytes('LogOnlyMatches|LogOnlyDecisionFlips', p.logOnly);
  const failures = streamBytes('MismatchErrors', p.evaluationFailures);
  // One description per gateway, joined by ' + '.
  const decisions = s.gateways.reduce((sum, id) => sum + 3 + streamBytes('AllowDecisions|DenyDecisions', p.decisions, { gatewayId: inner(id) }), 0);
  const alarms = s.alarms.reduce((sum, a) => sum + 2 * inner(`alarm:${a}`) + ALARM_GATE_BYTES + ALARM_REASON_BYTES, 0);
  return Buffer.byteLength(JSON.stringify(s), 'utf8')
    + s.gateways.reduce((sum, id) => sum + inner(id) + GATEWAY_ENTRY_BYTES, 0)
    + 4 * logOnly + 7 * decisions + 4 * failures
    + 2 * alarms;
}

/**
 * What the promotion settings as a whole may not exceed in time and history, as `[key, message]`
 * (the state size depends on the resolved gateways: promotionStateProblem).
 */
export function promotionLimitProblems(s: PromotionSettings): [string, string][] {
  const problems: [string, string][] = [];
  const minutes = policyPromotionDurationBound(s);
  if (minutes > MAX_EXECUTION_MINUTES) {
    problems.push(['bakeMinutes', `with activeBakeMinutes, maxBakeExtensions, the approval timeout, readyTimeoutMinutes and every task retried, a promotion could run ${minutes} minutes, more than a Step Functions execution may (${MAX_EXECUTION_MINUTES}, one year)`]);
  }
  const events = policyPromotionHistoryBound(s.readyTimeoutMinutes, s.maxBakeExtensions);
  if (events > HISTORY_BUDGET) {
    problems.push(['readyTimeoutMinutes', `with maxBakeExtensions, the promotion's execution history could reach ${events} events, more than half the 25,000-event quota`]);
  }
  return problems;
}

/** The state-size problem of settings with their gateways resolved, or undefined. */
export function promotionStateProblem(s: PromotionSettings): string | undefined {
  const bytes = promotionStateBytesBound(s);
  if (bytes <= PROMOTION_SETTINGS_STATE_BUDGET) return undefined;
  return `the alarms (${s.alarms.length}), gateways (${s.gateways.length}) and projections could put ${bytes} bytes into the promotion's Step Functions state, more than ${PROMOTION_SETTINGS_STATE_BUDGET} (a state holds at most 262,144 bytes): use fewer or shorter alarm names, fewer gateways (promotion.gateways) or shorter projections`;
}
