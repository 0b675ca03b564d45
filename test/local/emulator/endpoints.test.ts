import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictException, CreateAgentRuntimeCommand, CreateAgentRuntimeEndpointCommand, DeleteAgentRuntimeEndpointCommand,
  GetAgentRuntimeEndpointCommand, ResourceNotFoundException, UpdateAgentRuntimeCommand, UpdateAgentRuntimeEndpointCommand,
  ValidationException, paginateListAgentRuntimeEndpoints,
} from '@aws-sdk/client-bedrock-agentcore-control';
import { ROLE, artifact, caught, harness, image, type Harness } from './helpers.ts';

const delays = { runtimeCreate: 10_000, runtimeUpdate: 10_000, endpointCreate: 5_000, endpointUpdate: 7_000, endpointDelete: 3_000 };
let h: Harness;
let id: string;

beforeEach(async () => {
  h = await harness({ seed: { settings: { delays } } });
  const out = await h.client.send(new CreateAgentRuntimeCommand({ agentRuntimeName: 'ep', agentRuntimeArtifact: artifact('v1'), roleArn: ROLE }));
  id = out.agentRuntimeId!;
  await h.clock.advance(10_000);
});
afterEach(async () => { await h.close(); });

const getEp = (endpointName: string) => h.client.send(new GetAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName }));
const update = async (tag: string) => {
  const out = await h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact(tag), roleArn: ROLE }));
  return out.agentRuntimeVersion!;
};

