import { afterEach, describe, expect, it } from 'vitest';
import {
  ConflictException, CreateAgentRuntimeCommand, DeleteAgentRuntimeCommand, GetAgentRuntimeCommand, ListAgentRuntimesCommand,
  ListAgentRuntimeVersionsCommand, UpdateAgentRuntimeCommand,
} from '@aws-sdk/client-bedrock-agentcore-control';
import { serviceModel } from '../../../functions/lib/model/service-model.ts';
import { AGENTCORE_OPERATIONS } from '../../../local/emulator/agentcore/service.ts';
import { AwsError, type ServiceStandIn } from '../../../local/emulator/types.ts';
import type { StandInContext } from '../../../local/emulator/index.ts';
import { ROLE, artifact, caught, harness, type Harness } from './helpers.ts';

let h: Harness | undefined;
afterEach(async () => { await h?.close(); h = undefined; });

describe('startEmulator', () => {
  it('serves every operation of the trimmed service model', () => {
    expect([...AGENTCORE_OPERATIONS].sort()).toEqual(Object.keys(serviceModel.operations).sort());
  });

  it('serves extra stand-ins on the same port, after AgentCore, with the shared clock and state', async () => {
    let seen: StandInContext | undefined;
    const echo = (ctx: StandInContext): ServiceStandIn => {
      seen = ctx;
      return {
        name: 'echo',
        resolve: (req) => req.target?.startsWith('Echo.')
          ? {
            service: 'echo',
            operation: req.target.slice(5),
            run: () => {
              if (req.target === 'Echo.Fail') throw new AwsError('EchoError', 400, 'nope');
              return { status: 200, body: { now: ctx.clock.now(), runtimes: ctx.state.listRuntimes().length } };
            },
          }
          : undefined,
        renderError: (err) => ({ status: err.status, body: { __type: err.type, message: err.message } }),
      };
    };
    h = await harness({ services: [echo] });
    expect(seen?.state).toBe(h.emu.state);
    expect(seen?.region).toBe('us-east-1');
    const ok = await fetch(`${h.emu.url}/`, { method: 'POST', headers: { 'x-amz-target': 'Echo.Ping' }, body: '{}' });
    expect(await ok.json()).toEqual({ now: Date.UTC(2026, 0, 1), runtimes: 0 });
    const bad = await fetch(`${h.emu.url}/`, { method: 'POST', headers: { 'x-amz-target': 'Echo.Fail' }, body: '{}' });
    expect(await bad.json()).toEqual({ __type: 'EchoError', message: 'nope' });
    // A JSON-protocol request on an AgentCore path is not AgentCore's.
    const other = await fetch(`${h.emu.url}/runtimes/`, { method: 'POST', headers: { 'x-amz-target': 'Other.ListThings' } });
    expect(other.status).toBe(404);
    expect(h.emu.count('echo:Ping')).toBe(1);
    expect(h.emu.count('Fail')).toBe(1);
  });

  it('exposes the request log and counters, and resets them', async () => {
    h = await harness();
    await h.client.send(new ListAgentRuntimesCommand({}));
    await h.client.send(new CreateAgentRuntimeCommand({ agentRuntimeName: 'a', agentRuntimeArtifact: artifact('v1'), roleArn: ROLE }));
    expect(h.emu.counters.get('bedrock-agentcore-control:ListAgentRuntimes')).toBe(1);
    expect(h.emu.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['POST /runtimes/ 200', 'PUT /runtimes/ 202']);
    expect(h.emu.requests[1].input).toMatchObject({ agentRuntimeName: 'a' });
    h.emu.resetCounters();
    expect(h.emu.requests).toEqual([]);
    expect(h.emu.count('ListAgentRuntimes')).toBe(0);
    expect(h.emu.env).toMatchObject({ AWS_ENDPOINT_URL: h.emu.url, AWS_REGION: 'us-east-1' });
  });

  it('deletes one old version with DeleteAgentRuntime ?version=, but never the latest', async () => {
    h = await harness({ seed: { settings: { delays: { runtimeCreate: 0, runtimeUpdate: 0 } } } });
    const { agentRuntimeId: id } = await h.client.send(new CreateAgentRuntimeCommand({ agentRuntimeName: 'v', agentRuntimeArtifact: artifact('v1'), roleArn: ROLE }));
    await h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact('v2'), roleArn: ROLE }));
    await h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact('v3'), roleArn: ROLE }));
    const latest = await caught(h.client.send(new DeleteAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeVersion: '3' })));
    expect(latest).toBeInstanceOf(ConflictException);
    const out = await h.client.send(new DeleteAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeVersion: '1' }));
    expect(out).toMatchObject({ agentRuntimeId: id, agentRuntimeVersion: '1', status: 'READY' });
    const versions = await h.client.send(new ListAgentRuntimeVersionsCommand({ agentRuntimeId: id }));
    expect(versions.agentRuntimes?.map((v) => v.agentRuntimeVersion)).toEqual(['3', '2']);
    expect((await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id }))).agentRuntimeVersion).toBe('3');
  });
});
