/**
 * Which published stream ("projection": one exact dimension set) each policy gate reads.
 *
 * AWS publishes the policy decision metrics of namespace `AWS/Bedrock-AgentCore` (developer guide,
 * observability-policy-metrics) with the dimensions OperationName (AuthorizeAction |
 * PartiallyAuthorizeActions), PolicyEngine, Policy, TargetResource (the gateway id), ToolName and
 * Mode (the gateway's engine mode), and the same decisions under several overlapping dimension
 * sets at once. CloudWatch matches a MetricStat's dimension set exactly, so each gate reads ONE set
 * and never adds sets together (that would count a decision several times).
 *
 * Defaults (each is configurable per gateway, `policyEngine.rollout.projections`, for accounts that
 * publish differently; confirm with `aws cloudwatch list-metrics --namespace AWS/Bedrock-AgentCore`):
 * - decisions (AllowDecisions, DenyDecisions, NoDeterminingPolicies, SystemErrors):
 *   {OperationName: AuthorizeAction, TargetResource: <gateway id>, Mode: <stage mode>}: per call,
 *   one gateway, the mode of the stage (shadow reads LOG_ONLY, enforce reads ENFORCE). Observed on
 *   live accounts for DenyDecisions; it needs no PolicyEngine value (whether that dimension holds
 *   the engine id or ARN is unconfirmed).
 * - mismatch (MismatchErrors): {OperationName: AuthorizeAction, PolicyEnforcementMode: ACTIVE,
 *   TargetResource: <gateway id>}: the only mismatch sets seen on a live account carry
 *   PolicyEnforcementMode and no Mode; ACTIVE policies are the ones that decide.
 * - toolList (PartiallyAuthorizeActions, tools/list filtering): {OperationName:
 *   PartiallyAuthorizeActions, TargetResource, Mode} plus each ToolName: it is only published per
 *   tool, counts tool listings (requests x tools), and is reported apart from the per-call gates.
 *
 * Placeholders in a template: {gatewayId}, {gatewayArn}, {policyEngineId}, {policyEngineArn}, {mode}.
 */

export type Dimensions = Record<string, string>;

export interface PolicyProjections {
  decisions: Dimensions;
  mismatch: Dimensions;
  toolList: Dimensions;
}

export const DEFAULT_PROJECTIONS: Readonly<PolicyProjections> = Object.freeze({
  decisions: Object.freeze({ OperationName: 'AuthorizeAction', TargetResource: '{gatewayId}', Mode: '{mode}' }),
  mismatch: Object.freeze({ OperationName: 'AuthorizeAction', PolicyEnforcementMode: 'ACTIVE', TargetResource: '{gatewayId}' }),
  toolList: Object.freeze({ OperationName: 'PartiallyAuthorizeActions', TargetResource: '{gatewayId}', Mode: '{mode}' }),
});

export const PROJECTION_PLACEHOLDERS = ['gatewayId', 'gatewayArn', 'policyEngineId', 'policyEngineArn', 'mode'] as const;

export interface ProjectionContext {
  gatewayId: string;
  gatewayArn: string;
  policyEngineArn: string;
  /** The gateway engine mode the stage reads (LOG_ONLY for the shadow stage, ENFORCE after). */
  mode: 'LOG_ONLY' | 'ENFORCE';
}

/** The last segment of an ARN (the resource id). */
export function resourceIdOf(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/** A template with its placeholders filled in (unknown placeholders are left as they are). */
export function resolveProjection(template: Dimensions, ctx: ProjectionContext): Dimensions {
  const values: Record<string, string> = {
    gatewayId: ctx.gatewayId,
    gatewayArn: ctx.gatewayArn,
    policyEngineId: resourceIdOf(ctx.policyEngineArn),
    policyEngineArn: ctx.policyEngineArn,
    mode: ctx.mode,
  };
  return Object.fromEntries(
    Object.entries(template).map(([k, v]) => [k, v.replace(/\{(\w+)\}/g, (m, name: string) => values[name] ?? m)]),
  );
}

/** The projections of `configured` over the defaults, resolved for a stage. */
export function projectionsFor(configured: Partial<PolicyProjections> | undefined, ctx: ProjectionContext): PolicyProjections {
  return {
    decisions: resolveProjection(configured?.decisions ?? DEFAULT_PROJECTIONS.decisions, ctx),
    mismatch: resolveProjection(configured?.mismatch ?? DEFAULT_PROJECTIONS.mismatch, ctx),
    toolList: resolveProjection(configured?.toolList ?? DEFAULT_PROJECTIONS.toolList, ctx),
  };
}

/** `Metric{A=1,B=2}` with the dimensions in name order: how every gate figure names its stream. */
export function describeStream(metricName: string, dimensions: Dimensions): string {
  const dims = Object.keys(dimensions).sort().map((k) => `${k}=${dimensions[k]}`).join(',');
  return `${metricName}{${dims}}`;
}

/** True when `candidate` is exactly the dimension set `wanted` (names and values). */
export function sameDimensions(candidate: Dimensions, wanted: Dimensions): boolean {
  const a = Object.keys(candidate);
  return a.length === Object.keys(wanted).length && a.every((k) => Object.hasOwn(wanted, k) && wanted[k] === candidate[k]);
}
