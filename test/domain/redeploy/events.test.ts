import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_EVENT_BYTES, parseChangeRequest, parseEcrImageAction } from '../../../functions/domain/redeploy/events.ts';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../fixtures/events/${name}`, import.meta.url), 'utf8'));
const push = () => fixture('ecr-image-push.json');
const change = () => fixture('runtime-change-requested.json');
const DIGEST = 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd';
const SECRET = 's3cr3t-value-never-logged';

/** A copy of `event` with `mutate` applied. */
function edit<T>(event: T, mutate: (e: any) => void): T {
  const copy = structuredClone(event);
  mutate(copy);
  return copy;
}

describe('parseEcrImageAction', () => {
  it('parses a successful tagged push', () => {
    expect(parseEcrImageAction(push())).toEqual({
      ok: true,
      push: {
        account: '123456789012',
        region: 'us-east-1',
        repository: 'team/support-agent',
        digest: DIGEST,
        tag: 'v1.4.0',
        time: '2026-11-16T01:54:34Z',
        eventId: '13cde686-328b-6117-af20-0e5566167482',
      },
    });
  });

  it('parses a digest-only push (no image-tag) and ignores the media-type members', () => {
    const r = parseEcrImageAction(fixture('ecr-image-push-digest-only.json'));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.push.tag).toBeUndefined();
      expect(r.push.digest).toBe(DIGEST);
    }
  });

  it('does not mutate the event', () => {
    const e = push();
    const before = structuredClone(e);
    parseEcrImageAction(e);
    expect(e).toEqual(before);
  });

  it.each([
    ['a DELETE', fixture('ecr-image-delete.json'), 'action-type DELETE is not a push'],
    ['a failed push', fixture('ecr-image-push-failure.json'), 'result FAILURE'],
    ['null', null, 'event is not an object'],
    ['an array', [push()], 'event is not an object'],
    ['a string', 'ECR Image Action', 'event is not an object'],
    ['another source', edit(push(), (e) => (e.source = 'aws.ecs')), 'source is not aws.ecr'],
    ['another detail-type', edit(push(), (e) => (e['detail-type'] = 'ECR Image Scan')), 'detail-type is not ECR Image Action or ECR Replication Action'],
    ['no detail', edit(push(), (e) => delete e.detail), 'missing detail'],
    ['a non-object detail', edit(push(), (e) => (e.detail = 'x')), 'detail is not an object'],
    ['no action-type', edit(push(), (e) => delete e.detail['action-type']), 'missing action-type'],
    ['a hostile action-type', edit(push(), (e) => (e.detail['action-type'] = '<script>alert(1)</script>')), 'action-type <invalid> is not a push'],
    ['no result', edit(push(), (e) => delete e.detail.result), 'missing result'],
    ['no digest', edit(push(), (e) => delete e.detail['image-digest']), 'missing image-digest'],
    ['a sha512 digest', edit(push(), (e) => (e.detail['image-digest'] = `sha512:${'a'.repeat(128)}`)), 'image-digest is longer than 71 characters'],
    ['an uppercase digest', edit(push(), (e) => (e.detail['image-digest'] = DIGEST.toUpperCase())), 'digest is not sha256:<64 hex>'],
    ['a short digest', edit(push(), (e) => (e.detail['image-digest'] = 'sha256:abc')), 'digest is not sha256:<64 hex>'],
    ['a numeric digest', edit(push(), (e) => (e.detail['image-digest'] = 42)), 'image-digest is not a string'],
    ['no repository', edit(push(), (e) => delete e.detail['repository-name']), 'missing repository-name'],
    ['an uppercase repository', edit(push(), (e) => (e.detail['repository-name'] = 'Team/Agent')), 'repository-name is not a valid ECR repository name'],
    ['a bad tag', edit(push(), (e) => (e.detail['image-tag'] = 'v1/../../x')), 'image-tag is not a valid image tag'],
    ['a 129-char tag', edit(push(), (e) => (e.detail['image-tag'] = 'a'.repeat(129))), 'image-tag is longer than 128 characters'],
    ['a bad account', edit(push(), (e) => (e.account = '12345')), 'account is not 12 digits'],
    ['a bad region', edit(push(), (e) => (e.region = 'moon-1')), 'region is not an AWS region name'],
    ['a bad time', edit(push(), (e) => (e.time = 'yesterday')), 'time is not an ISO-8601 timestamp'],
    ['no id', edit(push(), (e) => delete e.id), 'missing id'],
    ['an oversized event', edit(push(), (e) => (e.detail.padding = 'x'.repeat(MAX_EVENT_BYTES))), `event is larger than ${MAX_EVENT_BYTES} bytes`],
  ])('refuses %s', (_label, event, reason) => {
    expect(parseEcrImageAction(event)).toEqual({ ok: false, reason });
  });

  it('refuses a cyclic value without throwing', () => {
    const e: any = push();
    e.detail.self = e;
    expect(parseEcrImageAction(e)).toEqual({ ok: false, reason: 'event is not JSON' });
  });
});

describe('parseChangeRequest', () => {
  it('parses the fixture into a change for buildRuntimeUpdate', () => {
    const r = parseChangeRequest(change());
    expect(r).toEqual({
      ok: true,
      request: {
        runtime: { name: 'support_agent' },
        change: {
          containerUri: change().detail.change.containerUri,
          environmentVariables: { set: { LOG_LEVEL: 'debug', API_TOKEN: SECRET }, unset: ['OLD_FLAG'] },
          set: { lifecycleConfiguration: { idleRuntimeSessionTimeout: 600, maxLifetime: 3600 } },
          unset: ['description'],
        },
        requestId: 'ticket-4711',
        dryRun: false,
        eventId: '4b8c1f0e-7d2a-4c3b-9e5f-1a2b3c4d5e6f',
        time: '2026-11-16T03:00:00Z',
      },
    });
  });

  it('accepts a runtime id and defaults dryRun to false', () => {
    const r = parseChangeRequest(
      edit(change(), (e) => {
        e.detail.runtime = { id: 'support_agent-AbCdEf1234' };
        delete e.detail.dryRun;
        e.detail.change = { environmentVariables: { unset: ['X'] } };
      }),
    );
    expect(r.ok && r.request.runtime).toEqual({ id: 'support_agent-AbCdEf1234' });
    expect(r.ok && r.request.dryRun).toBe(false);
  });

  const c = (mutate: (change: any) => void) => edit(change(), (e) => mutate(e.detail.change));

  it('refuses image tags outside the Docker tag grammar (which the service model lets through), in either place', () => {
    const host = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
    for (const tag of ['$(id)', '-x', '.x', 'a;b', `a${'b'.repeat(128)}`]) {
      const direct = parseChangeRequest(c((ch) => (ch.containerUri = `${host}/support-agent:${tag}`)));
      expect(direct).toEqual({ ok: false, reason: expect.stringMatching(/^change\.containerUri has an invalid image tag/) });
      const viaSet = parseChangeRequest(c((ch) => {
        delete ch.containerUri;
        ch.set = { agentRuntimeArtifact: { containerConfiguration: { containerUri: `${host}/support-agent:${tag}` } } };
      }));
      expect(viaSet.ok).toBe(false);
      expect(!viaSet.ok && viaSet.reason).toMatch(/containerUri (has an invalid image tag|is not an ECR image URI)|agentRuntimeArtifact/);
    }
    expect(parseChangeRequest(c((ch) => (ch.containerUri = `${host}/support-agent:v1.2.3_rc-1`))).ok).toBe(true);
  });

  it.each([
    ['null', null, 'event is not an object'],
    ['another source', edit(change(), (e) => (e.source = 'aws.ecr')), 'source is not agentcore-autopilot.requests'],
    ['another detail-type', edit(change(), (e) => (e['detail-type'] = 'Runtime Changed')), 'detail-type is not Runtime Change Requested'],
    ['no detail', edit(change(), (e) => delete e.detail), 'missing detail'],
    ['an array detail', edit(change(), (e) => (e.detail = [])), 'detail is not an object'],
    ['no runtime', edit(change(), (e) => delete e.detail.runtime), 'missing runtime'],
    ['no change', edit(change(), (e) => delete e.detail.change), 'missing change'],
    ['an unknown detail key', edit(change(), (e) => (e.detail.force = true)), 'detail has unknown key(s) force'],
    ['both id and name', edit(change(), (e) => (e.detail.runtime = { id: 'a-abcdefghij', name: 'a' })), 'runtime must name exactly one of id or name'],
    ['a string runtime', edit(change(), (e) => (e.detail.runtime = 'support_agent')), 'runtime must be {id} or {name}'],
    ['a malformed id', edit(change(), (e) => (e.detail.runtime = { id: 'nope' })), 'runtime.id is not an AgentCore runtime id'],
    ['a malformed name', edit(change(), (e) => (e.detail.runtime = { name: 'has-dash' })), 'runtime.name is not an AgentCore runtime name'],
    ['a non-boolean dryRun', edit(change(), (e) => (e.detail.dryRun = 'yes')), 'dryRun must be a boolean'],
    ['a hostile requestId', edit(change(), (e) => (e.detail.requestId = '$(rm -rf /)')), 'requestId must be 1-128 of [A-Za-z0-9._:/-]'],
    ['a long requestId', edit(change(), (e) => (e.detail.requestId = 'a'.repeat(129))), 'requestId is longer than 128 characters'],
    ['an empty change', c((ch) => Object.keys(ch).forEach((k) => delete ch[k])), 'change is empty'],
    ['a non-object change', edit(change(), (e) => (e.detail.change = 'x')), 'change must be an object'],
    ['an unknown change key', c((ch) => (ch.image = 'x')), 'detail.change has unknown key(s) image'],
    ['a docker.io image', c((ch) => (ch.containerUri = 'docker.io/library/nginx:latest')), 'change.containerUri is not an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag][@sha256:<64 hex>])'],
    ['an image with a non-sha256 digest', c((ch) => (ch.containerUri = '123456789012.dkr.ecr.us-east-1.amazonaws.com/agent@md5:abc')), 'change.containerUri is not an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag][@sha256:<64 hex>])'],
    ['a non-object env set', c((ch) => (ch.environmentVariables.set = 'A=1')), 'environmentVariables.set must be an object of name: value'],
    ['a 1025-char image', c((ch) => (ch.containerUri = 'a'.repeat(1025))), 'containerUri is longer than 1024 characters'],
    ['an empty env patch', c((ch) => (ch.environmentVariables = {})), 'change.environmentVariables is empty'],
    ['an unknown env patch key', c((ch) => (ch.environmentVariables.replace = {})), 'detail.change.environmentVariables has unknown key(s) replace'],
    ['a non-string env value', c((ch) => (ch.environmentVariables.set.PORT = 8080)), 'environment variable values must be strings'],
    ['an oversized env value', c((ch) => (ch.environmentVariables.set.BIG = 'x'.repeat(5001))), 'environment variable values are at most 5000 characters'],
    ['an env name with =', c((ch) => (ch.environmentVariables.set['A=B'] = 'x')), 'environment variable names are 1-100 characters, without control characters or ='],
    ['51 env vars', c((ch) => (ch.environmentVariables.set = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`V${i}`, 'x'])))), 'environmentVariables.set has more than 50 entries'],
    ['an env var set and unset', c((ch) => (ch.environmentVariables.unset = ['LOG_LEVEL'])), 'change.environmentVariables both sets and unsets LOG_LEVEL'],
    ['an env var unset twice', c((ch) => (ch.environmentVariables.unset = ['A', 'A'])), 'change.environmentVariables.unset names a variable twice'],
    ['a non-field in set', c((ch) => (ch.set = { agentRuntimeName: 'x' })), 'change.set.agentRuntimeName is not an UpdateAgentRuntime field'],
    ['a clientToken in set', c((ch) => (ch.set = { clientToken: 'x'.repeat(40) })), 'change.set.clientToken is not an UpdateAgentRuntime field'],
    ['a null in set', c((ch) => (ch.set = { description: null })), 'change.set.description is empty; use unset to clear a field'],
    ['an invalid set value', c((ch) => (ch.set = { protocolConfiguration: { serverProtocol: 'SMTP' } })), 'change.set.protocolConfiguration.serverProtocol must be one of MCP, HTTP, A2A, AGUI'],
    ['image twice', c((ch) => (ch.set = { agentRuntimeArtifact: { containerConfiguration: { containerUri: ch.containerUri } } })), 'change sets both containerUri and set.agentRuntimeArtifact'],
    ['env patched and replaced', c((ch) => (ch.set = { environmentVariables: { A: 'b' } })), 'change both patches and replaces environmentVariables'],
    ['unset of a required field', c((ch) => (ch.unset = ['roleArn'])), 'change.unset roleArn is required and cannot be cleared'],
    ['unset of a non-field', c((ch) => (ch.unset = ['status'])), 'change.unset status is not an UpdateAgentRuntime field'],
    ['a field set and unset', c((ch) => (ch.unset = ['lifecycleConfiguration'])), 'change both sets and unsets lifecycleConfiguration'],
    ['env patched and cleared', c((ch) => (ch.unset = ['environmentVariables'])), 'change both patches and clears environmentVariables'],
    ['a field unset twice', c((ch) => (ch.unset = ['description', 'description'])), 'change.unset names a field twice'],
  ])('refuses %s', (_label, event, reason) => {
    expect(parseChangeRequest(event)).toEqual({ ok: false, reason });
  });

  it('never puts an environment variable value in a reason', () => {
    const hostile = [
      c((ch) => (ch.environmentVariables.set.API_TOKEN = `${SECRET}${'x'.repeat(5000)}`)),
      c((ch) => (ch.environmentVariables.set[SECRET] = 5)),
      c((ch) => (ch.set = { environmentVariables: { A: SECRET } })),
      c((ch) => (ch.set = { description: SECRET.repeat(1000) })),
      c((ch) => (ch.environmentVariables.unset = ['API_TOKEN'])),
    ];
    for (const event of hostile) {
      const r = parseChangeRequest(event);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).not.toContain(SECRET);
    }
  });
});
