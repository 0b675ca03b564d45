/**
 * The policy-rollout state machine's Lambda tasks (statemachines/policy-rollout.asl.yaml): thin
 * wrappers that gather facts from AWS, hand them to the rollout domain and do what it decides.
 * Inputs and outputs: functions/domain/rollout/contract.ts. Errors keep their names (the ASL's
 * Retry/Catch match them): the domain's (errors.ts) and the adapters' (ThrottledError,
 * ConflictError, ServiceUnavailableError...).
 */
import type { Context } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import { createAdapters, type Adapters } from '../adapters/index.ts';
import { lazyClients } from '../lib/clients.ts';
import { ConfigError } from '../lib/config/config-error.ts';
import { COMPARISON_OPERATORS, parseRolloutOverrides } from '../lib/config/rollout.ts';
import { loadConfig } from '../lib/config/load.ts';
import type { Config, RolloutSettings as ConfigRolloutSettings } from '../lib/config/types.ts';
import { ResourceNotFoundError } from '../lib/errors.ts';
import { createLogger } from '../lib/logger.ts';
import { withMiddleware } from '../lib/middy.ts';
import { validateShape } from '../lib/model/validate.ts';
import { now as clockNow } from '../lib/time.ts';
import { buildGatewayUpdate } from '../domain/gateway-update.ts';
import { restoreChange } from '../domain/rollout/restore.ts';
import type {
  ApplyModeInput,
  CheckGatewayInput,
  PreflightInput,
  PublishInput,
  ReadinessProgress,
  RestoreInput,
  RolloutState,
  VerifyInput,
  VerifyResult,
} from '../domain/rollout/contract.ts';
import { InvalidRolloutInputError } from '../domain/rollout/errors.ts';
import { metricQueries, windowFigures } from '../domain/rollout/gates.ts';
import type { AlarmState } from '../domain/rollout/gates.ts';
import { ROLLOUT_EVENT_SOURCE, rolloutEvent } from '../domain/rollout/outcome.ts';
import type { RolloutDetailType } from '../domain/rollout/outcome.ts';
import { preflight as decidePreflight } from '../domain/rollout/preflight.ts';
import { assessReadiness, startReadiness } from '../domain/rollout/readiness.ts';
import type { RolloutSettings } from '../domain/rollout/settings.ts';
import { configuredSettings, gatewaySpecOf } from '../domain/rollout/start.ts';

export { restoreChange };
import { verifyResult, windowForVerify } from '../domain/rollout/verify.ts';

export interface RolloutDeps {
  adapters: Pick<Adapters, 'agentCore' | 'cloudWatch' | 'events' | 'sfn'>;
  loadConfig: () => Promise<Config>;
  now: () => Date;
  /** AUTOPILOT_EVENT_BUS (else the config's events.busName). */
  eventBusName?: string;
  /** ROLLOUT_STATE_MACHINE_ARN (else derived from the execution ARN). */
  stateMachineArn?: string;
  logger: Logger;
}

const logger = createLogger();

/** Clients per endpoint: one set per container in AWS, one per local stack in tests. */
const adapterCache = new Map<string, Adapters>();

function defaultDeps(): RolloutDeps {
  const key = process.env.AWS_ENDPOINT_URL ?? '';
  let adapters = adapterCache.get(key);
  if (!adapters) {
    adapters = createAdapters(lazyClients());
    adapterCache.set(key, adapters);
  }
  return {
    adapters,
    loadConfig: () => loadConfig(),
    now: clockNow,
    eventBusName: process.env.AUTOPILOT_EVENT_BUS || undefined,
    stateMachineArn: process.env.ROLLOUT_STATE_MACHINE_ARN || undefined,
    logger,
  };
}

/** A JSON copy (Dates become ISO strings, `$metadata` dropped): what a task returns and Step Functions stores. */
function plain<T>(value: T): Record<string, unknown> {
  const { $metadata: _m, ...rest } = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  return rest;
}

