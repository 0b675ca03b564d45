import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictException, CreateGatewayCommand, CreatePolicyEngineCommand, DeleteGatewayCommand, GetGatewayCommand,
  GetPolicyEngineCommand, ListTagsForResourceCommand, ResourceNotFoundException, TagResourceCommand, UntagResourceCommand,
  UpdateGatewayCommand, ValidationException, paginateListGateways, paginateListPolicyEngines,
  type UpdateGatewayCommandInput,
} from '@aws-sdk/client-bedrock-agentcore-control';
import { caught, harness, type Harness } from './helpers.ts';

const GW_ROLE = 'arn:aws:iam::123456789012:role/GatewayRole';
const JWT = { customJWTAuthorizer: { discoveryUrl: 'https://idp.example.com/.well-known/openid-configuration', allowedClients: ['web'] } };
const delays = { gatewayCreate: 4_000, gatewayUpdate: 6_000, gatewayDelete: 2_000, policyEngineCreate: 3_000 };

let h: Harness;
beforeEach(async () => { h = await harness({ seed: { settings: { delays } } }); });
afterEach(async () => { await h.close(); });

async function engine(name: string) {
  const pe = await h.client.send(new CreatePolicyEngineCommand({ name, description: 'rules' }));
  await h.clock.advance(3_000);
  return pe;
}

async function gateway(name = 'gw-main', extra: Partial<UpdateGatewayCommandInput> = {}) {
  const gw = await h.client.send(new CreateGatewayCommand({
    name, roleArn: GW_ROLE, authorizerType: 'CUSTOM_JWT', authorizerConfiguration: JWT, protocolType: 'MCP',
    protocolConfiguration: { mcp: { supportedVersions: ['2025-06-18'] } }, ...extra,
  }));
  await h.clock.advance(4_000);
  return gw;
}

