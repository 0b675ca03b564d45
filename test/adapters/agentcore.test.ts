import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  BedrockAgentCoreControlClient,
  ConflictException,
  GetAgentRuntimeCommand,
  GetGatewayCommand,
  ListAgentRuntimeEndpointsCommand,
  ListAgentRuntimeVersionsCommand,
  ListAgentRuntimesCommand,
  ListGatewaysCommand,
  ListPolicyEnginesCommand,
  ResourceNotFoundException,
  ThrottlingException,
  UpdateAgentRuntimeCommand,
  UpdateAgentRuntimeEndpointCommand,
  ValidationException,
} from '@aws-sdk/client-bedrock-agentcore-control';
import type { AgentRuntime } from '@aws-sdk/client-bedrock-agentcore-control';
import { AgentCoreAdapter } from '../../functions/adapters/agentcore.ts';
import {
  AmbiguousResourceError,
  ConflictError,
  ResourceNotFoundError,
  ThrottledError,
  ValidationRejectedError,
} from '../../functions/lib/errors.ts';

const agentCore = mockClient(BedrockAgentCoreControlClient);
const meta = { httpStatusCode: 400 };

function runtime(id: string, name: string, version = '1'): AgentRuntime {
  return {
    agentRuntimeArn: `arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/${id}`,
    agentRuntimeId: id,
    agentRuntimeName: name,
    agentRuntimeVersion: version,
    description: undefined,
    lastUpdatedAt: new Date(0),
    status: 'READY',
  };
}

