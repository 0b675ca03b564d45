/**
 * Policy rollout use cases: the six tasks of the policy-rollout state machine
 * (statemachines/policy-rollout.asl.yaml); the start of a rollout is rollout-start.ts. Each gathers facts from AWS,
 * hands them to the rollout domain (functions/domain/rollout/) and does what it decides.
 * Inputs and outputs: functions/domain/rollout/contract.ts. Errors keep their names (the ASL's
 * Retry/Catch match them): the domain's (errors.ts) and the adapters' (ThrottledError,
 * ConflictError, ServiceUnavailableError...).
 */
import { ConfigError } from '../lib/config/config-error.ts';
import { parseRolloutOverrides } from '../lib/config/rollout.ts';
import type { RolloutSettings as ConfigRolloutSettings } from '../lib/config/types.ts';
import { ResourceNotFoundError, ServiceUnavailableError } from '../lib/errors.ts';
import { validateShape } from '../lib/model/validate.ts';
import { buildGatewayUpdate } from '../domain/gateway-update.ts';
import { planRestore, rollbackPointOf } from '../domain/rollout/restore.ts';
import { canonicalRequestJson } from '../domain/client-token.ts';
import { parseStatement } from '../lib/cedar.ts';
import type { PolicyFact } from '../domain/rollout/preflight.ts';
import type { Policy, UpdateGatewayCommandInput } from '@aws-sdk/client-bedrock-agentcore-control';
import type {
  ApplyModeInput,
  CheckGatewayInput,
  PreflightInput,
  PublishInput,
  ReadinessProgress,
  RestoreInput,
  RestoreProgress,
  RolloutState,
  VerifyInput,
  VerifyResult,
} from '../domain/rollout/contract.ts';
import { GatewayRolePermissionError, InvalidRolloutInputError, RestoreNotAppliedError } from '../domain/rollout/errors.ts';
import { metricQueries, POLICY_METRICS_NAMESPACE, publishedStreams, streamProbes, windowFigures } from '../domain/rollout/metric-queries.ts';
import type { AlarmState, StreamListing } from '../domain/rollout/metric-queries.ts';
import { projectionsFor, resourceIdOf } from '../domain/rollout/projections.ts';
import { ROLLOUT_EVENT_SOURCE, preflightFailedEvent, rolloutEvent } from '../domain/rollout/outcome.ts';
import type { RolloutDetailType } from '../domain/rollout/outcome.ts';
import { preflight as decidePreflight } from '../domain/rollout/preflight.ts';
import { assessReadiness, startReadiness } from '../domain/rollout/readiness.ts';
import { rolloutSettingsFromConfig } from '../domain/rollout/settings.ts';
import { configuredSettings, gatewaySpecOf } from '../domain/rollout/start.ts';
import { stageMode, verifyResult, windowForVerify } from '../domain/rollout/verify.ts';
import type { PolicyTaskDeps } from './policy-task-deps.ts';

export type RolloutDeps = PolicyTaskDeps;

/** A JSON copy (Dates become ISO strings, `$metadata` dropped): what a task returns and Step Functions stores. */
function plain<T>(value: T): Record<string, unknown> {
  const { $metadata: _m, ...rest } = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  return rest;
}

