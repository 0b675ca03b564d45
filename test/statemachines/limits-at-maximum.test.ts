/**
 * Both state machines at the configuration maximum, on the Step Functions stand-in (which enforces
 * the 25,000-event history and 256 KiB payload quotas like AWS), on a virtual clock. The tasks are
 * a scripted world built from the real domain functions (readiness, verification steps, promotion
 * input), arranged for the longest run each machine allows: every wait ends at its last poll, every
 * bake uses every extension, and the last step fails so that everything is restored.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../local/clock.ts';
import { StepFunctionsStandIn } from '../../local/emulator/stepfunctions/index.ts';
import { loadServerlessConfig } from '../../local/lambda/serverless-config.ts';
import { REPO_ROOT } from '../../local/stack.ts';
import { buildPromotionInput } from '../../functions/domain/redeploy/promotion.ts';
import { preflight } from '../../functions/domain/rollout/preflight.ts';
import { assessReadiness, startReadiness } from '../../functions/domain/rollout/readiness.ts';
import { planRestore } from '../../functions/domain/rollout/restore.ts';
import { nextStep } from '../../functions/domain/rollout/gates.ts';
import { rolloutSettingsFromConfig } from '../../functions/domain/rollout/settings.ts';
import type { VerifyInput } from '../../functions/domain/rollout/contract.ts';
import { parseConfig } from '../../functions/lib/config/load.ts';
import { parseRolloutOverrides, MAX_BAKE_EXTENSIONS, MAX_READY_TIMEOUT_MINUTES } from '../../functions/lib/config/rollout.ts';
import {
  HISTORY_BUDGET, maxPromotionTimeoutMinutes, promotionHistoryBound, rolloutHistoryBound,
} from '../../functions/lib/step-functions-limits.ts';

const RUNTIME = 'supportAgent-a1b2c3d4e5';
const GATEWAY = 'gw-support-k1l2m3n4o5';
const ENGINE = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/supportPolicies-u1v2w3x4y5';
const URI = (d: string) => `123456789012.dkr.ecr.us-east-1.amazonaws.com/support-agent@sha256:${d.repeat(64)}`;

type Task = (input: any) => unknown;

/** The stand-in with serverless.yml's state machines, its Lambda tasks answered by `world` (by function key). */
function stack(world: Record<string, Task>) {
  // Nothing but the state machine waits here: time may jump as soon as it does.
  const clock = new VirtualClock({ mode: 'auto', idleMs: 0 });
  const config = loadServerlessConfig(`${REPO_ROOT}/serverless.yml`, { stage: 'dev', env: {} });
  const sfn = new StepFunctionsStandIn({
    clock, validateDefinitions: false,
    invokeLambda: async (target, payload) => {
      const key = String(target).split(':').at(-1)!.split('-').at(-1)!;
      const task = world[key];
      if (!task) throw new Error(`no scripted task ${key}`);
      return task(payload);
    },
  });
  sfn.registerFromConfig(config);
  return { clock, sfn, arn: (key: string) => config.stateMachines[key].arn };
}