describe('AgentCoreAdapter', () => {
  let adapter: AgentCoreAdapter;
  beforeEach(() => {
    agentCore.reset();
    adapter = new AgentCoreAdapter(new BedrockAgentCoreControlClient({ region: 'us-east-1' }));
  });

  it('listRuntimes follows nextToken through every page', async () => {
    const pages = [
      { agentRuntimes: [runtime('a-1', 'a')], nextToken: 'T1' },
      { agentRuntimes: [runtime('b-1', 'b')], nextToken: 'T2' },
      { agentRuntimes: [runtime('c-1', 'c')] },
    ];
    // The SDK paginator reuses one input object across pages: copy it at call time.
    const inputs: unknown[] = [];
    agentCore.on(ListAgentRuntimesCommand).callsFake((input: object) => {
      inputs.push({ ...input });
      return pages[inputs.length - 1];
    });

    const all = await adapter.listRuntimes();

    expect(all.map((r) => r.agentRuntimeId)).toEqual(['a-1', 'b-1', 'c-1']);
    expect(inputs).toEqual([{ maxResults: 100 }, { maxResults: 100, nextToken: 'T1' }, { maxResults: 100, nextToken: 'T2' }]);
  });

  it('listRuntimeVersions and listRuntimeEndpoints page per runtime', async () => {
    agentCore
      .on(ListAgentRuntimeVersionsCommand)
      .resolvesOnce({ agentRuntimes: [runtime('a-1', 'a', '2')], nextToken: 'N' })
      .resolvesOnce({ agentRuntimes: [runtime('a-1', 'a', '1')] });
    agentCore.on(ListAgentRuntimeEndpointsCommand).resolves({
      runtimeEndpoints: [{ name: 'PROD', liveVersion: '1', id: 'e', agentRuntimeEndpointArn: 'arn:e', agentRuntimeArn: 'arn:r', status: 'READY', createdAt: new Date(0), lastUpdatedAt: new Date(0) }],
    });

    const versions = await adapter.listRuntimeVersions('a-1');
    const endpoints = await adapter.listRuntimeEndpoints('a-1');

    expect(versions.map((v) => v.agentRuntimeVersion)).toEqual(['2', '1']);
    expect(agentCore).toHaveReceivedCommandWith(ListAgentRuntimeVersionsCommand, { agentRuntimeId: 'a-1' });
    expect(endpoints.map((e) => e.name)).toEqual(['PROD']);
  });

  it('getRuntime asks for a specific version only when given one', async () => {
    agentCore.on(GetAgentRuntimeCommand).resolves({ agentRuntimeId: 'a-1' } as never);

    await adapter.getRuntime('a-1');
    await adapter.getRuntime('a-1', '3');

    const calls = agentCore.commandCalls(GetAgentRuntimeCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([{ agentRuntimeId: 'a-1' }, { agentRuntimeId: 'a-1', agentRuntimeVersion: '3' }]);
  });

  it('translates a missing runtime into ResourceNotFoundError with the SDK exception as cause', async () => {
    const cause = new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 404 } });
    agentCore.on(GetAgentRuntimeCommand).rejects(cause);

    const error = await adapter.getRuntime('nope-1').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ResourceNotFoundError);
    expect(error).toMatchObject({ name: 'ResourceNotFoundError', operation: 'GetAgentRuntime', resource: 'nope-1', cause });
  });

  it('translates update conflicts, throttling and validation failures', async () => {
    const input = { agentRuntimeId: 'a-1', agentRuntimeArtifact: { containerConfiguration: { containerUri: 'x' } }, roleArn: 'arn:r', networkConfiguration: { networkMode: 'PUBLIC' as const } };
    agentCore
      .on(UpdateAgentRuntimeCommand)
      .rejectsOnce(new ConflictException({ message: 'busy', $metadata: { httpStatusCode: 409 } }))
      .rejectsOnce(new ThrottlingException({ message: 'slow down', $metadata: { httpStatusCode: 429 } }))
      .rejectsOnce(new ValidationException({ message: 'bad', reason: 'FieldValidationFailed', fieldList: [{ name: 'roleArn', message: 'bad arn' }], $metadata: meta }));

    await expect(adapter.updateRuntime(input)).rejects.toBeInstanceOf(ConflictError);
    await expect(adapter.updateRuntime(input)).rejects.toBeInstanceOf(ThrottledError);
    const invalid = await adapter.updateRuntime(input).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ValidationRejectedError);
    expect((invalid as ValidationRejectedError).fieldList).toEqual([{ name: 'roleArn', message: 'bad arn' }]);
    expect((invalid as ValidationRejectedError).reason).toBe('FieldValidationFailed');
  });

  it('updateRuntimeEndpoint names the endpoint in translated errors', async () => {
    agentCore.on(UpdateAgentRuntimeEndpointCommand).rejects(new ConflictException({ message: 'busy', $metadata: { httpStatusCode: 409 } }));

    const error = await adapter.updateRuntimeEndpoint({ agentRuntimeId: 'a-1', endpointName: 'PROD', agentRuntimeVersion: '4' }).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'ConflictError', resource: 'a-1/PROD', operation: 'UpdateAgentRuntimeEndpoint' });
  });

  it('translates errors thrown while paging', async () => {
    agentCore
      .on(ListGatewaysCommand)
      .resolvesOnce({ items: [], nextToken: 'T1' })
      .rejectsOnce(new ThrottlingException({ message: 'slow', $metadata: { httpStatusCode: 429 } }));

    await expect(adapter.listGateways()).rejects.toMatchObject({ name: 'ThrottledError', operation: 'ListGateways' });
  });

  describe('resolveRuntime', () => {
    beforeEach(() => {
      agentCore
        .on(ListAgentRuntimesCommand)
        .resolvesOnce({ agentRuntimes: [runtime('alpha-1', 'alpha')], nextToken: 'T' })
        .resolvesOnce({ agentRuntimes: [runtime('beta-1', 'beta')] });
    });

    it('finds a runtime by name on any page', async () => {
      await expect(adapter.resolveRuntime({ name: 'beta' })).resolves.toMatchObject({ agentRuntimeId: 'beta-1' });
    });

    it('finds a runtime by id', async () => {
      await expect(adapter.resolveRuntime({ id: 'alpha-1' })).resolves.toMatchObject({ agentRuntimeName: 'alpha' });
    });

    it('throws ResourceNotFoundError when nothing matches', async () => {
      await expect(adapter.resolveRuntime({ name: 'gamma' })).rejects.toMatchObject({
        name: 'ResourceNotFoundError',
        message: 'No AgentCore runtime with name "gamma"',
      });
    });
  });

  it('resolveRuntime refuses a name shared by two runtimes', async () => {
    agentCore.on(ListAgentRuntimesCommand).resolves({ agentRuntimes: [runtime('x-1', 'dup'), runtime('x-2', 'dup')] });

    await expect(adapter.resolveRuntime({ name: 'dup' })).rejects.toBeInstanceOf(AmbiguousResourceError);
  });

  it('resolveGateway finds a gateway by name or id through listing', async () => {
    agentCore.on(ListGatewaysCommand).resolves({
      items: [{ gatewayId: 'gw-1', name: 'front', status: 'READY', createdAt: new Date(0), updatedAt: new Date(0), authorizerType: 'NONE' }],
    });

    await expect(adapter.resolveGateway({ name: 'front' })).resolves.toMatchObject({ gatewayId: 'gw-1' });
    await expect(adapter.resolveGateway({ id: 'gw-1' })).resolves.toMatchObject({ name: 'front' });
    await expect(adapter.resolveGateway({ id: 'gw-9' })).rejects.toBeInstanceOf(ResourceNotFoundError);
    expect(agentCore).not.toHaveReceivedCommand(GetGatewayCommand);
  });

  it('listPolicyEngines drains all pages', async () => {
    const engine = (id: string) => ({ policyEngineId: id, name: id, createdAt: new Date(0), updatedAt: new Date(0), policyEngineArn: `arn:${id}`, status: 'ACTIVE' as const, statusReasons: [] });
    agentCore
      .on(ListPolicyEnginesCommand)
      .resolvesOnce({ policyEngines: [engine('pe-1')], nextToken: 'T' })
      .resolvesOnce({ policyEngines: [engine('pe-2')] });

    const engines = await adapter.listPolicyEngines();

    expect(engines.map((e) => e.policyEngineId)).toEqual(['pe-1', 'pe-2']);
  });
});
