import { describe, expect, it } from 'vitest';
import {
  decodeRolloutRecord, DRIFT_ROLLOUT_TAG, encodeRolloutRecord, gatewayFingerprint, judgeTamperRollout, latestExecution, rolloutOutcome,
  type PastRollout,
} from '../../../functions/domain/drift/tamper-guard.ts';
import { planDrift, type PlanInput } from '../../../functions/domain/drift/plan.ts';
import type { DriftSettings, GatewaySpec } from '../../../functions/lib/config/types.ts';
import { DEFAULT_ROLLOUT_SETTINGS } from '../../../functions/lib/config/rollout.ts';

const PE = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/supportPolicies-u1v2w3x4y5';
const OTHER_PE = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/billingPolicies-z6a7b8c9d0';
const GW = 'gw-support-k1l2m3n4o5';
const spec = (over: Partial<GatewaySpec> = {}): GatewaySpec => ({
  id: GW, drift: 'correct', ignore: [], desired: { description: 'Support tools' },
  policyEngine: { arn: PE, mode: 'ENFORCE', tamperResponse: 'rollout', rollout: DEFAULT_ROLLOUT_SETTINGS }, ...over,
}) as GatewaySpec;
const FP = gatewayFingerprint(spec());
const past = (over: Partial<PastRollout> = {}): PastRollout => ({
  name: 'rollout-abc', status: 'SUCCEEDED', output: JSON.stringify({ outcome: 'ROLLED_BACK' }), input: JSON.stringify({ gatewayId: GW, policyEngineArn: PE }), ...over,
});
const judge = (latest?: PastRollout, recorded?: { fingerprint: string; executionName: string }) =>
  judgeTamperRollout({ gatewayId: GW, declaredEngineArn: PE, fingerprint: FP, latest, recorded });

describe('gatewayFingerprint and the record tag', () => {
  it('ignores key order, changes with any declared field', () => {
    const s = spec();
    const reordered = { policyEngine: s.policyEngine, desired: s.desired, ignore: [], drift: 'correct', id: GW } as unknown as GatewaySpec;
    expect(gatewayFingerprint(reordered)).toBe(FP);
    expect(FP).toMatch(/^[0-9a-f]{16}$/);
    expect(gatewayFingerprint(spec({ desired: { description: 'other' } }))).not.toBe(FP);
    expect(gatewayFingerprint(spec({ policyEngine: { ...spec().policyEngine!, rollout: { ...DEFAULT_ROLLOUT_SETTINGS, bakeMinutes: 90 } } }))).not.toBe(FP);
  });
  it('round-trips; malformed values read as absent', () => {
    const r = { fingerprint: FP, executionName: 'rollout-0123456789ab-gw-support-k1l2m3n4o5-0123456789' };
    expect(decodeRolloutRecord({ [DRIFT_ROLLOUT_TAG]: encodeRolloutRecord(r) })).toEqual(r);
    expect(encodeRolloutRecord(r)).toMatch(/^[a-zA-Z0-9\s._:/=+@-]{1,256}$/);
    expect(decodeRolloutRecord({ [DRIFT_ROLLOUT_TAG]: 'nonsense' })).toBeUndefined();
    expect(decodeRolloutRecord(undefined)).toBeUndefined();
  });
});

describe('rolloutOutcome', () => {
  it('reads the RolloutResult of a succeeded execution, else the status', () => {
    expect(rolloutOutcome(past())).toBe('ROLLED_BACK');
    expect(rolloutOutcome(past({ output: JSON.stringify({ outcome: 'ENFORCED' }) }))).toBe('ENFORCED');
    expect(rolloutOutcome(past({ status: 'ABORTED', output: undefined }))).toBe('ABORTED');
    expect(rolloutOutcome(past({ status: 'FAILED', error: 'RollbackFailedError', output: undefined }))).toBe('ROLLBACK_FAILED');
    expect(rolloutOutcome(past({ status: 'RUNNING' }))).toBeUndefined();
  });
});

