import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictException, CreateGatewayCommand, CreatePolicyCommand, CreatePolicyEngineCommand, DeletePolicyCommand,
  GetPolicyCommand, InternalServerException, ListPoliciesCommand, ResourceNotFoundException, ServiceQuotaExceededException,
  UpdateGatewayCommand, UpdatePolicyCommand, ValidationException, paginateListPolicies,
} from '@aws-sdk/client-bedrock-agentcore-control';
import { caught, harness, type Harness } from './helpers.ts';

const GW_ROLE = 'arn:aws:iam::123456789012:role/GatewayRole';
const delays = { gatewayCreate: 1_000, gatewayUpdate: 1_000, policyEngineCreate: 1_000, policyCreate: 3_000, policyUpdate: 3_000, policyDelete: 2_000 };
const PERMIT_ORDERS = 'permit(principal, action == AgentCore::Action::"orders___getOrder", resource);';

let h: Harness;
beforeEach(async () => { h = await harness({ seed: { settings: { delays, limits: { policiesPerEngine: 3 } } } }); });
afterEach(async () => { await h.close(); });

async function engine(name = 'rules') {
  const pe = await h.client.send(new CreatePolicyEngineCommand({ name }));
  await h.clock.advance(1_000);
  return pe.policyEngineId!;
}

function create(policyEngineId: string, name: string, statement: string, extra: Record<string, unknown> = {}) {
  return h.client.send(new CreatePolicyCommand({ policyEngineId, name, definition: { cedar: { statement } }, ...extra }));
}

async function status(policyEngineId: string, policyId: string) {
  return h.client.send(new GetPolicyCommand({ policyEngineId, policyId }));
}

