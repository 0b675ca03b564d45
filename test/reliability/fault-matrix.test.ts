/**
 * Reliability: the fault matrix. Each scenario runs a job through its public entry point (an ECR
 * push on the bus -> onImagePush -> runtime-promotion state machine; a policy rollout through the
 * SFN client; a drift run through the correctDrift Lambda) against the emulator with a seeded fault
 * plan, then checks the invariants with full GetAgentRuntime / GetGateway snapshots taken before
 * and after (faults off for the snapshots):
 *
 * - no field of any resource lost or altered beyond the intended change;
 * - at most one new runtime version per image digest;
 * - every rollout ends ENFORCED, HALTED_IN_LOG_ONLY with nothing enforced, or with the exact
 *   recorded configuration restored;
 * - every failure (a resource not brought to the intended state) is reported by an event.
 *
 * Reproducible: fault plans are seeded (RELIABILITY_SEED, default below, printed with the figures).
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { VirtualClock } from '../../local/clock.ts';
import type { FaultPlan } from '../../local/emulator/faults.ts';
import { hash32, prng } from '../../local/emulator/agentcore/util.ts';
import { startStack, type Stack } from '../../local/stack.ts';
import { rolloutWorld, scriptHealthyPolicyMetrics } from '../../bench/rollout.ts';
import {
  ACCOUNT, REGION, REGISTRY, TRACKED_REPOSITORIES, buildWorld, digestOf, gatewayId, policyEngineArn, runtimeId, Scratch,
  type World,
} from '../../bench/lib/world.ts';
import {
  autopilotEvents, injectedFaults, latestVersion, newFigures, newVersionsByDigest, printFigures, sfnClient, snapshotAll,
  unintendedChanges, type Snapshot,
} from './harness.ts';

const SEED = Number(process.env.RELIABILITY_SEED ?? 20261123);
const rand = prng(hash32(`fault-matrix/${SEED}`));
const seedFor = (name: string) => hash32(`${SEED}/${name}`) >>> 0;
const figures = newFigures();
/** Violations of the running test (reset by each test); allViolations keeps them for the summary. */
let violations: string[] = [];
const allViolations: string[] = [];
beforeEach(() => { violations = []; });
const REPO = TRACKED_REPOSITORIES[0];
const URI_PATH = '/agentRuntimeArtifact/containerConfiguration/containerUri';

afterAll(() => {
  printFigures(`fault matrix (seed ${SEED})`, figures);
  if (allViolations.length) console.log(allViolations.join('\n'));
});

function check(condition: boolean, message: string): void {
  if (!condition) {
    figures.invariantViolations++;
    violations.push(`  violation: ${message}`);
    allViolations.push(`  violation: ${message}`);
  }
}

function countLost(where: string, before: Snapshot, after: Snapshot, allowed: (string | RegExp)[]): void {
  const diffs = unintendedChanges(before, after, allowed);
  figures.fieldsLost += diffs.length;
  check(diffs.length === 0, `${where}: fields changed beyond the intended change: ${diffs.map((d) => `${d.kind} ${d.path}`).join(', ')}`);
}

async function withStack(world: World, fn: (stack: Stack) => Promise<void>): Promise<void> {
  const scratch = new Scratch('autopilot-reliability-');
  // Nothing here reads the handlers' logs (secret-hygiene.test.ts captures them at DEBUG).
  const stack = await startStack({ seed: world.seed, configFile: scratch.writeConfig(world.config), logLevel: 'SILENT' });
  try {
    await fn(stack);
  } finally {
    figures.faultsInjected += injectedFaults(stack).total;
    figures.latencySpikes = (figures.latencySpikes ?? 0) + stack.emulator.faults.injected.latency;
    await stack.close();
    scratch.dispose();
  }
}

/** Let every update in flight settle on the virtual clock, then let the stack go idle. */
async function settleAll(stack: Stack): Promise<void> {
  await stack.settle({ timeoutMs: 30_000 });
  await (stack.clock as VirtualClock).advance(10 * 60_000);
  await stack.settle({ timeoutMs: 30_000 });
}

// ---- redeploy -----------------------------------------------------------------------------------

const TRACKING = [0, 1, 2, 3, 4];
const PROMOTED = [0, 1];
const BYSTANDER = 5;

