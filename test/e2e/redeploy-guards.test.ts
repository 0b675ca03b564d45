/**
 * The guards of onImagePush end to end (ECR push -> bus -> rule -> real handler -> emulator):
 * stale pushes (an older push redelivered late, a tag that moved on) and rejected digests (an image
 * a promotion rolled back, or whose version ended UPDATE_FAILED, does not come back by itself).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ListTagsForResourceCommand, UntagResourceCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { REJECTED_DIGESTS_TAG, decodeRejected } from '../../functions/domain/redeploy/rejected.ts';
import { BILLING, REGISTRY, SECRET, SUPPORT, captureLogs, digest, exampleSeed, exampleStack, getRuntime, outcomeEvents } from './redeploy-helpers.ts';

let stack: Awaited<ReturnType<typeof exampleStack>> | undefined;
let logs: ReturnType<typeof captureLogs> | undefined;
afterEach(async () => {
  logs?.restore();
  expect(logs?.text() ?? '').not.toContain(SECRET);
  await stack?.close();
  stack = undefined;
});

const advance = (ms: number) => (stack!.clock as unknown as { advance(ms: number): Promise<void> }).advance(ms);
const versionsOf = (id: string) => stack!.agentcore.getRuntime(id).versions;
const imagesOf = (id: string) => versionsOf(id).map((v) => (v.config as any).agentRuntimeArtifact?.containerConfiguration?.containerUri as string);
const skips = (id: string) => outcomeEvents(stack!, 'Runtime Redeploy Skipped').filter((e) => e.detail.runtimeId === id).map((e) => e.detail);
async function rejectedOf(id: string): Promise<string[]> {
  const arn = (await getRuntime(stack!.agentcore_, id)).agentRuntimeArn;
  const { tags } = await stack!.agentcore_.send(new ListTagsForResourceCommand({ resourceArn: arn }));
  return decodeRejected(tags);
}
const ecrEvent = (repository: string, d: string, tag: string, id: string) => ({
  version: '0', id, 'detail-type': 'ECR Image Action', source: 'aws.ecr', account: '123456789012', time: '2026-11-16T01:54:34Z', region: 'us-east-1', resources: [],
  detail: { result: 'SUCCESS', 'repository-name': repository, 'image-digest': d, 'action-type': 'PUSH', 'image-tag': tag },
});

describe('stale pushes', () => {
  it('glob rule: push A, then B, then A\'s event again -> no update (older-than-live), one version per digest', async () => {
    logs = captureLogs();
    stack = await exampleStack();
    const A = digest('a');
    const B = digest('b');
    const a = stack.pushImage({ repository: 'billing/agent', tags: ['release-2026-02-01'], digest: A });
    await stack.settle();
    await advance(60_000);
    stack.pushImage({ repository: 'billing/agent', tags: ['release-2026-02-02'], digest: B });
    await stack.settle();
    await advance(60_000);
    expect(imagesOf(BILLING)).toEqual([expect.any(String), `${REGISTRY}/billing/agent@${A}`, `${REGISTRY}/billing/agent@${B}`]);

    stack.emulator.resetCounters();
    stack.events.put(a.events[0]); // a late redelivery of A's push
    await stack.settle();
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(0);
    expect((await getRuntime(stack.agentcore_, BILLING)).agentRuntimeArtifact.containerConfiguration.containerUri).toBe(`${REGISTRY}/billing/agent@${B}`);
    const images = imagesOf(BILLING);
    expect(new Set(images).size).toBe(images.length);
    expect(skips(BILLING).at(-1)).toMatchObject({ runtimeId: BILLING, reason: 'older-than-live', digest: A, tag: 'release-2026-02-01' });
    expect(skips(BILLING).at(-1)!.message).toMatch(/was pushed at .* before the live sha256:b+ \(pushed at /);
    // A newer push still goes through.
    stack.pushImage({ repository: 'billing/agent', tags: ['release-2026-02-03'], digest: digest('c') });
    await stack.settle();
    expect(imagesOf(BILLING).at(-1)).toBe(`${REGISTRY}/billing/agent@${digest('c')}`);
  });

  it('an event whose tag no longer points to its digest, or whose image is gone, is skipped (stale-tag)', async () => {
    logs = captureLogs();
    stack = await exampleStack();
    const A = digest('a');
    const B = digest('b');
    // A was pushed as release-x, then release-x moved to B, before A's event arrived.
    stack.ecr.seed({ repositories: [{ name: 'billing/agent', images: [{ tags: ['release-x'], digest: A, pushedAt: '-2h' }] }] });
    stack.ecr.seed({ repositories: [{ name: 'billing/agent', images: [{ tags: ['release-x'], digest: B, pushedAt: '-1h' }] }] });
    stack.emulator.resetCounters();
    stack.events.put(ecrEvent('billing/agent', A, 'release-x', 'late-a') as never);
    stack.events.put(ecrEvent('billing/agent', digest('e'), 'release-y', 'gone-e') as never); // never in ECR
    await stack.settle();
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(0);
    expect(stack.emulator.count('GetAgentRuntime')).toBe(0); // decided from ECR alone
    const stale = Object.fromEntries(skips(BILLING).map((s) => [s.digest, s]));
    expect(Object.keys(stale).sort()).toEqual([A, digest('e')]);
    expect(stale[A]).toMatchObject({ reason: 'stale-tag', message: `tag release-x no longer points to ${A} in billing/agent` });
    expect(stale[digest('e')]).toMatchObject({ reason: 'stale-tag', message: `billing/agent@${digest('e')} is no longer in ECR; tag release-y does not point to it` });
    // The tag's current digest is deployed when its own event comes.
    stack.events.put(ecrEvent('billing/agent', B, 'release-x', 'b') as never);
    await stack.settle();
    expect(imagesOf(BILLING).at(-1)).toBe(`${REGISTRY}/billing/agent@${B}`);
  });

  it('a live image from another repository does not block (nothing to compare push times with)', async () => {
    logs = captureLogs();
    stack = await exampleStack();
    const { UpdateAgentRuntimeCommand } = await import('@aws-sdk/client-bedrock-agentcore-control');
    const live = await getRuntime(stack.agentcore_, BILLING);
    const { agentRuntimeArn: _a, agentRuntimeName: _n, agentRuntimeVersion: _v, createdAt: _c, lastUpdatedAt: _l, status: _s, workloadIdentityDetails: _w, ...fields } = live;
    await stack.agentcore_.send(new UpdateAgentRuntimeCommand({ ...fields, agentRuntimeArtifact: { containerConfiguration: { containerUri: `${REGISTRY}/other/agent@${digest('9')}` } } } as never));
    await advance(60_000);
    stack.ecr.seed({ repositories: [{ name: 'billing/agent', images: [{ tags: ['release-old'], digest: digest('a'), pushedAt: '-30d' }] }] });
    stack.events.put(ecrEvent('billing/agent', digest('a'), 'release-old', 'old') as never);
    await stack.settle();
    expect(imagesOf(BILLING).at(-1)).toBe(`${REGISTRY}/billing/agent@${digest('a')}`);
  });
});

describe('rejected digests', () => {
  it('a rolled-back digest is recorded on the runtime and skipped when pushed again (digest-rejected) until the tag is cleared', async () => {
    logs = captureLogs();
    const BROKEN = digest('0');
    stack = await exampleStack({ seed: exampleSeed((seed) => { seed.settings.failingImages.push(`${REGISTRY}/support-agent@${BROKEN}`); }) });
    const pushed = stack.pushImage({ repository: 'support-agent', tags: ['1.6.0'], digest: BROKEN });
    await stack.settle();
    await advance(60_000);
    expect(outcomeEvents(stack).map((e) => e.detailType)).toEqual(['Runtime Redeploy Started', 'Runtime Redeploy Rolled Back']);
    expect(outcomeEvents(stack, 'Runtime Redeploy Rolled Back')[0].detail.message).toContain(`${BROKEN} recorded in the runtime's ${REJECTED_DIGESTS_TAG} tag`);
    expect(await rejectedOf(SUPPORT)).toEqual([BROKEN]);
    expect(versionsOf(SUPPORT).map((v) => v.version)).toEqual([1, 2, 3]);

    // The same event redelivered, and the same digest under a new tag: nothing comes back.
    stack.emulator.resetCounters();
    stack.events.put(pushed.events[0]);
    await stack.settle();
    stack.pushImage({ repository: 'support-agent', tags: ['1.6.1'], digest: BROKEN });
    await stack.settle();
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(0);
    expect(versionsOf(SUPPORT).map((v) => v.version)).toEqual([1, 2, 3]);
    const rejectedSkips = skips(SUPPORT).filter((s) => s.reason === 'digest-rejected');
    expect(rejectedSkips.map((s) => s.tag)).toEqual(['1.6.0', '1.6.1']);
    expect(rejectedSkips[0].message).toMatch(/clear that tag, or deploy it with `autopilot redeploy`/);
    expect(stack.sfn.listExecutions()).toHaveLength(1);

    // An operator clears the tag: the next push of that digest is deployed again.
    const arn = (await getRuntime(stack.agentcore_, SUPPORT)).agentRuntimeArn;
    await stack.agentcore_.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: [REJECTED_DIGESTS_TAG] }));
    stack.pushImage({ repository: 'support-agent', tags: ['1.6.2'], digest: BROKEN });
    await stack.settle();
    expect(imagesOf(SUPPORT)[3]).toBe(`${REGISTRY}/support-agent@${BROKEN}`); // version 4: tried again (and rolled back again)
  });

  it('a version ending UPDATE_FAILED without rollback (no promote) records its digest; other digests still deploy', async () => {
    logs = captureLogs();
    const BROKEN = digest('9');
    stack = await exampleStack({ seed: exampleSeed((seed) => { seed.settings.failingImages.push(`${REGISTRY}/billing/agent@${BROKEN}`); }) });
    stack.pushImage({ repository: 'billing/agent', tags: ['release-2026-03-01'], digest: BROKEN });
    await stack.settle();
    expect(outcomeEvents(stack, 'Runtime Redeploy Failed')[0].detail).toMatchObject({ reason: 'version-failed', trigger: 'image-push', digest: BROKEN });
    expect(await rejectedOf(BILLING)).toEqual([BROKEN]);
    await advance(60_000);
    stack.pushImage({ repository: 'billing/agent', tags: ['release-2026-03-02'], digest: digest('8') });
    await stack.settle();
    expect(imagesOf(BILLING).at(-1)).toBe(`${REGISTRY}/billing/agent@${digest('8')}`);
    expect(await rejectedOf(SUPPORT)).toEqual([]);
  });
});
