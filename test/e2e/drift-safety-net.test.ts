/**
 * The missed-push safety net end to end: it never brings back an image the runtime rejected
 * (rolled back or failed: the redeploy job's `autopilot:rejected-digests` tag), acts again once
 * the tag is cleared, and a redeploy whose rule promotes never runs without the promotion state
 * machine (apply fails it, exit 1, nothing written) instead of silently skipping the promotion.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TagResourceCommand, UntagResourceCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { main } from '../../cli/autopilot.ts';
import { startStack, type Stack } from '../../local/stack.ts';
import { setTimeSource } from '../../functions/lib/time.ts';
import { encodeRejected, REJECTED_DIGESTS_TAG } from '../../functions/domain/redeploy/rejected.ts';
import { REPO, SEED, SUPPORT, agentCoreClient, fullConfig, getRuntime, passTime, settleResources, tagsOf, writeConfig, cliIO } from './drift-fixtures.ts';
import { exampleSeed as redeploySeed } from './redeploy-helpers.ts';
import { REPO_ROOT } from '../../local/stack.ts';

const DEFAULT_CONFIG = `${REPO_ROOT}/autopilot.config.yaml`;

type Result = {
  summary: Record<string, unknown>;
  plan: { inSync: boolean; resources: { ref: string; status: string; action: string; reason?: string; redeploy?: { toUri: string }; fields: { path: string }[] }[] };
  outcomes: { ref: string; status: string; error?: { name: string; message: string }; promotionExecution?: string }[];
  notes: string[];
};

let stack: Stack | undefined;
afterEach(async () => {
  setTimeSource(undefined);
  await stack?.close();
  stack = undefined;
});

const LIVE = `sha256:${'1'.repeat(64)}`;
const V130 = `sha256:${'30'.repeat(32)}`;
const V131 = `sha256:${'31'.repeat(32)}`;
const uriOf = (digest: string) => `${REPO}/support-agent@${digest}`;
const liveUri = async (s: Stack) => ((await getRuntime(s, SUPPORT)).agentRuntimeArtifact as { containerConfiguration: { containerUri: string } }).containerConfiguration.containerUri;
const run = async (): Promise<Result> => (await stack!.lambda.invoke('correctDrift', { trigger: 'schedule' })) as Result;
const support = (r: Result) => r.plan.resources.find((x) => x.ref === SUPPORT)!;

function tracked(promote?: Record<string, unknown>): Record<string, unknown> {
  return fullConfig({
    runtimes: [{
      id: SUPPORT, desired: { roleArn: 'arn:aws:iam::123456789012:role/AgentRuntimeRole' },
      track: { repository: 'support-agent', tagPolicy: { semver: '^1.2.0' }, ...(promote && { promote }) },
    }],
    gateways: [],
  });
}

async function start(config: Record<string, unknown>, images: { tags: string[]; digest: string; pushedAt: string }[]): Promise<{ s: Stack; configFile: string }> {
  const configFile = writeConfig(config);
  const s = stack = await startStack({ seed: SEED, configFile });
  setTimeSource(() => s.clock.now());
  // Images land in ECR without any event reaching the bus.
  s.ecr.seed({ repositories: [{ name: 'support-agent', images }] });
  return { s, configFile };
}

describe('missed-push safety net and rejected digests', () => {
  it('skips a rejected digest (plan and run), redeploys the newest one not rejected, and the rejected one again once the tag is cleared', async () => {
    const { s, configFile } = await start(tracked(), [
      { tags: ['1.2.0'], digest: LIVE, pushedAt: '-3h' },
      { tags: ['1.3.1'], digest: V131, pushedAt: '-1h' },
    ]);
    const arn = (await getRuntime(s, SUPPORT)).agentRuntimeArn as string;
    const client = agentCoreClient(s);
    // What the redeploy job records when a promotion rolls 1.3.1 back (or its version fails).
    await client.send(new TagResourceCommand({ resourceArn: arn, tags: { [REJECTED_DIGESTS_TAG]: encodeRejected([], V131) } }));

    const plan = cliIO(s);
    expect(await main(['plan', '--config', configFile], plan.io)).toBe(0);
    expect(plan.text()).toMatch(/supportAgent-a1b2c3d4e5\s+runtime\s+in-sync\s+none/);
    expect(plan.text()).toContain(`warning: runtime ${SUPPORT}: newest allowed image ${V131} (tag 1.3.1) was rejected`);
    expect(plan.text()).not.toContain('missed image push');

    const r = await run();
    expect(support(r)).toMatchObject({ status: 'in-sync', action: 'none' });
    expect(r.notes.join('\n')).toMatch(/was rejected .*not redeployed/);
    expect(s.emulator.count('UpdateAgentRuntime')).toBe(0);
    expect(await liveUri(s)).toBe(uriOf(LIVE));

    // A version between the live one and the rejected one is still followed.
    s.ecr.seed({ repositories: [{ name: 'support-agent', images: [{ tags: ['1.3.0'], digest: V130, pushedAt: '-2h' }] }] });
    const between = await run();
    expect(support(between)).toMatchObject({ action: 'redeploy', redeploy: { toUri: uriOf(V130) } });
    await settleResources(s);
    expect(await liveUri(s)).toBe(uriOf(V130));
    expect(support(await run())).toMatchObject({ status: 'in-sync' });

    // The operator clears the tag: the safety net acts on 1.3.1 again (past the correction backoff).
    await passTime(s);
    await client.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: [REJECTED_DIGESTS_TAG] }));
    const cleared = await run();
    expect(support(cleared)).toMatchObject({ action: 'redeploy', redeploy: { toUri: uriOf(V131) } });
    await settleResources(s);
    expect(await liveUri(s)).toBe(uriOf(V131));
    client.destroy();
  });

  it('after a real promotion rollback (UPDATE_FAILED image) the next drift runs do not bring the image back', async () => {
    // The default config: supportAgent tracks semver ^1.2.0 and promotes prod.
    const broken = `sha256:${'0'.repeat(64)}`;
    const failingUri = uriOf(broken);
    const s = stack = await startStack({
      seed: redeploySeed((seed) => { (seed.settings as { failingImages: string[] }).failingImages.push(failingUri); }),
      configFile: DEFAULT_CONFIG,
    });
    setTimeSource(() => s.clock.now());
    s.pushImage({ repository: 'support-agent', tags: ['1.6.0'], digest: broken });
    await s.settle();
    const [promotion] = s.sfn.listExecutions();
    expect(JSON.parse((await s.sfn.waitForExecution(promotion.executionArn)).output!)).toMatchObject({ outcome: 'ROLLED_BACK' });
    await settleResources(s);
    const arn = (await getRuntime(s, SUPPORT)).agentRuntimeArn as string;
    expect((await tagsOf(s, arn))[REJECTED_DIGESTS_TAG]).toContain('0'.repeat(64));
    expect(await liveUri(s)).toBe(uriOf(LIVE));

    const updates = s.emulator.count('UpdateAgentRuntime');
    for (let i = 0; i < 3; i++) {
      await passTime(s);
      const r = await run();
      expect(support(r).redeploy).toBeUndefined();
      expect(support(r).fields.map((f) => f.path)).not.toContain('/agentRuntimeArtifact/containerConfiguration/containerUri');
    }
    expect(s.emulator.count('UpdateAgentRuntime')).toBe(updates);
    expect(s.sfn.listExecutions().filter((e) => e.stateMachineArn === s.stateMachineArn('runtimePromotion')).map((e) => e.name)).toEqual([promotion.name]);
    const plan = cliIO(s);
    await main(['plan', '--config', DEFAULT_CONFIG], plan.io);
    expect(plan.text()).not.toContain('missed image push');

    // Cleared by the operator: the safety net proposes it again.
    const client = agentCoreClient(s);
    await client.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: [REJECTED_DIGESTS_TAG] }));
    client.destroy();
    const again = cliIO(s);
    expect(await main(['plan', '--config', DEFAULT_CONFIG], again.io)).toBe(2);
    expect(again.text()).toContain(`missed image push: live ${uriOf(LIVE)} is behind ${failingUri} (tag 1.6.0)`);
  });

  it('a runtime already on the newest image costs no tag read', async () => {
    const { s } = await start(tracked(), [{ tags: ['1.2.0'], digest: LIVE, pushedAt: '-3h' }]);
    const r = await run();
    expect(support(r)).toMatchObject({ status: 'in-sync' });
    expect(s.emulator.count('ListTagsForResource')).toBe(0);
    expect(s.emulator.count('GetAgentRuntime')).toBe(1);
  });
});

describe('a promoting redeploy without the runtime-promotion state machine', () => {
  const promote = { endpoints: ['prod'], alarms: [] };
  const images = [{ tags: ['1.2.0'], digest: LIVE, pushedAt: '-3h' }, { tags: ['1.3.1'], digest: V131, pushedAt: '-1h' }];

  it('plan says so; apply fails it (exit 1), writes nothing; found by name it promotes', async () => {
    const { s, configFile } = await start(tracked(promote), images);
    // --stage prod: no agentcore-autopilot-prod-* state machines (nor lock table: --lock-table names dev's) on this stack.
    const plan = cliIO(s);
    expect(await main(['plan', '--config', configFile, '--stage', 'prod'], plan.io)).toBe(2);
    expect(plan.text()).toMatch(/supportAgent-a1b2c3d4e5\s+runtime\s+drifted\s+redeploy/);
    expect(plan.text()).toMatch(/reason: .*runtime-promotion state machine is unknown \(set PROMOTION_STATE_MACHINE_ARN\): apply fails this redeploy/);
    expect(plan.text()).toMatch(/warning: runtime supportAgent-a1b2c3d4e5: its tracking rule promotes/);

    const apply = cliIO(s);
    expect(await main(['apply', '--config', configFile, '--stage', 'prod', '--lock-table', 'agentcore-autopilot-dev-drift-lock', '--yes'], apply.io)).toBe(1);
    expect(apply.text()).toMatch(/runtime supportAgent-a1b2c3d4e5: FAILED - PromotionStateMachineUnknownError: redeploy not applied: the tracking rule promotes \(endpoints prod\)/);
    expect(apply.text()).toMatch(/Apply complete: 0 corrected, 1 failed, 0 skipped/);
    expect(s.emulator.count('UpdateAgentRuntime')).toBe(0);

    const json = cliIO(s);
    expect(await main(['apply', '--config', configFile, '--yes', '--json'], json.io)).toBe(0);
    const doc = JSON.parse(json.text());
    expect(doc.outcomes).toEqual([expect.objectContaining({ ref: SUPPORT, status: 'corrected', promotionExecution: expect.any(String) })]);
    expect(doc.summary).toMatchObject({ corrected: 1, failed: 0 });
    const promotions = s.sfn.listExecutions().filter((e) => e.stateMachineArn === s.stateMachineArn('runtimePromotion'));
    expect(promotions.map((e) => e.name)).toEqual([doc.outcomes[0].promotionExecution]);
  });

  it('apply --json: one document, needs --yes, same exit codes', async () => {
    const { s, configFile } = await start(tracked(promote), images);
    const noYes = cliIO(s);
    expect(await main(['apply', '--config', configFile, '--json'], noYes.io)).toBe(1);
    expect(noYes.errors()).toMatch(/--json \(or -o yaml\) never prompts: add --yes/);
    // The one document on stdout is the error.
    expect(JSON.parse(noYes.text())).toMatchObject({ error: 'NotConfirmed' });

    const failed = cliIO(s);
    expect(await main(['apply', '--config', configFile, '--json', '--yes', '--promotion-state-machine', ''], failed.io)).toBe(2);
    expect(failed.errors()).toMatch(/--promotion-state-machine needs a value/);

    const env = { PROMOTION_STATE_MACHINE_ARN: '' };
    const prod = cliIO(s);
    prod.io.env = { ...prod.io.env, ...env };
    expect(await main(['apply', '--config', configFile, '--json', '--yes', '--stage', 'prod', '--lock-table', 'agentcore-autopilot-dev-drift-lock'], prod.io)).toBe(1);
    const doc = JSON.parse(prod.text());
    expect(Object.keys(doc).sort()).toEqual(['counts', 'notes', 'outcomes', 'plan', 'stopped', 'summary']);
    expect(doc.outcomes[0]).toMatchObject({ status: 'failed', error: { name: 'PromotionStateMachineUnknownError' } });
    expect(doc.summary).toMatchObject({ failed: 1, corrected: 0 });
    expect(doc.notes.join('\n')).toMatch(/tracking rule promotes/);
  });
});