describe('AgentCore runtime endpoints', () => {
  it('moves DEFAULT to the latest version automatically once it is READY', async () => {
    expect(await getEp('DEFAULT')).toMatchObject({ name: 'DEFAULT', status: 'READY', liveVersion: '1', targetVersion: '1' });
    await update('v2');
    expect(await getEp('DEFAULT')).toMatchObject({ status: 'UPDATING', liveVersion: '1', targetVersion: '2' });
    await h.clock.advance(10_000);
    const ready = await getEp('DEFAULT');
    expect(ready).toMatchObject({ status: 'READY', liveVersion: '2', targetVersion: '2' });
    expect(ready.id).toMatch(/^DEFAULT-[a-zA-Z0-9]{10}$/);
    expect(ready.agentRuntimeEndpointArn).toBe(`arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/${id}/runtime-endpoint/DEFAULT`);
  });

  it('keeps DEFAULT live on the last good version when the latest version fails', async () => {
    h.emu.state.markImageFailing(image('bad'));
    await update('bad');
    await h.clock.advance(10_000);
    const ep = await getEp('DEFAULT');
    expect(ep).toMatchObject({ status: 'UPDATE_FAILED', liveVersion: '1', targetVersion: '2' });
    expect(ep.failureReason).toContain('bad');
  });

  it('leaves a named endpoint on its version until UpdateAgentRuntimeEndpoint moves it, UPDATING for the endpoint delay', async () => {
    const created = await h.client.send(new CreateAgentRuntimeEndpointCommand({ agentRuntimeId: id, name: 'prod', description: 'production' }));
    expect(created).toMatchObject({ endpointName: 'prod', targetVersion: '1', status: 'CREATING', agentRuntimeId: id });
    await h.clock.advance(5_000);
    expect(await getEp('prod')).toMatchObject({ status: 'READY', liveVersion: '1', targetVersion: '1', description: 'production' });

    const v2 = await update('v2');
    await h.clock.advance(10_000);
    expect(await getEp('prod')).toMatchObject({ status: 'READY', liveVersion: '1' });
    expect(await getEp('DEFAULT')).toMatchObject({ liveVersion: '2' });

    const moved = await h.client.send(new UpdateAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'prod', agentRuntimeVersion: v2 }));
    expect(moved).toMatchObject({ status: 'UPDATING', liveVersion: '1', targetVersion: '2' });
    await h.clock.advance(6_999);
    expect(await getEp('prod')).toMatchObject({ status: 'UPDATING', liveVersion: '1', targetVersion: '2' });
    const conflict = await caught(h.client.send(new UpdateAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'prod', agentRuntimeVersion: '1' })));
    expect(conflict).toBeInstanceOf(ConflictException);
    await h.clock.advance(1);
    const done = await getEp('prod');
    expect(done).toMatchObject({ status: 'READY', liveVersion: '2', targetVersion: '2' });
    // Full replacement: the description omitted from the update is gone.
    expect(done.description).toBeUndefined();
  });

  it('ends UPDATE_FAILED with liveVersion unchanged when the target version failed', async () => {
    await h.client.send(new CreateAgentRuntimeEndpointCommand({ agentRuntimeId: id, name: 'prod' }));
    await h.clock.advance(5_000);
    h.emu.state.markImageFailing(image('bad'));
    const v2 = await update('bad');
    const moved = await h.client.send(new UpdateAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'prod', agentRuntimeVersion: v2 }));
    expect(moved.status).toBe('UPDATING');
    // The move cannot finish before the target version settles (10 s), even though the endpoint delay is 7 s.
    await h.clock.advance(7_000);
    expect((await getEp('prod')).status).toBe('UPDATING');
    await h.clock.advance(3_000);
    const failed = await getEp('prod');
    expect(failed).toMatchObject({ status: 'UPDATE_FAILED', liveVersion: '1', targetVersion: '2' });
    expect(failed.failureReason).toMatch(/Version 2/);

    // Rolling back to version 1 from UPDATE_FAILED is allowed.
    await h.client.send(new UpdateAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'prod', agentRuntimeVersion: '1' }));
    await h.clock.advance(7_000);
    expect(await getEp('prod')).toMatchObject({ status: 'READY', liveVersion: '1', targetVersion: '1' });
  });

  it('is idempotent on clientToken for endpoint updates', async () => {
    await h.client.send(new CreateAgentRuntimeEndpointCommand({ agentRuntimeId: id, name: 'prod' }));
    await h.clock.advance(5_000);
    const v2 = await update('v2');
    await h.clock.advance(10_000);
    const token = 'tok-'.padEnd(40, 'x');
    const a = await h.client.send(new UpdateAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'prod', agentRuntimeVersion: v2, clientToken: token }));
    // A retry while UPDATING replays the first answer instead of a ConflictException.
    const b = await h.client.send(new UpdateAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'prod', agentRuntimeVersion: v2, clientToken: token }));
    expect(b).toMatchObject({ status: a.status, targetVersion: a.targetVersion, liveVersion: a.liveVersion });
    const mismatch = await caught(h.client.send(new UpdateAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'prod', agentRuntimeVersion: '1', clientToken: token })));
    expect(mismatch).toBeInstanceOf(ValidationException);
    expect(mismatch.reason).toBe('IdempotentParameterMismatchException');
  });

  it('refuses to update DEFAULT, to target a missing version, and to reuse an endpoint name', async () => {
    const def = await caught(h.client.send(new UpdateAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'DEFAULT', agentRuntimeVersion: '1' })));
    expect(def).toBeInstanceOf(ValidationException);
    await h.client.send(new CreateAgentRuntimeEndpointCommand({ agentRuntimeId: id, name: 'prod' }));
    await h.clock.advance(5_000);
    const missing = await caught(h.client.send(new UpdateAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'prod', agentRuntimeVersion: '42' })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    const dup = await caught(h.client.send(new CreateAgentRuntimeEndpointCommand({ agentRuntimeId: id, name: 'prod' })));
    expect(dup).toBeInstanceOf(ConflictException);
    const noEp = await caught(getEp('staging'));
    expect(noEp).toBeInstanceOf(ResourceNotFoundException);
  });

  it('lists DEFAULT and named endpoints with the paginator, and deletes a named endpoint', async () => {
    for (const name of ['a', 'b', 'c']) await h.client.send(new CreateAgentRuntimeEndpointCommand({ agentRuntimeId: id, name }));
    await h.clock.advance(5_000);
    const names: string[] = [];
    for await (const page of paginateListAgentRuntimeEndpoints({ client: h.client, pageSize: 3 }, { agentRuntimeId: id })) {
      names.push(...page.runtimeEndpoints!.map((e) => `${e.name}:${e.status}:${e.liveVersion}`));
    }
    expect(names).toEqual(['DEFAULT:READY:1', 'a:READY:1', 'b:READY:1', 'c:READY:1']);

    const del = await h.client.send(new DeleteAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'b' }));
    expect(del.status).toBe('DELETING');
    await h.clock.advance(3_000);
    expect(await caught(getEp('b'))).toBeInstanceOf(ResourceNotFoundException);
  });
});
