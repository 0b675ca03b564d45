/**
 * `autopilot redeploy` through the CLI's `main`, against the local stack.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TagResourceCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { REJECTED_DIGESTS_TAG, encodeRejected } from '../../functions/domain/redeploy/rejected.ts';
import { main } from '../../cli/autopilot.ts';
import type { CliIO } from '../../cli/types.ts';
import { BILLING, LIVE_SUPPORT_DIGEST, REGISTRY, SECRET, SUPPORT, digest, exampleStack, getEndpoint, getRuntime } from '../e2e/redeploy-helpers.ts';

let stack: Awaited<ReturnType<typeof exampleStack>>;
beforeEach(async () => {
  stack = await exampleStack({ logLevel: 'SILENT' });
  // The images these tests deploy by hand exist in ECR (a missing one is refused).
  stack.ecr.seed({ repositories: [
    { name: 'support-agent', images: [{ digest: digest('a'), pushedAt: '-1h' }] },
    { name: 'billing/agent', images: ['c', 'd', 'e'].map((c) => ({ digest: digest(c), pushedAt: '-1h' })) },
  ] });
});
afterEach(async () => { await stack.close(); });

function io(extra: Partial<CliIO> = {}): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out, err, stdout: (l) => out.push(l), stderr: (l) => err.push(l), isTTY: false,
    env: { ...stack.env, AUTOPILOT_CONFIG_FILE: stack.configFile, PROMOTION_STATE_MACHINE_ARN: stack.stateMachineArn('runtimePromotion') },
    ...extra,
  };
}

describe('autopilot redeploy', () => {
  it('--dry-run prints the redacted plan and changes nothing', async () => {
    const cli = io();
    const code = await main(['redeploy', '--runtime', SUPPORT, '--image', `${REGISTRY}/support-agent@${digest('a')}`, '--dry-run'], cli);
    expect(cli.err).toEqual([]);
    expect(code).toBe(0);
    const text = cli.out.join('\n');
    expect(text).toContain(`Plan for runtime ${SUPPORT} (live version 1):`);
    expect(text).toContain(`  ~ /agentRuntimeArtifact/containerConfiguration/containerUri: "${REGISTRY}/support-agent@${LIVE_SUPPORT_DIGEST}" -> "${REGISTRY}/support-agent@${digest('a')}"`);
    expect(text).toContain('promote endpoint(s) prod');
    expect(text).toContain('Dry run: nothing was changed.');
    expect(text).not.toContain(SECRET);
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(0);
    expect(stack.sfn.listExecutions()).toEqual([]);
  });

  it('resolves a tag through ECR, prints the plan, applies with --yes and starts the promotion', async () => {
    // Recorded in ECR without an `ECR Image Action` on the bus (the CLI is the trigger here).
    stack.ecr.seed({ repositories: [{ name: 'support-agent', images: [{ tags: ['1.9.0'], digest: digest('b') }] }] });
    const before = await getRuntime(stack.agentcore_, SUPPORT);
    const cli = io();
    const code = await main(['redeploy', '--runtime', SUPPORT, '--image', `${REGISTRY}/support-agent:1.9.0`, '--yes'], cli);
    expect(cli.err).toEqual([]);
    expect(code).toBe(0);
    const text = cli.out.join('\n');
    expect(text.indexOf('Plan for runtime')).toBeLessThan(text.indexOf('Updated runtime'));
    expect(text).toContain(`Updated runtime ${SUPPORT}: version 1 -> 2.`);
    expect(text).toContain(`Promotion started: promote-${SUPPORT}-v2 (endpoints prod).`);
    await stack.settle();
    const after = await getRuntime(stack.agentcore_, SUPPORT);
    expect(after.agentRuntimeArtifact.containerConfiguration.containerUri).toBe(`${REGISTRY}/support-agent@${digest('b')}`);
    expect(after.environmentVariables).toEqual(before.environmentVariables);
    expect((await getEndpoint(stack.agentcore_, SUPPORT, 'prod')).liveVersion).toBe('2');
    expect(stack.events.events.map((e) => e.event['detail-type'])).toEqual(['Runtime Redeploy Started', 'Runtime Redeploy Promoted']);
    // A hand-run redeploy says so, and names the digest (and tag) it deployed, in every event.
    for (const e of stack.events.events) {
      expect(e.event.detail).toMatchObject({ runtimeId: SUPPORT, trigger: 'manual', repository: 'support-agent', digest: digest('b'), tag: '1.9.0' });
    }
  });

  it('finds the promotion state machine by name when no ARN is given (--stage, default dev)', async () => {
    const env = { ...stack.env, AUTOPILOT_CONFIG_FILE: stack.configFile };
    const cli = io({ env });
    expect(await main(['redeploy', '--runtime', SUPPORT, '--image', `${REGISTRY}/support-agent@${digest('a')}`, '--yes'], cli)).toBe(0);
    expect(cli.out.join('\n')).toContain(`Promotion started: promote-${SUPPORT}-v2 (endpoints prod).`);
    expect(stack.sfn.listExecutions().map((e) => e.stateMachineArn)).toEqual([stack.stateMachineArn('runtimePromotion')]);
  });

  it('without a promotion state machine: exit 2, nothing changed (also for --dry-run, also without promote)', async () => {
    const env = { ...stack.env, AUTOPILOT_CONFIG_FILE: stack.configFile };
    for (const [runtime, image] of [[SUPPORT, `${REGISTRY}/support-agent@${digest('a')}`], [BILLING, `${REGISTRY}/billing/agent@${digest('c')}`]]) {
      for (const extra of [[], ['--dry-run']]) {
        const cli = io({ env });
        expect(await main(['redeploy', '--runtime', runtime, '--image', image, '--yes', '--stage', 'prod', ...extra], cli)).toBe(2);
        expect(cli.err.join('\n')).toMatch(/no runtime-promotion state machine was found to follow the new version .*agentcore-autopilot-prod-runtime-promotion.*Nothing was changed/);
        expect(cli.out).toEqual([]);
      }
    }
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(0);
    expect(stack.emulator.count('GetAgentRuntime')).toBe(0);
    expect(stack.events.events).toEqual([]);
    const bad = io();
    expect(await main(['redeploy', '--runtime', SUPPORT, '--image', `${REGISTRY}/support-agent@${digest('a')}`, '--state-machine', 'nope'], bad)).toBe(2);
    expect(bad.err.join('\n')).toMatch(/--state-machine is not a Step Functions state machine ARN/);
  });

  it('deploys a rejected digest by hand, saying so', async () => {
    const arn = (await getRuntime(stack.agentcore_, BILLING)).agentRuntimeArn;
    await stack.agentcore_.send(new TagResourceCommand({ resourceArn: arn, tags: { [REJECTED_DIGESTS_TAG]: encodeRejected([], digest('c')) } }));
    const cli = io();
    expect(await main(['redeploy', '--runtime', BILLING, '--image', `${REGISTRY}/billing/agent@${digest('c')}`, '--yes'], cli)).toBe(0);
    expect(cli.err.join('\n')).toContain(`note: ${digest('c')} is in the runtime's rejected digests (tag ${REJECTED_DIGESTS_TAG}: rolled back or failed before); deploying it anyway`);
    expect(cli.out.join('\n')).toContain(`Updated runtime ${BILLING}: version 1 -> 2.`);
    const [started] = stack.events.events;
    expect(started.event.detail).toMatchObject({ trigger: 'manual', digest: digest('c') });
    expect(started.event.detail.message).toMatch(/deploying it anyway because this redeploy was run by hand/);
  });

  it('--json prints {plan, outcome}; a second run has nothing to do', async () => {
    const image = `${REGISTRY}/billing/agent@${digest('c')}`;
    const first = io();
    expect(await main(['redeploy', '--runtime', BILLING, '--image', image, '--yes', '--json'], first)).toBe(0);
    const doc = JSON.parse(first.out.join('\n'));
    expect(doc.plan).toMatchObject({ runtimeId: BILLING, status: 'planned', fromVersion: '1' });
    expect(doc.outcome).toMatchObject({ runtimeId: BILLING, status: 'updated', toVersion: '2', toUri: image });
    // Followed to READY although billing's rule moves no endpoint.
    expect(doc.outcome.promotion).toMatchObject({ started: true, endpoints: [], name: `promote-${BILLING}-v2` });

    const again = io();
    expect(await main(['redeploy', '--runtime', BILLING, '--image', image, '--yes'], again)).toBe(0);
    expect(again.out.join('\n')).toContain(`Nothing to do for runtime ${BILLING}: already runs ${digest('c')}.`);
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(1);
  });

  it('asks before applying: declined -> exit 3; no terminal and no --yes -> exit 2; nothing applied', async () => {
    const image = `${REGISTRY}/billing/agent@${digest('d')}`;
    const declined = io({ prompt: async () => 'n' });
    expect(await main(['redeploy', '--runtime', BILLING, '--image', image], declined)).toBe(3);
    expect(declined.out.join('\n')).toContain('Plan for runtime');
    const noTty = io();
    expect(await main(['redeploy', '--runtime', BILLING, '--image', image], noTty)).toBe(2);
    expect(noTty.err.join('\n')).toMatch(/pass --yes/);
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(0);

    const accepted = io({ prompt: async () => 'yes' });
    expect(await main(['redeploy', '--runtime', BILLING, '--image', image], accepted)).toBe(0);
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(1);
  });

  it('usage and input errors: exit 2, no write; failures: exit 1', async () => {
    const cases: [string[], number, RegExp][] = [
      [['--image', `${REGISTRY}/billing/agent@${digest('e')}`], 2, /missing --runtime/],
      [['--runtime', BILLING], 2, /missing --image/],
      [['--runtime', 'nope', '--image', 'x'], 2, /not an AgentCore runtime id/],
      [['--runtime', BILLING, '--image', 'docker.io/nginx:latest', '--yes'], 2, /not an ECR image URI/],
      [['--runtime', BILLING, '--image', `${REGISTRY}/billing/agent:no-such-tag`, '--yes'], 2, /no image tagged no-such-tag/],
      [['--runtime', BILLING, '--image', `${REGISTRY}/billing/agent@${digest('e')}`, '--bogus'], 2, /unknown option '--bogus'/],
      [['--runtime', 'ghostAgent-zzzzzzzzzz', '--image', `${REGISTRY}/billing/agent@${digest('e')}`, '--yes'], 1, /runtime-not-found: ResourceNotFoundError/],
      [['--runtime', BILLING, '--image', `${REGISTRY}/billing/agent@${digest('e')}`, '--config', '/nonexistent.yaml'], 1, /does not exist/],
    ];
    for (const [argv, exit, message] of cases) {
      const cli = io();
      expect(await main(['redeploy', ...argv], cli), argv.join(' ')).toBe(exit);
      expect(cli.err.join('\n')).toMatch(message);
    }
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(0);
  });

  it('--help documents the options and exit codes', async () => {
    const cli = io();
    expect(await main(['redeploy', '--help'], cli)).toBe(0);
    const help = cli.out.join('\n');
    expect(help).toMatch(/^Usage: autopilot redeploy --runtime ID --image URI \[--dry-run\]/);
    for (const code of ['0  applied', '1  failed', '2  usage error', '3  not applied']) expect(help).toContain(code);
  });

  it('--wait --timeout: a bound on the wait (the outcomes themselves: redeploy-checks.test.ts); --timeout needs --wait', async () => {
    const ok = io();
    expect(await main(['redeploy', '--runtime', SUPPORT, '--image', `${REGISTRY}/support-agent@${digest('a')}`, '--yes', '--wait', '--interval', '0.01', '--timeout', '5m', '-o', 'json'], ok)).toBe(0);
    expect(JSON.parse(ok.out.join('\n')).promotion).toMatchObject({ status: 'SUCCEEDED', outcome: 'PROMOTED' });
    const noWait = io();
    expect(await main(['redeploy', '--runtime', SUPPORT, '--image', `${REGISTRY}/support-agent@${digest('c')}`, '--timeout', '1m'], noWait)).toBe(2);
    expect(noWait.err.join('\n')).toContain('--timeout needs --wait');
    const bad = io();
    expect(await main(['redeploy', '--runtime', SUPPORT, '--image', `${REGISTRY}/support-agent@${digest('c')}`, '--wait', '--timeout', 'later'], bad)).toBe(2);
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(1);
  });
});
