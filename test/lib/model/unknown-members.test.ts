/**
 * Member paths the bundled model does not know, read from a raw GetAgentRuntime / GetGateway body,
 * and the AgentCore client that keeps that raw body (the SDK's parser drops unknown members).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { GetAgentRuntimeCommand, ListAgentRuntimesCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { createAgentCoreControlClient, rawBodyOf } from '../../../functions/lib/clients.ts';
import { isModeledPath, unacknowledgedMembers, unknownMemberPaths } from '../../../functions/lib/model/unknown-members.ts';
import { AgentCoreAdapter } from '../../../functions/adapters/agentcore.ts';
import { buildRuntimeUpdate, UnknownLiveMemberError } from '../../../functions/domain/runtime-update.ts';
import { parseConfig } from '../../../functions/lib/config/load.ts';

const RUNTIME = {
  agentRuntimeId: 'supportAgent-a1b2c3d4e5',
  agentRuntimeVersion: '1',
  roleArn: 'arn:aws:iam::123456789012:role/R',
  agentRuntimeArtifact: { containerConfiguration: { containerUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/a@sha256:' + '1'.repeat(64), pullPolicy: 'ALWAYS' } },
  environmentVariables: { SECRET_NAME: 'value' },
  filesystemConfigurations: [{ sessionStorage: { mountPath: '/mnt/s', quota: 5 } }, { sessionStorage: { mountPath: '/mnt/t', quota: 6 } }],
  lifecycleConfiguration: { idleRuntimeSessionTimeout: 900, maxLifetime: 28800 },
  createdAt: '2026-01-01T00:00:00Z',
  futureField: null,
};

describe('unknownMemberPaths', () => {
  it('names unknown members by path (lists as [], map keys never), sorted and once each', () => {
    expect(unknownMemberPaths('GetAgentRuntimeResponse', RUNTIME)).toEqual([
      'agentRuntimeArtifact.containerConfiguration.pullPolicy',
      'filesystemConfigurations[].sessionStorage.quota',
      'futureField',
    ]);
  });

  it('finds nothing in a body the model fully knows, and unknown union members too', () => {
    const { futureField: _f, filesystemConfigurations: _fs, agentRuntimeArtifact: _a, ...known } = RUNTIME;
    expect(unknownMemberPaths('GetAgentRuntimeResponse', known)).toEqual([]);
    expect(unknownMemberPaths('GetAgentRuntimeResponse', { agentRuntimeArtifact: { futureArtifact: { x: 1 } } })).toEqual(['agentRuntimeArtifact.futureArtifact']);
  });

  it('isModeledPath tells a known path from an unknown one', () => {
    expect(isModeledPath('GetGatewayResponse', 'protocolConfiguration.mcp.searchType')).toBe(true);
    expect(isModeledPath('GetAgentRuntimeResponse', 'filesystemConfigurations[].sessionStorage.mountPath')).toBe(true);
    expect(isModeledPath('GetGatewayResponse', 'protocolConfiguration.mcp.compression')).toBe(false);
  });

  it('acknowledged paths are left out', () => {
    expect(unacknowledgedMembers('runtime', RUNTIME, { runtime: ['futureField'], gateway: [] })).toEqual([
      'agentRuntimeArtifact.containerConfiguration.pullPolicy',
      'filesystemConfigurations[].sessionStorage.quota',
    ]);
  });
});

describe('the AgentCore client and adapter over a newer AWS', () => {
  it('keep the raw body of GetAgentRuntime only, mark the output, and the builder refuses it', async () => {
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.url!.startsWith('/runtimes/supportAgent') ? RUNTIME : { agentRuntimes: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = createAgentCoreControlClient({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    try {
      const parsed = await client.send(new GetAgentRuntimeCommand({ agentRuntimeId: RUNTIME.agentRuntimeId }));
      expect(parsed).not.toHaveProperty('futureField');
      expect(rawBodyOf(parsed)).toEqual(RUNTIME);
      expect(rawBodyOf(await client.send(new ListAgentRuntimesCommand({})))).toBeUndefined();

      const live = await new AgentCoreAdapter(client, { acknowledgedMembers: { runtime: ['futureField'], gateway: [] } }).getRuntime(RUNTIME.agentRuntimeId);
      expect(live.$unknownMembers).toEqual(['agentRuntimeArtifact.containerConfiguration.pullPolicy', 'filesystemConfigurations[].sessionStorage.quota']);
      // The marker survives a JSON copy (what a state machine task passes on).
      const copy = JSON.parse(JSON.stringify(live));
      expect(() => buildRuntimeUpdate(copy, { containerUri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/a@sha256:${'2'.repeat(64)}` })).toThrow(UnknownLiveMemberError);
      try {
        buildRuntimeUpdate(copy, {});
      } catch (err) {
        expect((err as Error).message).toContain('filesystemConfigurations[].sessionStorage.quota');
        expect((err as Error).message).not.toContain('value');
      }
    } finally {
      client.destroy();
      server.close();
    }
  });
});

describe('config unknownMembers.acknowledged', () => {
  it('accepts unknown member paths and refuses malformed or modeled ones', () => {
    const ok = parseConfig('version: 1\nunknownMembers:\n  acknowledged:\n    runtime: [futureField, "filesystemConfigurations[].sessionStorage.quota"]\n', 'a.yaml');
    expect(ok.unknownMembers.acknowledged).toEqual({ runtime: ['futureField', 'filesystemConfigurations[].sessionStorage.quota'], gateway: [] });
    expect(parseConfig('version: 1\n', 'a.yaml').unknownMembers.acknowledged).toEqual({ runtime: [], gateway: [] });
    expect(() => parseConfig('version: 1\nunknownMembers:\n  acknowledged:\n    gateway: ["a b"]\n', 'a.yaml')).toThrow(/member path/);
    expect(() => parseConfig('version: 1\nunknownMembers:\n  acknowledged:\n    gateway: [roleArn]\n', 'a.yaml')).toThrow(/nothing to acknowledge/);
    expect(() => parseConfig('version: 1\nunknownMembers:\n  acknowledge: {}\n', 'a.yaml')).toThrow(/acknowledge/);
  });
});