/** Config-syntax rollout settings -> the domain's (comparison operators, no per-gate period). */
export function domainSettings(settings: ConfigRolloutSettings): RolloutSettings {
  return {
    ...structuredClone(settings),
    metrics: settings.metrics.map((m) => ({
      id: m.id,
      namespace: m.namespace,
      metricName: m.metricName,
      dimensions: { ...m.dimensions },
      stat: m.stat,
      threshold: m.threshold,
      comparison: COMPARISON_OPERATORS[m.comparison],
    })),
    approval: { ...settings.approval },
  };
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

async function runPreflight(deps: RolloutDeps, input: PreflightInput): Promise<RolloutState> {
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
  decideShapeOnly(bare);
  const gateway = plain(await deps.adapters.agentCore.getGateway(bare.gatewayId));
  let policyEngine: { policyEngineArn?: string; status?: string } | null = null;
  try {
    policyEngine = plain(await deps.adapters.agentCore.getPolicyEngine(policyEngineId(bare.policyEngineArn)));
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
    runningExecutions,
    settings: domainSettings(settings),
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

/** The request's ids, checked against the service model before any AWS call. */
function decideShapeOnly(request: PreflightInput['request']): void {
  const problems: string[] = [];
  if (typeof request.gatewayId !== 'string' || validateShape('GatewayIdentifier', request.gatewayId).length > 0) {
    problems.push('gatewayId is not a gateway id');
  }
  if (typeof request.policyEngineArn !== 'string' || validateShape('PolicyEngineArn', request.policyEngineArn).length > 0) {
    problems.push('policyEngineArn is not a policy engine ARN');
  }
  if (problems.length > 0) throw new InvalidRolloutInputError(`Invalid rollout request: ${problems.join('; ')}`, { details: { problems } });
}

async function runApplyMode(deps: RolloutDeps, input: ApplyModeInput): Promise<ReadinessProgress> {
  const live = plain(await deps.adapters.agentCore.getGateway(input.gatewayId));
  const current = live.policyEngineConfiguration as { arn?: string; mode?: string } | undefined;
  const changed = current?.arn !== input.policyEngineArn || current?.mode !== input.mode;
  if (changed) {
    const request = buildGatewayUpdate(live, { policyEngine: { arn: input.policyEngineArn, mode: input.mode } });
    await deps.adapters.agentCore.updateGateway(request);
    deps.logger.info('Policy engine mode applied', { gatewayId: input.gatewayId, mode: input.mode, from: current?.mode ?? null });
  } else {
    deps.logger.info('Policy engine already in mode; no update', { gatewayId: input.gatewayId, mode: input.mode });
  }
  return startReadiness(deps.now(), input.readyTimeoutSeconds, changed);
}

async function runCheckGateway(deps: RolloutDeps, input: CheckGatewayInput): Promise<ReadinessProgress> {
  const live = await deps.adapters.agentCore.getGateway(input.gatewayId);
  return assessReadiness({
    gatewayId: input.gatewayId,
    status: String(live.status),
    attempt: input.attempt,
    maxAttempts: input.maxAttempts,
    deadline: input.deadline,
    now: deps.now(),
  });
}

async function runVerify(deps: RolloutDeps, input: VerifyInput): Promise<VerifyResult> {
  const window = windowForVerify(input, deps.now());
  const plan = metricQueries({ gatewayArn: input.gatewayArn }, input.settings, window);
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
  const result = verifyResult(input, windowFigures(plan, results, alarms), window);
  deps.logger.info('Rollout verification', {
    stage: result.stage,
    verdict: result.verdict,
    decision: result.decision,
    decisions: result.report.decisions,
    denyRatio: result.report.denyRatio,
    reasons: result.report.reasons,
  });
  return result;
}

async function runRestore(deps: RolloutDeps, input: RestoreInput): Promise<ReadinessProgress> {
  const live = plain(await deps.adapters.agentCore.getGateway(input.gatewayId));
  const change = restoreChange(live, input.rollbackPoint);
  // Even when the fields match, a gateway left UPDATE_UNSUCCESSFUL is rewritten to get it READY.
  const rewrite = change ?? (live.status === 'READY' ? null : { set: {} });
  if (rewrite) {
    await deps.adapters.agentCore.updateGateway(buildGatewayUpdate(live, rewrite));
    deps.logger.warn('Gateway configuration restored to the rollback point', {
      gatewayId: input.gatewayId,
      fields: [...Object.keys(rewrite.set ?? {}), ...(rewrite.unset ?? [])],
    });
  }
  return startReadiness(deps.now(), input.readyTimeoutSeconds, rewrite !== null);
}

async function runPublish(deps: RolloutDeps, input: PublishInput): Promise<{ published: true; eventIds: string[] }> {
  const { detailType, detail } = rolloutEvent(input.detailType as RolloutDetailType, { state: input.state, stage: input.stage });
  const eventIds = await deps.adapters.events.publish(detailType, detail, {
    source: ROLLOUT_EVENT_SOURCE,
    busName: input.state.rollout.eventBusName,
    resources: [input.state.rollout.gatewayArn],
  });
  deps.logger.info('Rollout event published', { detailType, stage: detail.stage, rolloutId: detail.rolloutId });
  return { published: true, eventIds };
}

// --- wiring ------------------------------------------------------------------------------------

type Task<I, O> = (event: I, context: Context) => Promise<O>;

export interface RolloutHandlers {
  preflight: Task<PreflightInput, RolloutState>;
  applyMode: Task<ApplyModeInput, ReadinessProgress>;
  checkGateway: Task<CheckGatewayInput, ReadinessProgress>;
  verify: Task<VerifyInput, VerifyResult>;
  restore: Task<RestoreInput, ReadinessProgress>;
  publish: Task<PublishInput, { published: true; eventIds: string[] }>;
}

/** The six task handlers over `deps` (default: AWS clients from the environment, resolved per invocation). */
export function createHandlers(deps?: RolloutDeps): RolloutHandlers {
  const get = (): RolloutDeps => deps ?? defaultDeps();
  const wrap = <I, O>(fn: (d: RolloutDeps, input: I) => Promise<O>): Task<I, O> =>
    withMiddleware<I, O>((event) => fn(get(), event), { logger: deps?.logger ?? logger }) as unknown as Task<I, O>;
  return {
    preflight: wrap(runPreflight),
    applyMode: wrap(runApplyMode),
    checkGateway: wrap(runCheckGateway),
    verify: wrap(runVerify),
    restore: wrap(runRestore),
    publish: wrap(runPublish),
  };
}

/** House style alias: `createHandler(deps)` returns the set of task handlers. */
export const createHandler = createHandlers;

const handlers = createHandlers();
export const preflight = handlers.preflight;
export const applyMode = handlers.applyMode;
export const checkGateway = handlers.checkGateway;
export const verify = handlers.verify;
export const restore = handlers.restore;
export const publish = handlers.publish;