function redeployWorld(): World {
  return buildWorld({
    runtimes: [
      ...TRACKING.map((i) => ({
        index: i,
        options: { digest: digestOf(`base-${i}`) },
        ...(PROMOTED.includes(i) ? { endpoints: [{ name: 'prod', liveVersion: 1 }] } : {}),
        spec: {
          track: {
            repository: REPO,
            tagPolicy: { semver: '^1.0.0' },
            ...(PROMOTED.includes(i) ? { promote: { endpoints: ['prod'], rollbackOnFailure: true, timeoutMinutes: 30 } } : {}),
          },
        },
      })),
      { index: BYSTANDER, spec: { track: { repository: REPO, tagPolicy: { exact: 'never-pushed' } } } },
    ],
    redeploy: { concurrency: 3 },
  });
}

const ids = (xs: number[]) => xs.map(runtimeId);
const uriOf = (s: Snapshot) => String((s.agentRuntimeArtifact as { containerConfiguration?: { containerUri?: string } })?.containerConfiguration?.containerUri ?? '');

interface RedeployExpectation {
  /** Runtimes expected to end on the pushed digest (others: failure reported). */
  mustUpdate?: number[];
  /** Runtimes whose new version fails: promoted ones expected back on their previous image, endpoint not moved. */
  failing?: number[];
  /** Require an event for failed versions of runtimes without promotion too (default true). */
  reportUnpromoted?: boolean;
}

async function redeployScenario(name: string, plan: FaultPlan | undefined, expectation: RedeployExpectation, setup?: (stack: Stack, digest: string) => void): Promise<void> {
  figures.scenariosRun++;
  await withStack(redeployWorld(), async (stack) => {
    const all = [...ids(TRACKING), runtimeId(BYSTANDER)];
    const before = await snapshotAll(stack, all, []);
    const versionsBefore = new Map(all.map((id) => [id, latestVersion(stack, id)]));
    const fromEvents = stack.events.events.length;
    const digest = digestOf(`${name}-pushed`);
    setup?.(stack, digest);
    if (plan) stack.emulator.faults.setPlan(plan);
    stack.pushImage({ repository: REPO, tags: ['1.1.0'], digest });
    await stack.settle({ timeoutMs: 30_000 });
    stack.emulator.faults.clear();
    await settleAll(stack);
    const after = await snapshotAll(stack, all, []);
    const events = autopilotEvents(stack, fromEvents);

    for (const i of TRACKING) {
      const id = runtimeId(i);
      const b = before.get(`runtime:${id}`)!;
      const a = after.get(`runtime:${id}`)!;
      countLost(`${name} ${id}`, b, a, [URI_PATH]);
      for (const [d, n] of newVersionsByDigest(stack, id, versionsBefore.get(id)!)) check(n <= 1, `${name} ${id}: ${n} new versions for ${d}`);
      const onNew = uriOf(a).endsWith(`@${digest}`);
      const reported = events.some((e) => /Failed|Rolled Back/.test(e.detailType) && e.detail.runtimeId === id);
      if (expectation.failing?.includes(i)) {
        if (PROMOTED.includes(i) || expectation.reportUnpromoted !== false) check(reported, `${name} ${id}: failed version not reported by an event`);
        if (PROMOTED.includes(i)) {
          // rollbackOnFailure: back on the previous image, prod endpoint not moved.
          check(uriOf(a) === uriOf(b), `${name} ${id}: a failing version must be rolled back to ${uriOf(b)}, is ${uriOf(a)}`);
          const live = stack.agentcore.endpointView(stack.agentcore.getRuntime(id), 'prod') as { liveVersion?: string };
          check(live.liveVersion === '1', `${name} ${id}: prod endpoint moved to ${live.liveVersion} despite the failure`);
        }
      } else {
        if (expectation.mustUpdate?.includes(i)) check(onNew, `${name} ${id}: not redeployed to the pushed digest`);
        check(onNew || reported, `${name} ${id}: not redeployed and no failure event`);
      }
      if (onNew && PROMOTED.includes(i)) {
        const live = stack.agentcore.endpointView(stack.agentcore.getRuntime(id), 'prod') as { liveVersion?: string };
        check(live.liveVersion === String(latestVersion(stack, id)), `${name} ${id}: prod endpoint on ${live.liveVersion}, latest READY is ${latestVersion(stack, id)}`);
      }
    }
    countLost(`${name} bystander`, before.get(`runtime:${runtimeId(BYSTANDER)}`)!, after.get(`runtime:${runtimeId(BYSTANDER)}`)!, []);
  });
}

