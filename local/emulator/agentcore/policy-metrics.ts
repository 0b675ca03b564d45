/**
 * The policy decision metrics of one minute of gateway traffic, under every dimension set
 * ("projection") AWS publishes them, in namespace `AWS/Bedrock-AgentCore`.
 *
 * Sources: metric names and meanings from the developer guide page observability-policy-metrics;
 * dimension names `OperationName` (AuthorizeAction | PartiallyAuthorizeActions), `PolicyEngine`,
 * `Policy` (the policy id), `TargetResource` (the gateway id), `ToolName`, `Mode` (the gateway's
 * engine mode) from the same page and policy-test-a-policy. AWS does not document which dimension
 * combinations it publishes; the sets below are the ones independent projects listed from live
 * accounts (agentcore-policy.md section 5: "3P-A" for the decision metrics, "3P-B" for the
 * mismatch family). The same decision is counted under every set at once, so a reader must pick
 * exactly one set and never add sets together.
 *
 * Where even that is unknown, the strict choice (marked "undocumented"):
 * - DeterminingPolicies and NoDeterminingPolicies use the gateway-level decision sets.
 * - `PolicyEngine` carries the engine id (id or ARN is unconfirmed; the product never relies on it).
 * - LogOnlyMatches / LogOnlyDecisionFlips (per policy, plus an engine roll-up) are published only
 *   while the gateway ENFORCEs; whether AWS publishes them in LOG_ONLY is unconfirmed.
 * - A LOG_ONLY policy whose evaluation fails is counted in MismatchErrors with
 *   PolicyEnforcementMode LOG_ONLY under the two sets with Policy (the dimension exists, and the
 *   LOG_ONLY mismatches are a span attribute, observability-policy-metrics); it never matches nor
 *   flips. (A live account saw an unevaluable *guardrail* LOG_ONLY policy publish nothing at all:
 *   the promotion gates therefore also require matches, which such a policy never has.)
 * - LogOnlyEvalIncomplete is never published (no dimension set was ever observed).
 * - Datapoints are only written for counts above zero: a stream exists once something happened.
 */

export const POLICY_NAMESPACE = 'AWS/Bedrock-AgentCore';

export interface MetricPoint {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  /** Minute start, epoch ms. */
  t: number;
  value: number;
}

/** One authorization request and what Cedar decided. */
export interface DecidedRequest {
  operation: 'AuthorizeAction' | 'PartiallyAuthorizeActions';
  /** `<Target>___<tool>`. */
  tool: string;
  decision: 'allow' | 'deny';
  /** ACTIVE policies that determined the decision. */
  determining: string[];
  /** ACTIVE policies whose evaluation failed. */
  errored: string[];
  /** Every LOG_ONLY policy, evaluated beside the ACTIVE set. */
  logOnly: { id: string; matched: boolean; flipped: boolean; errored: boolean }[];
}

export interface MinuteOfTraffic {
  requests: DecidedRequest[];
  /** How many times each request happened in the minute. */
  count: number;
  gatewayId: string;
  policyEngineId: string;
  mode: string;
  minute: number;
}

type Dims = Record<string, string>;

