import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ServiceUnavailableError, ThrottledError } from '../../functions/lib/errors.ts';
import {
  AlarmNotOkError,
  EndpointUpdateFailedError,
  RollbackFailedError,
  RuntimeVersionFailedError,
} from '../../functions/domain/redeploy/errors.ts';
import { PROMOTION_FUNCTION_KEYS, lambdaLogicalId, type PromotionInput } from '../../functions/domain/redeploy/promotion.ts';

// ---- the definition, with Fn::GetAtt resolved to placeholder ARNs -------------------------

interface State { Type: string; Resource?: unknown; ItemProcessor?: { States: Record<string, State> }; [k: string]: unknown }
const raw = parse(readFileSync(new URL('../../statemachines/runtime-promotion.asl.yaml', import.meta.url), 'utf8'));

function resolveGetAtt(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolveGetAtt);
  if (typeof value !== 'object' || value === null) return value;
  const obj = value as Record<string, unknown>;
  if (Array.isArray(obj['Fn::GetAtt'])) return `arn:aws:lambda:us-east-1:123456789012:function:${(obj['Fn::GetAtt'] as string[])[0]}`;
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, resolveGetAtt(v)]));
}
const definition = resolveGetAtt(raw) as { States: Record<string, State> };

const keyByLogicalId = new Map(Object.values(PROMOTION_FUNCTION_KEYS).map((k) => [lambdaLogicalId(k), k]));
const taskFunction = new Map<string, string>(); // state name -> function key
const waitStates: string[] = [];
(function walk(states: Record<string, State>) {
  for (const [name, s] of Object.entries(states)) {
    if (s.Type === 'Task') taskFunction.set(name, keyByLogicalId.get(String(s.Resource).split(':').at(-1)!)!);
    if (s.Type === 'Wait') waitStates.push(name);
    if (s.ItemProcessor) walk(s.ItemProcessor.States);
  }
})(definition.States);

// ---- a fake AgentCore / CloudWatch / EventBridge world behind the six functions -----------

interface Endpoint { live: string; status: string; target?: string; checksUntilLive: number }
interface WorldOptions {
  runtimeStatuses?: string[];
  alarmState?: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  endpoints?: Record<string, string>;
  settleChecks?: number;
  failMove?: string[];
  neverLive?: string[];
  failRollback?: boolean;
  failRestore?: boolean;
  throttleFirstRuntimeCheck?: boolean;
  unavailableFirstRuntimeCheck?: boolean;
  supersededRollback?: boolean;
  failReport?: boolean;
}

function world(opts: WorldOptions = {}) {
  const statuses = [...(opts.runtimeStatuses ?? ['READY'])];
  const endpoints: Record<string, Endpoint> = Object.fromEntries(
    Object.entries(opts.endpoints ?? { prod: '3' }).map(([n, v]) => [n, { live: v, status: 'READY', checksUntilLive: 0 }]),
  );
  const calls: { fn: string; input: any }[] = [];
  let throttled = false;
  let restoring = false;
  const fns: Record<string, (input: any) => unknown> = {
    promotionCheckRuntime: () => {
      if (opts.throttleFirstRuntimeCheck && !throttled) {
        throttled = true;
        throw new ThrottledError({ service: 'bedrock-agentcore-control', operation: 'GetAgentRuntime', awsErrorName: 'ThrottlingException' });
      }
      if (opts.unavailableFirstRuntimeCheck && !throttled) {
        throttled = true;
        throw new ServiceUnavailableError({ service: 'bedrock-agentcore-control', operation: 'GetAgentRuntime', awsErrorName: 'InternalServerException' });
      }
      const status = statuses.length > 1 ? statuses.shift()! : statuses[0];
      if (status.endsWith('_FAILED')) throw new RuntimeVersionFailedError(`version ended in ${status}`);
      return { status };
    },
    promotionCheckAlarms: () => {
      if ((opts.alarmState ?? 'OK') !== 'OK') throw new AlarmNotOkError(`alarm is ${opts.alarmState}`);
      return { state: 'OK' };
    },
    promotionMoveEndpoint: ({ endpointName, targetVersion }) => {
      const ep = endpoints[endpointName];
      if (restoring && opts.failRestore) throw new EndpointUpdateFailedError('restore failed');
      if (opts.failMove?.includes(endpointName) && !restoring) {
        restoring = true; // every later move is a restore
        throw new EndpointUpdateFailedError(`endpoint ${endpointName} update failed`);
      }
      if (ep.live !== targetVersion) Object.assign(ep, { target: targetVersion, status: 'UPDATING', checksUntilLive: opts.settleChecks ?? 1 });
      return { endpointName, targetVersion };
    },
    promotionCheckEndpoint: ({ endpointName }) => {
      const ep = endpoints[endpointName];
      if (ep.target !== undefined && !(opts.neverLive ?? []).includes(endpointName)) {
        if (ep.checksUntilLive > 0) ep.checksUntilLive -= 1;
        else Object.assign(ep, { live: ep.target, status: 'READY', target: undefined });
      }
      return { endpointName, status: ep.status, liveVersion: ep.live, ...(ep.target ? { targetVersion: ep.target } : {}) };
    },
    promotionRollback: ({ failedVersion }) => {
      if (opts.failRollback) throw new RollbackFailedError('rollback failed');
      if (opts.supersededRollback) return { superseded: true, liveVersion: String(Number(failedVersion) + 1) };
      return { rolledBackVersion: String(Number(failedVersion) + 1) };
    },
    promotionReport: () => {
      if (opts.failReport) throw new Error('PutEvents down');
      return {};
    },
  };
  return { endpoints, calls, fns };
}

