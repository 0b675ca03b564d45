import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AccessDeniedException, BedrockAgentCoreControlServiceException, ConflictException, CreateAgentRuntimeCommand,
  GetAgentRuntimeCommand, GetGatewayCommand, InternalServerException, ListAgentRuntimeVersionsCommand, ListGatewaysCommand,
  ResourceNotFoundException, ServiceQuotaExceededException, ThrottlingException, UpdateAgentRuntimeCommand, ValidationException,
} from '@aws-sdk/client-bedrock-agentcore-control';
import { ROLE, artifact, caught, harness, type Harness } from './helpers.ts';

let h: Harness;
let id: string;
beforeEach(async () => {
  h = await harness({ seed: { settings: { delays: { runtimeCreate: 1_000, runtimeUpdate: 1_000 }, limits: { runtimes: 2 } } } });
  id = (await h.client.send(new CreateAgentRuntimeCommand({
    agentRuntimeName: 'base', agentRuntimeArtifact: artifact('v1'), roleArn: ROLE, environmentVariables: { K: 'v' },
  }))).agentRuntimeId!;
  await h.clock.advance(1_000);
});
afterEach(async () => { await h.close(); });

const fieldNames = (err: Record<string, unknown>) => (err.fieldList as Array<{ name: string }>).map((f) => f.name).sort();

describe('AgentCore error rendering', () => {
  it('parses every error type into its SDK exception class with the right HTTP status', async () => {
    const notFound = await caught(h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: 'ghost-abcdefghij' })));
    expect(notFound).toBeInstanceOf(ResourceNotFoundException);
    expect(notFound.$metadata).toMatchObject({ httpStatusCode: 404 });
    expect(notFound.message).toContain('ghost-abcdefghij');

    const invalid = await caught(h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: 'not valid!' })));
    expect(invalid).toBeInstanceOf(ValidationException);
    expect(invalid.$metadata).toMatchObject({ httpStatusCode: 400 });
    expect(invalid.reason).toBe('FieldValidationFailed');
    expect(fieldNames(invalid)).toEqual(['agentRuntimeId']);

    await h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact('v2'), roleArn: ROLE }));
    const conflict = await caught(h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact('v3'), roleArn: ROLE })));
    expect(conflict).toBeInstanceOf(ConflictException);
    expect(conflict.$metadata).toMatchObject({ httpStatusCode: 409 });

    await h.client.send(new CreateAgentRuntimeCommand({ agentRuntimeName: 'second', agentRuntimeArtifact: artifact('v1'), roleArn: ROLE }));
    const quota = await caught(h.client.send(new CreateAgentRuntimeCommand({ agentRuntimeName: 'third', agentRuntimeArtifact: artifact('v1'), roleArn: ROLE })));
    expect(quota).toBeInstanceOf(ServiceQuotaExceededException);
    expect(quota.$metadata).toMatchObject({ httpStatusCode: 402 });

    h.emu.faults.addRule({ operation: 'ListGateways', rps: 1, burst: 1 });
    await h.client.send(new ListGatewaysCommand({}));
    const throttled = await caught(h.client.send(new ListGatewaysCommand({})));
    expect(throttled).toBeInstanceOf(ThrottlingException);
    expect(throttled.$metadata).toMatchObject({ httpStatusCode: 429 });
    expect(throttled.message).toBe('Rate exceeded');

    h.emu.faults.addRule({ operation: 'GetGateway', errorRate: 1 });
    const internal = await caught(h.client.send(new GetGatewayCommand({ gatewayIdentifier: 'gw-abcdefghij' })));
    expect(internal).toBeInstanceOf(InternalServerException);
    expect(internal.$metadata).toMatchObject({ httpStatusCode: 500 });

    h.emu.faults.addRule({ operation: 'ListAgentRuntimeVersions', error: { type: 'AccessDeniedException', count: 1 } });
    const denied = await caught(h.client.send(new ListAgentRuntimeVersionsCommand({ agentRuntimeId: id })));
    expect(denied).toBeInstanceOf(AccessDeniedException);
    expect(denied.$metadata).toMatchObject({ httpStatusCode: 403 });
    expect(denied).toBeInstanceOf(BedrockAgentCoreControlServiceException);
    // count: 1 means only the next call was denied.
    expect((await h.client.send(new ListAgentRuntimeVersionsCommand({ agentRuntimeId: id }))).agentRuntimes).toHaveLength(2);

    const log = h.emu.requests.filter((r) => r.injected).map((r) => `${r.operation}:${r.error}:${r.status}`);
    expect(log).toEqual(['ListGateways:ThrottlingException:429', 'GetGateway:InternalServerException:500', 'ListAgentRuntimeVersions:AccessDeniedException:403']);
  });

  it('sends the error type in x-amzn-errortype and { message, reason, fieldList } in the body', async () => {
    const res = await fetch(`${h.emu.url}/runtimes/`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agentRuntimeName: 'x' }) });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('ValidationException');
    const body = await res.json() as Record<string, unknown>;
    expect(body.reason).toBe('FieldValidationFailed');
    expect(body.fieldList).toEqual([
      { name: 'agentRuntimeArtifact', message: 'is required' },
      { name: 'roleArn', message: 'is required' },
    ]);
    expect(body.message).toMatch(/^2 validation errors detected/);
  });

  it('answers a body that is not JSON with ValidationException reason CannotParse', async () => {
    const res = await fetch(`${h.emu.url}/runtimes/${id}/`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"roleArn": ' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ reason: 'CannotParse' });
  });

  it('routes by method and exact URI (trailing slashes included)', async () => {
    const noSlash = await fetch(`${h.emu.url}/gateways`);
    expect(noSlash.status).toBe(404);
    expect(noSlash.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    const listed = await fetch(`${h.emu.url}/gateways/`);
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual({ items: [] });
    const created = await fetch(`${h.emu.url}/policy-engines`, { method: 'POST', body: JSON.stringify({ name: 'raw' }) });
    expect(created.status).toBe(202);
    const body = await created.json() as { createdAt: string };
    expect(body.createdAt).toBe('2026-01-01T00:00:01.000Z');
  });
});

