/**
 * Live members the bundled AgentCore model does not know: AWS answers GetAgentRuntime with a
 * field the SDK's parser drops (the emulator's fault plan `addMembers` plays the newer AWS), and
 * every writing path refuses to replace the runtime: image push, change request, manual redeploy
 * (CLI) and drift correction. The refusal names the member paths, never their values; an
 * operator's acknowledgement in the config lets the write through.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../../cli/autopilot.ts';
import type { CliIO } from '../../cli/types.ts';
import type { FaultPlan } from '../../local/emulator/faults.ts';
import { SEED, driftRuntime, fullConfig, writeConfig } from './drift-fixtures.ts';
import { REGISTRY, SUPPORT, digest, exampleStack, getRuntime, outcomeEvents } from './redeploy-helpers.ts';

/** What a newer AgentCore sends: one new top-level member and one inside a carried structure. */
const NEWER_AWS: FaultPlan = {
  rules: [{
    service: 'bedrock-agentcore-control',
    operation: 'GetAgentRuntime',
    addMembers: { sessionAffinity: { mode: 'STICKY-VALUE-7731' }, 'protocolConfiguration.streamingMode': 'BIDI-VALUE-7731' },
  }],
};
const MEMBERS = ['protocolConfiguration.streamingMode', 'sessionAffinity'];

let stack: Awaited<ReturnType<typeof exampleStack>> | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** The repo's example config (what the stack loads by default), changed by `mutate`. */
function exampleConfig(mutate: (c: Record<string, any>) => void): string {
  const config = parse(readFileSync(new URL('../../autopilot.config.yaml', import.meta.url), 'utf8'));
  mutate(config);
  return writeConfig(config);
}

function expectRefusal(detail: Record<string, any>): void {
  expect(detail.error?.name).toBe('UnknownLiveMemberError');
  for (const m of MEMBERS) expect(detail.message).toContain(m);
  expect(JSON.stringify(detail)).not.toContain('VALUE-7731');
}

describe('a runtime whose live configuration carries members the bundled model does not know', () => {
  it('an image push writes nothing and reports Failed naming the member paths', async () => {
    stack = await exampleStack({ faults: NEWER_AWS, logLevel: 'SILENT' });
    stack.pushImage({ repository: 'support-agent', tags: ['1.3.0'], digest: digest('a') });
    await stack.settle();
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(0);
    const failed = outcomeEvents(stack);
    expect(failed.map((e) => e.detailType)).toEqual(['Runtime Redeploy Failed']);
    expect(failed[0].detail).toMatchObject({ runtimeId: SUPPORT, reason: 'unknown-live-members' });
    expectRefusal(failed[0].detail);
  });

  it('a change request writes nothing and reports Failed naming the member paths', async () => {
    stack = await exampleStack({ faults: NEWER_AWS, logLevel: 'SILENT' });
    stack.events.put({
      source: 'agentcore-autopilot.requests', 'detail-type': 'Runtime Change Requested',
      detail: { runtime: { id: SUPPORT }, change: { environmentVariables: { set: { LOG_LEVEL: 'debug' } } }, requestId: 'req-1' },
    }, stack.requestBus);
    await stack.settle();
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(0);
    const failed = outcomeEvents(stack, 'Runtime Redeploy Failed');
    expect(failed).toHaveLength(1);
    expectRefusal(failed[0].detail);
  });

  it('autopilot redeploy exits 1 naming the member paths, and writes nothing', async () => {
    stack = await exampleStack({ faults: NEWER_AWS, logLevel: 'SILENT' });
    stack.ecr.seed({ repositories: [{ name: 'support-agent', images: [{ digest: digest('a') }] }] });
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIO = {
      stdout: (l) => out.push(l), stderr: (l) => err.push(l), isTTY: false,
      env: { ...stack.env, AUTOPILOT_CONFIG_FILE: stack.configFile, PROMOTION_STATE_MACHINE_ARN: stack.stateMachineArn('runtimePromotion') },
    };
    const code = await main(['redeploy', '--runtime', SUPPORT, '--image', `${REGISTRY}/support-agent@${digest('a')}`, '--yes'], io);
    expect(code).toBe(1);
    const text = err.join('\n');
    expect(text).toContain('UnknownLiveMemberError');
    for (const m of MEMBERS) expect(text).toContain(m);
    expect(text).not.toContain('VALUE-7731');
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(0);
  });

  it('a drift correction writes nothing: Drift Correction Failed names the member paths', async () => {
    // The drift tests' config: every field of supportAgent declared, mode correct, no change window.
    stack = await exampleStack({ faults: NEWER_AWS, logLevel: 'SILENT', seed: SEED, configFile: writeConfig(fullConfig()) });
    await driftRuntime(stack, SUPPORT, (live) => ({ ...live, description: 'changed by hand' }));
    stack.emulator.resetCounters();
    const result = await stack.lambda.invoke('correctDrift', { trigger: 'schedule' }) as { outcomes: { ref: string; status: string; error?: { name: string; message: string } }[]; notes: string[] };
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(0);
    const outcome = result.outcomes.find((o) => o.ref === SUPPORT)!;
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.name).toBe('UnknownLiveMemberError');
    await stack.settle();
    const failed = stack.events.events.filter((e) => e.event['detail-type'] === 'Drift Correction Failed');
    expect(failed).toHaveLength(1);
    for (const m of MEMBERS) expect(JSON.stringify(failed[0].event.detail)).toContain(m);
    expect(JSON.stringify(stack.events.events)).not.toContain('VALUE-7731');
    expect(result.notes.join('\n')).toContain('sessionAffinity');
  });

  it('acknowledged in the config (checked to be read-only), the members no longer stop the push', async () => {
    const configFile = exampleConfig((c) => { c.unknownMembers = { acknowledged: { runtime: MEMBERS } }; });
    stack = await exampleStack({ faults: NEWER_AWS, logLevel: 'SILENT', configFile });
    stack.pushImage({ repository: 'support-agent', tags: ['1.3.0'], digest: digest('a') });
    await stack.settle();
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(1);
    expect((await getRuntime(stack.agentcore_, SUPPORT)).agentRuntimeArtifact.containerConfiguration.containerUri).toBe(`${REGISTRY}/support-agent@${digest('a')}`);
    expect(outcomeEvents(stack).map((e) => e.detailType)).toEqual(['Runtime Redeploy Started', 'Runtime Redeploy Promoted']);
  });
});
