/**
 * Staged promotion of one declared Cedar policy (LOG_ONLY -> ACTIVE): the tasks of the
 * policy-promotion state machine (statemachines/policy-promotion.asl.yaml) and the start of a
 * promotion (CLI, `Policy Promotion Requested`, drift). Each task gathers facts, hands them to the
 * promotion domain (functions/domain/promotion/) and does what it decides.
 *
 * The statement always comes from the packaged config (never from a request or the execution
 * state); every write checks that its hash is still the one the preflight recorded.
 */
import type { Policy } from '@aws-sdk/client-bedrock-agentcore-control';
import type { Config, DeclaredPolicy, PolicyEngineDeclaration } from '../lib/config/types.ts';
import { canonicalStatement } from '../lib/cedar.ts';
import { ResourceNotFoundError } from '../lib/errors.ts';
import { ATTEMPT, ATTEMPT_PROBLEM, dryRunAttempt, executionArnOf, startOnce, type StartStatus } from '../domain/execution-start.ts';
import type {
  CheckPolicyInput, PolicyProgress, PromotionRequest, PromotionState, PromotionVerifyInput, PromotionVerifyResult, StateError, WriteInput,
} from '../domain/promotion/contract.ts';
import {
  DeclarationChangedError, InvalidPromotionRequestError, PolicyReadyTimeoutError, PolicyRestoreNotAppliedError, PolicyValidationFailedError,
} from '../domain/promotion/errors.ts';
import { promotionFigures, promotionProbes, promotionQueries, promotionStreams, promotionVerifyResult, type Listed } from '../domain/promotion/gates.ts';
import { promotionEvent, promotionRefusedEvent, type PromotionDetailType, type PromotionStage } from '../domain/promotion/outcome.ts';
import { promotionExecutionName, promotionExecutionPrefix, promotionPreflight, statementHash, type LivePolicy } from '../domain/promotion/preflight.ts';
import { planWrite } from '../domain/promotion/writes.ts';
import { POLICY_METRICS_NAMESPACE, verifyWindow, type AlarmState } from '../domain/rollout/metric-queries.ts';
import { ROLLOUT_EVENT_SOURCE } from '../domain/rollout/outcome.ts';
import type { PolicyTaskDeps } from './policy-task-deps.ts';

export type PromotionDeps = PolicyTaskDeps;

// --- declarations and live policies -----------------------------------------------------------

/** The declared engine and policy a request names; InvalidPromotionRequestError when not declared. */
export function declaredPolicy(config: Config, policyEngineArn: string, policyName: string): { declaration: PolicyEngineDeclaration; policy: DeclaredPolicy } {
  const declaration = config.policyEngines.find((e) => e.arn === policyEngineArn);
  if (!declaration) throw new InvalidPromotionRequestError(`Policy engine ${policyEngineArn} is not declared in the config (policyEngines): nothing is promoted that the config does not declare`);
  const policy = declaration.policies.find((p) => p.name === policyName);
  if (!policy) throw new InvalidPromotionRequestError(`Policy ${policyName} is not declared for engine ${policyEngineArn} in the config`);
  return { declaration, policy };
}

