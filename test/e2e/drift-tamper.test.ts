/**
 * The tamper guard's memory, end to end: a staged ENFORCE rollout that drift started and that
 * rolled back is not started again by later runs (the rollout's own restore used to look like
 * fresh tampering every run); the finding becomes a loud `needs-human` until the declaration
 * changes. And when the running rollouts cannot be listed, no gateway's policy mode is touched.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { main } from '../../cli/autopilot.ts';
import { startStack, type Stack } from '../../local/stack.ts';
import type { FaultRule } from '../../local/emulator/index.ts';
import { setTimeSource } from '../../functions/lib/time.ts';
import { DRIFT_ROLLOUT_TAG } from '../../functions/domain/drift/tamper-guard.ts';
import { exampleSeed, scriptTraffic } from './rollout-fixture.ts';
import { BILLING_PE, GW_BILLING, GW_SUPPORT, SUPPORT_PE, fullConfig, getGateway, passTime, tagsOf, writeConfig, cliIO } from './drift-fixtures.ts';

type Resource = { ref: string; status: string; action: string; reason?: string; rolloutInProgress?: boolean; tamper?: unknown; previousRollout?: { executionName: string; outcome: string }; fields: { path: string; action: string }[] };
type Result = {
  summary: Record<string, unknown>;
  plan: { resources: Resource[] };
  outcomes: { ref: string; status: string; reason?: string; rolloutExecution?: { status: string; name: string } }[];
  notes: string[];
};

let stack: Stack | undefined;
afterEach(async () => {
  setTimeSource(undefined);
  await stack?.close();
  stack = undefined;
});

const run = async (): Promise<Result> => (await stack!.lambda.invoke('correctDrift', { trigger: 'schedule' })) as Result;
const resource = (r: Result, ref: string) => r.plan.resources.find((x) => x.ref === ref)!;
const rollouts = (s: Stack) => s.sfn.listExecutions().filter((e) => e.stateMachineArn === s.stateMachineArn('policyRollout'));
const detected = (s: Stack, ref: string) => s.events.events
  .filter((e) => e.event['detail-type'] === 'Drift Detected' && (e.event.detail as { ref?: string }).ref === ref)
  .map((e) => e.event.detail as Record<string, unknown>);
const enforceGateway = (rollout: Record<string, unknown> = {}) => ({
  id: GW_SUPPORT, desired: { description: 'Support tools' }, policyEngine: { arn: SUPPORT_PE, mode: 'ENFORCE', rollout },
});

describe('a staged ENFORCE rollout that rolled back', () => {
  it('is not started again while the declaration is unchanged: needs-human, loud; a changed declaration starts one', async () => {
    // ENFORCE on the support engine fails at the gateway: every ENFORCE rollout rolls back.
    const configFile = writeConfig(fullConfig({ runtimes: [], gateways: [enforceGateway()] }));
    const s = stack = await startStack({
      seed: exampleSeed((seed) => { (seed.settings as Record<string, unknown>).failingGatewayPolicyEngines = [{ arn: SUPPORT_PE, mode: 'ENFORCE' }]; }),
      configFile,
    });
    setTimeSource(() => s.clock.now());
    scriptTraffic(s, { allowed: 10, denied: 0.1 }, '-2h', '+5d');

    const first = await run();
    expect(resource(first, GW_SUPPORT)).toMatchObject({ action: 'needs-rollout', tamper: { declared: 'ENFORCE', live: 'LOG_ONLY' } });
    expect(first.outcomes[0]).toMatchObject({ status: 'corrected', rolloutExecution: { status: 'STARTED' } });
    const name = first.outcomes[0].rolloutExecution!.name;
    await s.settle();
    expect(rollouts(s)).toHaveLength(1);
    const sfn = new SFNClient({ endpoint: s.url, region: s.env.AWS_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const done = await sfn.send(new DescribeExecutionCommand({ executionArn: rollouts(s)[0].executionArn }));
    sfn.destroy();
    expect(JSON.parse(done.output ?? '{}')).toMatchObject({ outcome: 'ROLLED_BACK' });
    // The restore put LOG_ONLY back (and bumped updatedAt): exactly what used to restart the loop.
    expect((await getGateway(s, GW_SUPPORT)).policyEngineConfiguration).toEqual({ arn: SUPPORT_PE, mode: 'LOG_ONLY' });
    const gatewayArn = (await getGateway(s, GW_SUPPORT)).gatewayArn as string;
    expect((await tagsOf(s, gatewayArn))[DRIFT_ROLLOUT_TAG]).toMatch(new RegExp(`^[0-9a-f]{16} ${name}$`));

    const updatesBefore = s.emulator.count('UpdateGateway');
    const eventsBefore = detected(s, GW_SUPPORT).length;
    // Hours of scheduled runs: not one more rollout, not one gateway write.
    for (let i = 0; i < 6; i++) {
      await passTime(s, 2 * 3600 * 1000);
      const r = await run();
      await s.settle();
      const gw = resource(r, GW_SUPPORT);
      expect(gw).toMatchObject({ status: 'drifted', action: 'needs-human', previousRollout: { executionName: name, outcome: 'ROLLED_BACK' } });
      expect(gw.reason).toContain(`last staged rollout of this gateway (${name}) ended ROLLED_BACK`);
      expect(gw.fields.find((f) => f.path === '/policyEngineConfiguration')?.action).toBe('needs-human');
      expect(r.outcomes).toEqual([]);
      expect(r.summary).toMatchObject({ tampered: 1, needsHuman: 1, toCorrect: 0 });
    }
    expect(rollouts(s)).toHaveLength(1);
    expect(s.emulator.count('UpdateGateway')).toBe(updatesBefore);
    const loud = detected(s, GW_SUPPORT).slice(eventsBefore);
    expect(loud).toHaveLength(6);
    expect(loud[0]).toMatchObject({ severity: 'HIGH', action: 'needs-human', needsHuman: true, previousRollout: { executionName: name, outcome: 'ROLLED_BACK' } });
    expect(String(loud[0].reason)).toMatch(/needs a human.*ROLLED_BACK/);

    // The same through `autopilot plan` (state machines found by name, no variables set).
    const plan = cliIO(s);
    expect(await main(['plan', '--config', configFile], plan.io)).toBe(2);
    expect(plan.text()).toMatch(/gw-support-k1l2m3n4o5\s+gateway\s+drifted\s+needs-human/);
    expect(plan.text()).toContain(`NEEDS A HUMAN: the last staged rollout ${name} ended ROLLED_BACK`);
    expect(plan.text()).toMatch(/1 needs a human\./);

    // A changed declaration (a longer bake) is a new request: apply starts exactly one rollout.
    const changed = writeConfig(fullConfig({ runtimes: [], gateways: [enforceGateway({ bakeMinutes: 90 })] }));
    const apply = cliIO(s);
    expect(await main(['apply', '--config', changed, '--yes', '--json'], apply.io)).toBe(0);
    const doc = JSON.parse(apply.text());
    expect(doc.plan.resources[0]).toMatchObject({ ref: GW_SUPPORT, action: 'needs-rollout' });
    expect(doc.outcomes[0]).toMatchObject({ status: 'corrected', rolloutExecution: { status: 'STARTED' } });
    expect(doc.outcomes[0].rolloutExecution.name).not.toBe(name);
    expect(rollouts(s)).toHaveLength(2);
  });
});

describe('tampering together with another drifted field', () => {
  it('corrects the field and re-enforces through the rollout, which waits for the gateway to be READY: ENFORCED, never a silent LOG_ONLY', async () => {
    const configFile = writeConfig(fullConfig({ runtimes: [], gateways: [enforceGateway({ bakeMinutes: 30, enforceBakeMinutes: 15 })] }));
    const s = stack = await startStack({ seed: exampleSeed(), configFile });
    setTimeSource(() => s.clock.now());
    scriptTraffic(s, { allowed: 10, denied: 0.1 }, '-2h', '+5d');
    // By hand: the description edited (the seed attaches the engine in LOG_ONLY while ENFORCE is declared).
    const live = await getGateway(s, GW_SUPPORT);
    await s.agentcore.updateGateway(GW_SUPPORT, { ...live, description: 'edited by hand' });
    await passTime(s, 60_000);

    const result = await run();
    const gw = resource(result, GW_SUPPORT);
    expect(gw).toMatchObject({ action: 'correct', tamper: { declared: 'ENFORCE', live: 'LOG_ONLY' } });
    expect(Object.fromEntries(gw.fields.map((f) => [f.path, f.action]))).toMatchObject({ '/description': 'correct', '/policyEngineConfiguration': 'needs-rollout' });
    expect(result.outcomes[0]).toMatchObject({ status: 'corrected', rolloutExecution: { status: 'STARTED' } });
    // The field fix left the gateway UPDATING when the rollout started: its preflight waited.
    const updates = s.emulator.requests.filter((q) => q.operation === 'UpdateGateway').map((q) => q.input as Record<string, any>);
    expect(updates[updates.length - 1]).toMatchObject({ description: 'Support tools', policyEngineConfiguration: { mode: 'LOG_ONLY' } });
    await s.settle();
    const [execution] = rollouts(s);
    expect(execution.status).toBe('SUCCEEDED');
    // The preflight found the gateway UPDATING (GatewayNotReadyError) and was retried until READY.
    const failedFirst = execution.history.findIndex((h) => /Failed$/.test(h.type) && JSON.stringify(h.details ?? {}).includes('GatewayNotReadyError'));
    expect(failedFirst).toBeGreaterThan(-1);
    expect(JSON.parse(execution.output ?? '{}')).toMatchObject({ outcome: 'ENFORCED' });
    expect(await getGateway(s, GW_SUPPORT)).toMatchObject({ description: 'Support tools', policyEngineConfiguration: { arn: SUPPORT_PE, mode: 'ENFORCE' } });
    const outcomes = s.events.events.map((e) => e.event['detail-type']).filter((t) => /^Policy Rollout (Enforced|Halted|Rolled Back|Conflict|Aborted|Failed)$/.test(t));
    expect(outcomes).toEqual(['Policy Rollout Enforced']);
  });
});

describe('a re-enforcing rollout that cannot start', () => {
  it('is a failure of the run: failed outcome, Drift Correction Failed, apply exits 1', async () => {
    const configFile = writeConfig(fullConfig({ runtimes: [], gateways: [enforceGateway()] }));
    const s = stack = await startStack({ seed: exampleSeed(), configFile });
    setTimeSource(() => s.clock.now());
    s.emulator.faults.addRule({ service: 'states', operation: 'StartExecution', error: { type: 'AccessDeniedException', status: 400, message: 'not allowed', count: 100 } });
    const result = await run();
    expect(result.outcomes[0]).toMatchObject({ ref: GW_SUPPORT, status: 'failed' });
    expect(result.summary).toMatchObject({ failed: 1 });
    const failedEvents = s.events.events.filter((e) => e.event['detail-type'] === 'Drift Correction Failed' && (e.event.detail as { ref?: string }).ref === GW_SUPPORT);
    expect(failedEvents).toHaveLength(1);
    expect(rollouts(s)).toEqual([]);
    const { io } = cliIO(s);
    io.env = { ...io.env, AUTOPILOT_CONFIG_FILE: configFile, ROLLOUT_STATE_MACHINE_ARN: s.stateMachineArn('policyRollout'), PROMOTION_STATE_MACHINE_ARN: s.stateMachineArn('runtimePromotion') };
    expect(await main(['apply', '--yes', '--json'], io)).toBe(1);
  });
});

describe('running rollouts that cannot be listed', () => {
  const tampered = () => fullConfig({
    runtimes: [],
    gateways: [
      enforceGateway(),
      { id: GW_BILLING, desired: { description: 'Billing tools' }, policyEngine: { arn: BILLING_PE, mode: 'ENFORCE', tamperResponse: 'restore' } },
    ],
  });

  async function expectPolicyLeftAlone(s: Stack, why: RegExp): Promise<void> {
    const before = { support: await getGateway(s, GW_SUPPORT), billing: await getGateway(s, GW_BILLING) };
    const r = await run();
    for (const ref of [GW_SUPPORT, GW_BILLING]) {
      const gw = resource(r, ref);
      expect(gw).toMatchObject({ status: 'in-sync', action: 'none', rolloutInProgress: true });
      expect(gw.reason).toMatch(why);
      expect(gw.tamper).toBeUndefined();
    }
    expect(r.notes.join('\n')).toMatch(/no policy engine mode is acted on this run/);
    expect(rollouts(s)).toHaveLength(0);
    expect(s.emulator.count('UpdateGateway')).toBe(0);
    expect((await getGateway(s, GW_SUPPORT)).updatedAt).toEqual(before.support.updatedAt);
    expect((await getGateway(s, GW_BILLING)).policyEngineConfiguration).toEqual(before.billing.policyEngineConfiguration);
  }

  it('ListExecutions failing: every watched gateway counts as having a rollout in progress', async () => {
    const faults: FaultRule[] = [{ operation: 'ListExecutions', error: { type: 'AccessDeniedException', status: 400, count: 1000 } }];
    const s = stack = await startStack({ seed: exampleSeed(), configFile: writeConfig(tampered()), faults: { rules: faults } });
    setTimeSource(() => s.clock.now());
    await expectPolicyLeftAlone(s, /policy engine mode left alone this run: could not list running policy rollouts \(AccessDenied/);
  });

  it('the state machine missing: the same', async () => {
    const s = stack = await startStack({
      seed: exampleSeed(), configFile: writeConfig(tampered()),
      env: { ROLLOUT_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:agentcore-autopilot-dev-gone' },
    });
    setTimeSource(() => s.clock.now());
    await expectPolicyLeftAlone(s, /could not list running policy rollouts \(\w+/);
  });
});
