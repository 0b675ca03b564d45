/**
 * `autopilot redeploy` applies the checks of a push before writing anything (registry scope, the
 * image present in its own region's registry, a deployable container image), and `--wait` waits
 * for the promotion that follows every accepted update.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../../cli/autopilot.ts';
import type { CliIO } from '../../cli/types.ts';
import { writeConfig } from '../e2e/drift-fixtures.ts';
import { BILLING, REGISTRY, SUPPORT, digest, exampleStack, getEndpoint, getRuntime } from '../e2e/redeploy-helpers.ts';

const EU_REGISTRY = REGISTRY.replace('us-east-1', 'eu-west-1');

let stack: Awaited<ReturnType<typeof exampleStack>> | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** The example config; supportAgent's rule also allows eu-west-1. */
function config(): string {
  const c = parse(readFileSync(new URL('../../autopilot.config.yaml', import.meta.url), 'utf8'));
  c.runtimes[0].track.registry.regions = ['us-east-1', 'eu-west-1'];
  return writeConfig(c);
}

async function start() {
  stack = await exampleStack({ logLevel: 'SILENT', configFile: config() });
  stack.ecr.seed({ repositories: [
    { name: 'support-agent', images: [{ tags: ['1.3.0'], digest: digest('a'), pushedAt: '-1h' }] },
    // The same repository in eu-west-1: tag 1.3.0 there is another image.
    { name: 'support-agent', region: 'eu-west-1', images: [{ tags: ['1.3.0'], digest: digest('b'), pushedAt: '-1h' }, { tags: ['1.4.0'], digest: digest('f'), pushedAt: '-1h', platforms: ['linux/amd64'] }] },
    { name: 'billing/agent', images: [{ tags: ['chart-1'], artifact: 'helm-chart', pushedAt: '-1h' }, { tags: ['release-x'], digest: digest('c'), pushedAt: '-1h' }] },
  ] });
  return stack;
}

function io(s: NonNullable<typeof stack>): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out, err, stdout: (l) => out.push(l), stderr: (l) => err.push(l), isTTY: false,
    env: { ...s.env, AUTOPILOT_CONFIG_FILE: s.configFile, PROMOTION_STATE_MACHINE_ARN: s.stateMachineArn('runtimePromotion') },
  };
}

describe('autopilot redeploy checks the image like a push', () => {
  it('refuses (exit 2, nothing written) what a push would not deploy', async () => {
    const s = await start();
    const cases: [string, string, RegExp][] = [
      [SUPPORT, `${REGISTRY}/support-agent@${digest('9')}`, /no image sha256:9{64} in ECR repository support-agent \(123456789012, us-east-1\)/],
      [SUPPORT, `${REGISTRY.replace('123456789012', '999999999999')}/support-agent:1.3.0`, /registry account 999999999999 is not allowed/],
      [BILLING, `${EU_REGISTRY}/billing/agent:release-x`, /registry region eu-west-1 is not allowed/],
      [SUPPORT, `${EU_REGISTRY}/support-agent:1.2.0`, /no image tagged 1\.2\.0 in ECR repository support-agent \(123456789012, eu-west-1\)/],
      [SUPPORT, `${REGISTRY}/support-agent:1.3.0@${digest('b')}`, /tag 1\.3\.0 points to sha256:a{64}, not sha256:b{64}/],
      [BILLING, `${REGISTRY}/billing/agent:chart-1`, /not deployable: .*helm/],
      [SUPPORT, `${EU_REGISTRY}/support-agent:1.4.0`, /no linux\/arm64 image \(it has linux\/amd64\)/],
    ];
    for (const [runtime, image, reason] of cases) {
      const cli = io(s);
      expect(await main(['redeploy', '--runtime', runtime, '--image', image, '--yes'], cli), image).toBe(2);
      expect(cli.err.join('\n'), image).toMatch(reason);
      expect(cli.err.join('\n'), image).toContain('nothing was changed');
    }
    expect(s.emulator.count('UpdateAgentRuntime')).toBe(0);
  });

  it('resolves a tag in the image\'s own region: an eu-west-1 URI is pinned to the eu-west-1 digest', async () => {
    const s = await start();
    const cli = io(s);
    expect(await main(['redeploy', '--runtime', SUPPORT, '--image', `${EU_REGISTRY}/support-agent:1.3.0`, '--yes'], cli)).toBe(0);
    expect((await getRuntime(s.agentcore_, SUPPORT)).agentRuntimeArtifact.containerConfiguration.containerUri).toBe(`${EU_REGISTRY}/support-agent@${digest('b')}`);
  });
});

describe('autopilot redeploy --wait', () => {
  it('waits for the promotion: exit 0 once prod serves the new version', async () => {
    const s = await start();
    const cli = io(s);
    expect(await main(['redeploy', '--runtime', SUPPORT, '--image', `${REGISTRY}/support-agent:1.3.0`, '--yes', '--wait', '--interval', '0.02'], cli)).toBe(0);
    expect(cli.out.join('\n')).toContain('Promoted: endpoint(s) prod now serve version 2.');
    expect((await getEndpoint(s.agentcore_, SUPPORT, 'prod')).liveVersion).toBe('2');
  });

  it('a runtime without promote is followed to READY too; a version that fails ends with exit 4', async () => {
    const s = await start();
    s.agentcore.markImageFailing(`${REGISTRY}/billing/agent@${digest('c')}`);
    const cli = io(s);
    expect(await main(['redeploy', '--runtime', BILLING, '--image', `${REGISTRY}/billing/agent:release-x`, '--yes', '--wait', '--interval', '0.02', '--json'], cli)).toBe(4);
    const doc = JSON.parse(cli.out.join('\n'));
    expect(doc.outcome).toMatchObject({ status: 'updated', toVersion: '2', promotion: { started: true, endpoints: [] } });
    expect(doc.promotion).toMatchObject({ status: 'SUCCEEDED', outcome: 'FAILED' });
    await s.settle();
    expect(s.events.events.map((e) => e.event['detail-type'])).toEqual(['Runtime Redeploy Started', 'Runtime Redeploy Failed']);
  });
});
