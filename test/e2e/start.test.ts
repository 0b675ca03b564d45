/**
 * The `npm start` scenario, headless: every step must end as the scenario expects, asserted here
 * again from the emulator's state, the executions and the event log (not only from the scenario's
 * own checks); then `node local/start.ts` itself, as `npm start` runs it, must exit 0 and write the
 * report.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointLiveVersion, executionsOf, gatewayPolicy, outputOf, pinsDigest, runtimeVersions } from '../../local/scenario/expect.ts';
import { runScenario, type ScenarioResult } from '../../local/scenario/run.ts';
import { HAND_MADE_SECRET, IDS, INITIAL_DIGEST } from '../../local/scenario/steps.ts';
import { REPO_ROOT, type Stack } from '../../local/stack.ts';

describe('npm start scenario (headless)', () => {
  let result: ScenarioResult;
  let stack: Stack;
  const lines: string[] = [];

  beforeAll(async () => {
    const run = await runScenario({ keepStack: true, print: (l) => void lines.push(l) });
    result = run.result;
    stack = run.stack!;
  }, 60_000);
  afterAll(() => stack?.close());

  it('ends every step as expected', () => {
    const failed = [...result.steps.flatMap((s) => s.checks.filter((c) => !c.ok).map((c) => `step ${s.n}: ${c.name}: ${c.detail}`)),
      ...result.invariants.filter((c) => !c.ok).map((c) => `whole run: ${c.name}: ${c.detail}`)];
    expect(failed).toEqual([]);
    expect(result.steps.map((s) => [s.n, s.ok])).toEqual([[1, true], [2, true], [3, true], [4, true], [5, true]]);
    expect(result.ok).toBe(true);
  });

  it('step 1: one push redeployed both tracking runtimes by digest and promoted prod; the older push changed nothing', () => {
    const pushes = stack.events.events.filter((e) => e.event.source === 'aws.ecr').map((e) => e.event.detail);
    const d13 = pushes.find((d) => d['image-tag'] === '1.3.0')!['image-digest'] as string;
    const d125 = pushes.find((d) => d['image-tag'] === '1.2.5')!['image-digest'] as string;
    for (const id of [IDS.supportAgent, IDS.supportCanary]) {
      const v = runtimeVersions(stack, id);
      expect(pinsDigest(v[0].uri, INITIAL_DIGEST)).toBe(true);
      expect(pinsDigest(v[1].uri, d13)).toBe(true);
      expect(v.some((x) => pinsDigest(x.uri, d125))).toBe(false);
    }
    const promotions = executionsOf(stack, 'runtimePromotion', (i) => i.runtimeId === IDS.supportAgent).map((e) => outputOf(e).outcome);
    expect(promotions).toEqual(['PROMOTED', 'ROLLED_BACK']);
    const skipped = stack.events.events.filter((e) => e.event['detail-type'] === 'Runtime Redeploy Skipped' && e.event.detail.digest === d125);
    expect(skipped.map((e) => e.event.detail.reason)).toEqual(['downgrade-refused', 'downgrade-refused']);
  });

  it('step 2: the schedule found both drifts; the env var is back and gw-support was re-enforced by a rollout', () => {
    expect(stack.events.events.filter((e) => e.via === 'schedule')).toHaveLength(1);
    const canary = runtimeVersions(stack, IDS.supportCanary);
    // v1 seed, v2 push, v3 hand edit, v4 correction, v5 the step-4 push.
    expect(canary.map((v) => v.version)).toEqual([1, 2, 3, 4, 5]);
    expect(canary[2].env?.MODEL_ID).toBe(HAND_MADE_SECRET);
    expect(canary[3].env).toEqual(canary[1].env);
    const rollouts = executionsOf(stack, 'policyRollout', (i) => i.gatewayId === IDS.gwSupport);
    expect(rollouts.map((e) => outputOf(e).outcome)).toEqual(['ENFORCED']);
    expect(gatewayPolicy(stack, IDS.gwSupport)?.mode).toBe('ENFORCE');
  });

  it('step 3: gw-billing reached ENFORCE, gw-orders halted in LOG_ONLY on its deny ratio', () => {
    expect(executionsOf(stack, 'policyRollout', (i) => i.gatewayId === IDS.gwBilling).map((e) => outputOf(e).outcome)).toEqual(['ENFORCED']);
    expect(executionsOf(stack, 'policyRollout', (i) => i.gatewayId === IDS.gwOrders).map((e) => outputOf(e).outcome)).toEqual(['HALTED_IN_LOG_ONLY']);
    expect(gatewayPolicy(stack, IDS.gwBilling)?.mode).toBe('ENFORCE');
    expect(gatewayPolicy(stack, IDS.gwOrders)?.mode).toBe('LOG_ONLY');
    const halted = stack.events.events.find((e) => e.event['detail-type'] === 'Policy Rollout Halted')!;
    expect((halted.event.detail.shadow as { report: { denyRatio: number } }).report.denyRatio).toBeCloseTo(0.25, 5);
  });

  it('step 4: the failed promotion left prod on its version and restored the previous image', () => {
    expect(endpointLiveVersion(stack, IDS.supportAgent, 'prod')).toBe(2);
    const v = runtimeVersions(stack, IDS.supportAgent);
    expect(v.at(-1)!.uri).toBe(v[1].uri);
    expect(stack.cloudwatch.alarmState(IDS.errorsAlarm)).toBe('ALARM');
  });

  it('step 5: the declared policy went LOG_ONLY, then ACTIVE, on the gates of real traffic', () => {
    const readers = stack.agentcore.policies.ofEngine('supportPolicies-u1v2w3x4y5').find((p) => p.name === 'readers');
    expect(readers?.enforcementMode).toBe('ACTIVE');
    const types = stack.events.events.map((e) => e.event['detail-type']).filter((t) => t.startsWith('Policy Promotion'));
    expect(types).toEqual(['Policy Promotion Requested', 'Policy Promotion Started', 'Policy Promotion Stage Passed', 'Policy Promotion Stage Passed', 'Policy Promotion Stage Passed', 'Policy Promotion Promoted']);
    // Until then, drift reported it (promote: manual) and changed nothing.
    const reported = stack.events.events.filter((e) => e.event['detail-type'] === 'Drift Detected' && JSON.stringify(e.event.detail).includes('readers'));
    expect(reported.length).toBeGreaterThanOrEqual(1);
  });

  it('printed a readable timeline without any environment variable value', () => {
    const text = lines.join('\n');
    expect(text).toMatch(/Step 1: Image push/);
    expect(text).toMatch(/T\+\d\d:\d\d:\d\d\s+redeploy started\s+supportAgent-a1b2c3d4e5/);
    expect(text).toMatch(/rollout halted\s+gw-orders-h5j6k7l8m9/);
    expect(text).toMatch(/promotion promoted\s+readers\s+PROMOTED \| change create \| active PASS/);
    expect(text).not.toContain(HAND_MADE_SECRET);
    expect(text).not.toContain('anthropic.claude-sonnet-4');
    expect(result.charts.length).toBe(4);
    expect(result.charts.every((c) => c.series[0].points.length > 10)).toBe(true);
  });

  it('`node local/start.ts` (npm start) exits 0 and writes the report; bad options exit 2', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'autopilot-start-'));
    try {
      const report = path.join(dir, 'report.html');
      const run = spawnSync(process.execPath, ['local/start.ts', '--report', report, '--no-color'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 45_000 });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/Every step ended as expected/);
      expect(existsSync(report)).toBe(true);
      expect(readFileSync(report, 'utf8')).toMatch(/ALL STEPS PASSED/);
      const bad = spawnSync(process.execPath, ['local/start.ts', '--frobnicate'], { cwd: REPO_ROOT, encoding: 'utf8' });
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/unknown option '--frobnicate'/);
      const help = spawnSync(process.execPath, ['local/start.ts', '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(/--keep-running/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
