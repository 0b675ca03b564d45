/**
 * The error names the REAL rollout task handlers throw (invoked through the stack's Lambda runner,
 * against the emulator) are the names statemachines/policy-rollout.asl.yaml matches in its
 * Retry/Catch `ErrorEquals`, and every custom name the ASL uses is one some code produces.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { UpdateGatewayCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { ROLLOUT_OWN_ERROR_NAMES, ApprovalRejectedError } from '../../../functions/domain/rollout/errors.ts';
import { rolloutExecutionName } from '../../../functions/domain/rollout/execution-name.ts';
import type { RolloutState } from '../../../functions/domain/rollout/contract.ts';
import { ENGINE_ARN, GATEWAY_ID, exampleSeed, liveGateway, rolloutStack, type RolloutStack } from '../../e2e/rollout-fixture.ts';
import { GatedClock } from '../../e2e/rollout-fixture.ts';

type Json = Record<string, any>;
const asl: Json = parse(readFileSync(new URL('../../../statemachines/policy-rollout.asl.yaml', import.meta.url), 'utf8'));

/** state name -> {retry: names, catch: names}, walking Parallel branches too. */
function errorMatchers(states: Record<string, Json>, out: Record<string, { retry: string[]; catch: string[] }> = {}) {
  for (const [name, s] of Object.entries(states)) {
    out[name] = {
      retry: (s.Retry ?? []).flatMap((r: Json) => r.ErrorEquals),
      catch: (s.Catch ?? []).flatMap((c: Json) => c.ErrorEquals),
    };
    for (const b of s.Branches ?? []) errorMatchers(b.States, out);
  }
  return out;
}
const matchers = errorMatchers(asl.States);
const customNames = new Set(
  [
    ...Object.values(matchers).flatMap((m) => [...m.retry, ...m.catch]),
    ...Object.values(asl.States as Record<string, Json>).flatMap((s) => [s.Error, s.Result?.Error]),
  ].filter((n): n is string => typeof n === 'string' && !n.startsWith('States.') && !n.startsWith('Lambda.')),
);

/** The ASL state a handler runs in (by function key). */
function statesOf(functionKey: string): string[] {
  const logicalId = `${functionKey.charAt(0).toUpperCase()}${functionKey.slice(1)}LambdaFunction`;
  return Object.entries(asl.States as Record<string, Json>).filter(([, s]) => s.Resource?.['Fn::GetAtt']?.[0] === logicalId).map(([n]) => n);
}

/** How the ASL treats `error` in every state running `functionKey`: retried, caught by name, or only by States.ALL / not at all. */
function handling(functionKey: string, error: string): string[] {
  return statesOf(functionKey).map((state) => {
    const m = matchers[state];
    if (m.retry.includes(error)) return 'retry';
    if (m.catch.includes(error)) return 'catch';
    if (m.catch.includes('States.ALL')) return 'catch-all';
    return 'fail';
  });
}

const thrown = new Map<string, string>();
let r: RolloutStack;
let clock: GatedClock;

async function errorOf(functionKey: string, event: unknown): Promise<string> {
  try {
    await r.stack.lambda.invoke(functionKey, event);
  } catch (err) {
    thrown.set((err as Error).name, functionKey);
    return (err as Error).name;
  }
  throw new Error(`${functionKey} did not fail`);
}

