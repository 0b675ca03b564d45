/**
 * Drift safety rails end to end: caps, the error ratio, throttling, missing resources, the policy
 * tamper guard (rollout or restore), the missed-push safety net, backoff and the change window.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../local/stack.ts';
import type { FaultRule } from '../../local/emulator/index.ts';
import { setTimeSource } from '../../functions/lib/time.ts';
import {
  BILLING, BILLING_PE, GW_BILLING, GW_SUPPORT, REPO, SEED, SUPPORT, SUPPORT_PE, type ConfigOptions,
  driftGateway, driftRuntime, fullConfig, getGateway, getRuntime, passTime, settleResources, supportDesired, tagsOf, writeConfig,
} from './drift-fixtures.ts';

type Outcome = { ref: string; status: string; reason?: string; error?: { name: string }; rolloutExecution?: { status: string; name: string } };
type Result = {
  summary: Record<string, unknown>;
  plan: { inSync: boolean; resources: { ref: string; id?: string; status: string; action: string; reason?: string; tamper?: unknown; fields: { path: string; action: string; to: unknown }[] }[] };
  outcomes: Outcome[];
};

let stack: Stack | undefined;
afterEach(async () => {
  setTimeSource(undefined);
  await stack?.close();
  stack = undefined;
});

async function start(config: Record<string, unknown>, faults?: FaultRule[]): Promise<Stack> {
  stack = await startStack({ seed: SEED, configFile: writeConfig(config), ...(faults ? { faults: { rules: faults } } : {}) });
  setTimeSource(() => stack!.clock.now());
  return stack;
}
const run = async (): Promise<Result> => (await stack!.lambda.invoke('correctDrift', { trigger: 'schedule' })) as Result;
const resource = (r: Result, ref: string) => r.plan.resources.find((x) => x.ref === ref)!;
const outcome = (r: Result, ref: string) => r.outcomes.find((x) => x.ref === ref)!;
const eventsOf = (s: Stack, type: string) => s.events.events.filter((e) => e.event['detail-type'] === type).map((e) => e.event.detail as Record<string, unknown>);

/** Four drifted resources: both runtimes and both gateways differ from the declaration. */
function fourDrifted(o: ConfigOptions = {}): Record<string, unknown> {
  const base = fullConfig(o);
  return {
    ...base,
    runtimes: [
      { id: SUPPORT, desired: supportDesired() },
      { id: BILLING, desired: { roleArn: 'arn:aws:iam::123456789012:role/BillingRole' } },
    ],
    gateways: [
      (base.gateways as object[])[0],
      { id: GW_BILLING, desired: { description: 'Billing tools v2' } },
    ],
  };
}

describe('run limits', () => {
  it('stops at the cap of corrections per run', async () => {
    const s = await start(fourDrifted({ maxCorrectionsPerRun: 2, concurrency: 1 }));
    const r = await run();
    expect(r.summary).toMatchObject({ drifted: 4, toCorrect: 4, corrected: 2, skipped: 2, stopped: 'max-corrections' });
    expect(r.outcomes.map((o) => o.status)).toEqual(['corrected', 'corrected', 'skipped', 'skipped']);
    expect(r.outcomes[2].reason).toMatch(/cap of 2 corrections/);
    expect(s.emulator.count('UpdateAgentRuntime') + s.emulator.count('UpdateGateway')).toBe(2);
  });

  it('stops at the error ratio and reports each failure', async () => {
    const s = await start(fourDrifted({ maxErrorRatio: 0.5, concurrency: 1 }), [
      { operation: 'UpdateAgentRuntime', error: { type: 'AccessDeniedException', status: 403, count: 10 } },
      { operation: 'UpdateGateway', error: { type: 'AccessDeniedException', status: 403, count: 10 } },
    ]);
    const r = await run();
    expect(r.summary).toMatchObject({ toCorrect: 4, corrected: 0, failed: 3, skipped: 1, stopped: 'error-ratio' });
    expect(r.outcomes.filter((o) => o.status === 'failed').every((o) => o.error?.name === 'AccessDeniedError')).toBe(true);
    // Which one is left depends on how the scan's slices overlap; exactly one is, with the reason.
    expect(r.outcomes.filter((o) => o.status === 'skipped')).toEqual([expect.objectContaining({ reason: 'run stopped: error ratio exceeded' })]);
    const failed = eventsOf(s, 'Drift Correction Failed');
    expect(failed).toHaveLength(3);
    expect(failed[0]).toMatchObject({ error: { name: 'AccessDeniedError' } });
    expect((await getRuntime(s, BILLING)).roleArn).toBe('arn:aws:iam::123456789012:role/AgentRuntimeRole');
  });

  it('absorbs throttling', async () => {
    const s = await start(fourDrifted(), [
      { operation: 'UpdateAgentRuntime', error: { type: 'ThrottlingException', status: 429, count: 3 } },
      { operation: 'GetGateway', error: { type: 'ThrottlingException', status: 429, count: 3 } },
    ]);
    const r = await run();
    expect(r.summary).toMatchObject({ corrected: 4, failed: 0 });
    expect(s.emulator.faults.injected.errors).toBe(6);
    expect((await getRuntime(s, BILLING)).roleArn).toBe('arn:aws:iam::123456789012:role/BillingRole');
  });
});

