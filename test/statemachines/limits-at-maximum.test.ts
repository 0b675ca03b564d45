/**
 * The state machines at the configuration maximum, on the Step Functions stand-in (which enforces
 * the 25,000-event history and 256 KiB payload quotas like AWS), on a virtual clock. The tasks are
 * a scripted world built from the real domain functions (readiness, verification steps, promotion
 * input, promotion preflight, write plans and gates), arranged for the longest run each machine
 * allows: every wait ends at its last poll, every bake uses every extension, and the last step
 * fails so that everything is restored.
 */
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
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
import type { PromotionContext } from '../../functions/domain/promotion/contract.ts';
import { promotionStreams } from '../../functions/domain/promotion/gates.ts';
import { describeStream } from '../../functions/domain/rollout/projections.ts';
import {
  DEFAULT_PROMOTION_STREAM_BYTES, MAX_PROMOTION_BAKE_EXTENSIONS, MAX_PROMOTION_READY_TIMEOUT_MINUTES, PROMOTION_SETTINGS_STATE_BUDGET, promotionStateBytesBound,
} from '../../functions/lib/config/promotion-limits.ts';
import {
  HISTORY_BUDGET, MAX_EXECUTION_MINUTES, PAYLOAD_QUOTA_BYTES, POLICY_PROMOTION_TASK_MAX_SECONDS, maxPromotionTimeoutMinutes,
  policyPromotionDurationBound, policyPromotionHistoryBound, policyPromotionMaxPolls, promotionHistoryBound, rolloutHistoryBound,
} from '../../functions/lib/step-functions-limits.ts';
import { promotionWorld } from './policy-promotion-world.ts';

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

/** SendTaskSuccess through the stand-in's API. */
async function sendTaskSuccess(sfn: StepFunctionsStandIn, taskToken: string, output: unknown): Promise<void> {
  const body = JSON.stringify({ taskToken, output: JSON.stringify(output) });
  await sfn.resolve({ method: 'POST', path: '/', query: new URLSearchParams(), headers: {}, body, target: 'AWSStepFunctions.SendTaskSuccess' })!.run();
}

const POLICY = 'support_agents';
/** A config declaring one ACTIVE policy of ENGINE with these promotion settings, on `gateways`. */
const promotionDoc = (promotion: Record<string, unknown>, gateways = [GATEWAY], mode = 'ACTIVE') => stringify({
  version: 1,
  gateways: gateways.map((id) => ({ id, policyEngine: { arn: ENGINE, mode: 'ENFORCE' } })),
  policyEngines: [{ arn: ENGINE, promotion, policies: [{ name: POLICY, mode, statement: 'permit (principal, action, resource) when { principal.hasTag("role") };' }] }],
});
const declared = (promotion: Record<string, unknown>, gateways?: string[]) => parseConfig(promotionDoc(promotion, gateways), 'a.yaml', { cedar: false }).policyEngines[0];
const gatewayArn = (id: string) => `arn:aws-us-gov:bedrock-agentcore:us-gov-west-1:123456789012:gateway/${id}`;

/** Runs one promotion of POLICY at `declaration` to its end. */
async function runPromotion(declaration: ReturnType<typeof declared>, o: { previousStatement?: string; activeAlarms?: 'OK' | 'ALARM' } = {}) {
  const world: Record<string, Task> = {};
  const { clock, sfn, arn } = stack(world);
  const w = promotionWorld({
    clock, declaration, gatewayArn, previousStatement: o.previousStatement ?? 'permit (principal, action, resource);',
    approve: (token) => sendTaskSuccess(sfn, token, { approvedBy: 'alice' }), activeAlarms: o.activeAlarms,
  });
  let plan: { maxPolls: number } | undefined;
  Object.assign(world, w.tasks, { promotionPreflight: (i: any) => { const st = w.tasks.promotionPreflight(i) as any; plan = st.promotion.plan; return st; } });
  const { executionArn } = sfn.startExecution({ stateMachineArn: arn('policyPromotion'), input: JSON.stringify({ policyEngineArn: ENGINE, policyName: POLICY }) });
  const done = await sfn.waitForExecution(executionArn);
  // The largest state input/output, task parameters or result the execution carried.
  const bytes = Math.max(...done.history.map((e) => Math.max(0, ...['input', 'output', 'parameters'].map((k) => {
    const v = e.details?.value[k];
    return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 0;
  }))));
  return { done, events: w.events, plan: plan!, bytes };
}