const input = (over: Partial<PromotionInput> = {}): PromotionInput => ({
  runtimeId: 'agent_one-abcdefghij',
  newVersion: '4',
  previousVersion: '3',
  previousUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/agent@sha256:' + 'a'.repeat(64),
  newUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/agent@sha256:' + 'b'.repeat(64),
  endpoints: ['prod'],
  alarms: [],
  rollbackOnFailure: true,
  timeoutSeconds: 60,
  pollSeconds: 15,
  firstPollSeconds: 2,
  fastPollSeconds: 0,
  ...over,
});

async function run(w: ReturnType<typeof world>, promotionInput: PromotionInput) {
  const taskResourceLocalHandlers: Record<string, (i: any) => Promise<any>> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [state, fn] of taskFunction) {
    taskResourceLocalHandlers[state] = async (i) => {
      w.calls.push({ fn, input: i });
      return w.fns[fn](i);
    };
    retryIntervalOverrides[state] = 0;
  }
  const waitTimeOverrides = Object.fromEntries(waitStates.map((s) => [s, 0]));
  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false, checkPaths: true } });
  const execution = machine.run(promotionInput as never, { overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides } });
  return (await execution.result) as Record<string, unknown>;
}

const calledFns = (w: ReturnType<typeof world>) => w.calls.map((c) => c.fn);
const reports = (w: ReturnType<typeof world>) => w.calls.filter((c) => c.fn === 'promotionReport').map((c) => c.input.outcome);

// ---- behaviour ----------------------------------------------------------------------------