describe('AgentCore policy engines', () => {
  it('creates an engine CREATING -> ACTIVE after the delay, with model-shaped id and ARN', async () => {
    const pe = await h.client.send(new CreatePolicyEngineCommand({ name: 'rules_1' }));
    expect(pe.policyEngineId).toMatch(/^rules_1-[a-z0-9_]{10}$/);
    expect(pe.policyEngineArn).toBe(`arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/${pe.policyEngineId}`);
    expect(pe).toMatchObject({ status: 'CREATING', statusReasons: [] });
    await h.clock.advance(3_000);
    expect((await h.client.send(new GetPolicyEngineCommand({ policyEngineId: pe.policyEngineId }))).status).toBe('ACTIVE');
    const missing = await caught(h.client.send(new GetPolicyEngineCommand({ policyEngineId: 'nope-abcdefghij' })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
  });

  it('paginates ListPolicyEngines', async () => {
    for (let i = 0; i < 3; i++) await h.client.send(new CreatePolicyEngineCommand({ name: `pe${i}` }));
    const names: string[] = [];
    for await (const page of paginateListPolicyEngines({ client: h.client, pageSize: 2 }, {})) names.push(...page.policyEngines!.map((p) => p.name!));
    expect(names).toEqual(['pe0', 'pe1', 'pe2']);
  });
});

describe('AgentCore gateways', () => {
  it('creates a gateway with a lowercase id, URL and ARN; CREATING -> READY', async () => {
    const created = await h.client.send(new CreateGatewayCommand({ name: 'My-Gateway', roleArn: GW_ROLE, authorizerType: 'AWS_IAM', protocolType: 'MCP' }));
    expect(created.gatewayId).toMatch(/^my-gateway-[a-z0-9]{10}$/);
    expect(created.gatewayArn).toBe(`arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/${created.gatewayId}`);
    expect(created.gatewayUrl).toContain(created.gatewayId);
    expect(created.status).toBe('CREATING');
    await h.clock.advance(4_000);
    const got = await h.client.send(new GetGatewayCommand({ gatewayIdentifier: created.gatewayId }));
    expect(got).toMatchObject({ status: 'READY', name: 'My-Gateway', authorizerType: 'AWS_IAM', roleArn: GW_ROLE });
  });

  it('updates with full replacement: exceptionLevel and policy engine omitted are reset; UPDATING -> READY', async () => {
    const pe = await engine('rules');
    const gw = await gateway('gw-main', { exceptionLevel: 'DEBUG', description: 'd', policyEngineConfiguration: { arn: pe.policyEngineArn!, mode: 'LOG_ONLY' } });
    const before = await h.client.send(new GetGatewayCommand({ gatewayIdentifier: gw.gatewayId }));
    expect(before).toMatchObject({ exceptionLevel: 'DEBUG', policyEngineConfiguration: { mode: 'LOG_ONLY' }, description: 'd' });

    const out = await h.client.send(new UpdateGatewayCommand({
      gatewayIdentifier: gw.gatewayId, name: 'gw-main', roleArn: GW_ROLE, authorizerType: 'CUSTOM_JWT', authorizerConfiguration: JWT,
    }));
    expect(out.status).toBe('UPDATING');
    const busy = await caught(h.client.send(new UpdateGatewayCommand({ gatewayIdentifier: gw.gatewayId, name: 'gw-main', roleArn: GW_ROLE, authorizerType: 'NONE' })));
    expect(busy).toBeInstanceOf(ConflictException);
    await h.clock.advance(6_000);
    const after = await h.client.send(new GetGatewayCommand({ gatewayIdentifier: gw.gatewayId }));
    expect(after.status).toBe('READY');
    expect(after.exceptionLevel).toBeUndefined();
    expect(after.policyEngineConfiguration).toBeUndefined();
    expect(after.description).toBeUndefined();
    expect(after.protocolConfiguration).toBeUndefined();
  });

  it('switches a policy engine to ENFORCE and ends UPDATE_UNSUCCESSFUL when that configuration is marked failing', async () => {
    const pe = await engine('rules');
    const gw = await gateway('gw-main', { policyEngineConfiguration: { arn: pe.policyEngineArn!, mode: 'LOG_ONLY' } });
    h.emu.state.failGatewayUpdatesWithPolicyEngine(pe.policyEngineArn!, 'ENFORCE');
    const base = { gatewayIdentifier: gw.gatewayId, name: 'gw-main', roleArn: GW_ROLE, authorizerType: 'CUSTOM_JWT' as const, authorizerConfiguration: JWT };
    await h.client.send(new UpdateGatewayCommand({ ...base, policyEngineConfiguration: { arn: pe.policyEngineArn!, mode: 'ENFORCE' } }));
    expect((await h.client.send(new GetGatewayCommand({ gatewayIdentifier: gw.gatewayId }))).status).toBe('UPDATING');
    await h.clock.advance(6_000);
    const failed = await h.client.send(new GetGatewayCommand({ gatewayIdentifier: gw.gatewayId }));
    expect(failed.status).toBe('UPDATE_UNSUCCESSFUL');
    expect(failed.statusReasons?.[0]).toContain('ENFORCE');
    // Reverting to LOG_ONLY from UPDATE_UNSUCCESSFUL works.
    await h.client.send(new UpdateGatewayCommand({ ...base, policyEngineConfiguration: { arn: pe.policyEngineArn!, mode: 'LOG_ONLY' } }));
    await h.clock.advance(6_000);
    const ok = await h.client.send(new GetGatewayCommand({ gatewayIdentifier: gw.gatewayId }));
    expect(ok.status).toBe('READY');
    expect(ok.statusReasons).toBeUndefined();
  });

  it('fails the next N updates set with failGatewayUpdates(id, N), then succeeds', async () => {
    const gw = await gateway();
    h.emu.state.failGatewayUpdates(gw.gatewayId!, 1, ['target unreachable']);
    const input = { gatewayIdentifier: gw.gatewayId, name: 'gw-main', roleArn: GW_ROLE, authorizerType: 'CUSTOM_JWT' as const, authorizerConfiguration: JWT };
    await h.client.send(new UpdateGatewayCommand(input));
    await h.clock.advance(6_000);
    expect(await h.client.send(new GetGatewayCommand({ gatewayIdentifier: gw.gatewayId }))).toMatchObject({ status: 'UPDATE_UNSUCCESSFUL', statusReasons: ['target unreachable'] });
    await h.client.send(new UpdateGatewayCommand(input));
    await h.clock.advance(6_000);
    expect((await h.client.send(new GetGatewayCommand({ gatewayIdentifier: gw.gatewayId }))).status).toBe('READY');
  });

  it('rejects a policy engine ARN that does not exist, a renamed gateway and CUSTOM_JWT without configuration', async () => {
    const gw = await gateway();
    const arn = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/ghost-abcdefghij';
    const err = await caught(h.client.send(new UpdateGatewayCommand({
      gatewayIdentifier: gw.gatewayId, name: 'gw-main', roleArn: GW_ROLE, authorizerType: 'CUSTOM_JWT', authorizerConfiguration: JWT,
      policyEngineConfiguration: { arn, mode: 'ENFORCE' },
    })));
    expect(err).toBeInstanceOf(ValidationException);
    expect(err.fieldList).toEqual([{ name: 'policyEngineConfiguration.arn', message: expect.any(String) }]);
    const renamed = await caught(h.client.send(new UpdateGatewayCommand({ gatewayIdentifier: gw.gatewayId, name: 'other', roleArn: GW_ROLE, authorizerType: 'NONE' })));
    expect(renamed).toBeInstanceOf(ValidationException);
    const noJwt = await caught(h.client.send(new UpdateGatewayCommand({ gatewayIdentifier: gw.gatewayId, name: 'gw-main', roleArn: GW_ROLE, authorizerType: 'CUSTOM_JWT' })));
    expect((noJwt.fieldList as Array<{ name: string }>).map((f) => f.name)).toEqual(['authorizerConfiguration']);
    // Nothing changed and the gateway is not UPDATING.
    const got = await h.client.send(new GetGatewayCommand({ gatewayIdentifier: gw.gatewayId }));
    expect(got).toMatchObject({ status: 'READY', authorizerConfiguration: JWT });
    expect(got.policyEngineConfiguration).toBeUndefined();
  });

  it('paginates ListGateways and deletes a gateway', async () => {
    for (let i = 0; i < 3; i++) await h.client.send(new CreateGatewayCommand({ name: `g${i}`, roleArn: GW_ROLE, authorizerType: 'NONE' }));
    const items: string[] = [];
    for await (const page of paginateListGateways({ client: h.client, pageSize: 2 }, {})) items.push(...page.items!.map((g) => `${g.name}:${g.status}`));
    expect(items).toEqual(['g0:CREATING', 'g1:CREATING', 'g2:CREATING']);
    const id = h.emu.state.listGateways()[0].id;
    const busy = await caught(h.client.send(new DeleteGatewayCommand({ gatewayIdentifier: id })));
    expect(busy).toBeInstanceOf(ConflictException);
    await h.clock.advance(4_000);
    expect((await h.client.send(new DeleteGatewayCommand({ gatewayIdentifier: id }))).status).toBe('DELETING');
    await h.clock.advance(2_000);
    expect(await caught(h.client.send(new GetGatewayCommand({ gatewayIdentifier: id })))).toBeInstanceOf(ResourceNotFoundException);
  });

  it('makes CreateGateway idempotent on clientToken', async () => {
    const input = { name: 'idem', roleArn: GW_ROLE, authorizerType: 'NONE' as const, clientToken: 'c'.repeat(33) };
    const a = await h.client.send(new CreateGatewayCommand(input));
    const b = await h.client.send(new CreateGatewayCommand(input));
    expect(b.gatewayId).toBe(a.gatewayId);
    const mismatch = await caught(h.client.send(new CreateGatewayCommand({ ...input, authorizerType: 'AWS_IAM' })));
    expect(mismatch).toBeInstanceOf(ValidationException);
    expect(mismatch.reason).toBe('IdempotentParameterMismatchException');
  });
});

describe('AgentCore tags', () => {
  it('tags, lists and untags a gateway by its URI-encoded ARN', async () => {
    const gw = await gateway();
    const arn = gw.gatewayArn!;
    await h.client.send(new TagResourceCommand({ resourceArn: arn, tags: { team: 'a', env: 'dev' } }));
    expect((await h.client.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual({ team: 'a', env: 'dev' });
    await h.client.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['env'] }));
    expect((await h.client.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual({ team: 'a' });
    const tagPaths = h.emu.requests.filter((r) => r.operation === 'TagResource').map((r) => r.path);
    expect(tagPaths[0]).toBe(`/tags/${encodeURIComponent(arn)}`);

    const unknown = await caught(h.client.send(new ListTagsForResourceCommand({ resourceArn: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/nope-abcdefghij' })));
    expect(unknown).toBeInstanceOf(ResourceNotFoundException);
  });

  it('keeps tags given at creation', async () => {
    const pe = await h.client.send(new CreatePolicyEngineCommand({ name: 'tagged', tags: { owner: 'me' } }));
    expect((await h.client.send(new ListTagsForResourceCommand({ resourceArn: pe.policyEngineArn }))).tags).toEqual({ owner: 'me' });
  });
});
