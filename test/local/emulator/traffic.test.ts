import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { GetGatewayCommand, UpdateGatewayCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { VirtualClock } from '../../../local/clock.ts';
import { startEmulator, type Emulator } from '../../../local/emulator/index.ts';
import { CloudWatchStandIn } from '../../../local/emulator/cloudwatch/cloudwatch.ts';
import { connectTraffic } from '../../../local/emulator/agentcore/traffic.ts';
import type { Seed } from '../../../local/emulator/seed.ts';
import { sdkClient } from './helpers.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const MIN = 60_000;
const NS = 'AWS/Bedrock-AgentCore';
const ROLE = 'arn:aws:iam::123456789012:role/GatewayRole';
const ENGINE = 'rules-aaaaaaaaaa';
const ENGINE_ARN = `arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/${ENGINE}`;
const GW = 'gw-orders-bbbbbbbbbb';
const GW_ARN = `arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/${GW}`;

const PERMIT_AGENTS = 'permit(principal is AgentCore::OAuthUser, action in AgentCore::Action::"orders", resource) when { principal.hasTag("role") && principal.getTag("role") == "agent" };';
const FORBID_BIG_REFUNDS = 'forbid(principal, action == AgentCore::Action::"orders___refund", resource) when { context.input.amount > 100 };';

function seed(mode: 'LOG_ONLY' | 'ENFORCE', extra: Partial<Seed> = {}): Seed {
  return {
    settings: { delays: { gatewayUpdate: 15_000 } },
    policyEngines: [{ id: ENGINE }],
    gateways: [{
      id: GW, name: 'gw-orders',
      config: { roleArn: ROLE, authorizerType: 'AWS_IAM', protocolType: 'MCP', policyEngineConfiguration: { arn: ENGINE_ARN, mode } },
      targets: [{ name: 'orders', tools: [
        { name: 'getOrder', inputSchema: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] } },
        { name: 'refund', inputSchema: { type: 'object', properties: { amount: { type: 'integer' } }, required: ['amount'] } },
      ] }],
    }],
    policies: [
      { engine: ENGINE, name: 'agents', id: 'agents-cccccccccc', statement: PERMIT_AGENTS },
      { engine: ENGINE, name: 'big_refunds', id: 'big_refunds-dddddddddd', statement: FORBID_BIG_REFUNDS },
    ],
    traffic: [
      { gateway: GW, name: 'agents read', tool: 'orders___getOrder', input: { orderId: 'A1' }, principal: { oauthUser: 'bot', claims: { role: 'agent' } }, perMinute: 10, from: '0s' },
      { gateway: GW, name: 'guests read', tool: 'orders___getOrder', input: { orderId: 'A2' }, principal: { oauthUser: 'guest' }, perMinute: 2, from: '0s' },
      { gateway: GW, name: 'big refunds', tool: 'orders___refund', input: { amount: 500 }, principal: { oauthUser: 'bot', claims: { role: 'agent' } }, perMinute: 1, from: '0s' },
    ],
    ...extra,
  };
}

let clock: VirtualClock;
let emu: Emulator;
let cw: CloudWatchStandIn;
let cwClient: CloudWatchClient;

async function start(s: Seed): Promise<void> {
  clock = new VirtualClock({ start: T0 });
  emu = await startEmulator({ clock, seed: s, services: [(ctx) => (cw = new CloudWatchStandIn({ clock: ctx.clock }))] });
  connectTraffic(emu.state.traffic, cw);
  cwClient = new CloudWatchClient({ endpoint: emu.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
}

afterEach(async () => {
  cwClient?.destroy();
  await emu?.close();
});

async function sum(metricName: string, dims: Record<string, string>, from: number, to: number): Promise<number | null> {
  const out = await cwClient.send(new GetMetricDataCommand({
    StartTime: new Date(from), EndTime: new Date(to),
    MetricDataQueries: [{ Id: 'q', MetricStat: { Metric: { Namespace: NS, MetricName: metricName, Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })) }, Period: to - from >= MIN ? Math.ceil((to - from) / MIN) * 60 : 60, Stat: 'Sum' } }],
  }));
  const values = out.MetricDataResults?.[0]?.Values ?? [];
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0);
}

