/**
 * Drift end to end against the local stack: live resources are changed behind autopilot's back
 * through the real SDK client, and the real `correctDrift` handler (via the stack's Lambda runner
 * and the serverless.yml EventBridge rule) plans, reports and corrects.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startStack, type Stack } from '../../local/stack.ts';
import { setTimeSource } from '../../functions/lib/time.ts';
import {
  passTime, BILLING_PE, GW_BILLING, GW_SUPPORT, SECRET, SECRET_DRIFTED, SEED, SUPPORT,
  driftGateway, driftRuntime, fullConfig, getGateway, getRuntime, settleResources, supportDesired, gatewayDesired, writeConfig,
} from './drift-fixtures.ts';

type Result = {
  summary: Record<string, unknown>;
  plan: { inSync: boolean; resources: { kind: string; ref: string; id?: string; status: string; action: string; reason?: string; createsVersion?: boolean; fields: { path: string; from: unknown; to: unknown; action: string }[] }[] };
  outcomes: { ref: string; status: string; reason?: string; error?: unknown }[];
};

let stack: Stack;
let output: string[];

beforeEach(async () => {
  output = [];
  // The handlers' logs are captured (secret hygiene, summary lines), not printed.
  const record = ((chunk: string | Uint8Array) => {
    output.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  vi.spyOn(process.stdout, 'write').mockImplementation(record);
  vi.spyOn(process.stderr, 'write').mockImplementation(record);
  stack = await startStack({ seed: SEED, configFile: writeConfig(fullConfig()), logLevel: 'DEBUG' });
  // The handlers see the stack's virtual time (backoff history, change windows).
  setTimeSource(() => stack.clock.now());
});
afterEach(async () => {
  vi.restoreAllMocks();
  setTimeSource(undefined);
  await stack.close();
});

/** Sends `Drift Check Requested` onto the bus and returns what the rule's handler returned. */
async function checkViaBus(detail: Record<string, unknown>): Promise<Result> {
  const before = stack.events.deliveries.length;
  stack.events.put({ source: 'agentcore-autopilot.requests', 'detail-type': 'Drift Check Requested', detail }, stack.requestBus);
  await stack.settle();
  const d = stack.events.deliveries.slice(before).find((x) => x.targetId === 'correctDrift');
  expect(d?.outcome).toBe('delivered');
  return d!.result as Result;
}

const run = async (): Promise<Result> => (await stack.lambda.invoke('correctDrift', { trigger: 'schedule' })) as Result;
const paths = (r: Result, ref: string) => r.plan.resources.find((x) => x.ref === ref)!.fields.map((f) => f.path).sort();

describe('drift API cost', () => {
  it('reads each resource in sync with one Get and nothing else', async () => {
    await run();
    // The corrections' new versions are followed by the promotion state machine: let it finish.
    await stack.settle();
    await settleResources(stack);
    await passTime(stack);
    stack.emulator.resetCounters();
    const r = await run();
    expect(r.plan.inSync).toBe(true);
    const declared = r.plan.resources.length;
    expect(stack.emulator.count('GetAgentRuntime') + stack.emulator.count('GetGateway')).toBe(declared);
    expect(stack.emulator.count('ListTagsForResource')).toBe(0);
    expect(stack.emulator.count('UpdateAgentRuntime') + stack.emulator.count('UpdateGateway') + stack.emulator.count('TagResource')).toBe(0);
  });
});

