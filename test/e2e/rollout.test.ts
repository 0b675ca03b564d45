/**
 * Policy rollout end to end: the real startRollout Lambda starts the real state machine
 * (serverless.yml + statemachines/policy-rollout.asl.yaml) whose tasks are the real handlers, all
 * against the local stack (AgentCore emulator, CloudWatch, EventBridge, Step Functions). Bakes of
 * hours pass on the stack's virtual clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import type { RolloutState } from '../../functions/domain/rollout/contract.ts';
import { GATEWAY_GET_ONLY_FIELDS } from '../../functions/domain/gateway-update.ts';
import {
  ENGINE_ARN, GATEWAY_ARN, GATEWAY_ID, exampleSeed, finished, gatewayUpdates, liveGateway, rolloutEvents, rolloutStack,
  scriptTraffic, type RolloutStack,
} from './rollout-fixture.ts';

let r: RolloutStack | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

async function start(stack: RolloutStack, request: Record<string, unknown> = {}): Promise<string> {
  const result = (await stack.stack.lambda.invoke('startRollout', { gatewayId: GATEWAY_ID, ...request })) as { status: string; executionArn: string };
  expect(result.status).toBe('STARTED');
  return result.executionArn;
}

async function preflightState(stack: RolloutStack, executionArn: string): Promise<RolloutState> {
  const { events } = await stack.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  const exited = events!.find((e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'RunPreflight');
  return JSON.parse(exited!.stateExitedEventDetails!.output!) as RolloutState;
}

async function statesEntered(stack: RolloutStack, executionArn: string): Promise<string[]> {
  const { events } = await stack.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return events!.filter((e) => e.type?.endsWith('StateEntered')).map((e) => e.stateEnteredEventDetails!.name!);
}

describe('policy rollout on the local stack', () => {
  it('pass path: LOG_ONLY bake passes, ENFORCE bake passes -> ENFORCED, every transition published with figures', async () => {
    r = await rolloutStack();
    scriptTraffic(r.stack, { allowed: 10, denied: 0.1 });
    const t0 = r.stack.clock.now();
    const arn = await start(r);
    const done = await finished(r, arn);

    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toMatchObject({ outcome: 'ENFORCED', changed: true, gatewayId: GATEWAY_ID, policyEngineArn: ENGINE_ARN });
    expect(done.output!.shadow).toMatchObject({ verdict: 'PASS', decision: 'PROCEED' });
    // 10.1 calls a minute for a 60-minute bake; the minute still being published (60 s grid plus
    // the publish lag) is not in yet, as on AWS.
    expect(done.output!.shadow!.report.decisions).toBeGreaterThanOrEqual(590);
    expect(done.output!.enforce).toMatchObject({ verdict: 'PASS', decision: 'PROCEED' });
    // The configured bakes (60 + 30 min) passed on the clock.
    expect(r.stack.clock.now() - t0).toBeGreaterThanOrEqual(90 * 60_000);
    expect((await liveGateway(r)).policyEngineConfiguration).toEqual({ arn: ENGINE_ARN, mode: 'ENFORCE' });
    // Seeded in LOG_ONLY already: the only update is the ENFORCE one, built losslessly.
    const updates = gatewayUpdates(r.stack);
    expect(updates.map((u) => u.mode)).toEqual(['ENFORCE']);
    expect(updates[0].input).toMatchObject({ description: 'Support tools', exceptionLevel: 'DEBUG', protocolConfiguration: { mcp: { searchType: 'SEMANTIC' } } });

    const events = rolloutEvents(r.stack);
    expect(events.map((e) => [e.detailType, e.detail.stage])).toEqual([
      ['Policy Rollout Started', 'STARTED'],
      ['Policy Rollout Stage Passed', 'LOG_ONLY_READY'],
      ['Policy Rollout Stage Passed', 'SHADOW_VERIFIED'],
      ['Policy Rollout Stage Passed', 'ENFORCE_READY'],
      ['Policy Rollout Enforced', 'ENFORCED'],
    ]);
    expect(events.every((e) => e.detail.gatewayArn === GATEWAY_ARN && e.detail.rolloutId === arn.split(':').at(-1))).toBe(true);
    expect(events[2].detail.shadow.report).toMatchObject({ verdict: 'PASS', decisions: done.output!.shadow!.report.decisions });
    expect(events[4].detail).toMatchObject({ outcome: 'ENFORCED', enforce: { report: { verdict: 'PASS' } } });
    expect(events[4].detail.enforce.report.gates.map((g: { name: string }) => g.name)).toEqual(['evidence', 'decisions', 'denySpike', 'systemErrors']);
    // Every gate figure names the one stream it read: the documented projection for this gateway and stage.
    expect(events[2].detail.shadow.report.gates.find((g: { name: string }) => g.name === 'denyRatio').stream)
      .toBe(`DenyDecisions{Mode=LOG_ONLY,OperationName=AuthorizeAction,TargetResource=${GATEWAY_ID}}`);
    expect(events[4].detail.enforce.report.gates.find((g: { name: string }) => g.name === 'denySpike').stream)
      .toBe(`DenyDecisions{Mode=ENFORCE,OperationName=AuthorizeAction,TargetResource=${GATEWAY_ID}}`);
    // The rollback point never leaves the execution.
    expect(JSON.stringify(events)).not.toContain('rollbackPoint');
  });

  it('deny ratio too high -> HALTED_IN_LOG_ONLY, attached in LOG_ONLY, no ENFORCE ever sent', async () => {
    // Start with no engine attached, so the LOG_ONLY attach is a real update.
    r = await rolloutStack({ seed: exampleSeed((s) => { delete (s.gateways![0] as any).config.policyEngineConfiguration; }) });
    scriptTraffic(r.stack, { allowed: 10, denied: 2 });
    const done = await finished(r, await start(r));

    expect(done.output).toMatchObject({ outcome: 'HALTED_IN_LOG_ONLY', shadow: { verdict: 'FAIL', decision: 'STOP' } });
    expect(done.output!.shadow!.report.reasons.join(' ')).toMatch(/denyRatio is 0\.16\d*, > 0\.05/);
    expect(gatewayUpdates(r.stack).map((u) => u.mode)).toEqual(['LOG_ONLY']);
    expect(r.stack.emulator.requests.some((q) => JSON.stringify(q.input ?? {}).includes('"ENFORCE"'))).toBe(false);
    expect((await liveGateway(r)).policyEngineConfiguration).toEqual({ arn: ENGINE_ARN, mode: 'LOG_ONLY' });
    const events = rolloutEvents(r.stack);
    expect(events.map((e) => e.detailType)).toEqual(['Policy Rollout Started', 'Policy Rollout Stage Passed', 'Policy Rollout Halted']);
    expect(events[2].detail).toMatchObject({ outcome: 'HALTED_IN_LOG_ONLY', shadow: { report: { verdict: 'FAIL' } } });
    expect(events[2].detail.shadow.report.denyRatio).toBeGreaterThan(0.05);
  });

  it('too few decisions -> INCONCLUSIVE, bake extended maxBakeExtensions times, then halted without enforcing', async () => {
    r = await rolloutStack();
    // 0.5 decisions a minute: 30 per 60-minute bake, under minDecisions (100) even after 2 extensions.
    scriptTraffic(r.stack, { allowed: 0.5, denied: 0 });
    const arn = await start(r);
    const done = await finished(r, arn);

    expect(done.output).toMatchObject({ outcome: 'HALTED_IN_LOG_ONLY', shadow: { verdict: 'INCONCLUSIVE', decision: 'STOP', extensionsUsed: 2 } });
    const entered = await statesEntered(r, arn);
    expect(entered.filter((s) => s === 'BakeShadow')).toHaveLength(3);
    expect(entered.filter((s) => s === 'VerifyShadow')).toHaveLength(3);
    expect(entered).not.toContain('ApplyEnforce');
    // The window kept its start: evidence accumulated over the three bakes.
    const window = done.output!.shadow!.window;
    expect(Date.parse(window.end) - Date.parse(window.start)).toBeGreaterThanOrEqual(180 * 60_000);
    expect(done.output!.shadow!.report.decisions).toBeGreaterThanOrEqual(88);
    expect(done.output!.shadow!.report.decisions).toBeLessThan(100);
    expect(gatewayUpdates(r.stack)).toEqual([]);
  });

  it('UPDATE_UNSUCCESSFUL on ENFORCE -> ROLLED_BACK: only policyEngineConfiguration is put back, every other field as it was', async () => {
    r = await rolloutStack({ seed: exampleSeed((s) => { (s.settings as any).failingGatewayPolicyEngines = [{ arn: ENGINE_ARN, mode: 'ENFORCE' }]; }) });
    scriptTraffic(r.stack, { allowed: 10, denied: 0.1 });
    const before = await liveGateway(r);
    const arn = await start(r);
    const done = await finished(r, arn);

    expect(done.output).toMatchObject({ outcome: 'ROLLED_BACK', error: { Error: 'GatewayUpdateFailedError' } });
    expect(done.output!.restore).toEqual({
      action: 'restored', field: 'policyEngineConfiguration', from: { arn: ENGINE_ARN, mode: 'ENFORCE' }, to: { arn: ENGINE_ARN, mode: 'LOG_ONLY' },
    });
    // The execution carries only what a restore needs, not the whole gateway.
    expect((await preflightState(r, arn)).rollout.rollbackPoint).toEqual({ policyEngineConfiguration: { arn: ENGINE_ARN, mode: 'LOG_ONLY' } });
    const live = await liveGateway(r);
    expect(live.status).toBe('READY');
    const volatile = new Set(['status', 'statusReasons', 'updatedAt']);
    const rest = (g: Record<string, unknown>) => Object.fromEntries(Object.entries(g).filter(([k]) => !volatile.has(k)));
    expect(rest(live)).toEqual(rest(before));
    expect((GATEWAY_GET_ONLY_FIELDS as readonly string[]).includes('gatewayArn')).toBe(true);
    expect(gatewayUpdates(r.stack).map((u) => u.mode)).toEqual(['ENFORCE', 'LOG_ONLY']);

    const events = rolloutEvents(r.stack);
    expect(events.map((e) => e.detailType)).toEqual([
      'Policy Rollout Started', 'Policy Rollout Stage Passed', 'Policy Rollout Stage Passed', 'Policy Rollout Rolled Back',
    ]);
    expect(events[3].detail).toMatchObject({ outcome: 'ROLLED_BACK', error: { error: 'GatewayUpdateFailedError' }, restore: { action: 'restored' } });
    expect(events[3].detail.shadow.report.verdict).toBe('PASS');
  });

  it('an alarm firing during the ENFORCE bake -> ROLLED_BACK to LOG_ONLY', async () => {
    r = await rolloutStack();
    scriptTraffic(r.stack, { allowed: 10, denied: 0.1 });
    // OK through the shadow bake (60 min), ALARM during the enforce bake (60..90 min).
    r.stack.cloudwatch.scriptAlarm('support-gateway-errors', [{ at: '-1m', state: 'OK' }, { at: '+70m', state: 'ALARM' }]);
    const arn = await start(r, { settings: { alarms: ['support-gateway-errors'] } });
    const done = await finished(r, arn);

    expect(done.output).toMatchObject({
      outcome: 'ROLLED_BACK',
      error: { Error: 'EnforceGatesFailedError' },
      shadow: { verdict: 'PASS' },
      enforce: { verdict: 'FAIL', decision: 'STOP' },
    });
    expect(done.output!.enforce!.report.reasons).toContain('alarm:support-gateway-errors is ALARM, not OK');
    expect((await liveGateway(r)).policyEngineConfiguration).toEqual({ arn: ENGINE_ARN, mode: 'LOG_ONLY' });
    expect(gatewayUpdates(r.stack).map((u) => u.mode)).toEqual(['ENFORCE', 'LOG_ONLY']);
    const last = rolloutEvents(r.stack).at(-1)!;
    expect(last.detailType).toBe('Policy Rollout Rolled Back');
    expect(last.detail.enforce.report.gates).toContainEqual(expect.objectContaining({ name: 'alarm:support-gateway-errors', value: 'ALARM', passed: false }));
  });

  it('dry run: preflight and gates on current metrics, would-promote / would-halt, nothing changed', async () => {
    r = await rolloutStack();
    scriptTraffic(r.stack, { allowed: 10, denied: 0.1 }, '-2h', '+0s');
    const before = await liveGateway(r);
    const good = await finished(r, await start(r, { dryRun: true }));
    expect(good.output).toMatchObject({ outcome: 'WOULD_PROMOTE', dryRun: true, shadow: { verdict: 'PASS' } });
    // The dry run looked back bakeMinutes (60) from now.
    expect(good.output!.shadow!.report.decisions).toBeGreaterThanOrEqual(590);

    scriptTraffic(r.stack, { allowed: 0, denied: 5 }, '-59m', '+0s');
    const bad = await finished(r, await start(r, { dryRun: true }));
    expect(bad.output).toMatchObject({ outcome: 'WOULD_HALT', dryRun: true, shadow: { verdict: 'FAIL' } });

    expect(gatewayUpdates(r.stack)).toEqual([]);
    expect(await liveGateway(r)).toEqual(before);
    expect(rolloutEvents(r.stack)).toEqual([]);
  });
});