function policyEngineId(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

function stateMachineOf(executionArn: string): string {
  const m = /^(arn:[^:]+:states:[^:]+:[^:]+):execution:([^:]+):[^:]+$/.exec(executionArn);
  if (!m) throw new InvalidRolloutInputError(`Not an execution ARN: ${executionArn}`);
  return `${m[1]}:stateMachine:${m[2]}`;
}

// --- the six tasks ---------------------------------------------------------------------------

export async function preflight(deps: RolloutDeps, input: PreflightInput): Promise<RolloutState> {
  const request = input?.request;
  if (typeof request !== 'object' || request === null || typeof input.executionArn !== 'string') {
    throw new InvalidRolloutInputError('The preflight needs {request, executionArn}');
  }
  const config = await deps.loadConfig();
  // Overrides (config syntax) are validated like the config before any AWS call.
  let settings: ConfigRolloutSettings;
  try {
    settings = parseRolloutOverrides(request.settings ?? {}, configuredSettings(config, request.gatewayId), 'settings');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new InvalidRolloutInputError(`Invalid rollout settings: ${err.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
      details: { problems: err.issues.map((i) => `${i.path}: ${i.message}`) },
    });
  }
  const { settings: _overrides, ...bare } = request;
  // Shape errors (bad ids) surface from the domain before AWS is asked anything.
  checkRequestIds(bare);
  const gateway = plain(await deps.adapters.agentCore.getGateway(bare.gatewayId));
  let policyEngine: { policyEngineArn?: string; status?: string } | null = null;
  let policies: PolicyFact[] = [];
  try {
    policyEngine = plain(await deps.adapters.agentCore.getPolicyEngine(policyEngineId(bare.policyEngineArn)));
    policies = policyFacts(await deps.adapters.agentCore.listPolicies(policyEngineId(bare.policyEngineArn)));
  } catch (err) {
    if (!(err instanceof ResourceNotFoundError)) throw err;
  }
  const stateMachineArn = deps.stateMachineArn ?? stateMachineOf(input.executionArn);
  const runningExecutions = (await deps.adapters.sfn.listExecutions(stateMachineArn, 'RUNNING')).map((e) => ({
    name: e.name ?? '',
    executionArn: e.executionArn ?? '',
  }));
  const state = decidePreflight({
    request: bare,
    executionArn: input.executionArn,
    gateway,
    policyEngine,
    policies,
    runningExecutions,
    settings: rolloutSettingsFromConfig(settings),
    eventBusName: deps.eventBusName ?? config.events.busName,
  });
  deps.logger.info('Rollout preflight passed', {
    rolloutId: state.rollout.rolloutId,
    gatewayId: state.rollout.gatewayId,
    startMode: state.rollout.startMode,
    dryRun: state.rollout.dryRun,
    configured: gatewaySpecOf(config, bare.gatewayId) !== undefined,
  });
  return state;
}

/** ListPolicies output -> what the preflight needs, each Cedar statement parsed by Cedar itself. */
function policyFacts(policies: Policy[]): PolicyFact[] {
  return policies.map((p) => {
    const statement = p.definition && 'cedar' in p.definition ? p.definition.cedar?.statement : undefined;
    const parsed = typeof statement === 'string' ? parseStatement(statement) : undefined;
    return {
      policyId: String(p.policyId),
      name: String(p.name),
      status: String(p.status),
      ...(p.enforcementMode !== undefined && { enforcementMode: p.enforcementMode }),
      effect: parsed?.ok ? parsed.policy.effect : null,
    };
  });
}

/** The request's ids, checked against the service model before any AWS call. */
function checkRequestIds(request: PreflightInput['request']): void {
  const problems: string[] = [];
  if (typeof request.gatewayId !== 'string' || validateShape('GatewayIdentifier', request.gatewayId).length > 0) {
    problems.push('gatewayId is not a gateway id');
  }
  if (typeof request.policyEngineArn !== 'string' || validateShape('PolicyEngineArn', request.policyEngineArn).length > 0) {
    problems.push('policyEngineArn is not a policy engine ARN');
  }
  if (problems.length > 0) throw new InvalidRolloutInputError(`Invalid rollout request: ${problems.join('; ')}`, { details: { problems } });
}

export async function applyMode(deps: RolloutDeps, input: ApplyModeInput): Promise<ReadinessProgress> {
  const live = plain(await deps.adapters.agentCore.getGateway(input.gatewayId));
  const current = live.policyEngineConfiguration as { arn?: string; mode?: string } | undefined;
  const changed = current?.arn !== input.policyEngineArn || current?.mode !== input.mode;
  if (changed) {
    const request = buildGatewayUpdate(live, { policyEngine: { arn: input.policyEngineArn, mode: input.mode } });
    await updateWithEngine(deps, request, input.policyEngineArn, String(live.roleArn));
    deps.logger.info('Policy engine mode applied', { gatewayId: input.gatewayId, mode: input.mode, from: current?.mode ?? null });
  } else {
    deps.logger.info('Policy engine already in mode; no update', { gatewayId: input.gatewayId, mode: input.mode });
  }
  return startReadiness(deps.now(), input.readyTimeoutSeconds, changed);
}

/**
 * UpdateGateway carrying a policy engine. An InternalServerException there is what AgentCore
 * answers when the gateway's execution role lacks the Policy actions (developer guide,
 * policy-permissions): reported with its remedy instead of as a retried outage.
 */
async function updateWithEngine(deps: RolloutDeps, request: UpdateGatewayCommandInput, policyEngineArn: string, roleArn: string): Promise<void> {
  try {
    await deps.adapters.agentCore.updateGateway(request);
  } catch (err) {
    if (err instanceof ServiceUnavailableError && err.awsErrorName === 'InternalServerException') {
      throw new GatewayRolePermissionError(
        `UpdateGateway failed with InternalServerException while setting policy engine ${policyEngineArn} on gateway ${request.gatewayIdentifier}. AgentCore answers this when the gateway's execution role (${roleArn}) lacks bedrock-agentcore:AuthorizeAction and bedrock-agentcore:PartiallyAuthorizeActions on the engine and gateway ARNs, or bedrock-agentcore:GetPolicyEngine: add them to the role and start the rollout again (a transient service failure is also possible if the role has them).`,
        { cause: err, details: { gatewayId: request.gatewayIdentifier, roleArn, policyEngineArn } },
      );
    }
    throw err;
  }
}