async function listed(metricName: string, dims: Record<string, string>): Promise<Record<string, string>[]> {
  const out = await cwClient.send(new ListMetricsCommand({ Namespace: NS, MetricName: metricName, Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })) }));
  return (out.Metrics ?? []).map((m) => Object.fromEntries((m.Dimensions ?? []).map((d) => [d.Name!, d.Value!])));
}

const gatewaySet = (mode: string) => ({ OperationName: 'AuthorizeAction', TargetResource: GW, Mode: mode });

describe('gateway traffic decided with Cedar and published as the policy metrics AWS publishes', () => {
  beforeEach(async () => start(seed('LOG_ONLY')));

  it('counts decisions per call under overlapping projections, each complete on its own', async () => {
    await clock.advance(20 * MIN);
    const window: [number, number] = [T0, T0 + 10 * MIN];
    // agents: allowed (permit); guests: denied with no determining policy; big refunds: forbidden.
    expect(await sum('AllowDecisions', gatewaySet('LOG_ONLY'), ...window)).toBe(100);
    expect(await sum('DenyDecisions', gatewaySet('LOG_ONLY'), ...window)).toBe(30);
    expect(await sum('NoDeterminingPolicies', gatewaySet('LOG_ONLY'), ...window)).toBe(20);
    // The account-wide projection counts the same decisions again: never add sets together.
    expect(await sum('DenyDecisions', { OperationName: 'AuthorizeAction' }, ...window)).toBe(30);
    expect(await sum('DenyDecisions', { Policy: 'big_refunds-dddddddddd', TargetResource: GW, OperationName: 'AuthorizeAction', Mode: 'LOG_ONLY' }, ...window)).toBe(10);
    // The projection AWS never publishes (the gateway metrics' Resource dimension) has nothing.
    expect(await sum('DenyDecisions', { Resource: GW_ARN }, ...window)).toBeNull();
    expect(await listed('DenyDecisions', { Resource: GW_ARN })).toEqual([]);
  });

  it('lists a new stream only once CloudWatch has had it for fifteen minutes', async () => {
    await clock.advance(5 * MIN);
    expect(await listed('AllowDecisions', gatewaySet('LOG_ONLY'))).toEqual([]);
    await clock.advance(12 * MIN);
    const sets = await listed('AllowDecisions', gatewaySet('LOG_ONLY'));
    expect(sets).toContainEqual(gatewaySet('LOG_ONLY'));
  });

  it('records decisions under the mode in force: ENFORCE once the gateway update settles', async () => {
    await clock.advance(5 * MIN);
    const agentCore = sdkClient(emu.url);
    try {
      const { $metadata: _m, gatewayArn: _a, gatewayId: _i, gatewayUrl: _u, createdAt: _c, updatedAt: _d, status: _s, statusReasons: _r, workloadIdentityDetails: _w, ...live } =
        await agentCore.send(new GetGatewayCommand({ gatewayIdentifier: GW }));
      await agentCore.send(new UpdateGatewayCommand({ ...live, gatewayIdentifier: GW, name: live.name!, roleArn: live.roleArn!, authorizerType: live.authorizerType!, policyEngineConfiguration: { arn: ENGINE_ARN, mode: 'ENFORCE' } }));
    } finally {
      agentCore.destroy();
    }
    await clock.advance(10 * MIN);
    const enforced = await sum('AllowDecisions', gatewaySet('ENFORCE'), T0 + 6 * MIN, T0 + 12 * MIN);
    expect(enforced).toBe(60);
    expect(await sum('AllowDecisions', gatewaySet('LOG_ONLY'), T0 + 6 * MIN, T0 + 12 * MIN)).toBeNull();
  });

  it('publishes tool-list filtering per tool only (PartiallyAuthorizeActions with ToolName)', async () => {
    emu.state.traffic.add({ gateway: GW, kind: 'list', principal: { oauthUser: 'guest' }, perMinute: 3, from: '0s' }, clock.now());
    emu.state.traffic.add({ gateway: GW, kind: 'list', principal: { oauthUser: 'bot', claims: { role: 'agent' } }, perMinute: 1, from: '0s' }, clock.now());
    await clock.advance(3 * MIN);
    const perTool = { TargetResource: GW, ToolName: 'orders___getOrder', OperationName: 'PartiallyAuthorizeActions', Mode: 'LOG_ONLY' };
    expect(await sum('DenyDecisions', perTool, T0, T0 + MIN)).toBe(3);
    expect(await sum('AllowDecisions', perTool, T0, T0 + MIN)).toBe(1);
    expect(await sum('DenyDecisions', { TargetResource: GW, OperationName: 'PartiallyAuthorizeActions', Mode: 'LOG_ONLY' }, T0, T0 + MIN)).toBeNull();
  });
});

