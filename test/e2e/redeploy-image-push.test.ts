/**
 * onImagePush end to end: ECR push -> bus -> serverless.yml rule -> real handler -> emulator.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Stack } from '../../local/stack.ts';
import {
  BILLING, LIVE_BILLING_DIGEST, LIVE_SUPPORT_DIGEST, REGISTRY, SECRET, SUPPORT,
  captureLogs, configOf, digest, exampleStack, getEndpoint, getRuntime, outcomeEvents,
} from './redeploy-helpers.ts';

let stack: Awaited<ReturnType<typeof exampleStack>>;
let logs: ReturnType<typeof captureLogs>;

beforeEach(async () => {
  logs = captureLogs();
  stack = await exampleStack();
});
afterEach(async () => {
  logs.restore();
  await stack.close();
  // Whatever happened, no environment variable value reached a log line or an event.
  expect(logs.text()).not.toContain(SECRET);
  expect(JSON.stringify(stack.events.events)).not.toContain(SECRET);
});

const invocations = (key: string) => stack.lambda.invocations.filter((i) => i.functionKey === key);

describe('onImagePush', () => {
  it('updates exactly the matching runtime, pinned by digest, every other field unchanged, and promotes prod', async () => {
    const supportBefore = await getRuntime(stack.agentcore_, SUPPORT);
    const billingBefore = await getRuntime(stack.agentcore_, BILLING);
    const pushed = digest('a');
    stack.pushImage({ repository: 'support-agent', tags: ['1.3.0'], digest: pushed });
    await stack.settle();

    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(1);
    const after = await getRuntime(stack.agentcore_, SUPPORT);
    expect(after.agentRuntimeVersion).toBe('2');
    expect(after.status).toBe('READY');
    expect(after.agentRuntimeArtifact).toEqual({ containerConfiguration: { containerUri: `${REGISTRY}/support-agent@${pushed}` } });
    expect(configOf(after)).toEqual(configOf(supportBefore));
    expect(after.environmentVariables.API_TOKEN).toBe(SECRET);
    expect(await getRuntime(stack.agentcore_, BILLING)).toEqual(billingBefore);

    expect((await getEndpoint(stack.agentcore_, SUPPORT, 'prod')).liveVersion).toBe('2');
    const types = outcomeEvents(stack).map((e) => e.detailType);
    expect(types).toEqual(['Runtime Redeploy Started', 'Runtime Redeploy Promoted']);
    const started = outcomeEvents(stack, 'Runtime Redeploy Started')[0].detail;
    expect(started).toMatchObject({ runtimeId: SUPPORT, trigger: 'image-push', digest: pushed, tag: '1.3.0', fromVersion: '1', toVersion: '2', endpoints: ['prod'] });
    expect(started.changes).toEqual([
      { path: '/agentRuntimeArtifact/containerConfiguration/containerUri', kind: 'changed', from: `${REGISTRY}/support-agent@${LIVE_SUPPORT_DIGEST}`, to: `${REGISTRY}/support-agent@${pushed}` },
    ]);
    expect(logs.text()).toContain('Image push received');
    expect(logs.text()).not.toContain(SECRET);
  });

  it('no-promotion rule: updates only the DEFAULT-following runtime; its new version is followed to READY, no endpoint moved', async () => {
    stack.pushImage({ repository: 'billing/agent', tags: ['release-2026-02-01'], digest: digest('c') });
    await stack.settle();
    const billing = await getRuntime(stack.agentcore_, BILLING);
    expect(billing.agentRuntimeArtifact.containerConfiguration.containerUri).toBe(`${REGISTRY}/billing/agent@${digest('c')}`);
    expect((await getRuntime(stack.agentcore_, SUPPORT)).agentRuntimeVersion).toBe('1');
    const executions = stack.sfn.listExecutions();
    expect(executions.map((e) => e.name)).toEqual([`promote-${BILLING}-v2`]);
    expect(JSON.parse(executions[0].input)).toMatchObject({ endpoints: [], alarms: [], rollbackOnFailure: false });
    expect(JSON.parse((await stack.sfn.waitForExecution(executions[0].executionArn)).output!)).toMatchObject({ outcome: 'PROMOTED', version: '2', endpoints: [] });
    expect(stack.emulator.count('UpdateAgentRuntimeEndpoint')).toBe(0);
    expect(outcomeEvents(stack).map((e) => e.detailType)).toEqual(['Runtime Redeploy Started', 'Runtime Redeploy Promoted']);
    expect(outcomeEvents(stack, 'Runtime Redeploy Promoted')[0].detail).toMatchObject({ runtimeId: BILLING, fromVersion: '1', toVersion: '2', endpoints: [] });
  });

  it('no-promotion rule: a new version ending UPDATE_FAILED is reported (Failed, version-failed) and left as is', async () => {
    const broken = `${REGISTRY}/billing/agent@${digest('9')}`;
    stack.agentcore.markImageFailing(broken);
    stack.pushImage({ repository: 'billing/agent', tags: ['release-2026-03-01'], digest: digest('9') });
    await stack.settle();
    expect((await getRuntime(stack.agentcore_, BILLING, '2')).status).toBe('UPDATE_FAILED');
    expect(outcomeEvents(stack).map((e) => e.detailType)).toEqual(['Runtime Redeploy Started', 'Runtime Redeploy Failed']);
    const failed = outcomeEvents(stack, 'Runtime Redeploy Failed')[0].detail;
    expect(failed).toMatchObject({ runtimeId: BILLING, reason: 'version-failed', fromVersion: '1', toVersion: '2', endpoints: [] });
    expect(failed.message).toMatch(/RuntimeVersionFailedError: version 2 of runtime .* is UPDATE_FAILED/);
    // Only reported: no rollback version, no endpoint call.
    expect(stack.agentcore.getRuntime(BILLING).versions.map((v) => v.version)).toEqual([1, 2]);
    expect(stack.emulator.count('UpdateAgentRuntimeEndpoint')).toBe(0);
  });

  it('multi-tag push and duplicate delivery produce exactly one new version', async () => {
    const pushed = digest('d');
    const { events } = stack.pushImage({ repository: 'support-agent', tags: ['1.3.0', 'v1.3.0', 'latest'], digest: pushed });
    await stack.settle();
    // The same event delivered again (EventBridge is at-least-once).
    stack.events.put(events[0]);
    stack.events.put(events[1]);
    await stack.settle();

    expect(invocations('onImagePush')).toHaveLength(5);
    expect(stack.emulator.count('UpdateAgentRuntime')).toBeLessThanOrEqual(3);
    const versions = stack.agentcore.getRuntime(SUPPORT).versions.map((v) => v.version);
    expect(versions).toEqual([1, 2]);
    expect((await getRuntime(stack.agentcore_, SUPPORT)).agentRuntimeArtifact.containerConfiguration.containerUri).toBe(`${REGISTRY}/support-agent@${pushed}`);
    // Deliveries racing each other may each see their (identical, same-token) update accepted:
    // the service answers the replays with the first version; only the delivery that started the
    // version's execution reports Started, the replays report Skipped (duplicate).
    const started = outcomeEvents(stack, 'Runtime Redeploy Started');
    expect(started.map((e) => e.detail.toVersion)).toEqual(['2']);
    const skipped = outcomeEvents(stack, 'Runtime Redeploy Skipped').map((e) => e.detail.reason).sort();
    expect(skipped).toEqual(expect.arrayContaining(['tag-not-matched']));
    expect(skipped.filter((r) => r !== 'tag-not-matched').every((r) => ['already-on-digest', 'duplicate-request', 'duplicate'].includes(String(r)))).toBe(true);
    // Every accepted update beyond the first was a replay, reported as such.
    const accepted = stack.emulator.requests.filter((r) => r.operation === 'UpdateAgentRuntime' && r.status < 300).length;
    expect(skipped.filter((r) => r === 'duplicate')).toHaveLength(accepted - 1);
    expect(stack.sfn.listExecutions()).toHaveLength(1);
  });

  it('an older semver pushed after a newer one does not update', async () => {
    stack.pushImage({ repository: 'support-agent', tags: ['1.4.0'], digest: digest('e') });
    await stack.settle();
    stack.emulator.resetCounters();
    stack.pushImage({ repository: 'support-agent', tags: ['1.3.9'], digest: digest('f') });
    await stack.settle();
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(0);
    expect((await getRuntime(stack.agentcore_, SUPPORT)).agentRuntimeArtifact.containerConfiguration.containerUri).toBe(`${REGISTRY}/support-agent@${digest('e')}`);
    const skip = outcomeEvents(stack, 'Runtime Redeploy Skipped').at(-1)!.detail;
    expect(skip).toMatchObject({ runtimeId: SUPPORT, reason: 'downgrade-refused', tag: '1.3.9' });
  });

  it('the live version is known from the tags ECR holds for its digest: an older release is refused on the first push', async () => {
    // The live image (digest 1...) is tagged 1.2.0 in ECR; its URI carries no tag.
    stack.ecr.seed({ repositories: [{ name: 'support-agent', images: [{ tags: ['1.2.5'], digest: LIVE_SUPPORT_DIGEST }] }] });
    stack.emulator.resetCounters();
    const before = stack.events.events.length;
    stack.pushImage({ repository: 'support-agent', tags: ['1.2.3'], digest: digest('9') });
    await stack.settle();
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(0);
    expect(stack.events.events.slice(before).some((e) => e.event.detail.reason === 'downgrade-refused')).toBe(true);
  });

  it('refuses bad events with a specific logged reason and makes no API call', async () => {
    const base = { version: '0', id: 'e-1', 'detail-type': 'ECR Image Action', source: 'aws.ecr', account: '123456789012', time: '2026-11-16T01:54:34Z', region: 'us-east-1', resources: [] };
    const detail = { result: 'SUCCESS', 'repository-name': 'support-agent', 'image-digest': digest('a'), 'action-type': 'PUSH', 'image-tag': '1.3.0' };
    const cases: [string, unknown, RegExp][] = [
      ['DELETE', { ...base, detail: { ...detail, 'action-type': 'DELETE' } }, /action-type DELETE is not a push/],
      ['FAILURE', { ...base, detail: { ...detail, result: 'FAILURE' } }, /result FAILURE/],
      ['malformed digest', { ...base, detail: { ...detail, 'image-digest': 'sha256:xyz' } }, /digest is not sha256/],
      ['not an object', 'hello', /event is not an object/],
      ['unknown repository', { ...base, detail: { ...detail, 'repository-name': 'other/repo' } }, /repository other\/repo is not tracked/],
      ['account not allowed', { ...base, account: '999999999999', detail }, /registry account 999999999999 is not allowed/],
      ['region not allowed', { ...base, region: 'eu-west-1', detail }, /registry region eu-west-1 is not allowed/],
      ['home-only rule, foreign account', { ...base, account: '999999999999', detail: { ...detail, 'repository-name': 'billing/agent', 'image-tag': 'release-1' } }, /registry account 999999999999 is not allowed/],
    ];
    for (const [name, event, reason] of cases) {
      stack.emulator.resetCounters();
      const result = await stack.lambda.invoke('onImagePush', event) as { status: string; reason: string };
      expect(result.status, name).toBe('rejected');
      expect(result.reason, name).toMatch(reason);
      expect(stack.emulator.requests, name).toEqual([]);
      const logged = logs.items().filter((l) => l.message === 'Event rejected').at(-1);
      expect(logged?.reason, name).toBe(result.reason);
    }
    // An untagged push (every per-platform manifest of a multi-platform push is one) is routine: a
    // quiet skip, logged at INFO, no event.
    stack.emulator.resetCounters();
    const untagged = await stack.lambda.invoke('onImagePush', { ...base, detail: { ...detail, 'image-tag': undefined } }) as { status: string; reason: string };
    expect(untagged).toMatchObject({ status: 'skipped', reason: 'untagged' });
    expect(stack.emulator.requests).toEqual([]);
    expect(logs.items().filter((l) => l.message === 'Push skipped').at(-1)).toMatchObject({ level: 'INFO', reason: 'untagged' });
    // Through the bus, the rule's pattern already keeps DELETE / FAILURE / untracked repositories away.
    const before = invocations('onImagePush').length;
    stack.events.put({ ...base, id: 'e-2', detail: { ...detail, 'action-type': 'DELETE' } } as never);
    stack.events.put({ ...base, id: 'e-3', detail: { ...detail, result: 'FAILURE' } } as never);
    stack.events.put({ ...base, id: 'e-4', detail: { ...detail, 'repository-name': 'other/repo' } } as never);
    stack.events.put({ ...base, id: 'e-5', account: '999999999999', detail } as never);
    await stack.settle();
    expect(invocations('onImagePush').length - before).toBe(1);
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(0);
    expect(outcomeEvents(stack)).toEqual([]);
  });

  it('a busy runtime (ConflictException) is retried, then updated', async () => {
    stack.emulator.faults.forceConflicts('UpdateAgentRuntime', 2);
    stack.pushImage({ repository: 'billing/agent', tags: ['release-2026-03-01'], digest: digest('b') });
    await stack.settle();
    expect(stack.emulator.requests.filter((r) => r.operation === 'UpdateAgentRuntime').map((r) => r.error ?? 'ok')).toEqual(['ConflictException', 'ConflictException', 'ok']);
    expect((await getRuntime(stack.agentcore_, BILLING)).agentRuntimeVersion).toBe('2');
    expect(logs.items().filter((l) => l.message === 'Retrying a busy or throttled call')).toHaveLength(2);
  });

  it('a runtime UPDATING for someone else is retried once it settles, keeping the other change', async () => {
    const { UpdateAgentRuntimeCommand } = await import('@aws-sdk/client-bedrock-agentcore-control');
    const live = await getRuntime(stack.agentcore_, BILLING);
    const { agentRuntimeArn: _a, agentRuntimeName: _n, agentRuntimeVersion: _v, createdAt: _c, lastUpdatedAt: _l, status: _s, workloadIdentityDetails: _w, ...fields } = live;
    // Hold time still (an auto clock would jump to the moment the other update settles as soon
    // as everything is idle), so the handler surely meets the busy runtime.
    const clock = stack.clock as unknown as { setMode(m: 'manual' | 'auto'): void; advance(ms: number): Promise<void> };
    clock.setMode('manual');
    await stack.agentcore_.send(new UpdateAgentRuntimeCommand({ ...fields, description: 'changed by someone else' } as never));
    expect((await getRuntime(stack.agentcore_, BILLING)).status).toBe('UPDATING');

    stack.pushImage({ repository: 'billing/agent', tags: ['release-2026-04-01'], digest: digest('4') });
    // Let the handler meet the busy runtime, then let the other update finish.
    for (let i = 0; i < 500 && !stack.emulator.requests.some((r) => r.operation === 'UpdateAgentRuntime' && r.error === 'ConflictException'); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(stack.emulator.requests.some((r) => r.operation === 'UpdateAgentRuntime' && r.error === 'ConflictException')).toBe(true);
    await clock.advance(60_000);
    clock.setMode('auto');
    await stack.settle();
    const after = await getRuntime(stack.agentcore_, BILLING);
    expect(after.agentRuntimeVersion).toBe('3');
    expect(after.description).toBe('changed by someone else');
    expect(after.agentRuntimeArtifact.containerConfiguration.containerUri).toBe(`${REGISTRY}/billing/agent@${digest('4')}`);
  });

  it('on an auto clock, a handler backing off from a busy runtime lets time pass until it settles', async () => {
    const { UpdateAgentRuntimeCommand } = await import('@aws-sdk/client-bedrock-agentcore-control');
    const live = await getRuntime(stack.agentcore_, BILLING);
    const { agentRuntimeArn: _a, agentRuntimeName: _n, agentRuntimeVersion: _v, createdAt: _c, lastUpdatedAt: _l, status: _s, workloadIdentityDetails: _w, ...fields } = live;
    await stack.agentcore_.send(new UpdateAgentRuntimeCommand({ ...fields, description: 'another change' } as never));
    stack.pushImage({ repository: 'billing/agent', tags: ['release-2026-04-15'], digest: digest('6') });
    // Nobody advances the clock by hand: the handler's real-time backoff releases it, and it jumps
    // to the moment the other update settles.
    await stack.settle();
    const after = await getRuntime(stack.agentcore_, BILLING);
    expect(after.description).toBe('another change');
    expect(after.agentRuntimeArtifact.containerConfiguration.containerUri).toBe(`${REGISTRY}/billing/agent@${digest('6')}`);
    expect(stack.deadLetters).toEqual([]);
  });

  it('throttling is absorbed', async () => {
    stack.emulator.faults.addRule({ operation: 'UpdateAgentRuntime', error: { type: 'ThrottlingException', status: 400, count: 4 } });
    stack.pushImage({ repository: 'billing/agent', tags: ['release-2026-05-01'], digest: digest('5') });
    await stack.settle();
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(5);
    expect((await getRuntime(stack.agentcore_, BILLING)).agentRuntimeVersion).toBe('2');
    expect(stack.deadLetters).toEqual([]);
  });
});