describe('AgentCore request validation', () => {
  it('names every bad field (required, enum, pattern, length, range, list size, map size, union) and changes nothing', async () => {
    const before = await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id }));
    const secretValue = 'TOPSECRET-VALUE';
    const env = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`K${i}`, secretValue]));
    const err = await caught(h.client.send(new UpdateAgentRuntimeCommand({
      agentRuntimeId: id,
      // union exactly-one: both members set
      agentRuntimeArtifact: {
        containerConfiguration: { containerUri: artifact('v2').containerConfiguration.containerUri },
        codeConfiguration: { code: { s3: { bucket: 'my-code-bucket', prefix: 'agent/' } }, runtime: 'PYTHON_3_12', entryPoint: ['main.py'] },
      } as never,
      roleArn: undefined as never, // required
      protocolConfiguration: { serverProtocol: 'SMTP' as never }, // enum
      description: '', // length (min 1, sensitive)
      lifecycleConfiguration: { idleRuntimeSessionTimeout: 10 }, // integer range
      requestHeaderConfiguration: { requestHeaderAllowlist: Array.from({ length: 21 }, (_, i) => `X-H${i}`) }, // list size
      environmentVariables: env, // map size (values sensitive)
      platformVersion: 'has space', // pattern whole-match
    })));
    expect(err).toBeInstanceOf(ValidationException);
    expect(err.reason).toBe('FieldValidationFailed');
    expect(fieldNames(err)).toEqual([
      'agentRuntimeArtifact',
      'description',
      'environmentVariables',
      'lifecycleConfiguration.idleRuntimeSessionTimeout',
      'platformVersion',
      'protocolConfiguration.serverProtocol',
      'requestHeaderConfiguration.requestHeaderAllowlist',
      'roleArn',
    ]);
    expect(err.message).not.toContain(secretValue);
    expect(JSON.stringify(err.fieldList)).not.toContain(secretValue);

    const after = await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id }));
    expect(after).toEqual({ ...before, $metadata: after.$metadata });
    expect(h.emu.state.getRuntime(id).versions).toHaveLength(1);
  });

  it('matches patterns against the whole value (container URI with an uppercase repository or a foreign registry)', async () => {
    for (const containerUri of ['123456789012.dkr.ecr.us-east-1.amazonaws.com/Agent:v1', 'docker.io/library/agent:v1', 'x']) {
      const err = await caught(h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: { containerConfiguration: { containerUri } }, roleArn: ROLE })));
      expect(err).toBeInstanceOf(ValidationException);
      expect(fieldNames(err)).toEqual(['agentRuntimeArtifact.containerConfiguration.containerUri']);
    }
    const badToken = await caught(h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact('v2'), roleArn: ROLE, clientToken: 'short' })));
    expect(fieldNames(badToken)).toEqual(['clientToken']);
    expect(h.emu.state.getRuntime(id).versions).toHaveLength(1);
  });

  it('rejects a lifecycle whose idle timeout exceeds maxLifetime', async () => {
    const err = await caught(h.client.send(new UpdateAgentRuntimeCommand({
      agentRuntimeId: id, agentRuntimeArtifact: artifact('v2'), roleArn: ROLE, lifecycleConfiguration: { idleRuntimeSessionTimeout: 7200, maxLifetime: 3600 },
    })));
    expect(fieldNames(err)).toEqual(['lifecycleConfiguration.idleRuntimeSessionTimeout']);
  });
});