function engineIdOf(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/** A live policy with its statement hashed in Cedar-canonical form. */
export function livePolicyOf(p: Policy): LivePolicy {
  const statement = p.definition && 'cedar' in p.definition ? p.definition.cedar?.statement : undefined;
  return {
    policyId: String(p.policyId),
    name: String(p.name),
    status: String(p.status),
    enforcementMode: p.enforcementMode === 'LOG_ONLY' ? 'LOG_ONLY' : 'ACTIVE',
    statementHash: typeof statement === 'string' ? statementHash(canonicalStatement(statement)) : null,
    ...(typeof statement === 'string' && { statement }),
  };
}

async function livePolicies(deps: PromotionDeps, engineId: string, names: string[]): Promise<Map<string, LivePolicy>> {
  const out = new Map<string, LivePolicy>();
  for (const p of await deps.adapters.agentCore.listPolicies(engineId)) {
    if (p.name && names.includes(p.name)) out.set(p.name, livePolicyOf(p));
  }
  return out;
}

/** The declared statement, checked to be the one the preflight recorded. */
async function currentStatement(deps: PromotionDeps, state: { policyEngineArn: string; policyName: string; statementHash: string }): Promise<DeclaredPolicy> {
  const { policy } = declaredPolicy(await deps.loadConfig(), state.policyEngineArn, state.policyName);
  if (statementHash(canonicalStatement(policy.statement)) !== state.statementHash) {
    throw new DeclarationChangedError(`The declared statement of ${state.policyName} changed since this promotion started: nothing is written (start a new promotion for the new statement)`);
  }
  return policy;
}

// --- tasks ---------------------------------------------------------------------------------------

export async function preflight(deps: PromotionDeps, input: { request: PromotionRequest; executionArn: string }): Promise<PromotionState> {
  const request = input?.request;
  if (typeof request?.policyEngineArn !== 'string' || typeof request.policyName !== 'string' || typeof input.executionArn !== 'string') {
    throw new InvalidPromotionRequestError('The preflight needs {request: {policyEngineArn, policyName}, executionArn}');
  }
  const config = await deps.loadConfig();
  const { declaration, policy } = declaredPolicy(config, request.policyEngineArn, request.policyName);
  const engineId = engineIdOf(declaration.arn);
  let engine: { status?: string } | null = null;
  try {
    engine = await deps.adapters.agentCore.getPolicyEngine(engineId);
  } catch (err) {
    if (!(err instanceof ResourceNotFoundError)) throw err;
  }
  const trialName = `${policy.name}_next`;
  const live = engine ? await livePolicies(deps, engineId, [policy.name, trialName]) : new Map<string, LivePolicy>();
  const gateways: { id: string; arn: string }[] = [];
  for (const id of declaration.promotion.gateways) {
    const g = await deps.adapters.agentCore.getGateway(id);
    gateways.push({ id, arn: String(g.gatewayArn) });
  }
  const machine = deps.stateMachineArn ?? input.executionArn.replace(/:execution:([^:]+):[^:]+$/, ':stateMachine:$1');
  const running = (await deps.adapters.sfn.listExecutions(machine, 'RUNNING')).map((e) => ({ name: e.name ?? '', executionArn: e.executionArn ?? '' }));
  const state = promotionPreflight({
    request,
    executionArn: input.executionArn,
    declaration,
    policy,
    declaredHash: statementHash(canonicalStatement(policy.statement)),
    engine,
    live: live.get(policy.name),
    trial: live.get(trialName),
    runningExecutions: running,
    gateways,
    eventBusName: deps.eventBusName ?? config.events.busName,
  });
  deps.logger.info('Promotion preflight passed', { promotionId: state.promotion.promotionId, policy: policy.name, change: state.promotion.change, dryRun: state.promotion.dryRun });
  return state;
}

function deadline(deps: PromotionDeps, seconds: number): string {
  return new Date(deps.now().getTime() + seconds * 1000).toISOString();
}

/** stage / promote / restore (see functions/domain/promotion/writes.ts). */
export async function write(deps: PromotionDeps, input: WriteInput): Promise<PolicyProgress> {
  const ctx = input.promotion;
  const live = await livePolicies(deps, ctx.policyEngineId, [ctx.policyName, ctx.trialName]);
  const plan = planWrite(input.action, ctx, live.get(ctx.policyName), ctx.trialName === ctx.policyName ? undefined : live.get(ctx.trialName));
  // The statement is read (and checked) only when a call writes it.
  const needsDeclared = plan.calls.some((c) => c.op === 'create' || (c.op === 'update' && c.statement === 'declared'));
  const declared = needsDeclared ? await currentStatement(deps, ctx) : undefined;
  let waitedId: string | null = live.get(plan.waitFor)?.policyId ?? null;
  for (const call of plan.calls) {
    if (call.op === 'create') {
      const out = await deps.adapters.agentCore.createPolicy({
        policyEngineId: ctx.policyEngineId,
        name: call.name,
        definition: { cedar: { statement: declared!.statement } },
        enforcementMode: 'LOG_ONLY',
        validationMode: ctx.validationMode,
        ...(declared!.description !== undefined && { description: declared!.description }),
      });
      if (call.name === plan.waitFor) waitedId = String(out.policyId);
    } else if (call.op === 'update') {
      const statement = call.statement === 'declared' ? declared!.statement : call.statement === 'before' ? ctx.before.statement : undefined;
      if (call.statement === 'before' && statement === undefined) throw new PolicyRestoreNotAppliedError(`The previous statement of ${ctx.policyName} was not recorded: restore it by hand`);
      await deps.adapters.agentCore.updatePolicy({
        policyEngineId: ctx.policyEngineId,
        policyId: call.policyId,
        ...(statement !== undefined && { definition: { cedar: { statement } } }),
        ...(call.enforcementMode !== undefined && { enforcementMode: call.enforcementMode }),
        validationMode: ctx.validationMode,
      });
    } else {
      await deps.adapters.agentCore.deletePolicy(ctx.policyEngineId, call.policyId);
    }
  }
  if (plan.report?.action === 'conflict') {
    deps.logger.warn('Policy changed by someone else during the promotion; not restored', { policy: ctx.policyName, live: plan.report.from, recorded: plan.report.to });
  } else if (plan.calls.length > 0) {
    deps.logger.info('Policy written', { policy: ctx.policyName, action: input.action, calls: plan.calls.map((c) => `${c.op} ${c.name}`) });
  }
  return {
    ready: false,
    attempt: 0,
    deadline: deadline(deps, ctx.plan.readyTimeoutSeconds),
    policyName: plan.waitFor,
    policyId: waitedId,
    changed: plan.calls.length > 0,
    ...(plan.report && { restore: plan.report }),
  };
}

const FAILED = new Set(['CREATE_FAILED', 'UPDATE_FAILED', 'DELETE_FAILED']);

/** One readiness poll (GetPolicy through ListPolicies by name: ids of created policies are new). */
export async function checkPolicy(deps: PromotionDeps, input: CheckPolicyInput): Promise<PolicyProgress> {
  const live = (await livePolicies(deps, input.policyEngineId, [input.policyName])).get(input.policyName);
  const attempt = input.attempt + 1;
  const checkedAt = deps.now().toISOString();
  const status = live?.status ?? 'MISSING';
  const base = { attempt, deadline: input.deadline, policyName: input.policyName, policyId: live?.policyId ?? null, status, checkedAt };
  if (status === 'ACTIVE') {
    if (input.expect && (live!.enforcementMode !== input.expect.enforcementMode || (input.expect.statementHash !== null && live!.statementHash !== input.expect.statementHash))) {
      throw new PolicyRestoreNotAppliedError(`Policy ${input.policyName} settled as ${live!.enforcementMode} (statement ${live!.statementHash}) instead of ${input.expect.enforcementMode} (statement ${input.expect.statementHash})`);
    }
    return { ready: true, ...base };
  }
  if (FAILED.has(status) || status === 'MISSING') {
    const reasons = live ? (await deps.adapters.agentCore.getPolicy(input.policyEngineId, live.policyId)).statusReasons ?? [] : [];
    throw new PolicyValidationFailedError(`Policy ${input.policyName} is ${status}${reasons.length > 0 ? `: ${reasons.join('; ')}` : ''}`, { details: { status, reasons } });
  }
  if (attempt >= input.maxAttempts || deps.now().getTime() >= Date.parse(input.deadline)) {
    throw new PolicyReadyTimeoutError(`Policy ${input.policyName} is still ${status} after ${attempt} polls (deadline ${input.deadline})`);
  }
  return { ready: false, ...base };
}

export async function verify(deps: PromotionDeps, input: PromotionVerifyInput): Promise<PromotionVerifyResult> {
  const ctx = input.promotion;
  const window = verifyWindow({ now: deps.now(), startedAt: input.windowStart ?? null, lookbackSeconds: ctx.settings.bakeMinutes * 60 });
  const policyId = input.policyId ?? '';
  const streams = promotionStreams(ctx, input.stage, policyId);
  const listedStreams: Listed = [];
  for (const dims of promotionProbes(streams)) {
    listedStreams.push(...await deps.adapters.cloudWatch.listMetrics({ namespace: POLICY_METRICS_NAMESPACE, dimensions: dims }));
  }
  const plan = promotionQueries(streams, window);
  const series = await deps.adapters.cloudWatch.getMetricData({ queries: plan.queries, start: new Date(plan.startTime), end: new Date(plan.endTime) });
  const alarms: Record<string, AlarmState> = {};
  if (ctx.settings.alarms.length > 0) {
    for (const a of await deps.adapters.cloudWatch.describeAlarms(ctx.settings.alarms)) if (a.state !== 'MISSING') alarms[a.name] = a.state as AlarmState;
  }
  const figures = promotionFigures(plan, series.map((s) => ({ Id: s.id, Values: s.points.map((p) => p.value) })), listedStreams, alarms);
  const result = promotionVerifyResult(input, figures, window);
  deps.logger.info('Promotion verification', { stage: result.stage, verdict: result.verdict, decision: result.decision, reasons: result.report.reasons });
  return result;
}

export interface PromotionPublishInput {
  detailType: string;
  stage?: PromotionStage;
  state?: PromotionState;
  failure?: { executionArn: string; request: Partial<PromotionRequest>; error: StateError };
}

export async function publish(deps: PromotionDeps, input: PromotionPublishInput): Promise<{ published: true; eventIds: string[] }> {
  const built = input.state
    ? promotionEvent(input.detailType as PromotionDetailType, input.state, input.stage)
    : input.failure ? promotionRefusedEvent(input.failure) : undefined;
  if (!built) throw new InvalidPromotionRequestError('The publish task needs {state} or {failure}');
  const busName = input.state?.promotion.eventBusName ?? deps.eventBusName ?? (await deps.loadConfig()).events.busName;
  const eventIds = await deps.adapters.events.publish(built.detailType, built.detail, {
    source: ROLLOUT_EVENT_SOURCE,
    busName,
    resources: built.detail.policyEngineArn ? [built.detail.policyEngineArn] : [],
  });
  deps.logger.info('Promotion event published', { detailType: built.detailType, promotionId: built.detail.promotionId });
  return { published: true, eventIds };
}

// --- start -----------------------------------------------------------------------------------------

export const PROMOTION_REQUESTED_DETAIL_TYPE = 'Policy Promotion Requested';

export interface StartPromotionRequest {
  policyEngineArn: string;
  policyName: string;
  dryRun?: boolean;
  attempt?: string;
}

export interface StartPromotionResult {
  status: StartStatus;
  executionArn: string;
  executionName: string;
  policyEngineArn: string;
  policyName: string;
  dryRun: boolean;
  executionStatus?: string;
}

/** Shape checks of a start request; only declared engines and policies can be named. */
export function validatePromotionRequest(raw: unknown, config: Config): StartPromotionRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidPromotionRequestError('The request must be an object {policyEngineArn, policyName, dryRun?, attempt?}');
  const r = raw as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(r)) if (!['policyEngineArn', 'policyName', 'dryRun', 'attempt'].includes(key)) problems.push(`unknown field ${key}`);
  if (typeof r.policyEngineArn !== 'string') problems.push('policyEngineArn must be a policy engine ARN');
  if (typeof r.policyName !== 'string') problems.push('policyName must be a policy name');
  if (r.dryRun !== undefined && typeof r.dryRun !== 'boolean') problems.push('dryRun must be a boolean');
  if (r.attempt !== undefined && !(typeof r.attempt === 'string' && ATTEMPT.test(r.attempt))) problems.push(ATTEMPT_PROBLEM);
  if (problems.length > 0) throw new InvalidPromotionRequestError(`Invalid promotion request: ${problems.join('; ')}`, { details: { problems } });
  declaredPolicy(config, r.policyEngineArn as string, r.policyName as string);
  return r as unknown as StartPromotionRequest;
}

