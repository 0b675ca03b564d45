import { describe, expect, it } from 'vitest';
import { compareDeclared, isIgnored, mergeDeclared } from '../../../functions/domain/drift/compare.ts';
import { correctionFields, inChangeWindow, planDrift, type PlanInput } from '../../../functions/domain/drift/plan.ts';
import type { DriftSettings, GatewaySpec, RuntimeSpec } from '../../../functions/lib/config/types.ts';
import { DEFAULT_ROLLOUT_SETTINGS } from '../../../functions/lib/config/rollout.ts';

const drift: DriftSettings = {
  mode: 'correct', schedule: 'rate(15 minutes)', ignore: [], exclude: [], maxCorrectionsPerRun: 10, maxErrorRatio: 0.5, concurrency: 4,
};
const NOW = Date.UTC(2026, 10, 23, 12, 0); // a Monday, 12:00 UTC

const liveRuntime = (over: Record<string, unknown> = {}) => ({
  agentRuntimeId: 'supportAgent-a1b2c3d4e5', agentRuntimeName: 'supportAgent', agentRuntimeVersion: '3', status: 'READY',
  agentRuntimeArtifact: { containerConfiguration: { containerUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/support-agent@sha256:' + 'a'.repeat(64) } },
  roleArn: 'arn:aws:iam::123456789012:role/AgentRole',
  environmentVariables: { LOG_LEVEL: 'info', API_KEY: 'sentinel-secret-value' },
  lifecycleConfiguration: { idleRuntimeSessionTimeout: 900, maxLifetime: 28800 },
  networkConfiguration: { networkMode: 'VPC', networkModeConfig: { securityGroups: ['sg-11111111', 'sg-22222222'], subnets: ['subnet-11111111'] } },
  ...over,
});
const runtimeSpec = (desired: RuntimeSpec['desired'], over: Partial<RuntimeSpec> = {}): RuntimeSpec =>
  ({ id: 'supportAgent-a1b2c3d4e5', drift: 'correct', ignore: [], desired, ...over }) as RuntimeSpec;

const liveGateway = (over: Record<string, unknown> = {}) => ({
  gatewayId: 'gw-support-k1l2m3n4o5', name: 'gw-support', roleArn: 'arn:aws:iam::123456789012:role/GwRole', authorizerType: 'CUSTOM_JWT',
  description: 'Support tools', status: 'READY',
  policyEngineConfiguration: { arn: PE_ARN, mode: 'ENFORCE' },
  ...over,
});
const PE_ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/supportPolicies-u1v2w3x4y5';
const gatewaySpec = (over: Partial<GatewaySpec> = {}): GatewaySpec => ({
  id: 'gw-support-k1l2m3n4o5', drift: 'correct', ignore: [], desired: {},
  policyEngine: { arn: PE_ARN, mode: 'ENFORCE', tamperResponse: 'rollout', rollout: DEFAULT_ROLLOUT_SETTINGS }, ...over,
}) as GatewaySpec;

const input = (over: Partial<PlanInput>): PlanInput => ({ drift, runtimes: [], gateways: [], now: NOW, ...over });

describe('compareDeclared', () => {
  it('reports only declared leaves that differ', () => {
    const d = compareDeclared({ environmentVariables: { LOG_LEVEL: 'debug' } }, liveRuntime());
    expect(d).toEqual([{ path: '/environmentVariables/LOG_LEVEL', from: 'info', to: 'debug' }]);
  });
  it('treats empty and absent lists and maps as equal', () => {
    expect(compareDeclared({ environmentVariables: {}, filesystemConfigurations: [] }, {})).toEqual([]);
  });
  it('compares security groups as a set', () => {
    const d = compareDeclared({ networkConfiguration: { networkModeConfig: { securityGroups: ['sg-22222222', 'sg-11111111'] } } }, liveRuntime());
    expect(d).toEqual([]);
  });
  it('honours ignore pointers with wildcards', () => {
    expect(isIgnored('/environmentVariables/LOG_LEVEL', ['/environmentVariables/*'])).toBe(true);
    expect(isIgnored('/roleArn', ['/environmentVariables'])).toBe(false);
  });
});

describe('mergeDeclared', () => {
  it('keeps undeclared keys and replaces a union that switches member', () => {
    expect(mergeDeclared({ A: '1', B: '2' }, { B: '3' }, '/environmentVariables')).toEqual({ A: '1', B: '3' });
    const code = { codeConfiguration: { code: { s3: { bucket: 'b', prefix: 'p' } }, runtime: 'NODE_22', entryPoint: ['x'] } };
    expect(mergeDeclared({ containerConfiguration: { containerUri: 'u' } }, code, '/agentRuntimeArtifact', [], new Set(['/agentRuntimeArtifact']))).toEqual(code);
  });
});

describe('planDrift', () => {
  it('is in sync when the server filled in lifecycle defaults the declaration states', () => {
    const live = liveRuntime();
    delete (live as Record<string, unknown>).lifecycleConfiguration;
    const plan = planDrift(input({ runtimes: [{ spec: runtimeSpec({ lifecycleConfiguration: { maxLifetime: 28800 } }), live }] }));
    expect(plan.inSync).toBe(true);
    expect(plan.resources[0].status).toBe('in-sync');
  });

  it('lists the drifted field, redacts env values, and says a new version is created', () => {
    const plan = planDrift(input({ runtimes: [{ spec: runtimeSpec({ environmentVariables: { API_KEY: 'other-secret' } }), live: liveRuntime() }] }));
    const r = plan.resources[0];
    expect(r).toMatchObject({ status: 'drifted', action: 'correct', createsVersion: true, liveVersion: '3' });
    expect(r.fields).toEqual([{ path: '/environmentVariables/API_KEY', from: '<redacted>', to: '<redacted>', action: 'correct' }]);
    expect(JSON.stringify(plan)).not.toContain('sentinel-secret-value');
    expect(JSON.stringify(plan)).not.toContain('other-secret');
  });

  it('reports only in report mode and outside the change window', () => {
    const spec = runtimeSpec({ roleArn: 'arn:aws:iam::123456789012:role/Other' }, { drift: 'report' });
    expect(planDrift(input({ runtimes: [{ spec, live: liveRuntime() }] })).resources[0].action).toBe('report-only');
    const windowed = input({
      drift: { ...drift, changeWindow: { days: ['Sat'], start: '09:00', end: '17:00', timezone: 'UTC' } },
      runtimes: [{ spec: { ...spec, drift: 'correct' }, live: liveRuntime() }],
    });
    const r = planDrift(windowed).resources[0];
    expect(r.action).toBe('report-only');
    expect(r.reason).toBe('outside the change window');
  });

  it('backs off a resource that keeps drifting back', () => {
    const spec = runtimeSpec({ roleArn: 'arn:aws:iam::123456789012:role/Other' });
    const history = { 'runtime:supportAgent-a1b2c3d4e5': { count: 2, lastAt: NOW - 60_000 } };
    const r = planDrift(input({ runtimes: [{ spec, live: liveRuntime() }], history })).resources[0];
    expect(r.action).toBe('report-only');
    expect(r.reason).toMatch(/backing off/);
    const later = planDrift(input({ runtimes: [{ spec, live: liveRuntime() }], history, now: NOW + 3 * 3_600_000 })).resources[0];
    expect(later.action).toBe('correct');
  });

  it('reports a missing resource and an excluded one without touching them', () => {
    const plan = planDrift(input({
      drift: { ...drift, exclude: ['billingAgent'] },
      runtimes: [
        { spec: runtimeSpec({ roleArn: 'arn:aws:iam::123456789012:role/X' }) },
        { spec: runtimeSpec({ roleArn: 'arn:aws:iam::123456789012:role/X' }, { id: undefined, name: 'billingAgent' } as Partial<RuntimeSpec>), live: liveRuntime({ agentRuntimeName: 'billingAgent' }) },
      ],
    }));
    expect(plan.resources.map((r) => r.status)).toEqual(['missing', 'excluded']);
    expect(plan.inSync).toBe(false);
    expect(plan.counts.toCorrect).toBe(0);
  });

  it('flags a relaxed policy engine as tampering with the configured response', () => {
    const live = liveGateway({ policyEngineConfiguration: { arn: PE_ARN, mode: 'LOG_ONLY' } });
    const r = planDrift(input({ gateways: [{ spec: gatewaySpec(), live }] })).resources[0];
    expect(r).toMatchObject({ action: 'needs-rollout', tamper: { declared: 'ENFORCE', live: 'LOG_ONLY', response: 'rollout' } });
    const detached = planDrift(input({
      gateways: [{ spec: gatewaySpec({ policyEngine: { ...gatewaySpec().policyEngine!, tamperResponse: 'restore' } }), live: liveGateway({ policyEngineConfiguration: undefined }) }],
    })).resources[0];
    expect(detached).toMatchObject({ action: 'restore-enforce', tamper: { live: 'DETACHED' } });
  });

  it('corrects declared LOG_ONLY over live ENFORCE directly', () => {
    const spec = gatewaySpec({ policyEngine: { ...gatewaySpec().policyEngine!, mode: 'LOG_ONLY' } });
    const r = planDrift(input({ gateways: [{ spec, live: liveGateway() }] })).resources[0];
    expect(r).toMatchObject({ action: 'correct' });
    expect(r.tamper).toBeUndefined();
  });

  it('plans a safety-net redeploy when a tracked runtime is behind the newest allowed image', () => {
    const spec = runtimeSpec({}, { track: { repository: 'support-agent', tagPolicy: { kind: 'exact', exact: 'latest' }, registry: { accounts: [], regions: [] }, keepTag: false } });
    const digest = 'sha256:' + 'b'.repeat(64);
    const r = planDrift(input({ runtimes: [{ spec, live: liveRuntime(), newestImage: { uri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/support-agent@${digest}`, digest } }] })).resources[0];
    expect(r).toMatchObject({ action: 'redeploy', redeploy: { digest } });
  });
});

describe('correctionFields', () => {
  it('merges declared leaves into live top-level fields, keeping the rest', () => {
    const live = liveRuntime();
    const set = correctionFields('runtime', { environmentVariables: { LOG_LEVEL: 'debug' } }, live, [], ['/environmentVariables/LOG_LEVEL']);
    expect(set).toEqual({ environmentVariables: { LOG_LEVEL: 'debug', API_KEY: 'sentinel-secret-value' } });
  });
});

describe('inChangeWindow', () => {
  it('handles windows that span midnight', () => {
    const w = { days: ['Sun' as const], start: '22:00', end: '02:00', timezone: 'UTC' };
    expect(inChangeWindow(w, Date.UTC(2026, 10, 22, 23, 0))).toBe(true); // Sunday 23:00
    expect(inChangeWindow(w, Date.UTC(2026, 10, 23, 1, 0))).toBe(true); // Monday 01:00, Sunday's window
    expect(inChangeWindow(w, Date.UTC(2026, 10, 23, 3, 0))).toBe(false);
  });
});