describe('declared resources that do not exist', () => {
  it('are reported, never created, and the others are still handled', async () => {
    const s = await start(fullConfig({
      runtimes: [
        { name: 'ghostAgent', desired: { roleArn: 'arn:aws:iam::123456789012:role/AgentRuntimeRole' } },
        { id: SUPPORT, desired: { roleArn: 'arn:aws:iam::123456789012:role/NewRole' } },
      ],
      gateways: [{ id: 'gw-ghost-a1b2c3d4e5', desired: { description: 'nobody' } }],
    }));
    const billingBefore = await getRuntime(s, BILLING);
    const gwBefore = await getGateway(s, GW_BILLING);
    const r = await run();
    expect(resource(r, 'ghostAgent')).toMatchObject({ status: 'missing', action: 'none' });
    expect(resource(r, 'gw-ghost-a1b2c3d4e5')).toMatchObject({ status: 'missing' });
    expect(r.summary).toMatchObject({ missing: 2, corrected: 1 });
    expect(s.emulator.count('CreateAgentRuntime') + s.emulator.count('CreateGateway')).toBe(0);
    expect(eventsOf(s, 'Drift Detected').filter((d) => d.status === 'missing').map((d) => d.ref).sort()).toEqual(['ghostAgent', 'gw-ghost-a1b2c3d4e5']);
    await settleResources(s);
    expect((await getRuntime(s, SUPPORT)).roleArn).toBe('arn:aws:iam::123456789012:role/NewRole');
    expect((await getRuntime(s, BILLING)).agentRuntimeVersion).toBe(billingBefore.agentRuntimeVersion);
    expect((await getGateway(s, GW_BILLING)).updatedAt).toEqual(gwBefore.updatedAt);
  });
});

describe('policy engine tamper guard', () => {
  it('starts the staged rollout when ENFORCE is declared and the engine runs LOG_ONLY', async () => {
    const s = await start(fullConfig({
      runtimes: [],
      gateways: [{ id: GW_SUPPORT, desired: { description: 'Support tools' }, policyEngine: { arn: SUPPORT_PE, mode: 'ENFORCE' } }],
    }));
    const r = await run();
    expect(resource(r, GW_SUPPORT)).toMatchObject({ action: 'needs-rollout', tamper: { declared: 'ENFORCE', live: 'LOG_ONLY', response: 'rollout' } });
    expect(outcome(r, GW_SUPPORT)).toMatchObject({ status: 'corrected', rolloutExecution: { status: 'STARTED' } });
    const rollouts = s.sfn.listExecutions().filter((e) => e.stateMachineArn === s.stateMachineArn('policyRollout'));
    expect(rollouts).toHaveLength(1);
    expect(JSON.parse(rollouts[0].input as string)).toMatchObject({ gatewayId: GW_SUPPORT, policyEngineArn: SUPPORT_PE });
    const detected = eventsOf(s, 'Drift Detected').find((d) => d.ref === GW_SUPPORT)!;
    expect(detected).toMatchObject({ severity: 'HIGH', tamper: { declared: 'ENFORCE', live: 'LOG_ONLY' } });
    // The next run does not start a second rollout.
    await run();
    expect(s.sfn.listExecutions().filter((e) => e.stateMachineArn === s.stateMachineArn('policyRollout'))).toHaveLength(1);
  });

  it('restores ENFORCE at once with tamperResponse: restore, also for a detached engine', async () => {
    const s = await start(fullConfig({
      runtimes: [],
      gateways: [{ id: GW_BILLING, desired: { description: 'Billing tools' }, policyEngine: { arn: BILLING_PE, mode: 'ENFORCE', tamperResponse: 'restore' } }],
    }));
    const r = await run();
    expect(resource(r, GW_BILLING)).toMatchObject({ action: 'restore-enforce', tamper: { live: 'LOG_ONLY', response: 'restore' } });
    expect(outcome(r, GW_BILLING).reason).toMatch(/restored to ENFORCE/);
    expect((await getGateway(s, GW_BILLING)).policyEngineConfiguration).toEqual({ arn: BILLING_PE, mode: 'ENFORCE' });
    expect(s.sfn.listExecutions()).toHaveLength(0);

    await passTime(s, 48 * 3600 * 1000);
    await driftGateway(s, GW_BILLING, (live) => ({ ...live, policyEngineConfiguration: undefined }));
    const again = await run();
    expect(resource(again, GW_BILLING)).toMatchObject({ action: 'restore-enforce', tamper: { live: 'DETACHED' } });
    expect((await getGateway(s, GW_BILLING)).policyEngineConfiguration).toEqual({ arn: BILLING_PE, mode: 'ENFORCE' });
  });
});