/** Throttling / 500s / spikes on every AgentCore call, drawn from the seeded PRNG around the issue's rates. */
function noisyPlan(name: string, o: { throttle?: number; internal?: number; spikes?: boolean; conflicts?: number }): FaultPlan {
  const rules: NonNullable<FaultPlan['rules']> = [];
  if (o.throttle) rules.push({ service: 'bedrock-agentcore-control', operation: '*', error: { type: 'ThrottlingException', status: 429, rate: o.throttle } });
  if (o.internal) rules.push({ service: 'bedrock-agentcore-control', operation: '*', errorRate: o.internal });
  if (o.spikes) rules.push({ service: '*', operation: '*', spike: { probability: 0.2 + rand() * 0.1, ms: 40 + Math.floor(rand() * 60) } });
  if (o.conflicts) rules.push({ service: 'bedrock-agentcore-control', operation: 'UpdateAgentRuntime', conflicts: o.conflicts });
  return { seed: seedFor(name), rules };
}

describe('fault matrix: redeploy on image push', () => {
  it('throttling at 30 %: absorbed, every tracking runtime redeployed losslessly', async () => {
    await redeployScenario('throttle30', noisyPlan('throttle30', { throttle: 0.3 }), { mustUpdate: TRACKING });
    expect(violations).toEqual([]);
  });

  it('500s at 10 % with latency spikes: redeployed or reported, nothing lost', async () => {
    await redeployScenario('internal10', noisyPlan('internal10', { internal: 0.1, spikes: true }), {});
    expect(violations).toEqual([]);
  });

  it('ConflictException while updating: retried, then updated once', async () => {
    await redeployScenario('conflicts', noisyPlan('conflicts', { conflicts: 4 }), { mustUpdate: TRACKING });
    expect(violations).toEqual([]);
  });

  it('UPDATE_FAILED: promoted runtimes rolled back and reported, endpoint left on its version, nothing lost', async () => {
    await redeployScenario('update-failed', undefined, { failing: TRACKING, reportUnpromoted: false }, (stack, digest) => {
      stack.agentcore.markImageFailing(`${REGISTRY}/${REPO}@${digest}`);
    });
    expect(violations).toEqual([]);
  });

  // Runtimes without `promote` have their new version followed too (endpoints: [], no rollback):
  // a version ending UPDATE_FAILED is reported by a Runtime Redeploy Failed event (version-failed).
  it('UPDATE_FAILED without promotion: the failure is reported by an event', async () => {
    await redeployScenario('update-failed-unpromoted', undefined, { failing: TRACKING }, (stack, digest) => {
      stack.agentcore.markImageFailing(`${REGISTRY}/${REPO}@${digest}`);
    });
    expect(violations).toEqual([]);
  });

  it('duplicate and reordered events: newest semver wins, one version per digest, no downgrade', async () => {
    figures.scenariosRun++;
    await withStack(redeployWorld(), async (stack) => {
      const targets = [2, 3, 4].map(runtimeId);
      const before = await snapshotAll(stack, targets, []);
      const v0 = new Map(targets.map((id) => [id, latestVersion(stack, id)]));
      const older = digestOf('reorder-1.2.0');
      const newer = digestOf('reorder-1.3.0');
      stack.ecr.seed({ repositories: [{ name: REPO, images: [{ tags: ['1.2.0'], digest: older }, { tags: ['1.3.0', 'stable'], digest: newer }] }] });
      const event = (tag: string, digest: string, id: string) => ({
        version: '0' as const, id, 'detail-type': 'ECR Image Action', source: 'aws.ecr', account: ACCOUNT, region: REGION,
        time: new Date(stack.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'), resources: [],
        detail: { result: 'SUCCESS', 'repository-name': REPO, 'image-digest': digest, 'action-type': 'PUSH', 'image-tag': tag },
      });
      stack.emulator.faults.setPlan(noisyPlan('reorder', { throttle: 0.3, spikes: true }));
      // The newer push arrives first, twice (at-least-once delivery), with its second tag.
      stack.events.put(event('1.3.0', newer, 'evt-newer'));
      stack.events.put(event('1.3.0', newer, 'evt-newer'));
      stack.events.put(event('stable', newer, 'evt-newer-stable'));
      await settleAll(stack);
      // Then the older one, late; then the newer again.
      stack.events.put(event('1.2.0', older, 'evt-older'));
      await settleAll(stack);
      stack.events.put(event('1.3.0', newer, 'evt-newer'));
      await settleAll(stack);
      stack.emulator.faults.clear();
      const after = await snapshotAll(stack, targets, []);
      for (const id of targets) {
        const a = after.get(`runtime:${id}`)!;
        check(uriOf(a).endsWith(`@${newer}`), `reorder ${id}: ends on ${uriOf(a)}, expected the 1.3.0 digest`);
        const versions = newVersionsByDigest(stack, id, v0.get(id)!);
        check(!versions.has(older), `reorder ${id}: downgraded to 1.2.0 after 1.3.0`);
        for (const [d, n] of versions) check(n <= 1, `reorder ${id}: ${n} versions for ${d}`);
        countLost(`reorder ${id}`, before.get(`runtime:${id}`)!, a, [URI_PATH]);
      }
    });
    expect(violations).toEqual([]);
  });
});

// ---- policy rollout -----------------------------------------------------------------------------

type RolloutEnd = 'ENFORCED' | 'RESTORED';

async function rolloutScenario(
  name: string,
  o: { plan?: FaultPlan; setup?: (stack: Stack) => void; denyPerMinute?: number; expect?: RolloutEnd },
): Promise<void> {
  figures.scenariosRun++;
  await withStack(rolloutWorld(1, { bakeMinutes: 30, enforceBakeMinutes: 15 }), async (stack) => {
    const gw = gatewayId(0);
    scriptHealthyPolicyMetrics(stack, gw, { denyPerMinute: o.denyPerMinute });
    const before = (await snapshotAll(stack, [], [gw])).get(`gateway:${gw}`)!;
    const fromReq = stack.emulator.requests.length;
    const fromEvents = stack.events.events.length;
    o.setup?.(stack);
    if (o.plan) stack.emulator.faults.setPlan(o.plan);
    const started = await sfnClient(stack).send(new StartExecutionCommand({
      stateMachineArn: stack.stateMachineArn('policyRollout'),
      name: `reliability-${name}`,
      input: JSON.stringify({ gatewayId: gw, policyEngineArn: policyEngineArn(0) }),
    }));
    await stack.settle({ timeoutMs: 30_000 });
    stack.emulator.faults.clear();
    stack.agentcore.clearGatewayFailures();
    await settleAll(stack);
    const exec = stack.sfn.getExecution(started.executionArn!)!;
    const after = (await snapshotAll(stack, [], [gw])).get(`gateway:${gw}`)!;
    const events = autopilotEvents(stack, fromEvents).filter((e) => e.detailType.startsWith('Policy Rollout'));
    const mode = (after.policyEngineConfiguration as { mode?: string } | undefined)?.mode;
    const outcome = /ENFORCED|HALTED_IN_LOG_ONLY|ROLLED_BACK|ROLLBACK_FAILED|ABORTED/.exec(exec.output ?? '')?.[0] ?? exec.status;
    const enforceAccepted = stack.emulator.requests.slice(fromReq)
      .some((r) => r.operation === 'UpdateGateway' && r.status < 300 && JSON.stringify(r.input ?? {}).includes('"ENFORCE"'));

    check(exec.status !== 'RUNNING', `${name}: execution still running`);
    if (mode === 'ENFORCE') {
      countLost(`${name} ENFORCED`, before, after, ['/policyEngineConfiguration/mode']);
      check(events.some((e) => e.detailType === 'Policy Rollout Enforced'), `${name}: enforced without a Policy Rollout Enforced event`);
    } else {
      // HALTED_IN_LOG_ONLY / ABORTED (nothing enforced) or ROLLED_BACK (recorded configuration restored): equal to before.
      countLost(`${name} ${outcome}`, before, after, []);
      if (outcome === 'HALTED_IN_LOG_ONLY' || outcome === 'ABORTED') check(!enforceAccepted, `${name}: ${outcome} but an ENFORCE update was accepted`);
      check(events.some((e) => /Halted|Rolled Back|Aborted/.test(e.detailType)), `${name}: ended ${outcome} without a Halted / Rolled Back / Aborted event (${events.map((e) => e.detailType).join(', ')})`);
    }
    if (o.expect === 'ENFORCED') check(mode === 'ENFORCE', `${name}: expected ENFORCED, got ${outcome} (${exec.error ?? ''} ${exec.cause?.slice(0, 200) ?? ''})`);
    if (o.expect === 'RESTORED') check(mode !== 'ENFORCE', `${name}: expected the recorded configuration restored, got ${outcome}`);
  });
}

describe('fault matrix: staged policy rollout', () => {
  it('throttling 30 % and 500s 10 % with spikes: still ENFORCED, nothing else touched', async () => {
    await rolloutScenario('rollout-noise', { plan: noisyPlan('rollout-noise', { throttle: 0.3, internal: 0.1, spikes: true }) });
    expect(violations).toEqual([]);
  });

  it('UPDATE_UNSUCCESSFUL on ENFORCE: the exact recorded configuration is restored', async () => {
    await rolloutScenario('enforce-unsuccessful', {
      setup: (stack) => stack.agentcore.failGatewayUpdatesWithPolicyEngine(policyEngineArn(0), 'ENFORCE'),
      expect: 'RESTORED',
    });
    expect(violations).toEqual([]);
  });

  it('ConflictException on UpdateGateway: retried, ENFORCED', async () => {
    await rolloutScenario('gateway-conflicts', {
      plan: { seed: seedFor('gateway-conflicts'), rules: [{ service: 'bedrock-agentcore-control', operation: 'UpdateGateway', conflicts: 2 }] },
      expect: 'ENFORCED',
    });
    expect(violations).toEqual([]);
  });

  it('a task failing midway (metrics unavailable during verify): nothing enforced or restored, reported', async () => {
    await rolloutScenario('verify-fails', {
      plan: { seed: seedFor('verify-fails'), rules: [{ service: 'monitoring', operation: 'GetMetricData', errorRate: 1 }] },
      expect: 'RESTORED',
    });
    expect(violations).toEqual([]);
  });

  it('a task failing after ENFORCE (UpdateGateway keeps failing): restored exactly or enforced', async () => {
    await rolloutScenario('apply-fails', {
      plan: { seed: seedFor('apply-fails'), rules: [{ service: 'bedrock-agentcore-control', operation: 'UpdateGateway', error: { type: 'InternalServerException', status: 500, count: 40 } }] },
    });
    expect(violations).toEqual([]);
  });

  it('deny ratio too high: HALTED_IN_LOG_ONLY with no ENFORCE ever accepted', async () => {
    await rolloutScenario('deny-high', { denyPerMinute: 400, expect: 'RESTORED' });
    expect(violations).toEqual([]);
  });
});

// ---- drift --------------------------------------------------------------------------------------

describe('fault matrix: drift correction', () => {
  it('throttling 30 % and 500s 10 %: every drifted resource converged or reported, nothing else changed', async () => {
    figures.scenariosRun++;
    const nR = 6;
    const nG = 3;
    const world = buildWorld({
      runtimes: Array.from({ length: nR }, (_, i) => ({
        index: i,
        spec: { drift: 'correct', desired: { description: `declared ${i}`, environmentVariables: { LOG_LEVEL: 'warn', SHARD: String(i) } } },
      })),
      gateways: Array.from({ length: nG }, (_, i) => ({ index: i, spec: { drift: 'correct', desired: { description: `declared gw ${i}` } } })),
      drift: { mode: 'correct', maxCorrectionsPerRun: 100, maxErrorRatio: 1, concurrency: 4 },
    });
    await withStack(world, async (stack) => {
      const rts = Array.from({ length: nR }, (_, i) => runtimeId(i));
      const gws = Array.from({ length: nG }, (_, i) => gatewayId(i));
      const before = await snapshotAll(stack, rts, gws);
      const v0 = new Map(rts.map((id) => [id, latestVersion(stack, id)]));
      const fromEvents = stack.events.events.length;
      stack.emulator.faults.setPlan(noisyPlan('drift-noise', { throttle: 0.3, internal: 0.1, spikes: true }));
      let failure: unknown;
      try {
        await stack.lambda.invoke('correctDrift', { trigger: 'schedule' });
      } catch (err) {
        failure = err;
      }
      await stack.settle({ timeoutMs: 30_000 });
      stack.emulator.faults.clear();
      await settleAll(stack);
      const after = await snapshotAll(stack, rts, gws);
      const eventText = autopilotEvents(stack, fromEvents).filter((e) => e.detailType.startsWith('Drift')).map((e) => JSON.stringify(e));
      for (const [i, id] of rts.entries()) {
        const a = after.get(`runtime:${id}`)!;
        countLost(`drift ${id}`, before.get(`runtime:${id}`)!, a, ['/description', '/environmentVariables/LOG_LEVEL']);
        const converged = a.description === `declared ${i}` && (a.environmentVariables as Record<string, string>).LOG_LEVEL === 'warn';
        check(converged || failure !== undefined || eventText.some((t) => t.includes(id) && /Failed|"status":"error"/.test(t)), `drift ${id}: neither converged nor reported`);
        for (const [d, n] of newVersionsByDigest(stack, id, v0.get(id)!)) check(n <= 1, `drift ${id}: ${n} new versions for ${d}`);
      }
      for (const [i, id] of gws.entries()) {
        const a = after.get(`gateway:${id}`)!;
        countLost(`drift ${id}`, before.get(`gateway:${id}`)!, a, ['/description']);
        check(a.description === `declared gw ${i}` || failure !== undefined || eventText.some((t) => t.includes(id) && /Failed|"status":"error"/.test(t)), `drift ${id}: neither converged nor reported`);
      }
    });
    expect(violations).toEqual([]);
  });
});
