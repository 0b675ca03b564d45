/**
 * Runs statemachines/policy-rollout.asl.yaml in aws-local-stepfunctions to check its routing
 * (which state follows which result, what each task receives, what the execution outputs).
 *
 * The tasks run the real rollout domain (preflight, readiness, gates, events); only the AWS side
 * (the gateway, CloudWatch figures, EventBridge, the approver) is an in-memory world. End-to-end
 * runs with the real handlers against the emulator live elsewhere.
 */
import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ThrottledError, AccessDeniedError } from '../../functions/lib/errors.ts';
import type {
  ApplyModeInput,
  CheckGatewayInput,
  PreflightInput,
  PublishInput,
  RestoreInput,
  RolloutResult,
  VerifyInput,
} from '../../functions/domain/rollout/contract.ts';
import { ApprovalRejectedError } from '../../functions/domain/rollout/errors.ts';
import { rolloutExecutionName } from '../../functions/domain/rollout/execution-name.ts';
import type { AlarmState, WindowFigures } from '../../functions/domain/rollout/gates.ts';
import { preflightFailedEvent, rolloutEvent } from '../../functions/domain/rollout/outcome.ts';
import { planRestore } from '../../functions/domain/rollout/restore.ts';
import type { PolicyFact } from '../../functions/domain/rollout/preflight.ts';
import type { RolloutDetailType } from '../../functions/domain/rollout/outcome.ts';
import { preflight } from '../../functions/domain/rollout/preflight.ts';
import { assessReadiness, startReadiness } from '../../functions/domain/rollout/readiness.ts';
import type { RolloutSettings } from '../../functions/domain/rollout/settings.ts';
import { verifyResult, windowForVerify } from '../../functions/domain/rollout/verify.ts';

type Json = Record<string, any>;

const definition: Json = parse(readFileSync(new URL('../../statemachines/policy-rollout.asl.yaml', import.meta.url), 'utf8'));
const GATEWAY_ID = 'gw-support-k1l2m3n4o5';
const GATEWAY_ARN = `arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/${GATEWAY_ID}`;
const ENGINE_ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/supportPolicies-u1v2w3x4y5';
const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:policy-rollout';
const OTHER_ENGINE_ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/otherPolicies-a1b2c3d4e5';

const SETTINGS: RolloutSettings = {
  bakeMinutes: 30,
  enforceBakeMinutes: 15,
  maxDenyRatio: 0.1,
  maxMismatchErrors: 0,
  maxNoDeterminingPolicies: 5,
  minDecisions: 100,
  maxBakeExtensions: 2,
  maxDenySpikeRatio: 2,
  maxSystemErrors: 0,
  readyTimeoutMinutes: 5,
  alarms: ['support-5xx'],
  metrics: [],
  approval: { required: false, timeoutMinutes: 60 },
  projections: {},
};

function figures(allow: number, deny: number, extra: Partial<WindowFigures> = {}): WindowFigures {
  return {
    allow,
    deny,
    mismatchErrors: 0,
    noDeterminingPolicies: 0,
    systemErrors: 0,
    streams: {
      allow: { stream: `AllowDecisions{Mode=LOG_ONLY,OperationName=AuthorizeAction,TargetResource=${GATEWAY_ID}}`, published: true },
      deny: { stream: `DenyDecisions{Mode=LOG_ONLY,OperationName=AuthorizeAction,TargetResource=${GATEWAY_ID}}`, published: true },
    },
    metrics: {},
    alarms: { 'support-5xx': 'OK' as AlarmState },
    ...extra,
  };
}

interface World {
  gateway: Json;
  engineStatus: string;
  policies: PolicyFact[];
  running: { name: string; executionArn: string }[];
  /** Gateway statuses the next polls see (then READY). */
  statuses: string[];
  shadow: WindowFigures[];
  enforce: WindowFigures[];
  approval?: 'approve' | 'reject' | 'timeout';
  throttleApplyOnce?: boolean;
  failRestore?: boolean;
  /** Someone else attaches another engine just before the rollback reads the gateway. */
  tamperBeforeRestore?: boolean;
  now: number;
  modes: string[];
  restores: RestoreInput[];
  events: { detailType: string; detail: Json }[];
  approvalRequests: Json[];
}

