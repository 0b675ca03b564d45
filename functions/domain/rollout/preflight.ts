/**
 * Rollout preflight: from the facts the preflight task gathered (GetGateway, GetPolicyEngine,
 * ListExecutions RUNNING, resolved settings), either refuse with a named error (nothing has been
 * changed yet) or produce the state document the rest of the state machine runs on.
 */
import { validateShape } from '../../lib/model/validate.ts';
import type { RolloutContext, RolloutRequest, RolloutState, StartMode } from './contract.ts';
import {
  GatewayNotReadyError,
  InvalidRolloutInputError,
  NoPermittingPolicyError,
  PolicyEngineConflictError,
  PolicyEngineNotActiveError,
  RolloutInProgressError,
} from './errors.ts';
import { conflictingRollouts } from './execution-name.ts';
import { rolloutPlan } from './settings.ts';
import { rollbackPointOf } from './restore.ts';
import type { RolloutSettings } from './settings.ts';

export interface PreflightFacts {
  request: RolloutRequest;
  executionArn: string;
  /** GetGateway output (its policyEngineConfiguration is recorded as the rollback point). */
  gateway: Record<string, unknown>;
  /** GetPolicyEngine output, or null when it does not exist. */
  policyEngine: { policyEngineArn?: string; status?: string } | null;
  /**
   * The engine's policies (ListPolicies), each with the effect Cedar parsed from its statement
   * (null when it has no Cedar statement or does not parse).
   */
  policies: PolicyFact[];
  /** RUNNING executions of the rollout state machine. */
  runningExecutions: { name: string; executionArn: string }[];
  /** Configured rollout settings for this gateway (request overrides are applied here). */
  settings: RolloutSettings;
  eventBusName: string;
}

/** One policy of the engine, as the preflight needs it. */
export interface PolicyFact {
  policyId: string;
  name: string;
  /** Resource status: CREATING, ACTIVE, UPDATE_FAILED... (not the enforcement mode). */
  status: string;
  /** ACTIVE or LOG_ONLY; absent means ACTIVE (the CreatePolicy default). */
  enforcementMode?: string;
  effect: 'permit' | 'forbid' | null;
}

/** The policies that decide once enforced and can permit: status ACTIVE, enforcement ACTIVE, effect permit. */
export function permittingPolicies(policies: PolicyFact[]): PolicyFact[] {
  return policies.filter((p) => p.status === 'ACTIVE' && (p.enforcementMode ?? 'ACTIVE') === 'ACTIVE' && p.effect === 'permit');
}

function describePolicies(policies: PolicyFact[]): string {
  if (policies.length === 0) return 'it has no policies';
  const counts = new Map<string, number>();
  for (const p of policies) {
    const key = p.status !== 'ACTIVE' ? `${p.status}` : `${p.enforcementMode ?? 'ACTIVE'} ${p.effect ?? 'non-Cedar'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return `it has ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}`;
}

/** Configured settings with the request's overrides on top (approval merged field by field). */
export function resolveSettings(configured: RolloutSettings, overrides: Partial<RolloutSettings> = {}): RolloutSettings {
  return {
    ...structuredClone(configured),
    ...structuredClone(overrides),
    approval: { ...configured.approval, ...(overrides.approval ?? {}) },
  };
}

/** The execution name is the last segment of the execution ARN. */
export function executionNameFromArn(executionArn: string): string {
  return executionArn.slice(executionArn.lastIndexOf(':') + 1);
}

function validateRequest(request: RolloutRequest): void {
  const problems: string[] = [];
  if (typeof request?.gatewayId !== 'string' || validateShape('GatewayIdentifier', request.gatewayId).length > 0) {
    problems.push('gatewayId is not a gateway id');
  }
  if (typeof request?.policyEngineArn !== 'string' || validateShape('PolicyEngineArn', request.policyEngineArn).length > 0) {
    problems.push('policyEngineArn is not a policy engine ARN');
  }
  if (request?.dryRun !== undefined && typeof request.dryRun !== 'boolean') problems.push('dryRun must be a boolean');
  if (problems.length > 0) {
    throw new InvalidRolloutInputError(`Invalid rollout request: ${problems.join('; ')}`, { details: { problems } });
  }
}

/** How the gateway currently runs the requested engine; refuses when another engine is enforced. */
export function startModeOf(gateway: Record<string, unknown>, policyEngineArn: string): StartMode {
  const config = gateway.policyEngineConfiguration as { arn?: string; mode?: string } | undefined;
  if (!config?.arn) return 'NONE';
  if (config.arn === policyEngineArn) return config.mode === 'ENFORCE' ? 'ENFORCE' : 'LOG_ONLY';
  if (config.mode === 'ENFORCE') {
    throw new PolicyEngineConflictError(
      `Gateway ${String(gateway.gatewayId)} enforces another policy engine (${config.arn}); attaching ${policyEngineArn} in LOG_ONLY would stop that enforcement during the bake`,
      { details: { attachedPolicyEngineArn: config.arn } },
    );
  }
  // Another engine in LOG_ONLY decides nothing: replacing it changes no decision.
  return 'NONE';
}

/** Checks the preconditions and returns the initial state document; throws a named error instead. */
export function preflight(facts: PreflightFacts): RolloutState {
  const { request, gateway } = facts;
  validateRequest(request);
  const settings = resolveSettings(facts.settings, request.settings);
  const plan = rolloutPlan(settings);
  const dryRun = request.dryRun === true;

  if (gateway.status !== 'READY') {
    throw new GatewayNotReadyError(`Gateway ${request.gatewayId} is ${String(gateway.status)}, not READY`, {
      details: { status: gateway.status },
    });
  }
  if (!facts.policyEngine) {
    throw new PolicyEngineNotActiveError(`Policy engine ${request.policyEngineArn} does not exist`);
  }
  if (facts.policyEngine.status !== 'ACTIVE') {
    throw new PolicyEngineNotActiveError(
      `Policy engine ${request.policyEngineArn} is ${String(facts.policyEngine.status)}, not ACTIVE`,
      { details: { status: facts.policyEngine.status } },
    );
  }
  // Cedar is default-deny: without an ACTIVE permit, ENFORCE denies every tool call.
  if (permittingPolicies(facts.policies).length === 0) {
    throw new NoPermittingPolicyError(
      `Policy engine ${request.policyEngineArn} has no ACTIVE policy that permits anything (${describePolicies(facts.policies)}): Cedar is default-deny, so ENFORCE would deny every tool call on gateway ${request.gatewayId}. Add a permit policy (and test it in LOG_ONLY) before rolling out.`,
      { details: { policies: facts.policies.length } },
    );
  }
  const startMode = startModeOf(gateway, request.policyEngineArn);
  if (!dryRun) {
    const others = conflictingRollouts(facts.runningExecutions, request.gatewayId, facts.executionArn);
    if (others.length > 0) {
      throw new RolloutInProgressError(
        `Another rollout is running for gateway ${request.gatewayId}: ${others.map((e) => e.name).join(', ')}`,
        { details: { executions: others.map((e) => e.executionArn) } },
      );
    }
  }
  const rollout: RolloutContext = {
    rolloutId: executionNameFromArn(facts.executionArn),
    executionArn: facts.executionArn,
    gatewayId: request.gatewayId,
    gatewayArn: String(gateway.gatewayArn),
    policyEngineArn: request.policyEngineArn,
    dryRun,
    startMode,
    eventBusName: facts.eventBusName,
    settings,
    plan,
    rollbackPoint: rollbackPointOf(gateway),
  };
  return { rollout, ready: null, shadow: null, approval: null, enforce: null, error: null };
}
