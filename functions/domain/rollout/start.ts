/**
 * Starting a staged policy rollout: shared by the `startRollout` Lambda (CLI, EventBridge
 * `Policy Rollout Requested`), the drift job (declared ENFORCE, live LOG_ONLY) and the CLI.
 *
 * - The policy engine is the request's, else the one the config declares for the gateway, else the
 *   one attached to the live gateway.
 * - The execution name derives from gateway + engine + target (+ attempt): the same request twice
 *   names the same execution. A RUNNING one is returned (nothing new starts); a closed one is
 *   reported as ALREADY_RAN (pass another `attempt` to run again).
 * - Another rollout RUNNING for the same gateway refuses the start (RolloutInProgressError); the
 *   preflight checks again inside the execution, which closes the race between two starts.
 * - Bad input is an InvalidRolloutInputError before any AWS write.
 *
 * No SDK, no env, no clock here: the adapters, config and time arrive in `deps`.
 */
import type { Config } from '../../lib/config/types.ts';
import { ConfigError } from '../../lib/config/config-error.ts';
import { DEFAULT_ROLLOUT_SETTINGS, parseRolloutOverrides } from '../../lib/config/rollout.ts';
import { ATTEMPT, ATTEMPT_PROBLEM, dryRunAttempt, executionArnOf, startOnce, type StartStatus } from '../execution-start.ts';
import { validateShape } from '../../lib/model/validate.ts';
import type { RolloutRequest } from './contract.ts';
import { InvalidRolloutInputError, RolloutInProgressError } from './errors.ts';
import { conflictingRollouts, rolloutExecutionName } from './execution-name.ts';

/** What starting needs from Step Functions (SfnAdapter satisfies it). */
export interface StartSfn {
  startExecution(request: { stateMachineArn: string; name?: string; input: unknown }): Promise<{ executionArn?: string; startDate?: Date }>;
  listExecutions(stateMachineArn: string, status?: 'RUNNING'): Promise<{ name?: string; executionArn?: string; status?: string }[]>;
  describeExecution(executionArn: string): Promise<{ status?: string; input?: string; name?: string }>;
}

/** What resolving the attached engine needs (AgentCoreAdapter satisfies it). */
export interface StartAgentCore {
  getGateway(gatewayIdentifier: string): Promise<{ policyEngineConfiguration?: { arn?: string; mode?: string } }>;
}

export interface StartRolloutDeps {
  sfn: StartSfn;
  /** Only used when neither the request nor the config names the engine. */
  agentCore?: StartAgentCore;
  stateMachineArn: string;
  /** The desired-state config (engine and settings per gateway); optional. */
  config?: Config;
  /** For dry-run names (every dry run is its own execution). */
  now: () => Date;
  /** A fresh attempt id for a dry run without one (default: time + random suffix). */
  newAttempt?: () => string;
}

/** A start request (the `Policy Rollout Requested` event detail has this shape). */
export interface StartRolloutRequest {
  gatewayId: string;
  policyEngineArn?: string;
  dryRun?: boolean;
  /** Overrides of the configured rollout settings (config syntax), validated here and at preflight. */
  settings?: Record<string, unknown>;
  /** A new attempt after a finished rollout of the same request (any string or number). */
  attempt?: string | number;
}

export type { StartStatus };

export interface StartRolloutResult {
  status: StartStatus;
  executionArn: string;
  executionName: string;
  gatewayId: string;
  policyEngineArn: string;
  dryRun: boolean;
  /** Status of the existing execution (ALREADY_RUNNING / ALREADY_RAN). */
  executionStatus?: string;
}

function fail(problems: string[]): never {
  throw new InvalidRolloutInputError(`Invalid rollout request: ${problems.join('; ')}`, { details: { problems } });
}