describe('missed-push safety net', () => {
  it('redeploys a tracked runtime to the newest allowed image when its push event was lost', async () => {
    const s = await start(fullConfig({
      runtimes: [{ id: SUPPORT, desired: { roleArn: 'arn:aws:iam::123456789012:role/AgentRuntimeRole' }, track: { repository: 'support-agent', tagPolicy: { semver: '^1.2.0' } } }],
      gateways: [],
    }));
    const newest = `sha256:${'ab'.repeat(32)}`;
    // Images land in ECR without any event reaching the bus.
    s.ecr.seed({
      repositories: [{
        name: 'support-agent',
        images: [
          { tags: ['1.2.0'], digest: `sha256:${'1'.repeat(64)}`, pushedAt: '-3h' },
          { tags: ['1.3.1'], digest: newest, pushedAt: '-2h' },
          { tags: ['2.0.0'], digest: `sha256:${'cd'.repeat(32)}`, pushedAt: '-1h' },
          { tags: ['latest'], digest: `sha256:${'ef'.repeat(32)}`, pushedAt: '-1m' },
        ],
      }],
    });
    const r = await run();
    expect(resource(r, SUPPORT)).toMatchObject({ action: 'redeploy', fields: [{ path: '/agentRuntimeArtifact/containerConfiguration/containerUri', action: 'redeploy', to: `${REPO}/support-agent@${newest}` }] });
    expect(s.events.events.some((e) => e.event.source === 'aws.ecr')).toBe(false);
    await settleResources(s);
    const live = await getRuntime(s, SUPPORT);
    expect((live.agentRuntimeArtifact as { containerConfiguration: { containerUri: string } }).containerConfiguration.containerUri).toBe(`${REPO}/support-agent@${newest}`);
    // Carried over losslessly.
    expect(live.environmentVariables).toEqual({ LOG_LEVEL: 'info', MODEL_ID: 'anthropic.claude-sonnet-4' });
    expect((await run()).plan.inSync).toBe(true);
  });
});

describe('backoff and change window', () => {
  it('backs off a resource that keeps drifting back, keeping the history in a tag', async () => {
    const s = await start(fullConfig({ gateways: [] }));
    await run();
    await settleResources(s);
    const arn = (await getRuntime(s, SUPPORT)).agentRuntimeArn as string;
    expect((await tagsOf(s, arn))['autopilot:drift-corrections']).toMatch(/^1:\d+$/);
    await driftRuntime(s, SUPPORT, (live) => ({ ...live, roleArn: 'arn:aws:iam::123456789012:role/OtherRole' }));
    const backed = await run();
    expect(resource(backed, SUPPORT)).toMatchObject({ action: 'report-only' });
    expect(resource(backed, SUPPORT).reason).toMatch(/keeps drifting back .*backing off/);
    expect((await getRuntime(s, SUPPORT)).roleArn).toBe('arn:aws:iam::123456789012:role/OtherRole');

    await passTime(s, 2 * 3600 * 1000);
    const later = await run();
    expect(outcome(later, SUPPORT).status).toBe('corrected');
    expect((await tagsOf(s, arn))['autopilot:drift-corrections']).toMatch(/^2:\d+$/);
    await settleResources(s);
    await driftRuntime(s, SUPPORT, (live) => ({ ...live, roleArn: 'arn:aws:iam::123456789012:role/OtherRole' }));
    await passTime(s, 90 * 60 * 1000); // past 1 h but not 2 h: the second backoff step is longer
    expect(resource(await run(), SUPPORT).action).toBe('report-only');
  });

  it('only reports outside the change window', async () => {
    // The stack's clock starts on Thursday 2026-01-01 00:00 UTC.
    const s = await start(fullConfig({ changeWindow: { days: ['Sat'], start: '09:00', end: '17:00', timezone: 'UTC' } }));
    const before = await getRuntime(s, SUPPORT);
    const r = await run();
    expect(resource(r, SUPPORT)).toMatchObject({ status: 'drifted', action: 'report-only', reason: 'outside the change window' });
    expect(r.summary).toMatchObject({ corrected: 0 });
    expect(s.emulator.count('UpdateAgentRuntime') + s.emulator.count('UpdateGateway')).toBe(0);
    expect((await getRuntime(s, SUPPORT)).agentRuntimeVersion).toBe(before.agentRuntimeVersion);
  });
});