async function preflightState(): Promise<RolloutState> {
  const name = rolloutExecutionName(GATEWAY_ID, ENGINE_ARN, 'ENFORCE', { attempt: 'probe' });
  return (await r.stack.lambda.invoke('rolloutPreflight', {
    request: { gatewayId: GATEWAY_ID, policyEngineArn: ENGINE_ARN },
    executionArn: `${r.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
  })) as RolloutState;
}

beforeAll(async () => {
  // Time only moves when the test moves it (the gate is never hit).
  clock = new GatedClock(-1);
  clock.inner.setMode('manual');
  r = await rolloutStack({
    clock,
    seed: exampleSeed((s) => { (s.settings as any).failingGatewayPolicyEngines = [{ arn: ENGINE_ARN, mode: 'ENFORCE' }]; }),
  });
});
afterAll(async () => {
  await r.close();
});

describe('rollout handler error names <-> ASL ErrorEquals', () => {
  it('preflight: bad input, missing engine, gateway not READY', async () => {
    const executionArn = `${r.stateMachineArn.replace(':stateMachine:', ':execution:')}:x`;
    expect(await errorOf('rolloutPreflight', { request: { gatewayId: 'bad id!', policyEngineArn: ENGINE_ARN }, executionArn })).toBe('InvalidRolloutInputError');
    expect(await errorOf('rolloutPreflight', {
      request: { gatewayId: GATEWAY_ID, policyEngineArn: ENGINE_ARN.replace('supportPolicies-u1v2w3x4y5', 'missingPolicies-a1a1a1a1a1') }, executionArn,
    })).toBe('PolicyEngineNotActiveError');
    // Another engine enforced on the gateway: refused.
    const billing = 'gw-billing-p6q7r8s9t0';
    const live = await liveGateway(r, billing);
    const otherEngine = (live.policyEngineConfiguration as { arn: string }).arn;
    await r.agentCore.send(new UpdateGatewayCommand({
      gatewayIdentifier: billing, name: live.name as string, roleArn: live.roleArn as string, authorizerType: 'AWS_IAM', protocolType: 'MCP',
      policyEngineConfiguration: { arn: otherEngine, mode: 'ENFORCE' }, exceptionLevel: 'DEBUG', description: 'Billing tools',
      protocolConfiguration: live.protocolConfiguration as never,
    }));
    expect(await errorOf('rolloutPreflight', { request: { gatewayId: billing, policyEngineArn: ENGINE_ARN }, executionArn })).toBe('GatewayNotReadyError');
    await clock.inner.advance(60_000);
    expect(await errorOf('rolloutPreflight', { request: { gatewayId: billing, policyEngineArn: ENGINE_ARN }, executionArn })).toBe('PolicyEngineConflictError');
    // The preflight publishes Policy Rollout Failed and fails the execution with the same name
    // (caught by States.ALL); a gateway that is still UPDATING is waited for (retried).
    for (const name of ['InvalidRolloutInputError', 'PolicyEngineNotActiveError', 'PolicyEngineConflictError', 'NoPermittingPolicyError']) {
      expect(handling('rolloutPreflight', name)).toEqual(['catch-all']);
    }
    expect(handling('rolloutPreflight', 'GatewayNotReadyError')).toEqual(['retry']);
    expect(asl.States.FailPreflight).toMatchObject({ Type: 'Fail', ErrorPath: '$.preflightError.Error' });
  });

  it('readiness: UPDATE_UNSUCCESSFUL and the poll budget', async () => {
    const state = await preflightState();
    const progress = (await r.stack.lambda.invoke('rolloutApplyMode', {
      gatewayId: GATEWAY_ID, policyEngineArn: ENGINE_ARN, mode: 'ENFORCE', readyTimeoutSeconds: 900,
    })) as { deadline: string; attempt: number; changed: boolean };
    expect(progress).toMatchObject({ attempt: 0, changed: true });
    expect(await errorOf('rolloutCheckGateway', { gatewayId: GATEWAY_ID, attempt: 5, deadline: progress.deadline, maxAttempts: 6 })).toBe('ReadyTimeoutError');
    await clock.inner.advance(60_000);
    expect(await errorOf('rolloutCheckGateway', { gatewayId: GATEWAY_ID, attempt: 0, deadline: progress.deadline, maxAttempts: 6 })).toBe('GatewayUpdateFailedError');
    // Both go to the rollback path (the readiness checks are all caught to RestoreRollbackPoint).
    expect(handling('rolloutCheckGateway', 'GatewayUpdateFailedError').every((h) => h === 'catch-all')).toBe(true);
    expect(statesOf('rolloutCheckGateway')).toHaveLength(3);

    // The real restore puts the recorded configuration back.
    await r.stack.lambda.invoke('rolloutRestore', { gatewayId: GATEWAY_ID, policyEngineArn: ENGINE_ARN, rollbackPoint: state.rollout.rollbackPoint, readyTimeoutSeconds: 900 });
    await clock.inner.advance(60_000);
    const live = await liveGateway(r);
    expect(live.status).toBe('READY');
    expect(live.policyEngineConfiguration).toEqual(state.rollout.rollbackPoint.policyEngineConfiguration);
  });

  it('AWS throttling, outages and conflicts surface as the retried adapter errors', async () => {
    r.stack.emulator.faults.addRule({ operation: 'GetGateway', error: { type: 'ThrottlingException', status: 429, count: 10 } });
    expect(await errorOf('rolloutCheckGateway', { gatewayId: GATEWAY_ID, attempt: 0, deadline: new Date(clock.now() + 60_000).toISOString(), maxAttempts: 6 })).toBe('ThrottledError');
    r.stack.emulator.faults.clear();
    r.stack.emulator.faults.addRule({ operation: 'GetMetricData', error: { type: 'InternalServiceError', status: 500, count: 10 } });
    const state = await preflightState();
    expect(await errorOf('rolloutVerify', { stage: 'SHADOW', gatewayArn: state.rollout.gatewayArn, policyEngineArn: ENGINE_ARN, settings: state.rollout.settings, dryRun: true }))
      .toBe('ServiceUnavailableError');
    r.stack.emulator.faults.clear();
    r.stack.emulator.faults.forceConflicts('UpdateGateway', 10);
    expect(await errorOf('rolloutApplyMode', { gatewayId: GATEWAY_ID, policyEngineArn: ENGINE_ARN, mode: 'ENFORCE', readyTimeoutSeconds: 900 })).toBe('ConflictError');
    r.stack.emulator.faults.clear();

    for (const key of ['rolloutCheckGateway', 'rolloutVerify', 'rolloutApplyMode', 'rolloutPreflight', 'rolloutPublish']) {
      expect({ key, handling: handling(key, 'ThrottledError') }).toEqual({ key, handling: statesOf(key).map(() => 'retry') });
      expect({ key, handling: handling(key, 'ServiceUnavailableError') }).toEqual({ key, handling: statesOf(key).map(() => 'retry') });
    }
    expect(handling('rolloutApplyMode', 'ConflictError')).toEqual(['retry', 'retry']);
    expect(handling('rolloutRestore', 'ConflictError')).toEqual(['retry']);
  });

  it('every custom name in the ASL is produced by a handler, the ASL itself, or `rollout reject`', () => {
    // Names the ASL raises itself (Pass into the rollback path, the final Fail state).
    const raisedByAsl = new Set(Object.values(asl.States as Record<string, Json>).flatMap((s) => [s.Error, s.Result?.Error]).filter(Boolean));
    const accounted = new Set([...thrown.keys(), ...raisedByAsl, new ApprovalRejectedError('x').name]);
    expect([...customNames].filter((n) => !accounted.has(n))).toEqual([]);
    // And every name a handler threw above is a declared rollout or adapter error the ASL knows.
    for (const name of thrown.keys()) {
      expect({ name, known: customNames.has(name) || (ROLLOUT_OWN_ERROR_NAMES as readonly string[]).includes(name) }).toEqual({ name, known: true });
    }
    expect(raisedByAsl).toEqual(new Set(['EnforceGatesFailedError', 'ReadyTimeoutError', 'RollbackFailedError']));
  });
});