describe('judgeTamperRollout', () => {
  it('starts when there is no previous rollout, or it enforced, or it runs', () => {
    expect(judge()).toEqual({ start: true });
    expect(judge(past({ output: JSON.stringify({ outcome: 'ENFORCED' }) }))).toEqual({ start: true });
    expect(judge(past({ status: 'RUNNING' }))).toEqual({ start: true });
  });
  it('blocks after ROLLED_BACK / HALTED / ABORTED / failed under the same declaration', () => {
    for (const latest of [
      past(), past({ output: JSON.stringify({ outcome: 'HALTED_IN_LOG_ONLY' }) }), past({ status: 'ABORTED' }), past({ status: 'FAILED', error: 'RollbackFailedError' }),
    ]) {
      const v = judge(latest, { fingerprint: FP, executionName: 'rollout-abc' });
      expect(v).toMatchObject({ start: false, previous: { executionName: 'rollout-abc' } });
      expect(v.start === false && v.record).toBeUndefined();
      expect(v.reason).toMatch(/needs a human: the last staged rollout of this gateway \(rollout-abc\) ended \w+/);
    }
  });
  it('starts again once the declaration changed since the rollout drift started', () => {
    expect(judge(past(), { fingerprint: '0'.repeat(16), executionName: 'rollout-abc' })).toMatchObject({ start: true, reason: expect.stringMatching(/declared gateway configuration changed/) });
  });
  it('blocks a failed rollout drift did not start, and ties it to the current declaration', () => {
    const v = judge(past(), { fingerprint: '0'.repeat(16), executionName: 'rollout-older' });
    expect(v).toMatchObject({ start: false, record: `${FP} rollout-abc` });
    expect(v.reason).toContain('not started by the drift job');
    expect(judge(past(), undefined)).toMatchObject({ start: false, record: `${FP} rollout-abc` });
  });
  it('a failed rollout of another engine does not block', () => {
    expect(judge(past({ input: JSON.stringify({ gatewayId: GW, policyEngineArn: OTHER_PE }) }))).toMatchObject({ start: true });
  });
  it('latestExecution takes the newest start date', () => {
    expect(latestExecution([{ n: 1, startDate: new Date(1) }, { n: 3, startDate: new Date(3) }, { n: 2, startDate: new Date(2) }])?.n).toBe(3);
    expect(latestExecution([])).toBeUndefined();
  });
});

describe('planDrift with the tamper guard', () => {
  const drift: DriftSettings = { mode: 'correct', schedule: 'rate(15 minutes)', ignore: [], exclude: [], maxCorrectionsPerRun: 10, maxErrorRatio: 0.5, concurrency: 4 };
  const live = { gatewayId: GW, name: 'gw-support', description: 'Support tools', policyEngineConfiguration: { arn: PE, mode: 'LOG_ONLY' } };
  const input = (over: Partial<PlanInput> = {}): PlanInput => ({ drift, runtimes: [], gateways: [{ spec: spec(), live }], now: Date.UTC(2026, 0, 5, 12), ...over });

  it('turns needs-rollout into needs-human, keeps the tamper finding and says why', () => {
    const previousRollout = { executionName: 'rollout-abc', outcome: 'ROLLED_BACK' };
    const plan = planDrift(input({ rolloutBlocks: { [GW]: { action: 'needs-human', reason: 'needs a human: because', previousRollout } } }));
    expect(plan.resources[0]).toMatchObject({ status: 'drifted', action: 'needs-human', tamper: { live: 'LOG_ONLY' }, previousRollout });
    expect(plan.resources[0].reason).toBe('policy engine set to LOG_ONLY while declared ENFORCE: tampering; needs a human: because');
    expect(plan.counts).toMatchObject({ toCorrect: 0, needsHuman: 1 });
    // Without a block: the staged rollout.
    expect(planDrift(input()).resources[0]).toMatchObject({ action: 'needs-rollout' });
    // restore is not a rollout: a block does not apply.
    const restore = spec({ policyEngine: { ...spec().policyEngine!, tamperResponse: 'restore' } });
    expect(planDrift(input({ gateways: [{ spec: restore, live }], rolloutBlocks: { [GW]: { action: 'needs-human', reason: 'x' } } })).resources[0]).toMatchObject({ action: 'restore-enforce' });
  });
  it('rollouts unknown: no policy-mode action for any gateway with an engine, noted on it', () => {
    const plan = planDrift(input({ rolloutsUnknown: 'could not list running policy rollouts (AccessDeniedError: no)' }));
    expect(plan.resources[0]).toMatchObject({ status: 'in-sync', action: 'none', rolloutInProgress: true });
    expect(plan.resources[0].reason).toMatch(/policy engine mode left alone this run: could not list/);
    expect(plan.resources[0].tamper).toBeUndefined();
    // Other fields are still corrected.
    const other = planDrift(input({ rolloutsUnknown: 'x', gateways: [{ spec: spec({ desired: { description: 'New' } }), live }] }));
    expect(other.resources[0]).toMatchObject({ action: 'correct', fields: [{ path: '/description' }] });
  });
});