describe('runtime-promotion state machine', () => {
  it('endpoints [] (a runtime without promote): waits for READY and reports PROMOTED without touching an endpoint', async () => {
    const w = world({ runtimeStatuses: ['UPDATING', 'READY'] });
    const out = await run(w, input({ endpoints: [], rollbackOnFailure: false }));
    expect(out).toEqual({ outcome: 'PROMOTED', runtimeId: 'agent_one-abcdefghij', version: '4', previousVersion: '3', endpoints: [] });
    expect(calledFns(w)).toEqual(['promotionCheckRuntime', 'promotionCheckRuntime', 'promotionReport']);
  });

  it('endpoints [] and a failed version: reports FAILED, no rollback (rollbackOnFailure false)', async () => {
    const w = world({ runtimeStatuses: ['UPDATING', 'UPDATE_FAILED'] });
    const out = await run(w, input({ endpoints: [], rollbackOnFailure: false }));
    expect(out).toMatchObject({ outcome: 'FAILED', failedVersion: '4', endpoints: [], error: 'RuntimeVersionFailedError' });
    expect(calledFns(w)).toEqual(['promotionCheckRuntime', 'promotionCheckRuntime', 'promotionReport']);
    expect(reports(w)).toEqual(['FAILED']);
  });

  it('waits for READY, checks alarms, moves each endpoint in order and reports PROMOTED', async () => {
    const w = world({ runtimeStatuses: ['UPDATING', 'UPDATING', 'READY'], endpoints: { prod: '3', staging: '2' } });
    const out = await run(w, input({ endpoints: ['prod', 'staging'], alarms: ['agent-errors'] }));

    expect(out).toEqual({ outcome: 'PROMOTED', runtimeId: 'agent_one-abcdefghij', version: '4', previousVersion: '3', endpoints: ['prod', 'staging'] });
    expect(calledFns(w).filter((f) => f === 'promotionCheckRuntime')).toHaveLength(3);
    expect(w.calls.find((c) => c.fn === 'promotionCheckAlarms')?.input).toEqual({ runtimeId: 'agent_one-abcdefghij', alarms: ['agent-errors'] });
    const moves = w.calls.filter((c) => c.fn === 'promotionMoveEndpoint').map((c) => c.input);
    expect(moves).toEqual([
      { runtimeId: 'agent_one-abcdefghij', endpointName: 'prod', targetVersion: '4' },
      { runtimeId: 'agent_one-abcdefghij', endpointName: 'staging', targetVersion: '4' },
    ]);
    expect(w.endpoints.prod.live).toBe('4');
    expect(w.endpoints.staging.live).toBe('4');
    expect(reports(w)).toEqual(['PROMOTED']);
    expect(calledFns(w)).not.toContain('promotionRollback');
  });

  it('skips the alarm check when the rule names no alarms', async () => {
    const w = world();
    const out = await run(w, input());
    expect(out.outcome).toBe('PROMOTED');
    expect(calledFns(w)).not.toContain('promotionCheckAlarms');
  });

  it('rolls the artifact back and leaves endpoints untouched when the version ends UPDATE_FAILED', async () => {
    const w = world({ runtimeStatuses: ['UPDATING', 'UPDATE_FAILED'] });
    const out = await run(w, input());
    expect(out).toMatchObject({ outcome: 'ROLLED_BACK', failedVersion: '4', rolledBackVersion: '5', error: 'RuntimeVersionFailedError' });
    expect(calledFns(w)).not.toContain('promotionMoveEndpoint');
    expect(w.calls.find((c) => c.fn === 'promotionRollback')?.input).toEqual({
      runtimeId: 'agent_one-abcdefghij',
      previousUri: input().previousUri,
      failedVersion: '4',
      previousVersion: '3',
      failedUri: input().newUri,
    });
    expect(w.endpoints.prod.live).toBe('3');
    expect(reports(w)).toEqual(['ROLLED_BACK']);
  });

  it('times out after timeoutSeconds of waiting and reports FAILED without rollback when not asked to', async () => {
    const w = world({ runtimeStatuses: ['UPDATING'] });
    const out = await run(w, input({ rollbackOnFailure: false, timeoutSeconds: 60, pollSeconds: 15 }));
    expect(out).toMatchObject({ outcome: 'FAILED', error: 'PromotionTimeoutError' });
    // No fast polls: a first wait of 2 s, then 4, 8 and 15 s: checks at 2, 6, 14, 29, 44, 59 and 74 s of waiting, then gives up.
    expect(calledFns(w).filter((f) => f === 'promotionCheckRuntime')).toHaveLength(7);
    expect(calledFns(w)).not.toContain('promotionRollback');
    expect(reports(w)).toEqual(['FAILED']);
  });

  it('polls every firstPollSeconds during fastPollSeconds, then doubles the wait up to pollSeconds', async () => {
    const w = world({ runtimeStatuses: ['UPDATING'] });
    const out = await run(w, input({ rollbackOnFailure: false, timeoutSeconds: 30, pollSeconds: 15, firstPollSeconds: 2, fastPollSeconds: 10 }));
    expect(out).toMatchObject({ outcome: 'FAILED', error: 'PromotionTimeoutError' });
    // Checks at 2, 4, 6, 8, 10 (fast; never at 0: a new version is not READY yet), 14, 22 (doubling), 37 (15 s, past the 30 s budget).
    expect(calledFns(w).filter((f) => f === 'promotionCheckRuntime')).toHaveLength(8);
  });

  it('does not promote when an alarm is not OK', async () => {
    const w = world({ alarmState: 'INSUFFICIENT_DATA' });
    const out = await run(w, input({ alarms: ['agent-errors'] }));
    expect(out).toMatchObject({ outcome: 'ROLLED_BACK', error: 'AlarmNotOkError' });
    expect(calledFns(w)).not.toContain('promotionMoveEndpoint');
  });

  it('returns already-moved endpoints to the version each served before when a later endpoint fails', async () => {
    const w = world({ endpoints: { prod: '3', staging: '2' }, failMove: ['staging'] });
    const out = await run(w, input({ endpoints: ['prod', 'staging'] }));
    expect(out).toMatchObject({ outcome: 'ROLLED_BACK', error: 'EndpointUpdateFailedError' });
    const moves = w.calls.filter((c) => c.fn === 'promotionMoveEndpoint').map((c) => [c.input.endpointName, c.input.targetVersion]);
    expect(moves).toEqual([
      ['prod', '4'],
      ['staging', '4'],
      ['prod', '3'],
      ['staging', '2'],
    ]);
    expect(w.endpoints.prod.live).toBe('3');
    expect(w.endpoints.staging.live).toBe('2');
  });

  it('treats an endpoint that never goes live as a timeout and restores it', async () => {
    const w = world({ neverLive: ['prod'] });
    const out = await run(w, input({ rollbackOnFailure: false }));
    expect(out).toMatchObject({ outcome: 'FAILED', error: 'PromotionTimeoutError' });
    expect(w.calls.filter((c) => c.fn === 'promotionMoveEndpoint').map((c) => c.input.targetVersion)).toEqual(['4', '3']);
  });

  it('reports FAILED when the artifact rollback itself fails', async () => {
    const w = world({ runtimeStatuses: ['CREATE_FAILED'], failRollback: true });
    const out = await run(w, input());
    expect(out).toMatchObject({ outcome: 'FAILED', error: 'RuntimeVersionFailedError' });
    const report = w.calls.find((c) => c.fn === 'promotionReport')!.input;
    expect(report.promotion.rollbackError.Error).toBe('RollbackFailedError');
  });

  it('reports FAILED, not ROLLED_BACK, when an endpoint could not be restored', async () => {
    const w = world({ endpoints: { prod: '3', staging: '2' }, failMove: ['staging'], failRestore: true });
    const out = await run(w, input({ endpoints: ['prod', 'staging'] }));
    expect(out).toMatchObject({ outcome: 'FAILED', error: 'EndpointUpdateFailedError' });
    expect(calledFns(w)).toContain('promotionRollback');
  });

  it('retries a throttled task', async () => {
    const w = world({ throttleFirstRuntimeCheck: true });
    const out = await run(w, input());
    expect(out.outcome).toBe('PROMOTED');
  });

  it('retries a task whose service was unavailable (ServiceUnavailableError), like the policy rollout', async () => {
    const w = world({ unavailableFirstRuntimeCheck: true });
    const out = await run(w, input());
    expect(out.outcome).toBe('PROMOTED');
    expect(calledFns(w).filter((f) => f === 'promotionCheckRuntime')).toHaveLength(2);
  });

  it('a superseded rollback (a newer deployment is live) is reported FAILED, not ROLLED_BACK', async () => {
    const w = world({ runtimeStatuses: ['UPDATE_FAILED'], supersededRollback: true });
    const out = await run(w, input());
    expect(out).toMatchObject({ outcome: 'FAILED', failedVersion: '4', error: 'RuntimeVersionFailedError' });
    expect(reports(w)).toEqual(['FAILED']);
    const report = w.calls.find((c) => c.fn === 'promotionReport')!.input;
    expect(report.promotion.rollback).toEqual({ superseded: true, liveVersion: '5' });
  });

  it('keeps the outcome when publishing the report fails', async () => {
    const w = world({ failReport: true });
    const out = await run(w, input());
    expect(out.outcome).toBe('PROMOTED');
    expect(w.endpoints.prod.live).toBe('4');
  });
});