export async function checkGateway(deps: RolloutDeps, input: CheckGatewayInput): Promise<ReadinessProgress> {
  const live = plain(await deps.adapters.agentCore.getGateway(input.gatewayId));
  const progress = assessReadiness({
    gatewayId: input.gatewayId,
    status: String(live.status),
    attempt: input.attempt,
    maxAttempts: input.maxAttempts,
    deadline: input.deadline,
    now: deps.now(),
  });
  if (progress.ready && input.expectPolicyEngineConfiguration !== undefined) {
    const shows = rollbackPointOf(live).policyEngineConfiguration;
    if (canonicalRequestJson(shows) !== canonicalRequestJson(input.expectPolicyEngineConfiguration)) {
      throw new RestoreNotAppliedError(
        `Gateway ${input.gatewayId} is READY but shows policyEngineConfiguration ${JSON.stringify(shows)} instead of the restored ${JSON.stringify(input.expectPolicyEngineConfiguration)}`,
        { details: { shows, expected: input.expectPolicyEngineConfiguration } },
      );
    }
  }
  return progress;
}

export async function verify(deps: RolloutDeps, input: VerifyInput): Promise<VerifyResult> {
  const window = windowForVerify(input, deps.now());
  const projections = projectionsFor(input.settings.projections, {
    gatewayId: resourceIdOf(input.gatewayArn),
    gatewayArn: input.gatewayArn,
    policyEngineArn: input.policyEngineArn,
    mode: stageMode(input.stage),
  });
  // Which streams exist at all: an unpublished stream reads as zero in GetMetricData, which is
  // no evidence of anything (and the tool-list projection is only published per tool).
  const listing: StreamListing = {};
  for (const probe of streamProbes(projections)) {
    listing[probe.id] = await deps.adapters.cloudWatch.listMetrics({ namespace: POLICY_METRICS_NAMESPACE, dimensions: probe.dimensions });
  }
  const { published, tools } = publishedStreams(projections, listing);
  const plan = metricQueries(projections, input.settings, window, tools);
  const series = await deps.adapters.cloudWatch.getMetricData({
    queries: plan.queries,
    start: new Date(plan.startTime),
    end: new Date(plan.endTime),
  });
  const results = series.map((s) => ({ Id: s.id, Values: s.points.map((p) => p.value) }));
  const alarms: Record<string, AlarmState> = {};
  if (input.settings.alarms.length > 0) {
    for (const alarm of await deps.adapters.cloudWatch.describeAlarms(input.settings.alarms)) {
      // A missing alarm stays absent: its gate reports it as not found (never as OK).
      if (alarm.state !== 'MISSING') alarms[alarm.name] = alarm.state as AlarmState;
    }
  }
  const result = verifyResult(input, windowFigures(plan, results, alarms, published), window);
  deps.logger.info('Rollout verification', {
    stage: result.stage,
    verdict: result.verdict,
    decision: result.decision,
    decisions: result.report.decisions,
    denyRatio: result.report.denyRatio,
    stream: result.report.gates.find((g) => g.name === 'evidence')?.stream,
    reasons: result.report.reasons,
  });
  return result;
}

export async function restore(deps: RolloutDeps, input: RestoreInput): Promise<RestoreProgress> {
  const live = plain(await deps.adapters.agentCore.getGateway(input.gatewayId));
  const { report, change } = planRestore(live, input.rollbackPoint, input.policyEngineArn);
  if (report.action === 'conflict') {
    deps.logger.warn('Gateway policyEngineConfiguration was changed by someone else during the rollout; not restored', {
      gatewayId: input.gatewayId, live: report.from, recorded: report.to,
    });
  } else if (change) {
    const request = buildGatewayUpdate(live, change);
    if (request.policyEngineConfiguration) await updateWithEngine(deps, request, request.policyEngineConfiguration.arn!, String(live.roleArn));
    else await deps.adapters.agentCore.updateGateway(request);
    deps.logger.warn('Gateway policyEngineConfiguration restored', { gatewayId: input.gatewayId, from: report.from, to: report.to });
  }
  return { ...startReadiness(deps.now(), input.readyTimeoutSeconds, change !== null), restore: report };
}

export async function publish(deps: RolloutDeps, input: PublishInput): Promise<{ published: true; eventIds: string[] }> {
  if (!input.state) {
    if (input.detailType !== 'Policy Rollout Failed' || !input.failure) {
      throw new InvalidRolloutInputError('The publish task needs {state}, or {failure} for "Policy Rollout Failed"');
    }
    const { detailType, detail } = preflightFailedEvent(input.failure);
    const busName = deps.eventBusName ?? (await deps.loadConfig()).events.busName;
    const eventIds = await deps.adapters.events.publish(detailType, detail, { source: ROLLOUT_EVENT_SOURCE, busName, resources: [] });
    deps.logger.warn('Rollout refused at preflight', { rolloutId: detail.rolloutId, gatewayId: detail.gatewayId, error: detail.error?.error });
    return { published: true, eventIds };
  }
  const { detailType, detail } = rolloutEvent(input.detailType as RolloutDetailType, { state: input.state, stage: input.stage });
  const eventIds = await deps.adapters.events.publish(detailType, detail, {
    source: ROLLOUT_EVENT_SOURCE,
    busName: input.state.rollout.eventBusName,
    resources: [input.state.rollout.gatewayArn],
  });
  deps.logger.info('Rollout event published', { detailType, stage: detail.stage, rolloutId: detail.rolloutId });
  return { published: true, eventIds };
}