/** Every published datapoint of the minute, summed per (metric, dimension set). */
export function policyMetricPoints(m: MinuteOfTraffic): MetricPoint[] {
  const sums = new Map<string, MetricPoint>();
  const add = (metricName: string, dimensions: Dims, value: number): void => {
    if (value <= 0) return;
    const key = JSON.stringify([metricName, Object.entries(dimensions).sort()]);
    const point = sums.get(key);
    if (point) point.value += value;
    else sums.set(key, { namespace: POLICY_NAMESPACE, metricName, dimensions, t: m.minute, value });
  };
  const n = m.count;
  const PE = m.policyEngineId;
  const TR = m.gatewayId;
  const Mode = m.mode;

  for (const r of m.requests) {
    const decisionMetric = r.decision === 'allow' ? 'AllowDecisions' : 'DenyDecisions';
    const OperationName = r.operation;
    const ToolName = r.tool;
    if (r.operation === 'PartiallyAuthorizeActions') {
      // 3P-A: tool-list filtering appeared only with ToolName (one count per request x tool).
      for (const d of [{ TargetResource: TR, ToolName, OperationName, Mode }, { TargetResource: TR, ToolName, OperationName, Mode, PolicyEngine: PE }] as Dims[]) {
        add(decisionMetric, d, n);
      }
      continue;
    }
    // 3P-A's decision sets (the list is partial on live accounts; these are the ones observed).
    const gatewayLevel: Dims[] = [
      { OperationName },
      { OperationName, PolicyEngine: PE },
      { OperationName, Mode, PolicyEngine: PE },
      { TargetResource: TR, OperationName },
      { TargetResource: TR, OperationName, Mode },
      { TargetResource: TR, OperationName, Mode, PolicyEngine: PE },
      { TargetResource: TR, ToolName, OperationName, Mode },
      { TargetResource: TR, ToolName, OperationName, Mode, PolicyEngine: PE },
    ];
    for (const d of gatewayLevel) add(decisionMetric, d, n);
    // `Policy` appears only when some policy determined the decision (3P-A).
    for (const Policy of r.determining) {
      add(decisionMetric, { Policy, TargetResource: TR, OperationName, Mode }, n);
      add(decisionMetric, { Policy, TargetResource: TR, OperationName, Mode, PolicyEngine: PE }, n);
    }
    // Undocumented sets: the gateway-level ones.
    for (const d of gatewayLevel) {
      add('DeterminingPolicies', d, n * r.determining.length);
      if (r.decision === 'deny' && r.determining.length === 0) add('NoDeterminingPolicies', d, n);
    }
    // Mismatch family (3P-B): MismatchErrors under {OperationName, PolicyEnforcementMode}
    // +-PolicyEngine +-TargetResource, plus two sets with Policy; TotalMismatchedPolicies under
    // four sets, PolicyMismatch under two. Only ACTIVE policies' failures are counted (see header).
    if (r.errored.length > 0) {
      const PolicyEnforcementMode = 'ACTIVE';
      for (const d of [
        { OperationName, PolicyEnforcementMode },
        { OperationName, PolicyEnforcementMode, PolicyEngine: PE },
        { OperationName, PolicyEnforcementMode, TargetResource: TR },
        { OperationName, PolicyEnforcementMode, PolicyEngine: PE, TargetResource: TR },
      ] as Dims[]) add('MismatchErrors', d, n);
      for (const d of [{ OperationName }, { OperationName, PolicyEngine: PE }, { OperationName, TargetResource: TR }, { OperationName, PolicyEngine: PE, TargetResource: TR }] as Dims[]) {
        add('TotalMismatchedPolicies', d, n * r.errored.length);
      }
      for (const Policy of r.errored) {
        add('MismatchErrors', { OperationName, PolicyEnforcementMode, Policy }, n);
        add('MismatchErrors', { OperationName, PolicyEnforcementMode, Policy, PolicyEngine: PE }, n);
        add('PolicyMismatch', { OperationName, Policy }, n);
        add('PolicyMismatch', { OperationName, Policy, PolicyEngine: PE }, n);
      }
    }
    // LOG_ONLY policies (undocumented dimension sets: per policy, with and without the engine, and
    // the engine roll-up).
    if (Mode === 'ENFORCE') {
      for (const p of r.logOnly) {
        for (const [metric, hit] of [['LogOnlyMatches', p.matched], ['LogOnlyDecisionFlips', p.flipped]] as const) {
          if (!hit) continue;
          add(metric, { OperationName, Policy: p.id }, n);
          add(metric, { OperationName, PolicyEngine: PE, Policy: p.id }, n);
          add(metric, { OperationName, PolicyEngine: PE }, n);
        }
        if (p.errored) {
          add('MismatchErrors', { OperationName, PolicyEnforcementMode: 'LOG_ONLY', Policy: p.id }, n);
          add('MismatchErrors', { OperationName, PolicyEnforcementMode: 'LOG_ONLY', Policy: p.id, PolicyEngine: PE }, n);
        }
      }
    }
  }
  return [...sums.values()];
}
