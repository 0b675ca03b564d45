/**
 * Policy rollouts against a gateway whose live configuration carries members the bundled AgentCore
 * model does not know (the emulator's fault plan `addMembers` plays a newer AWS): neither the
 * mode switch (applyMode) nor the restore of the recorded configuration replaces such a gateway.
 * The check sits in the lossless update builder, so the rollout tasks get it as they are.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FaultRule } from '../../local/emulator/faults.ts';
import { ENGINE_ARN, finished, gatewayUpdates, liveGateway, rolloutEvents, rolloutStack, scriptTraffic, GATEWAY_ID, type RolloutStack } from './rollout-fixture.ts';

const NEWER_GATEWAY: FaultRule = {
  service: 'bedrock-agentcore-control',
  operation: 'GetGateway',
  addMembers: { trafficMirroring: { target: 'VALUE-5521' }, 'protocolConfiguration.mcp.compression': 'VALUE-5521' },
};
const MEMBERS = ['protocolConfiguration.mcp.compression', 'trafficMirroring'];

let r: RolloutStack | undefined;
afterEach(async () => { await r?.close(); r = undefined; });

/** Starts a rollout of the support gateway through the real startRollout handler; its execution ARN. */
const start = async (stack: RolloutStack, settings: Record<string, unknown> = {}): Promise<string> =>
  ((await stack.stack.lambda.invoke('startRollout', { gatewayId: GATEWAY_ID, settings })) as { executionArn: string }).executionArn;

describe('policy rollout and unknown live members', () => {
  it('applyMode refuses to switch the mode: no UpdateGateway at all, ROLLED_BACK naming the member paths', async () => {
    r = await rolloutStack();
    r.stack.emulator.faults.addRule(NEWER_GATEWAY);
    scriptTraffic(r.stack, { allowed: 10, denied: 0.1 });
    const done = await finished(r, await start(r));

    expect(done.output).toMatchObject({ outcome: 'ROLLED_BACK', error: { Error: 'UnknownLiveMemberError' } });
    for (const m of MEMBERS) expect(done.output!.error!.Cause).toContain(m);
    // Seeded in LOG_ONLY: the ENFORCE switch was the first write, and it was never sent.
    expect(gatewayUpdates(r.stack)).toEqual([]);
    expect((await liveGateway(r)).policyEngineConfiguration).toEqual({ arn: ENGINE_ARN, mode: 'LOG_ONLY' });
    expect(JSON.stringify(r.stack.events.events)).not.toContain('VALUE-5521');
  });

  it('the restore refuses too: a member that appears after ENFORCE leaves the rollback to an operator (RollbackFailedError)', async () => {
    r = await rolloutStack();
    scriptTraffic(r.stack, { allowed: 10, denied: 0.1 });
    // OK through the shadow bake (60 min), ALARM during the enforce bake: the rollout must restore LOG_ONLY.
    r.stack.cloudwatch.scriptAlarm('support-gateway-errors', [{ at: '-1m', state: 'OK' }, { at: '+70m', state: 'ALARM' }]);
    // The newer AWS shows up once ENFORCE is READY (the third "Stage Passed": LOG_ONLY ready, shadow verified, ENFORCE ready).
    let passed = 0;
    r.stack.events.addRule({
      name: 'test-newer-aws',
      pattern: { source: ['agentcore-autopilot'], 'detail-type': ['Policy Rollout Stage Passed'] },
      target: { id: 'newer-aws', invoke: () => { if (++passed === 3) r!.stack.emulator.faults.addRule(NEWER_GATEWAY); } },
    });
    const done = await finished(r, await start(r, { alarms: ['support-gateway-errors'] }));

    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('RollbackFailedError');
    // Only the ENFORCE switch was written; the restore to LOG_ONLY was refused.
    expect(gatewayUpdates(r.stack).map((u) => u.mode)).toEqual(['ENFORCE']);
    const last = rolloutEvents(r.stack).at(-1)!;
    expect(last.detailType).toBe('Policy Rollout Rolled Back');
    expect(JSON.stringify(last.detail)).toContain('UnknownLiveMemberError');
    for (const m of MEMBERS) expect(JSON.stringify(last.detail)).toContain(m);
    expect(JSON.stringify(r.stack.events.events)).not.toContain('VALUE-5521');
  });
});