/** Starts (at most one) promotion of a declared policy; the same request twice names the same execution. */
export async function startPromotion(
  deps: { sfn: PromotionDeps['adapters']['sfn']; stateMachineArn: string; config: Config; now: () => Date },
  raw: unknown,
): Promise<StartPromotionResult> {
  const request = validatePromotionRequest(raw, deps.config);
  const { policy } = declaredPolicy(deps.config, request.policyEngineArn, request.policyName);
  const dryRun = request.dryRun === true;
  const attempt = request.attempt ?? (dryRun ? dryRunAttempt(deps.now()) : undefined);
  const hash = statementHash(canonicalStatement(policy.statement));
  const executionName = promotionExecutionName(request.policyEngineArn, request.policyName, hash, { dryRun, ...(attempt !== undefined && { attempt }) });
  const executionArn = executionArnOf(deps.stateMachineArn, executionName);
  const base = { executionArn, executionName, policyEngineArn: request.policyEngineArn, policyName: request.policyName, dryRun };
  const running = await deps.sfn.listExecutions(deps.stateMachineArn, 'RUNNING');
  if (running.some((e) => e.name === executionName)) return { ...base, status: 'ALREADY_RUNNING', executionStatus: 'RUNNING' };
  if (!dryRun) {
    const prefix = promotionExecutionPrefix(request.policyEngineArn, request.policyName);
    const other = running.find((e) => e.name?.startsWith(prefix));
    if (other) return { ...base, executionArn: other.executionArn ?? executionArn, executionName: other.name ?? executionName, status: 'ALREADY_RUNNING', executionStatus: 'RUNNING' };
  }
  const input: PromotionRequest = { policyEngineArn: request.policyEngineArn, policyName: request.policyName, dryRun, ...(attempt !== undefined && { attempt }) };
  return { ...base, ...await startOnce(deps.sfn, { stateMachineArn: deps.stateMachineArn, name: executionName, input }) };
}
