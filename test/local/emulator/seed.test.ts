import { afterEach, describe, expect, it } from 'vitest';
import {
  GetAgentRuntimeCommand, GetAgentRuntimeEndpointCommand, GetGatewayCommand, GetPolicyEngineCommand, ListAgentRuntimesCommand,
  ListGatewaysCommand, ListTagsForResourceCommand, UpdateAgentRuntimeCommand, UpdateGatewayCommand,
} from '@aws-sdk/client-bedrock-agentcore-control';
import { fileURLToPath } from 'node:url';
import { loadSeedFile, parseSeed } from '../../../local/emulator/seed.ts';
import { startEmulator } from '../../../local/emulator/index.ts';
import { VirtualClock } from '../../../local/clock.ts';
import { ROLE, artifact, harness, image, type Harness } from './helpers.ts';

const EXAMPLE = fileURLToPath(new URL('../../../local/seed/example.yaml', import.meta.url));
const BAD = fileURLToPath(new URL('../../fixtures/emulator/bad-seed.yaml', import.meta.url));
const SUPPORT_PE = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/supportPolicies-u1v2w3x4y5';

let h: Harness | undefined;
afterEach(async () => { await h?.close(); h = undefined; });

describe('seed files', () => {
  it('loads local/seed/example.yaml: the example runtimes, gateways and policy engines, all settled', async () => {
    h = await harness({ seed: EXAMPLE });
    const runtimes = await h.client.send(new ListAgentRuntimesCommand({}));
    expect(runtimes.agentRuntimes?.map((r) => `${r.agentRuntimeId}:${r.status}:${r.agentRuntimeVersion}`)).toEqual([
      'supportAgent-a1b2c3d4e5:READY:1', 'billingAgent-f6g7h8i9j0:READY:1',
    ]);
    const support = await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: 'supportAgent-a1b2c3d4e5' }));
    expect(support).toMatchObject({
      agentRuntimeName: 'supportAgent',
      roleArn: 'arn:aws:iam::123456789012:role/AgentRuntimeRole',
      networkConfiguration: { networkMode: 'PUBLIC' },
      protocolConfiguration: { serverProtocol: 'HTTP' },
      lifecycleConfiguration: { idleRuntimeSessionTimeout: 900, maxLifetime: 28800 },
      environmentVariables: { LOG_LEVEL: 'info' },
    });
    expect(support.agentRuntimeArtifact?.containerConfiguration?.containerUri).toMatch(/^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/support-agent@sha256:/);
    expect(support.authorizerConfiguration?.customJWTAuthorizer?.discoveryUrl).toContain('/.well-known/openid-configuration');
    expect(support.requestHeaderConfiguration?.requestHeaderAllowlist).toContain('X-Request-Id');
    const billing = await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: 'billingAgent-f6g7h8i9j0' }));
    expect(billing.agentRuntimeArtifact?.containerConfiguration?.containerUri).toContain('/billing/agent@sha256:');

    const prod = await h.client.send(new GetAgentRuntimeEndpointCommand({ agentRuntimeId: 'supportAgent-a1b2c3d4e5', endpointName: 'prod' }));
    expect(prod).toMatchObject({ status: 'READY', liveVersion: '1', targetVersion: '1' });

    const gateways = await h.client.send(new ListGatewaysCommand({}));
    expect(gateways.items?.map((g) => `${g.gatewayId}:${g.name}:${g.status}`)).toEqual([
      'gw-support-k1l2m3n4o5:gw-support:READY', 'gw-billing-p6q7r8s9t0:gw-billing:READY',
    ]);
    const gw = await h.client.send(new GetGatewayCommand({ gatewayIdentifier: 'gw-support-k1l2m3n4o5' }));
    expect(gw).toMatchObject({
      authorizerType: 'CUSTOM_JWT', protocolType: 'MCP', exceptionLevel: 'DEBUG',
      roleArn: 'arn:aws:iam::123456789012:role/GatewayRole',
      policyEngineConfiguration: { arn: SUPPORT_PE, mode: 'LOG_ONLY' },
    });
    expect(gw.protocolConfiguration?.mcp).toBeDefined();

    for (const id of ['supportPolicies-u1v2w3x4y5', 'billingPolicies-z6a7b8c9d0']) {
      expect((await h.client.send(new GetPolicyEngineCommand({ policyEngineId: id }))).status).toBe('ACTIVE');
    }
    const tags = await h.client.send(new ListTagsForResourceCommand({ resourceArn: support.agentRuntimeArn }));
    expect(tags.tags).toMatchObject({ team: 'support' });
  });

  it('seeded example resources accept a lossless update round-trip (Get -> Update)', async () => {
    h = await harness({ seed: EXAMPLE });
    const gw = await h.client.send(new GetGatewayCommand({ gatewayIdentifier: 'gw-billing-p6q7r8s9t0' }));
    const { gatewayId, name, roleArn, authorizerType, authorizerConfiguration, protocolType, protocolConfiguration, exceptionLevel, description } = gw;
    const out = await h.client.send(new UpdateGatewayCommand({
      gatewayIdentifier: gatewayId, name, roleArn, authorizerType, authorizerConfiguration, protocolType, protocolConfiguration, exceptionLevel, description,
      policyEngineConfiguration: { arn: gw.policyEngineConfiguration!.arn!, mode: 'ENFORCE' },
    }));
    expect(out.status).toBe('UPDATING');
    await h.clock.advance(15_000);
    expect((await h.client.send(new GetGatewayCommand({ gatewayIdentifier: gatewayId }))).policyEngineConfiguration?.mode).toBe('ENFORCE');
  });

  it('honours seeded failing images', async () => {
    h = await harness({ seed: EXAMPLE });
    await h.client.send(new UpdateAgentRuntimeCommand({
      agentRuntimeId: 'supportAgent-a1b2c3d4e5', roleArn: ROLE,
      agentRuntimeArtifact: { containerConfiguration: { containerUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/support-agent:broken' } },
    }));
    await h.clock.advance(30_000);
    expect((await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: 'supportAgent-a1b2c3d4e5' }))).status).toBe('UPDATE_FAILED');
  });

  it('seeds several versions, a named endpoint on an older one, settings and failing gateway updates', async () => {
    h = await harness({
      seed: {
        settings: { account: '210987654321', region: 'eu-west-1', delays: { gatewayUpdate: 1_000 } },
        runtimes: [{
          name: 'multi',
          versions: [{ agentRuntimeArtifact: artifact('v1'), roleArn: ROLE }, { agentRuntimeArtifact: artifact('v2'), roleArn: ROLE }],
          endpoints: [{ name: 'prod', liveVersion: 1 }],
          failingImages: [image('bad')],
        }],
        gateways: [{ id: 'gw-x-abcdefghij', config: { roleArn: ROLE, authorizerType: 'NONE' }, failUpdates: 1 }],
      },
    });
    const [rt] = h.emu.state.listRuntimes();
    expect(rt.id).toMatch(/^multi-[a-zA-Z0-9]{10}$/);
    expect(rt.arn).toBe(`arn:aws:bedrock-agentcore:eu-west-1:210987654321:runtime/${rt.id}`);
    expect((await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: rt.id }))).agentRuntimeVersion).toBe('2');
    expect(await h.client.send(new GetAgentRuntimeEndpointCommand({ agentRuntimeId: rt.id, endpointName: 'prod' }))).toMatchObject({ liveVersion: '1' });
    expect(await h.client.send(new GetAgentRuntimeEndpointCommand({ agentRuntimeId: rt.id, endpointName: 'DEFAULT' }))).toMatchObject({ liveVersion: '2' });
    await h.client.send(new UpdateGatewayCommand({ gatewayIdentifier: 'gw-x-abcdefghij', name: 'gw-x', roleArn: ROLE, authorizerType: 'NONE' }));
    await h.clock.advance(1_000);
    expect((await h.client.send(new GetGatewayCommand({ gatewayIdentifier: 'gw-x-abcdefghij' }))).status).toBe('UPDATE_UNSUCCESSFUL');
    await h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: rt.id, agentRuntimeArtifact: artifact('bad'), roleArn: ROLE }));
    await h.clock.advance(30_000);
    expect((await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: rt.id }))).status).toBe('UPDATE_FAILED');
  });

  it('reports every problem of an invalid seed with its path, and refuses to start', async () => {
    expect(() => loadSeedFile(BAD)).toThrow(/settings\.account: must be a 12-digit account id/);
    const parsed = parseSeed({ runtimes: [{ id: 'okAgent-abcdefghij', config: { agentRuntimeArtifact: artifact('v1'), roleArn: 'nope' } }] });
    await expect(startEmulator({ clock: new VirtualClock(), seed: parsed })).rejects.toThrow(/runtimes\[0\]\.config\.roleArn: must match/);
    await expect(startEmulator({ clock: new VirtualClock(), seed: { gateways: [{ name: 'g', config: { roleArn: ROLE, authorizerType: 'NONE', policyEngineConfiguration: { arn: SUPPORT_PE, mode: 'ENFORCE' } } }] } }))
      .rejects.toThrow(/no seeded policy engine has this ARN/);
    expect(() => parseSeed({ runtimes: [{ id: 'x-abcdefghij' }] })).toThrow(/set exactly one of config or versions/);
  });
});