describe('AgentCore policies (CreatePolicy / GetPolicy / UpdatePolicy / DeletePolicy / ListPolicies)', () => {
  it('creates CREATING -> ACTIVE with a model-shaped id and ARN, enforcementMode ACTIVE by default', async () => {
    const pe = await engine();
    const p = await create(pe, 'allow_orders', PERMIT_ORDERS);
    expect(p.policyId).toMatch(/^allow_orders-[a-z0-9_]{10}$/);
    expect(p.policyArn).toBe(`arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/${pe}/policy/${p.policyId}`);
    expect(p).toMatchObject({ status: 'CREATING', enforcementMode: 'ACTIVE', statusReasons: [] });
    await h.clock.advance(3_000);
    const got = await status(pe, p.policyId!);
    expect(got).toMatchObject({ status: 'ACTIVE', definition: { cedar: { statement: PERMIT_ORDERS } } });
  });

  it('rejects asynchronously: a Cedar parse error ends CREATE_FAILED with a located reason', async () => {
    const pe = await engine();
    const p = await create(pe, 'broken', 'permit(principal, action, resource) when { x };');
    expect(p.status).toBe('CREATING');
    await h.clock.advance(3_000);
    const got = await status(pe, p.policyId!);
    expect(got.status).toBe('CREATE_FAILED');
    expect(got.statusReasons![0]).toMatch(/line 1, column \d+: invalid variable: x/);
  });

  it('FAIL_ON_ANY_FINDINGS (the default) refuses an allow-all permit; IGNORE_ALL_FINDINGS accepts it', async () => {
    const pe = await engine();
    const strict = await create(pe, 'everything', 'permit(principal, action, resource);');
    const lax = await create(pe, 'everything_lax', 'permit(principal, action, resource);', { validationMode: 'IGNORE_ALL_FINDINGS' });
    await h.clock.advance(3_000);
    expect((await status(pe, strict.policyId!)).statusReasons![0]).toMatch(/ALLOW_ALL/);
    expect((await status(pe, lax.policyId!)).status).toBe('ACTIVE');
  });

  it('checks the statement against the Cedar schema of every gateway using the engine', async () => {
    const h2 = await harness({
      seed: {
        settings: { delays },
        policyEngines: [{ id: 'rules-aaaaaaaaaa' }],
        gateways: [{
          id: 'gw-orders-bbbbbbbbbb', name: 'gw-orders',
          config: { roleArn: GW_ROLE, authorizerType: 'AWS_IAM', protocolType: 'MCP', policyEngineConfiguration: { arn: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/rules-aaaaaaaaaa', mode: 'LOG_ONLY' } },
          targets: [{ name: 'orders', tools: [{ name: 'getOrder', inputSchema: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] } }] }],
        }],
      },
    });
    try {
      const ok = await h2.client.send(new CreatePolicyCommand({ policyEngineId: 'rules-aaaaaaaaaa', name: 'ok', definition: { cedar: { statement: 'permit(principal, action == AgentCore::Action::"orders___getOrder", resource) when { context.input.orderId like "A*" };' } } }));
      const bad = await h2.client.send(new CreatePolicyCommand({ policyEngineId: 'rules-aaaaaaaaaa', name: 'bad', definition: { cedar: { statement: 'permit(principal, action == AgentCore::Action::"orders___getOrder", resource) when { context.input.missing == 1 };' } } }));
      await h2.clock.advance(3_000);
      expect((await h2.client.send(new GetPolicyCommand({ policyEngineId: 'rules-aaaaaaaaaa', policyId: ok.policyId }))).status).toBe('ACTIVE');
      const failed = await h2.client.send(new GetPolicyCommand({ policyEngineId: 'rules-aaaaaaaaaa', policyId: bad.policyId }));
      expect(failed.status).toBe('CREATE_FAILED');
      expect(failed.statusReasons![0]).toMatch(/Schema validation failed .*missing/);
    } finally {
      await h2.close();
    }
  });

  it('updates the enforcement mode (UPDATING -> ACTIVE), keeps what is omitted, refuses changes while UPDATING', async () => {
    const pe = await engine();
    const p = await create(pe, 'shadow', PERMIT_ORDERS, { enforcementMode: 'LOG_ONLY', description: 'try it' });
    await h.clock.advance(3_000);
    const updated = await h.client.send(new UpdatePolicyCommand({ policyEngineId: pe, policyId: p.policyId, enforcementMode: 'ACTIVE' }));
    expect(updated).toMatchObject({ status: 'UPDATING', enforcementMode: 'ACTIVE', description: 'try it', definition: { cedar: { statement: PERMIT_ORDERS } } });
    expect(await caught(h.client.send(new UpdatePolicyCommand({ policyEngineId: pe, policyId: p.policyId, enforcementMode: 'LOG_ONLY' })))).toBeInstanceOf(ConflictException);
    await h.clock.advance(3_000);
    expect((await status(pe, p.policyId!)).status).toBe('ACTIVE');
    const cleared = await h.client.send(new UpdatePolicyCommand({ policyEngineId: pe, policyId: p.policyId, description: {} }));
    expect(cleared.description).toBeUndefined();
  });

  it('names are unique, the engine quota answers 402, deletes pass through DELETING, unknown ids are 404', async () => {
    const pe = await engine();
    const first = await create(pe, 'p1', PERMIT_ORDERS);
    expect(await caught(create(pe, 'p1', PERMIT_ORDERS))).toBeInstanceOf(ConflictException);
    await create(pe, 'p2', PERMIT_ORDERS);
    await create(pe, 'p3', PERMIT_ORDERS);
    const quota = await caught(create(pe, 'p4', PERMIT_ORDERS));
    expect(quota).toBeInstanceOf(ServiceQuotaExceededException);
    expect((quota as unknown as ServiceQuotaExceededException).$metadata.httpStatusCode).toBe(402);
    await h.clock.advance(3_000);
    const deleting = await h.client.send(new DeletePolicyCommand({ policyEngineId: pe, policyId: first.policyId }));
    expect(deleting.status).toBe('DELETING');
    await h.clock.advance(2_000);
    expect(await caught(status(pe, first.policyId!))).toBeInstanceOf(ResourceNotFoundException);
    expect(await caught(h.client.send(new ListPoliciesCommand({ policyEngineId: 'nope-aaaaaaaaaa' })))).toBeInstanceOf(ResourceNotFoundException);
  });

  it('paginates ListPolicies and refuses the undocumented targetResourceScope filter', async () => {
    const pe = await engine();
    for (let i = 0; i < 3; i++) await create(pe, `p${i}`, PERMIT_ORDERS);
    const names: string[] = [];
    for await (const page of paginateListPolicies({ client: h.client, pageSize: 2 }, { policyEngineId: pe })) names.push(...page.policies!.map((p) => p.name!));
    expect(names).toEqual(['p0', 'p1', 'p2']);
    const scoped = await caught(h.client.send(new ListPoliciesCommand({ policyEngineId: pe, targetResourceScope: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/gw-aaaaaaaaaa' })));
    expect(scoped).toBeInstanceOf(ValidationException);
  });
});

describe('gateway execution role without the Policy actions', () => {
  it('attaching an engine fails with InternalServerException (policy-permissions)', async () => {
    h.emu.state.denyRoleActions(GW_ROLE, ['AuthorizeAction']);
    const pe = await engine();
    const gw = await h.client.send(new CreateGatewayCommand({ name: 'gw', roleArn: GW_ROLE, authorizerType: 'AWS_IAM', protocolType: 'MCP' }));
    await h.clock.advance(1_000);
    const err = await caught(h.client.send(new UpdateGatewayCommand({
      gatewayIdentifier: gw.gatewayId, name: 'gw', roleArn: GW_ROLE, authorizerType: 'AWS_IAM', protocolType: 'MCP',
      policyEngineConfiguration: { arn: `arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/${pe}`, mode: 'LOG_ONLY' },
    })));
    expect(err).toBeInstanceOf(InternalServerException);
    expect((err as Error).message).toBe('Policy evaluation failed');
  });
});