describe('what the policies decide', () => {
  it('counts requests whose ACTIVE policy cannot evaluate (a missing attribute) as mismatches', async () => {
    await start(seed('LOG_ONLY', {
      traffic: [{ gateway: GW, tool: 'orders___refund', input: {}, principal: { oauthUser: 'bot', claims: { role: 'agent' } }, perMinute: 4, from: '0s' }],
    }));
    await clock.advance(3 * MIN);
    // The forbid reads context.input.amount, absent here: it is skipped, the permit decides.
    expect(await sum('AllowDecisions', gatewaySet('LOG_ONLY'), T0, T0 + MIN)).toBe(4);
    expect(await sum('MismatchErrors', { OperationName: 'AuthorizeAction', PolicyEnforcementMode: 'ACTIVE', TargetResource: GW }, T0, T0 + MIN)).toBe(4);
    expect(await sum('PolicyMismatch', { OperationName: 'AuthorizeAction', Policy: 'big_refunds-dddddddddd' }, T0, T0 + MIN)).toBe(4);
  });

  it('reports LOG_ONLY policies beside the enforced decision: matches and flips per policy', async () => {
    const s = seed('ENFORCE');
    s.policies!.push({ engine: ENGINE, name: 'guests_read', id: 'guests_read-eeeeeeeeee', enforcementMode: 'LOG_ONLY', statement: 'permit(principal, action == AgentCore::Action::"orders___getOrder", resource);' });
    await start(s);
    await clock.advance(3 * MIN);
    const per = { OperationName: 'AuthorizeAction', PolicyEngine: ENGINE, Policy: 'guests_read-eeeeeeeeee' };
    // It matches every read (12/min) and flips the guests' denials (2/min); the decision is unchanged.
    expect(await sum('LogOnlyMatches', per, T0, T0 + MIN)).toBe(12);
    expect(await sum('LogOnlyDecisionFlips', per, T0, T0 + MIN)).toBe(2);
    expect(await sum('DenyDecisions', gatewaySet('ENFORCE'), T0, T0 + MIN)).toBe(3);
  });

  it('a role without GetPolicyEngine decides in LOG_ONLY but evaluates nothing once enforced', async () => {
    await start(seed('LOG_ONLY', { settings: { rolesMissingPolicyActions: { [ROLE]: ['GetPolicyEngine'] } } }));
    await clock.advance(3 * MIN);
    expect(await sum('AllowDecisions', gatewaySet('LOG_ONLY'), T0, T0 + 2 * MIN)).toBe(20);
    cwClient.destroy();
    await emu.close();
    await start(seed('ENFORCE', { settings: { rolesMissingPolicyActions: { [ROLE]: ['GetPolicyEngine'] } } }));
    await clock.advance(3 * MIN);
    expect(await sum('AllowDecisions', gatewaySet('ENFORCE'), T0, T0 + 2 * MIN)).toBeNull();
    expect(await listed('AllowDecisions', { OperationName: 'AuthorizeAction' })).toEqual([]);
  });
});