/** Shape checks of a start request (no AWS call is made for a bad request). */
export function validateStartRequest(request: unknown, config?: Config): StartRolloutRequest {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) fail(['the request must be an object']);
  const r = request as Record<string, unknown>;
  const problems: string[] = [];
  const known = ['gatewayId', 'policyEngineArn', 'dryRun', 'settings', 'attempt'];
  for (const key of Object.keys(r)) if (!known.includes(key)) problems.push(`unknown field ${key}`);
  if (typeof r.gatewayId !== 'string' || validateShape('GatewayIdentifier', r.gatewayId).length > 0) {
    problems.push('gatewayId must be a gateway id');
  }
  if (r.policyEngineArn !== undefined && (typeof r.policyEngineArn !== 'string' || validateShape('PolicyEngineArn', r.policyEngineArn).length > 0)) {
    problems.push('policyEngineArn must be a policy engine ARN');
  }
  if (r.dryRun !== undefined && typeof r.dryRun !== 'boolean') problems.push('dryRun must be a boolean');
  if (r.attempt !== undefined && !((typeof r.attempt === 'string' || typeof r.attempt === 'number') && ATTEMPT.test(String(r.attempt)))) {
    problems.push(ATTEMPT_PROBLEM);
  }
  if (r.settings !== undefined) {
    if (typeof r.settings !== 'object' || r.settings === null || Array.isArray(r.settings)) {
      problems.push('settings must be an object');
    } else {
      try {
        parseRolloutOverrides(r.settings, configuredSettings(config, String(r.gatewayId)), 'settings');
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        problems.push(...err.issues.map((i) => `${i.path && i.path !== '(root)' ? `settings.${i.path}` : 'settings'}: ${i.message}`));
      }
    }
  }
  if (problems.length > 0) fail(problems);
  return r as unknown as StartRolloutRequest;
}

/** The config's entry for a gateway (by id), if any. */
export function gatewaySpecOf(config: Config | undefined, gatewayId: string): Config['gateways'][number] | undefined {
  return config?.gateways.find((g) => g.id === gatewayId);
}

/** The configured rollout settings of a gateway (defaults when it is not in the config). */
export function configuredSettings(config: Config | undefined, gatewayId: string) {
  return gatewaySpecOf(config, gatewayId)?.policyEngine?.rollout ?? DEFAULT_ROLLOUT_SETTINGS;
}

async function resolveEngine(deps: StartRolloutDeps, request: StartRolloutRequest): Promise<string> {
  if (request.policyEngineArn) return request.policyEngineArn;
  const declared = gatewaySpecOf(deps.config, request.gatewayId)?.policyEngine?.arn;
  if (declared) return declared;
  const attached = deps.agentCore ? (await deps.agentCore.getGateway(request.gatewayId)).policyEngineConfiguration?.arn : undefined;
  if (attached) return attached;
  fail([`no policy engine given for gateway ${request.gatewayId}, none declared in the config and none attached`]);
}

/** Starts (at most one) rollout for the request; see the module comment. */
export async function startPolicyRollout(deps: StartRolloutDeps, raw: StartRolloutRequest): Promise<StartRolloutResult> {
  const request = validateStartRequest(raw, deps.config);
  const policyEngineArn = await resolveEngine(deps, request);
  const dryRun = request.dryRun === true;
  // A dry run changes nothing: every one is its own execution unless the caller names an attempt.
  const attempt = request.attempt ?? (dryRun ? (deps.newAttempt?.() ?? dryRunAttempt(deps.now())) : undefined);
  const executionName = rolloutExecutionName(request.gatewayId, policyEngineArn, 'ENFORCE', { attempt, dryRun });
  const executionArn = executionArnOf(deps.stateMachineArn, executionName);
  const base = { executionArn, executionName, gatewayId: request.gatewayId, policyEngineArn, dryRun };

  const running = (await deps.sfn.listExecutions(deps.stateMachineArn, 'RUNNING'))
    .filter((e): e is { name: string; executionArn: string } => typeof e.name === 'string' && typeof e.executionArn === 'string');
  if (running.some((e) => e.name === executionName)) {
    return { ...base, status: 'ALREADY_RUNNING', executionStatus: 'RUNNING' };
  }
  if (!dryRun) {
    const others = conflictingRollouts(running, request.gatewayId, executionArn);
    if (others.length > 0) {
      throw new RolloutInProgressError(
        `Another rollout is running for gateway ${request.gatewayId}: ${others.map((e) => e.name).join(', ')}`,
        { details: { executions: others.map((e) => e.executionArn) } },
      );
    }
  }

  const input: RolloutRequest = {
    gatewayId: request.gatewayId,
    policyEngineArn,
    dryRun,
    ...(request.settings !== undefined && { settings: request.settings as RolloutRequest['settings'] }),
  };
  return { ...base, ...await startOnce(deps.sfn, { stateMachineArn: deps.stateMachineArn, name: executionName, input }) };
}