function newWorld(overrides: Partial<World> = {}): World {
  return {
    gateway: {
      gatewayId: GATEWAY_ID,
      gatewayArn: GATEWAY_ARN,
      name: 'gw-support',
      status: 'READY',
      roleArn: 'arn:aws:iam::123456789012:role/SupportGatewayRole',
      authorizerType: 'AWS_IAM',
      protocolType: 'MCP',
      description: 'MCP gateway for the support tools',
    },
    engineStatus: 'ACTIVE',
    policies: [{ policyId: 'agents-aaaaaaaaaa', name: 'agents', status: 'ACTIVE', effect: 'permit' }],
    running: [],
    statuses: [],
    shadow: [figures(990, 10)],
    enforce: [figures(985, 15)],
    now: Date.parse('2026-11-23T10:00:00Z'),
    modes: [],
    restores: [],
    events: [],
    approvalRequests: [],
    ...overrides,
  };
}

function named(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/** One handler per function key, over the world (AWS side) and the real domain (our side). */
function functions(world: World, settings: RolloutSettings): Record<string, (input: any) => unknown> {
  return {
    RolloutPreflightLambdaFunction: (input: PreflightInput) =>
      preflight({
        request: input.request,
        executionArn: input.executionArn,
        gateway: structuredClone(world.gateway),
        policyEngine: { policyEngineArn: ENGINE_ARN, status: world.engineStatus },
        policies: world.policies,
        runningExecutions: world.running,
        settings,
        eventBusName: 'autopilot-bus',
      }),
    RolloutApplyModeLambdaFunction: (input: ApplyModeInput) => {
      if (world.throttleApplyOnce) {
        world.throttleApplyOnce = false;
        throw new ThrottledError({ service: 'bedrock-agentcore-control', operation: 'UpdateGateway' });
      }
      const current = world.gateway.policyEngineConfiguration;
      const changed = current?.arn !== input.policyEngineArn || current?.mode !== input.mode;
      if (changed) {
        world.gateway.policyEngineConfiguration = { arn: input.policyEngineArn, mode: input.mode };
        world.modes.push(input.mode);
      }
      return startReadiness(new Date(world.now), input.readyTimeoutSeconds, changed);
    },
    RolloutCheckGatewayLambdaFunction: (input: CheckGatewayInput) => {
      world.now += 15_000;
      return assessReadiness({ ...input, status: world.statuses.shift() ?? 'READY', now: new Date(world.now) });
    },
    RolloutVerifyLambdaFunction: (input: VerifyInput) => {
      world.now += (input.stage === 'SHADOW' ? settings.bakeMinutes : settings.enforceBakeMinutes) * 60_000;
      const queue = input.stage === 'SHADOW' ? world.shadow : world.enforce;
      const current = queue.length > 1 ? queue.shift()! : queue[0];
      return verifyResult(input, current, windowForVerify(input, new Date(world.now)));
    },
    RolloutRestoreLambdaFunction: (input: RestoreInput) => {
      world.restores.push(input);
      if (world.failRestore) throw new AccessDeniedError({ service: 'bedrock-agentcore-control', operation: 'UpdateGateway' });
      if (world.tamperBeforeRestore) world.gateway.policyEngineConfiguration = { arn: OTHER_ENGINE_ARN, mode: 'LOG_ONLY' };
      const plan = planRestore(world.gateway, input.rollbackPoint, input.policyEngineArn);
      if (plan.change) {
        if (plan.report.to) world.gateway.policyEngineConfiguration = plan.report.to;
        else delete world.gateway.policyEngineConfiguration;
      }
      return { ...startReadiness(new Date(world.now), input.readyTimeoutSeconds, plan.change !== null), restore: plan.report };
    },
    RolloutPublishLambdaFunction: (input: PublishInput) => {
      world.events.push(input.state
        ? rolloutEvent(input.detailType as RolloutDetailType, { state: input.state, stage: input.stage })
        : preflightFailedEvent(input.failure!));
      return { published: true };
    },
  };
}

interface Run {
  result?: RolloutResult;
  error?: Error;
  entered: string[];
}

async function run(world: World, options: { settings?: Partial<RolloutSettings>; dryRun?: boolean } = {}): Promise<Run> {
  const settings = { ...SETTINGS, ...options.settings };
  const impl = functions(world, settings);
  const handlers: Record<string, (input: any) => Promise<any>> = {};
  const waits: Record<string, number> = {};
  const retries: Record<string, number> = {};
  for (const [name, state] of Object.entries(definition.States as Record<string, Json>)) {
    const logicalId = state.Resource?.['Fn::GetAtt']?.[0];
    if (logicalId) handlers[name] = async (input) => structuredClone(await impl[logicalId](structuredClone(input)));
    if (state.Type === 'Wait') waits[name] = 0;
    retries[name] = 0;
  }
  handlers.RequestApproval = async (input: Json) => {
    world.approvalRequests.push(input);
    await impl.RolloutPublishLambdaFunction(structuredClone(input.Payload));
    if (world.approval === 'reject') throw new ApprovalRejectedError('rejected by alice: too many denies');
    if (world.approval === 'timeout') throw named('States.Timeout', 'Task timed out');
    return { approved: true, by: 'alice' };
  };
  const name = rolloutExecutionName(GATEWAY_ID, ENGINE_ARN, 'ENFORCE', { dryRun: options.dryRun });
  const input = { gatewayId: GATEWAY_ID, policyEngineArn: ENGINE_ARN, dryRun: options.dryRun ?? false };
  const machine = new StateMachine(definition as never, { validationOptions: { noValidate: true } });
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: waits, retryIntervalOverrides: retries },
    context: {
      Execution: { Id: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`, Name: name, Input: input },
      Task: { Token: 'task-token-1' },
    },
  });
  const entered: string[] = [];
  const collect = (async () => {
    for await (const event of execution.eventLogs) if (event.type === 'StateEntered') entered.push(event.state.name);
  })();
  try {
    const result = (await execution.result) as unknown as RolloutResult;
    await collect;
    return { result, entered };
  } catch (error) {
    await collect.catch(() => undefined);
    // The library wraps the failure: the state machine's own error is the cause.
    return { error: ((error as Error).cause ?? error) as Error, entered };
  }
}

const detailTypes = (world: World) => world.events.map((e) => e.detailType);

describe('policy rollout routing', () => {
  it('enforces after a clean shadow and enforce bake, publishing every transition with figures', async () => {
    const world = newWorld({ statuses: ['UPDATING', 'UPDATING'] });
    const { result, error } = await run(world);
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ outcome: 'ENFORCED', changed: true, dryRun: false, gatewayId: GATEWAY_ID });
    expect(result!.rolloutId).toBe(rolloutExecutionName(GATEWAY_ID, ENGINE_ARN, 'ENFORCE'));
    expect(result!.shadow).toMatchObject({ verdict: 'PASS', decision: 'PROCEED', report: { decisions: 1000, denyRatio: 0.01 } });
    expect(result!.enforce).toMatchObject({ verdict: 'PASS', report: { denyRatio: 0.015 } });
    expect(world.modes).toEqual(['LOG_ONLY', 'ENFORCE']);
    expect(world.gateway.policyEngineConfiguration).toEqual({ arn: ENGINE_ARN, mode: 'ENFORCE' });
    expect(detailTypes(world)).toEqual([
      'Policy Rollout Started',
      'Policy Rollout Stage Passed',
      'Policy Rollout Stage Passed',
      'Policy Rollout Stage Passed',
      'Policy Rollout Enforced',
    ]);
    expect(world.events.slice(1, 4).map((e) => e.detail.stage)).toEqual(['LOG_ONLY_READY', 'SHADOW_VERIFIED', 'ENFORCE_READY']);
    expect(world.events[4].detail).toMatchObject({ outcome: 'ENFORCED', enforce: { report: { decisions: 1000 } } });
    expect(world.restores).toEqual([]);
  });

  it('uses the same number of transitions whatever the bake length', async () => {
    const short = await run(newWorld(), { settings: { bakeMinutes: 5, enforceBakeMinutes: 5 } });
    const long = await run(newWorld(), { settings: { bakeMinutes: 7 * 24 * 60, enforceBakeMinutes: 24 * 60 } });
    expect(short.result?.outcome).toBe('ENFORCED');
    expect(long.result?.outcome).toBe('ENFORCED');
    expect(long.entered).toEqual(short.entered);
    expect(short.entered.filter((s) => s === 'BakeShadow')).toHaveLength(1);
    expect(short.entered.filter((s) => s === 'BakeEnforce')).toHaveLength(1);
    expect(short.entered.length).toBeLessThanOrEqual(30);
  });

  it('skips the LOG_ONLY update when the engine is already attached in LOG_ONLY', async () => {
    const world = newWorld();
    world.gateway.policyEngineConfiguration = { arn: ENGINE_ARN, mode: 'LOG_ONLY' };
    const { result } = await run(world);
    expect(result?.outcome).toBe('ENFORCED');
    expect(world.modes).toEqual(['ENFORCE']);
  });

  it('halts in LOG_ONLY when the shadow deny ratio is too high, never enforcing', async () => {
    const world = newWorld({ shadow: [figures(800, 200)] });
    const { result } = await run(world);
    expect(result).toMatchObject({ outcome: 'HALTED_IN_LOG_ONLY', shadow: { verdict: 'FAIL', decision: 'STOP' } });
    expect(result!.shadow!.report.reasons.join()).toContain('denyRatio');
    expect(world.modes).toEqual(['LOG_ONLY']);
    expect(world.gateway.policyEngineConfiguration.mode).toBe('LOG_ONLY');
    expect(detailTypes(world).at(-1)).toBe('Policy Rollout Halted');
    expect(world.events.at(-1)!.detail).toMatchObject({ outcome: 'HALTED_IN_LOG_ONLY', shadow: { report: { denyRatio: 0.2 } } });
  });

  it('extends an inconclusive bake at most maxBakeExtensions times, then halts', async () => {
    const world = newWorld({ shadow: [figures(10, 0)] });
    const { result, entered } = await run(world);
    expect(result).toMatchObject({ outcome: 'HALTED_IN_LOG_ONLY', shadow: { verdict: 'INCONCLUSIVE', extensionsUsed: 2 } });
    expect(entered.filter((s) => s === 'BakeShadow')).toHaveLength(1 + SETTINGS.maxBakeExtensions);
    expect(world.modes).toEqual(['LOG_ONLY']);
  });

  it('proceeds once an extension brings enough decisions, the window keeping its start', async () => {
    const world = newWorld({ shadow: [figures(40, 0), figures(400, 4)] });
    const { result, entered } = await run(world);
    expect(result?.outcome).toBe('ENFORCED');
    expect(entered.filter((s) => s === 'BakeShadow')).toHaveLength(2);
    expect(result!.shadow).toMatchObject({ extensionsUsed: 1, window: { start: '2026-11-23T10:00:00.000Z' } });
  });

  it('rolls back to the recorded configuration when the ENFORCE deny ratio spikes', async () => {
    const world = newWorld({ enforce: [figures(900, 100)] });
    const before = structuredClone(world.gateway);
    const { result } = await run(world);
    expect(result).toMatchObject({
      outcome: 'ROLLED_BACK',
      enforce: { verdict: 'FAIL' },
      error: { Error: 'EnforceGatesFailedError' },
    });
    expect(world.restores).toHaveLength(1);
    expect(world.restores[0].rollbackPoint).toEqual({ policyEngineConfiguration: null });
    expect(world.gateway).toEqual(before);
    expect(result!.restore).toEqual({ action: 'restored', field: 'policyEngineConfiguration', from: { arn: ENGINE_ARN, mode: 'ENFORCE' }, to: null });
    expect(world.events.at(-1)).toMatchObject({
      detailType: 'Policy Rollout Rolled Back',
      detail: { outcome: 'ROLLED_BACK', error: { error: 'EnforceGatesFailedError' } },
    });
  });

  it('rolls back when the LOG_ONLY update ends UPDATE_UNSUCCESSFUL', async () => {
    const world = newWorld({ statuses: ['UPDATING', 'UPDATE_UNSUCCESSFUL'] });
    const { result } = await run(world);
    expect(result).toMatchObject({ outcome: 'ROLLED_BACK', error: { Error: 'GatewayUpdateFailedError' } });
    expect(world.modes).toEqual(['LOG_ONLY']);
    expect(world.gateway.policyEngineConfiguration).toBeUndefined();
  });

  it('rolls back when the gateway never becomes READY within the poll budget', async () => {
    // readyTimeoutMinutes 5 at 15 s per poll: the 20th poll reaches the deadline. Then READY again.
    const world = newWorld({ statuses: Array(20).fill('UPDATING') });
    const { result, error, entered } = await run(world);
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ outcome: 'ROLLED_BACK', error: { Error: 'ReadyTimeoutError' } });
    expect(entered.filter((s) => s === 'CheckLogOnlyReady')).toHaveLength(20);
    expect(world.restores).toHaveLength(1);
  });

  it('fails loudly when the gateway does not become READY after the restore either', async () => {
    const world = newWorld({ statuses: Array(100).fill('UPDATING') });
    const { error, entered } = await run(world);
    expect(error?.name).toBe('RollbackFailedError');
    expect(entered.filter((s) => s === 'CheckRestoredReady').length).toBeLessThanOrEqual(21);
    expect(world.events.at(-1)!.detail).toMatchObject({ outcome: 'ROLLBACK_FAILED', error: { error: 'ReadyTimeoutError' } });
  });

  it('retries a throttled update and carries on', async () => {
    const world = newWorld({ throttleApplyOnce: true });
    const { result } = await run(world);
    expect(result?.outcome).toBe('ENFORCED');
  });

  it('fails the execution loudly with RollbackFailedError when the restore fails', async () => {
    const world = newWorld({ enforce: [figures(0, 1000)], failRestore: true });
    const { error } = await run(world);
    expect(error?.name).toBe('RollbackFailedError');
    expect(error?.message).toContain('ROLLBACK_FAILED');
    expect(world.events.at(-1)).toMatchObject({
      detailType: 'Policy Rollout Rolled Back',
      detail: { outcome: 'ROLLBACK_FAILED', stage: 'ROLLBACK_FAILED', error: { error: 'AccessDeniedError' } },
    });
  });

  describe('approval', () => {
    const approval = { approval: { required: true, timeoutMinutes: 30 } };

    it('waits for approval (the token to rolloutPublish, not into the event) with the shadow figures, then enforces', async () => {
      const world = newWorld({ approval: 'approve' });
      const { result } = await run(world, { settings: approval });
      expect(result).toMatchObject({ outcome: 'ENFORCED', approval: { approved: true, answer: { by: 'alice' } } });
      // rolloutPublish gets the token in its payload; the event it publishes has none.
      const payload = world.approvalRequests[0].Payload;
      expect(payload).toMatchObject({ detailType: 'Policy Rollout Awaiting Approval', taskToken: 'task-token-1', approvalTimeoutSeconds: 1800 });
      const event = world.events.find((e) => e.detailType === 'Policy Rollout Awaiting Approval')!;
      expect(event.detail).not.toHaveProperty('taskToken');
      expect(event.detail).toMatchObject({ stage: 'AWAITING_APPROVAL', approvalTimeoutSeconds: 1800, shadow: { verdict: 'PASS', report: { decisions: 1000 } } });
    });

    it.each([
      ['reject', 'ApprovalRejectedError'],
      ['timeout', 'States.Timeout'],
    ] as const)('aborts without enforcing when the approver answers %s', async (answer, errorName) => {
      const world = newWorld({ approval: answer });
      const { result } = await run(world, { settings: approval });
      expect(result).toMatchObject({ outcome: 'ABORTED', approval: { Error: errorName } });
      expect(world.modes).toEqual(['LOG_ONLY']);
      expect(world.restores).toEqual([]);
      expect(world.events.at(-1)).toMatchObject({ detailType: 'Policy Rollout Aborted', detail: { outcome: 'ABORTED' } });
    });
  });

  describe('dry run', () => {
    it.each([
      [figures(990, 10), 'WOULD_PROMOTE'],
      [figures(500, 500), 'WOULD_HALT'],
      [figures(1, 0), 'WOULD_HALT'],
    ])('reports the verdict on the current window and changes nothing (%#)', async (shadow, outcome) => {
      const world = newWorld({ shadow: [shadow] });
      const before = structuredClone(world.gateway);
      const { result } = await run(world, { dryRun: true });
      expect(result).toMatchObject({ outcome, dryRun: true });
      expect(result!.shadow!.decision).not.toBe('EXTEND');
      expect(world.gateway).toEqual(before);
      expect(world.modes).toEqual([]);
      expect(world.events).toEqual([]);
    });
  });

  describe('preflight refusals', () => {
    it('refuses while another rollout of the gateway is running, changing nothing', async () => {
      const other = rolloutExecutionName(GATEWAY_ID, ENGINE_ARN, 'ENFORCE', { attempt: 'earlier' });
      const world = newWorld({ running: [{ name: other, executionArn: `arn:aws:states:us-east-1:123456789012:execution:policy-rollout:${other}` }] });
      const { error } = await run(world);
      expect(error?.name).toBe('RolloutInProgressError');
      expect(world.modes).toEqual([]);
    });

    it('reports an already enforced engine without touching it', async () => {
      const world = newWorld();
      world.gateway.policyEngineConfiguration = { arn: ENGINE_ARN, mode: 'ENFORCE' };
      const { result } = await run(world);
      expect(result).toMatchObject({ outcome: 'ENFORCED', changed: false });
      expect(world.modes).toEqual([]);
    });

    it.each([
      [{ engineStatus: 'UPDATING' }, 'PolicyEngineNotActiveError'],
      [{ gateway: { ...newWorld().gateway, status: 'UPDATING' } }, 'GatewayNotReadyError'],
    ])('fails with a named error (%#)', async (overrides, name) => {
      const world = newWorld(overrides);
      const { error } = await run(world);
      expect(error?.name).toBe(name);
      expect(world.modes).toEqual([]);
    });
  });
});

describe('every terminal path publishes exactly one outcome event', () => {
  /** Each way out of the state machine, with a world that takes it (a dry run publishes nothing by design). */
  const paths: { name: string; world: () => World; dryRun?: boolean; terminal: string; outcome: string | null }[] = [
    { name: 'enforced', world: () => newWorld(), terminal: 'Enforced', outcome: 'ENFORCED' },
    { name: 'already enforced', world: () => newWorld({ gateway: { ...newWorld().gateway, policyEngineConfiguration: { arn: ENGINE_ARN, mode: 'ENFORCE' } } }), terminal: 'Enforced', outcome: 'ENFORCED' },
    { name: 'halted in LOG_ONLY', world: () => newWorld({ shadow: [figures(500, 500)] }), terminal: 'HaltedInLogOnly', outcome: 'HALTED_IN_LOG_ONLY' },
    { name: 'rolled back', world: () => newWorld({ enforce: [figures(900, 100)] }), terminal: 'RolledBack', outcome: 'ROLLED_BACK' },
    { name: 'conflict', world: () => newWorld({ enforce: [figures(900, 100)], tamperBeforeRestore: true }), terminal: 'Conflict', outcome: 'CONFLICT' },
    { name: 'approval rejected', world: () => newWorld({ approval: 'reject' }), terminal: 'Aborted', outcome: 'ABORTED' },
    { name: 'preflight refused', world: () => newWorld({ engineStatus: 'CREATING' }), terminal: 'FailPreflight', outcome: 'FAILED' },
    { name: 'rollback failed', world: () => newWorld({ enforce: [figures(900, 100)], failRestore: true }), terminal: 'FailRollback', outcome: 'ROLLBACK_FAILED' },
    { name: 'dry run', world: () => newWorld(), dryRun: true, terminal: 'DryRunFinished', outcome: null },
  ];
  const terminals = Object.entries(definition.States as Record<string, Json>).filter(([, st]) => st.Type === 'Succeed' || st.Type === 'Fail').map(([n]) => n);

  it('covers every Succeed and Fail state of the ASL', () => {
    expect(new Set(paths.map((p) => p.terminal))).toEqual(new Set(terminals));
  });

  it.each(paths)('$name -> $terminal', async (p) => {
    const world = p.world();
    const settings = p.name === 'approval rejected' ? { approval: { required: true, timeoutMinutes: 60 } } : {};
    const { entered } = await run(world, { dryRun: p.dryRun, settings });
    expect(entered.at(-1)).toBe(p.terminal);
    const outcomes = world.events.filter((e) => e.detail.outcome !== null);
    if (p.outcome === null) expect(world.events).toEqual([]);
    else expect(outcomes.map((e) => e.detail.outcome)).toEqual([p.outcome]);
  });
});