describe('state machines at the configuration maximum stay well inside the Step Functions quotas', () => {
  it('runtime-promotion: the most endpoints at their longest allowed timeout, the last endpoint failing', async () => {
    // (One endpoint at the 60-minute maximum makes fewer loops: 3 instead of 11.)
    expect(promotionHistoryBound(1, 60)).toBeLessThan(promotionHistoryBound(5, maxPromotionTimeoutMinutes(5)));
    for (const endpointCount of [5]) {
      const timeoutMinutes = Math.min(60, maxPromotionTimeoutMinutes(endpointCount));
      const endpoints = Array.from({ length: endpointCount }, (_, i) => `ep${i}`);
      // The config accepts exactly this, and not a minute more.
      const promote = (minutes: number) => `version: 1\nruntimes:\n  - id: ${RUNTIME}\n    track:\n      repository: support-agent\n      tagPolicy: { exact: latest }\n      promote: { endpoints: [${endpoints.join(', ')}], timeoutMinutes: ${minutes} }\n`;
      expect(parseConfig(promote(timeoutMinutes), 'a.yaml').runtimes[0].track!.promote!.timeoutMinutes).toBe(timeoutMinutes);
      expect(() => parseConfig(promote(timeoutMinutes + 1), 'a.yaml')).toThrow(/timeoutMinutes/);

      const timeoutMs = timeoutMinutes * 60_000;
      const world: Record<string, Task> = {};
      const { clock, sfn, arn } = stack(world);
      let runtimeSince: number | undefined;
      const moves = new Map<string, { target: string; at: number }>();
      const last = endpoints.at(-1)!;
      Object.assign(world, {
        // READY only at the last poll of its loop.
        promotionCheckRuntime: () => ({ status: clock.now() - (runtimeSince ??= clock.now()) >= timeoutMs ? 'READY' : 'UPDATING' }),
        promotionCheckAlarms: () => ({ state: 'OK' }),
        promotionMoveEndpoint: (i) => { moves.set(i.endpointName, { target: i.targetVersion, at: clock.now() }); return { endpointName: i.endpointName, targetVersion: i.targetVersion }; },
        // Each move is live at the last poll; the last endpoint never serves the new version.
        promotionCheckEndpoint: (i) => {
          const m = moves.get(i.endpointName);
          if (!m) return { endpointName: i.endpointName, status: 'READY', liveVersion: '1' };
          const live = clock.now() - m.at >= timeoutMs && !(i.endpointName === last && m.target === '2');
          return live ? { endpointName: i.endpointName, status: 'READY', liveVersion: m.target } : { endpointName: i.endpointName, status: 'UPDATING', liveVersion: '1', targetVersion: m.target };
        },
        promotionRollback: () => ({ rolledBackVersion: '3' }),
        promotionReport: () => ({}),
      } satisfies Record<string, Task>);
      const input = buildPromotionInput({
        runtimeId: RUNTIME, newVersion: '2', previousVersion: '1', previousUri: URI('1'), newUri: URI('2'),
        promote: { endpoints, alarms: ['errors'], rollbackOnFailure: true, timeoutMinutes },
      });
      const { executionArn } = sfn.startExecution({ stateMachineArn: arn('runtimePromotion'), input: JSON.stringify(input) });
      const done = await sfn.waitForExecution(executionArn);
      expect(done.status, `${endpointCount} endpoints`).toBe('SUCCEEDED');
      expect(JSON.parse(done.output!)).toMatchObject({ outcome: 'ROLLED_BACK' });
      // Every loop ran to its last poll: the run took (1 + 2 endpoints) timeouts.
      expect(done.stopDate! - done.startDate).toBeGreaterThanOrEqual((1 + 2 * endpointCount) * timeoutMs);
      expect(done.history.length).toBeLessThanOrEqual(promotionHistoryBound(endpointCount, timeoutMinutes));
      expect(promotionHistoryBound(endpointCount, timeoutMinutes)).toBeLessThanOrEqual(HISTORY_BUDGET);
    }
  });

  it('policy-rollout: the longest readiness waits and every bake extension, ENFORCE failing, the restore at its last poll', async () => {
    // The config maximum; other values (bakes, approval) change no event count.
    const settings = parseRolloutOverrides({ readyTimeoutMinutes: MAX_READY_TIMEOUT_MINUTES, maxBakeExtensions: MAX_BAKE_EXTENSIONS, bakeMinutes: 60, enforceBakeMinutes: 30 });
    expect(() => parseRolloutOverrides({ readyTimeoutMinutes: MAX_READY_TIMEOUT_MINUTES + 1 })).toThrow(/readyTimeoutMinutes/);
    expect(() => parseRolloutOverrides({ maxBakeExtensions: MAX_BAKE_EXTENSIONS + 1 })).toThrow(/maxBakeExtensions/);
    expect(() => parseRolloutOverrides({ bakeMinutes: 525_600, maxBakeExtensions: 2 })).toThrow(/one year/);

    const world: Record<string, Task> = {};
    const { clock, sfn, arn } = stack(world);
    Object.assign(world, {
      rolloutPreflight: (i) => preflight({
        request: { ...i.request, settings: undefined }, executionArn: i.executionArn,
        gateway: { gatewayId: GATEWAY, gatewayArn: `arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/${GATEWAY}`, name: 'gw-support', status: 'READY', roleArn: 'arn:aws:iam::123456789012:role/R', authorizerType: 'AWS_IAM' },
        policyEngine: { policyEngineArn: ENGINE, status: 'ACTIVE' },
        policies: [{ policyId: 'support_agents-a1b2c3d4e5', name: 'support_agents', status: 'ACTIVE', effect: 'permit' }],
        runningExecutions: [], settings: rolloutSettingsFromConfig(settings), eventBusName: 'default',
      }),
      rolloutApplyMode: (i) => startReadiness(new Date(clock.now()), i.readyTimeoutSeconds, true),
      // The gateway was switched to ENFORCE: the restore puts the recorded (absent) engine configuration back.
      rolloutRestore: (i) => ({
        ...startReadiness(new Date(clock.now()), i.readyTimeoutSeconds, true),
        restore: planRestore({ policyEngineConfiguration: { arn: ENGINE, mode: 'ENFORCE' } }, i.rollbackPoint, i.policyEngineArn).report,
      }),
      // READY at the last allowed poll.
      rolloutCheckGateway: (i) => assessReadiness({
        gatewayId: i.gatewayId, status: i.attempt + 1 >= i.maxAttempts ? 'READY' : 'UPDATING',
        attempt: i.attempt, maxAttempts: i.maxAttempts, deadline: i.deadline, now: new Date(clock.now()),
      }),
      // INCONCLUSIVE until the extensions run out; then the shadow passes and ENFORCE fails.
      rolloutVerify: (i: VerifyInput) => {
        const used = i.previous?.extensionsUsed ?? 0;
        const verdict = used < i.settings.maxBakeExtensions ? 'INCONCLUSIVE' : i.stage === 'SHADOW' ? 'PASS' : 'FAIL';
        const step = nextStep(verdict, used, i.settings.maxBakeExtensions);
        const window = { start: new Date(clock.now() - 60_000).toISOString(), end: new Date(clock.now()).toISOString() };
        return { stage: i.stage, verdict, ...step, window, report: { verdict, gates: [], denyRatio: 0, decisions: 0, reasons: [] } };
      },
      rolloutPublish: () => ({ published: true, eventIds: [] }),
    } satisfies Record<string, Task>);
    const { executionArn } = sfn.startExecution({ stateMachineArn: arn('policyRollout'), input: JSON.stringify({ gatewayId: GATEWAY, policyEngineArn: ENGINE }) });
    const done = await sfn.waitForExecution(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toMatchObject({ outcome: 'ROLLED_BACK', shadow: { extensionsUsed: MAX_BAKE_EXTENSIONS }, enforce: { extensionsUsed: MAX_BAKE_EXTENSIONS } });
    const polls = done.history.filter((e) => e.type === 'TaskStateEntered' && /Check.*Ready|CheckRestored/.test(String(e.details?.value.name))).length;
    expect(polls).toBe(3 * (MAX_READY_TIMEOUT_MINUTES * 4 + 1));
    expect(done.history.length).toBeLessThanOrEqual(rolloutHistoryBound(MAX_READY_TIMEOUT_MINUTES, MAX_BAKE_EXTENSIONS));
    expect(rolloutHistoryBound(MAX_READY_TIMEOUT_MINUTES, MAX_BAKE_EXTENSIONS)).toBeLessThanOrEqual(HISTORY_BUDGET);
  });
});