describe('drift across every declarable field', () => {
  it('plans exactly the drifted fields, reports without changing, converges on apply, then plans nothing', async () => {
    // Baseline: the seed lacks some declared fields; the first run converges them.
    const first = await run();
    expect(first.summary).toMatchObject({ corrected: 2, failed: 0 });
    await settleResources(stack);
    expect((await checkViaBus({ reportOnly: true })).plan.inSync).toBe(true);
    await passTime(stack);

    await driftRuntime(stack, SUPPORT, (live) => ({
      ...live,
      agentRuntimeArtifact: { containerConfiguration: { containerUri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/support-agent@sha256:${'9'.repeat(64)}` } },
      roleArn: 'arn:aws:iam::123456789012:role/OtherRole',
      description: 'Tampered description',
      networkConfiguration: { networkMode: 'VPC', networkModeConfig: { securityGroups: ['sg-99999999'], subnets: ['subnet-22222222', 'subnet-11111111'] } },
      protocolConfiguration: { serverProtocol: 'MCP' },
      lifecycleConfiguration: { idleRuntimeSessionTimeout: 600, maxLifetime: 14400 },
      environmentVariables: { LOG_LEVEL: 'debug', MODEL_ID: 'other-model', API_KEY: SECRET_DRIFTED, EXTRA: 'kept' },
      authorizerConfiguration: { customJWTAuthorizer: { ...(live.authorizerConfiguration as { customJWTAuthorizer: object }).customJWTAuthorizer, allowedClients: ['evil-client'] } },
      requestHeaderConfiguration: { requestHeaderAllowlist: ['X-Request-Id'] },
      metadataConfiguration: { requireMMDSV2: false },
      filesystemConfigurations: [{ sessionStorage: { mountPath: '/mnt/other' } }],
      capacityProviderConfiguration: { capacityProviderArn: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:capacity-provider/otherPool-z9y8x7w6v5' },
      platformVersion: '2.0',
    }));
    await driftGateway(stack, GW_SUPPORT, (live) => ({
      ...live,
      description: 'Tampered tools',
      roleArn: 'arn:aws:iam::123456789012:role/OtherGatewayRole',
      protocolConfiguration: { mcp: { supportedVersions: ['2025-03-26'], searchType: 'SEMANTIC' } },
      authorizerConfiguration: { customJWTAuthorizer: { ...(live.authorizerConfiguration as { customJWTAuthorizer: object }).customJWTAuthorizer, allowedClients: ['other'] } },
      kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/99999999-2222-3333-4444-555555555555',
      customTransformConfiguration: { lambda: { arn: 'arn:aws:lambda:us-east-1:123456789012:function:other' } },
      interceptorConfigurations: [{ interceptor: { lambda: { arn: 'arn:aws:lambda:us-east-1:123456789012:function:intercept' } }, interceptionPoints: ['RESPONSE'] }],
      exceptionLevel: undefined,
      wafConfiguration: { failureMode: 'FAIL_OPEN' },
    }));
    await driftGateway(stack, GW_BILLING, (live) => ({
      ...live, authorizerType: 'NONE', protocolType: undefined, policyEngineConfiguration: { arn: BILLING_PE, mode: 'ENFORCE' },
    }));
    const versionBefore = (await getRuntime(stack, SUPPORT)).agentRuntimeVersion;

    const report = await checkViaBus({ reportOnly: true });
    expect(paths(report, SUPPORT)).toEqual([
      '/agentRuntimeArtifact/containerConfiguration/containerUri',
      '/authorizerConfiguration/customJWTAuthorizer/allowedClients',
      '/capacityProviderConfiguration/capacityProviderArn',
      '/description',
      '/environmentVariables/API_KEY',
      '/environmentVariables/MODEL_ID',
      '/filesystemConfigurations',
      '/lifecycleConfiguration/idleRuntimeSessionTimeout',
      '/lifecycleConfiguration/maxLifetime',
      '/metadataConfiguration/requireMMDSV2',
      '/networkConfiguration/networkModeConfig/securityGroups',
      '/platformVersion',
      '/protocolConfiguration/serverProtocol',
      '/requestHeaderConfiguration/requestHeaderAllowlist',
      '/roleArn',
    ]);
    expect(paths(report, GW_SUPPORT)).toEqual([
      '/authorizerConfiguration/customJWTAuthorizer/allowedClients',
      '/customTransformConfiguration/lambda/arn',
      '/description',
      '/exceptionLevel',
      '/interceptorConfigurations',
      '/kmsKeyArn',
      '/protocolConfiguration/mcp/supportedVersions',
      '/roleArn',
      '/wafConfiguration/failureMode',
    ]);
    expect(paths(report, 'gw-billing')).toEqual(['/authorizerType', '/policyEngineConfiguration', '/protocolType']);
    const support = report.plan.resources.find((r) => r.ref === SUPPORT)!;
    expect(support).toMatchObject({ status: 'drifted', action: 'report-only' });
    expect(support.fields.find((f) => f.path === '/environmentVariables/API_KEY')).toMatchObject({ from: '<redacted>', to: '<redacted>' });
    // Report-only changed nothing.
    expect((await getRuntime(stack, SUPPORT)).agentRuntimeVersion).toBe(versionBefore);
    expect((await getGateway(stack, GW_BILLING)).policyEngineConfiguration).toEqual({ arn: BILLING_PE, mode: 'ENFORCE' });
    expect(stack.events.events.filter((e) => e.event['detail-type'] === 'Drift Detected').length).toBeGreaterThanOrEqual(3);

    const mark = stack.events.events.length;
    const applied = await run();
    expect(applied.summary).toMatchObject({ drifted: 3, corrected: 3, failed: 0 });
    const supportPlan = applied.plan.resources.find((r) => r.ref === SUPPORT)!;
    expect(supportPlan).toMatchObject({ action: 'correct', createsVersion: true });
    expect(applied.outcomes.find((o) => o.ref === SUPPORT)!.reason).toMatch(/new runtime version .*session storage/);
    await settleResources(stack);

    const after = await checkViaBus({ reportOnly: true });
    expect(after.plan.inSync).toBe(true);
    expect(after.plan.resources.every((r) => r.fields.length === 0)).toBe(true);

    const rt = await getRuntime(stack, SUPPORT);
    const want = supportDesired();
    expect(rt.roleArn).toBe(want.roleArn);
    expect(rt.platformVersion).toBe(want.platformVersion);
    // Declared variables restored, the ignored one and an undeclared one kept as they are live.
    expect(rt.environmentVariables).toEqual({ LOG_LEVEL: 'debug', MODEL_ID: 'anthropic.claude-sonnet-4', API_KEY: SECRET, EXTRA: 'kept' });
    const gw = await getGateway(stack, GW_SUPPORT);
    expect(gw.wafConfiguration).toEqual(gatewayDesired().wafConfiguration);
    expect(gw.exceptionLevel).toBe('DEBUG');
    const billing = await getGateway(stack, GW_BILLING);
    expect(billing).toMatchObject({ authorizerType: 'AWS_IAM', protocolType: 'MCP', policyEngineConfiguration: { arn: BILLING_PE, mode: 'LOG_ONLY' } });

    const corrected = stack.events.events.slice(mark).filter((e) => e.event['detail-type'] === 'Drift Corrected');
    expect(corrected.map((e) => (e.event.detail as { ref: string }).ref).sort()).toEqual(['gw-billing', GW_SUPPORT, SUPPORT].sort());
    // Env var values: never in a plan, an event or a log line.
    const everything = JSON.stringify([report, applied, after, stack.events.events]) + output.join('');
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(SECRET_DRIFTED);
    expect(everything).not.toContain('Tampered description');
    const summaries = output.filter((l) => l.includes('"Drift run summary"'));
    expect(summaries.length).toBeGreaterThanOrEqual(4);
    expect(JSON.parse(summaries.at(-1)!)).toMatchObject({ resources: 3, inSync: 3, drifted: 0 });
  }, 30_000);

  it('honours ignore paths and exclusions', async () => {
    await stack.close();
    stack = await startStack({
      seed: SEED,
      configFile: writeConfig(fullConfig({ ignore: ['/description', '/networkConfiguration'], exclude: ['gw-billing'] })),
    });
    await run();
    await passTime(stack);
    await driftRuntime(stack, SUPPORT, (live) => ({ ...live, description: 'Tampered description', roleArn: 'arn:aws:iam::123456789012:role/OtherRole', networkConfiguration: { networkMode: 'PUBLIC' } }));
    await driftGateway(stack, GW_BILLING, (live) => ({ ...live, authorizerType: 'NONE' }));
    const r = await run();
    expect(paths(r, SUPPORT)).toEqual(['/roleArn']);
    expect(r.plan.resources.find((x) => x.ref === 'gw-billing')).toMatchObject({ status: 'excluded', action: 'ignored', fields: [] });
    await settleResources(stack);
    const rt = await getRuntime(stack, SUPPORT);
    expect(rt.roleArn).toBe(supportDesired().roleArn);
    expect(rt.networkConfiguration).toEqual({ networkMode: 'PUBLIC' });
    expect((await getGateway(stack, GW_BILLING)).authorizerType).toBe('NONE');
    expect(JSON.stringify(r)).not.toContain('Tampered description');
  }, 20_000);
});