/** The longest one Task state can run with every retry, seconds: attempts × TimeoutSeconds + retry intervals. */
function longestTaskSeconds(states: Record<string, any>): number {
  let longest = 0;
  for (const s of Object.values(states)) {
    if (s.Type === 'Parallel') for (const b of s.Branches) longest = Math.max(longest, longestTaskSeconds(b.States));
    if (s.Type !== 'Task' || typeof s.TimeoutSeconds !== 'number') continue;
    let attempts = 1;
    let waits = 0;
    for (const r of s.Retry ?? []) {
      for (let n = 0; n < (r.MaxAttempts ?? 3); n++) waits += Math.min((r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** n, r.MaxDelaySeconds ?? Infinity);
      attempts += r.MaxAttempts ?? 3;
    }
    longest = Math.max(longest, attempts * s.TimeoutSeconds + waits);
  }
  return longest;
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

  it('policy-promotion: the longest readiness waits, every bake extension, the approval at its last second, ACTIVE failing, the restore at its last poll', async () => {
    const promotion = {
      readyTimeoutMinutes: MAX_PROMOTION_READY_TIMEOUT_MINUTES, maxBakeExtensions: MAX_PROMOTION_BAKE_EXTENSIONS, bakeMinutes: 60, activeBakeMinutes: 30,
      alarms: ['errors'], approval: { required: true, timeoutMinutes: 24 * 60 },
    };
    const declaration = declared(promotion);
    // The config accepts exactly this, not a minute or an extension more, and no run past a year.
    expect(() => declared({ ...promotion, readyTimeoutMinutes: MAX_PROMOTION_READY_TIMEOUT_MINUTES + 1 })).toThrow(/readyTimeoutMinutes/);
    expect(() => declared({ ...promotion, maxBakeExtensions: MAX_PROMOTION_BAKE_EXTENSIONS + 1 })).toThrow(/maxBakeExtensions/);
    // Bakes alone within a year (what the preflight checks), retried tasks and readiness waits past it.
    const bakeMinutes = Math.floor(MAX_EXECUTION_MINUTES / (MAX_PROMOTION_BAKE_EXTENSIONS + 1)) - 30;
    expect(policyPromotionDurationBound({ ...declaration.promotion, bakeMinutes })).toBeGreaterThan(MAX_EXECUTION_MINUTES);
    expect(() => declared({ ...promotion, bakeMinutes })).toThrow(/one year/);
    // Every task state of the ASL at its longest fits the allowance the duration bound counts.
    const asl = loadServerlessConfig(`${REPO_ROOT}/serverless.yml`, { stage: 'dev', env: {} }).stateMachines.policyPromotion.definition as { States: Record<string, unknown> };
    expect(longestTaskSeconds(asl.States)).toBeLessThanOrEqual(POLICY_PROMOTION_TASK_MAX_SECONDS);

    const { done, events, plan } = await runPromotion(declaration);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toMatchObject({
      outcome: 'ROLLED_BACK', change: 'candidate', logOnly: { extensionsUsed: MAX_PROMOTION_BAKE_EXTENSIONS }, active: { verdict: 'FAIL', extensionsUsed: MAX_PROMOTION_BAKE_EXTENSIONS },
      restore: { action: 'restored' },
    });
    expect(events.at(-1)?.detailType).toBe('Policy Promotion Rolled Back');
    // The plan the preflight made polls as often as the bound assumes, and every loop polled to its end.
    expect(plan.maxPolls).toBe(policyPromotionMaxPolls(MAX_PROMOTION_READY_TIMEOUT_MINUTES));
    const polls = done.history.filter((e) => e.type === 'TaskStateEntered' && /^Check(Staged|Active|Restored)$/.test(String(e.details?.value.name))).length;
    expect(polls).toBe(3 * plan.maxPolls);
    expect(done.history.length).toBeLessThanOrEqual(policyPromotionHistoryBound(MAX_PROMOTION_READY_TIMEOUT_MINUTES, MAX_PROMOTION_BAKE_EXTENSIONS));
    expect(policyPromotionHistoryBound(MAX_PROMOTION_READY_TIMEOUT_MINUTES, MAX_PROMOTION_BAKE_EXTENSIONS)).toBeLessThanOrEqual(HISTORY_BUDGET);
    // Both bakes with every extension and the approval at its last second, within the duration bound.
    const ran = done.stopDate! - done.startDate;
    expect(ran).toBeGreaterThanOrEqual(((60 + 30) * (MAX_PROMOTION_BAKE_EXTENSIONS + 1) + 24 * 60) * 60_000 - 1000);
    expect(ran).toBeLessThanOrEqual(policyPromotionDurationBound(declaration.promotion) * 60_000);
  });

  it('policy-promotion: alarms, gateways and projections at the state budget, and a 10,000-character previous statement, stay under 256 KiB', async () => {
    const gateways = Array.from({ length: 8 }, (_, i) => `${'support-gateway-'.repeat(5)}${i}-k1l2m3n4o5`);
    const projections = { decisions: { OperationName: 'AuthorizeAction', TargetResource: '{gatewayId}', Mode: 'ENFORCE', Gateway: '{gatewayArn}' } };
    const base = { readyTimeoutMinutes: 1, maxBakeExtensions: 1, bakeMinutes: 10, activeBakeMinutes: 10, approval: { required: true, timeoutMinutes: 5 }, projections };
    const alarms = (length: number) => Array.from({ length: 100 }, (_, i) => `${i}`.padStart(length, 'a'));
    // The longest alarm names the budget allows with these gateways and projections: accepted, one character more refused.
    const wide = declared({ ...base, alarms: [] }, gateways).promotion;
    let length = 255;
    while (promotionStateBytesBound({ ...wide, alarms: alarms(length) }) > PROMOTION_SETTINGS_STATE_BUDGET) length--;
    expect(length).toBeGreaterThan(50);
    const declaration = declared({ ...base, alarms: alarms(length) }, gateways);
    expect(() => declared({ ...base, alarms: alarms(length + 1) }, gateways)).toThrow(/Step Functions state/);
    // Only an ACTIVE policy is promoted: an engine of LOG_ONLY policies is not bounded by it.
    expect(() => parseConfig(promotionDoc({ ...base, alarms: alarms(length + 1) }, gateways, 'LOG_ONLY'), 'a.yaml', { cedar: false })).not.toThrow();

    // The default projections, described at their longest (model maxima of every id), fit what the bound counts for them.
    const id59 = `${'p'.repeat(48)}-a1b2c3d4e5`;
    const longestGateway = `${'a-'.repeat(100)}-k1l2m3n4o5`;
    const ctx = {
      policyEngineId: id59, policyEngineArn: `arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/${id59}`, policyName: 'n'.repeat(48),
      settings: { projections: {} }, gateways: [{ id: longestGateway, arn: gatewayArn(longestGateway) }],
    } as unknown as PromotionContext;
    for (const stage of ['LOG_ONLY', 'ACTIVE'] as const) {
      const streams = promotionStreams(ctx, stage, id59);
      const described = [describeStream('LogOnlyMatches|LogOnlyDecisionFlips', streams.logOnly), describeStream('MismatchErrors', streams.evaluationFailures), describeStream('AllowDecisions|DenyDecisions', streams.decisions[0].dimensions)];
      for (const d of described) expect(Buffer.byteLength(JSON.stringify(d), 'utf8')).toBeLessThanOrEqual(DEFAULT_PROMOTION_STREAM_BYTES);
    }

    const previousStatement = `permit (principal, action, resource) when { ${'principal.hasTag("role") && '.repeat(340)}true };`;
    expect(previousStatement.length).toBeLessThanOrEqual(10_000);
    const least = await runPromotion(declared({ ...base, alarms: [] }), { previousStatement, activeAlarms: 'ALARM' });
    const most = await runPromotion(declaration, { previousStatement, activeAlarms: 'ALARM' });
    for (const run of [least, most]) {
      expect(run.done.status).toBe('SUCCEEDED');
      expect(JSON.parse(run.done.output!)).toMatchObject({ outcome: 'ROLLED_BACK' });
    }
    // What the settings added to the largest state is within their bound, and all of it within the quota.
    expect(most.bytes - least.bytes).toBeLessThanOrEqual(promotionStateBytesBound(declaration.promotion));
    expect(most.bytes - least.bytes).toBeGreaterThan(promotionStateBytesBound(declaration.promotion) / 2);
    expect(most.bytes).toBeLessThanOrEqual(PAYLOAD_QUOTA_BYTES);
  });
});
