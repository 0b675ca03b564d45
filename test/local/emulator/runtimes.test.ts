import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictException, CreateAgentRuntimeCommand, DeleteAgentRuntimeCommand, GetAgentRuntimeCommand,
  ListAgentRuntimesCommand, ListAgentRuntimeVersionsCommand, ResourceNotFoundException, UpdateAgentRuntimeCommand,
  ValidationException, paginateListAgentRuntimes, paginateListAgentRuntimeVersions,
} from '@aws-sdk/client-bedrock-agentcore-control';
import { ROLE, artifact, caught, harness, image, type Harness } from './helpers.ts';

let h: Harness;
beforeEach(async () => {
  h = await harness({ seed: { settings: { delays: { runtimeCreate: 30_000, runtimeUpdate: 20_000, runtimeDelete: 5_000 } } } });
});
afterEach(async () => { await h.close(); });

async function createReady(name = 'myAgent', extra: Record<string, unknown> = {}) {
  const out = await h.client.send(new CreateAgentRuntimeCommand({ agentRuntimeName: name, agentRuntimeArtifact: artifact('v1'), roleArn: ROLE, ...extra }));
  await h.clock.advance(30_000);
  return out.agentRuntimeId!;
}

describe('AgentCore runtimes', () => {
  it('creates a runtime with a model-shaped id and ARN, CREATING until the create delay passes', async () => {
    const out = await h.client.send(new CreateAgentRuntimeCommand({
      agentRuntimeName: 'myAgent', agentRuntimeArtifact: artifact('v1'), roleArn: ROLE, tags: { team: 'a' },
    }));
    expect(out.agentRuntimeId).toMatch(/^myAgent-[a-zA-Z0-9]{10}$/);
    expect(out.agentRuntimeArn).toBe(`arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/${out.agentRuntimeId}`);
    expect(out.agentRuntimeVersion).toBe('1');
    expect(out.status).toBe('CREATING');
    expect(out.createdAt).toEqual(new Date(Date.UTC(2026, 0, 1)));

    await h.clock.advance(29_999);
    const mid = await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: out.agentRuntimeId }));
    expect(mid.status).toBe('CREATING');
    await h.clock.advance(1);
    const ready = await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: out.agentRuntimeId }));
    expect(ready).toMatchObject({
      status: 'READY', agentRuntimeName: 'myAgent', agentRuntimeVersion: '1', roleArn: ROLE,
      agentRuntimeArtifact: artifact('v1'),
      lifecycleConfiguration: { idleRuntimeSessionTimeout: 900, maxLifetime: 28800 },
    });
    expect(ready.workloadIdentityDetails?.workloadIdentityArn).toContain('workload-identity/myAgent');
    expect(h.emu.count('CreateAgentRuntime')).toBe(1);
    expect(h.emu.count('GetAgentRuntime')).toBe(2);
  });

  it('rejects a second runtime with the same name (ConflictException)', async () => {
    await createReady('dup');
    const err = await caught(h.client.send(new CreateAgentRuntimeCommand({ agentRuntimeName: 'dup', agentRuntimeArtifact: artifact('v2'), roleArn: ROLE })));
    expect(err).toBeInstanceOf(ConflictException);
  });

  it('creates version N+1 on each update; Get with version returns the immutable old one', async () => {
    const id = await createReady();
    const up = await h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact('v2'), roleArn: ROLE }));
    expect(up).toMatchObject({ agentRuntimeId: id, agentRuntimeVersion: '2', status: 'UPDATING' });
    expect(up.lastUpdatedAt).toBeInstanceOf(Date);
    await h.clock.advance(20_000);
    const latest = await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id }));
    expect(latest).toMatchObject({ agentRuntimeVersion: '2', status: 'READY', agentRuntimeArtifact: artifact('v2') });
    const v1 = await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeVersion: '1' }));
    expect(v1).toMatchObject({ agentRuntimeVersion: '1', status: 'READY', agentRuntimeArtifact: artifact('v1') });
    const missing = await caught(h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeVersion: '9' })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);

    const versions = await h.client.send(new ListAgentRuntimeVersionsCommand({ agentRuntimeId: id }));
    expect(versions.agentRuntimes?.map((r) => [r.agentRuntimeVersion, r.status])).toEqual([['2', 'READY'], ['1', 'READY']]);
  });

  it('resets every optional field omitted from an update (full replacement), refilling lifecycle defaults', async () => {
    const id = await createReady('full', {
      description: 'secret-ish description',
      environmentVariables: { API_KEY: 'value-1' },
      protocolConfiguration: { serverProtocol: 'MCP' },
      lifecycleConfiguration: { idleRuntimeSessionTimeout: 120, maxLifetime: 3600 },
      networkConfiguration: { networkMode: 'PUBLIC' },
      requestHeaderConfiguration: { requestHeaderAllowlist: ['X-Tenant'] },
    });
    const before = await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id }));
    expect(before.environmentVariables).toEqual({ API_KEY: 'value-1' });
    expect(before.lifecycleConfiguration).toEqual({ idleRuntimeSessionTimeout: 120, maxLifetime: 3600 });

    await h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact('v2'), roleArn: ROLE }));
    await h.clock.advance(20_000);
    const after = await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id }));
    expect(after.description).toBeUndefined();
    expect(after.environmentVariables).toBeUndefined();
    expect(after.protocolConfiguration).toBeUndefined();
    expect(after.networkConfiguration).toBeUndefined();
    expect(after.requestHeaderConfiguration).toBeUndefined();
    expect(after.lifecycleConfiguration).toEqual({ idleRuntimeSessionTimeout: 900, maxLifetime: 28800 });

    // A partial lifecycle gets the missing member's default.
    await h.client.send(new UpdateAgentRuntimeCommand({
      agentRuntimeId: id, agentRuntimeArtifact: artifact('v3'), roleArn: ROLE, lifecycleConfiguration: { idleRuntimeSessionTimeout: 300 },
    }));
    await h.clock.advance(20_000);
    const partial = await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id }));
    expect(partial.lifecycleConfiguration).toEqual({ idleRuntimeSessionTimeout: 300, maxLifetime: 28800 });
  });

  it('answers ConflictException to an update while CREATING or UPDATING, and accepts it once settled', async () => {
    const { agentRuntimeId: id } = await h.client.send(new CreateAgentRuntimeCommand({ agentRuntimeName: 'busy', agentRuntimeArtifact: artifact('v1'), roleArn: ROLE }));
    const whileCreating = await caught(h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact('v2'), roleArn: ROLE })));
    expect(whileCreating).toBeInstanceOf(ConflictException);
    await h.clock.advance(30_000);
    await h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact('v2'), roleArn: ROLE }));
    const whileUpdating = await caught(h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact('v3'), roleArn: ROLE })));
    expect(whileUpdating).toBeInstanceOf(ConflictException);
    expect(whileUpdating.$metadata).toMatchObject({ httpStatusCode: 409 });
    await h.clock.advance(20_000);
    const ok = await h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact('v3'), roleArn: ROLE }));
    expect(ok.agentRuntimeVersion).toBe('3');
  });

  it('ends UPDATE_FAILED with a failureReason for a failing image; the failed version is the latest', async () => {
    const id = await createReady();
    h.emu.state.markImageFailing(image('bad'));
    await h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact('bad'), roleArn: ROLE }));
    expect((await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id }))).status).toBe('UPDATING');
    await h.clock.advance(20_000);
    const failed = await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id }));
    expect(failed).toMatchObject({ status: 'UPDATE_FAILED', agentRuntimeVersion: '2' });
    expect(failed.failureReason).toContain(image('bad'));
    // The previous version is untouched, and a fix-forward update is accepted from UPDATE_FAILED.
    expect((await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeVersion: '1' }))).status).toBe('READY');
    const fix = await h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact('v3'), roleArn: ROLE }));
    expect(fix.agentRuntimeVersion).toBe('3');
    await h.clock.advance(20_000);
    expect((await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id }))).status).toBe('READY');
  });

  it('ends CREATE_FAILED when the first image fails', async () => {
    h.emu.state.markImageFailing(`${image('x').replace(':x', '')}:broken*`);
    const out = await h.client.send(new CreateAgentRuntimeCommand({ agentRuntimeName: 'broken', agentRuntimeArtifact: artifact('broken-1'), roleArn: ROLE }));
    await h.clock.advance(30_000);
    const got = await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: out.agentRuntimeId }));
    expect(got.status).toBe('CREATE_FAILED');
  });

  it('replays the first response for a repeated clientToken and rejects a reused token with a different request', async () => {
    const id = await createReady();
    const token = 'a'.repeat(40);
    const first = await h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact('v2'), roleArn: ROLE, clientToken: token }));
    const again = await h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact('v2'), roleArn: ROLE, clientToken: token }));
    expect(again.agentRuntimeVersion).toBe(first.agentRuntimeVersion);
    expect(again.lastUpdatedAt).toEqual(first.lastUpdatedAt);
    await h.clock.advance(20_000);
    const versions = await h.client.send(new ListAgentRuntimeVersionsCommand({ agentRuntimeId: id }));
    expect(versions.agentRuntimes).toHaveLength(2);

    const mismatch = await caught(h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact('v3'), roleArn: ROLE, clientToken: token })));
    expect(mismatch).toBeInstanceOf(ValidationException);
    expect(mismatch.reason).toBe('IdempotentParameterMismatchException');

    // Tokens expire after 8 hours of clock time: the same token then starts a new update.
    await h.clock.advance(8 * 3600 * 1000);
    const later = await h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact('v3'), roleArn: ROLE, clientToken: token }));
    expect(later.agentRuntimeVersion).toBe('3');
  });

  it('makes CreateAgentRuntime idempotent on clientToken', async () => {
    const input = { agentRuntimeName: 'idem', agentRuntimeArtifact: artifact('v1'), roleArn: ROLE, clientToken: 'b'.repeat(36) };
    const a = await h.client.send(new CreateAgentRuntimeCommand(input));
    const b = await h.client.send(new CreateAgentRuntimeCommand(input));
    expect(b.agentRuntimeId).toBe(a.agentRuntimeId);
    expect(h.emu.state.runtimes.size).toBe(1);
  });

  it('paginates ListAgentRuntimes and ListAgentRuntimeVersions with opaque tokens and honours maxResults', async () => {
    for (let i = 0; i < 5; i++) await h.client.send(new CreateAgentRuntimeCommand({ agentRuntimeName: `agent${i}`, agentRuntimeArtifact: artifact('v1'), roleArn: ROLE }));
    const pages: number[] = [];
    const names: string[] = [];
    for await (const page of paginateListAgentRuntimes({ client: h.client, pageSize: 2 }, {})) {
      pages.push(page.agentRuntimes!.length);
      names.push(...page.agentRuntimes!.map((r) => r.agentRuntimeName!));
    }
    expect(pages).toEqual([2, 2, 1]);
    expect(names).toEqual(['agent0', 'agent1', 'agent2', 'agent3', 'agent4']);
    const paths = h.emu.requests.filter((r) => r.operation === 'ListAgentRuntimes').map((r) => r.method);
    expect(paths).toEqual(['POST', 'POST', 'POST']);

    const bad = await caught(h.client.send(new ListAgentRuntimesCommand({ nextToken: 'not-a-token' })));
    expect(bad).toBeInstanceOf(ValidationException);
    const tooMany = await caught(h.client.send(new ListAgentRuntimesCommand({ maxResults: 101 })));
    expect(tooMany).toBeInstanceOf(ValidationException);
    expect((tooMany.fieldList as Array<{ name: string }>).map((f) => f.name)).toEqual(['maxResults']);

    const id = h.emu.state.listRuntimes()[0].id;
    await h.clock.advance(30_000);
    for (let v = 2; v <= 4; v++) {
      await h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact(`v${v}`), roleArn: ROLE }));
      await h.clock.advance(20_000);
    }
    const versions: string[] = [];
    for await (const page of paginateListAgentRuntimeVersions({ client: h.client, pageSize: 3 }, { agentRuntimeId: id })) {
      versions.push(...page.agentRuntimes!.map((r) => r.agentRuntimeVersion!));
    }
    expect(versions).toEqual(['4', '3', '2', '1']);
  });

  it('deletes a runtime: DELETING, then ResourceNotFoundException after the delete delay', async () => {
    const id = await createReady();
    const del = await h.client.send(new DeleteAgentRuntimeCommand({ agentRuntimeId: id }));
    expect(del.status).toBe('DELETING');
    expect((await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id }))).status).toBe('DELETING');
    const upd = await caught(h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeArtifact: artifact('v2'), roleArn: ROLE })));
    expect(upd).toBeInstanceOf(ConflictException);
    await h.clock.advance(5_000);
    const gone = await caught(h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id })));
    expect(gone).toBeInstanceOf(ResourceNotFoundException);
    expect((await h.client.send(new ListAgentRuntimesCommand({}))).agentRuntimes).toEqual([]);
  });
});
