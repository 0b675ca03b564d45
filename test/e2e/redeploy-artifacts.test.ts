/**
 * onImagePush against what ECR really sends: multi-platform pushes (untagged per-platform
 * manifests, then the tagged index), indexes without linux/arm64, signatures, SBOMs and Helm charts
 * pushed under tags a rule matches, and replications into this region.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { writeConfig } from './drift-fixtures.ts';
import { BILLING, REGISTRY, SUPPORT, captureLogs, digest, exampleStack, getRuntime, outcomeEvents } from './redeploy-helpers.ts';

let stack: Awaited<ReturnType<typeof exampleStack>> | undefined;
let logs: ReturnType<typeof captureLogs> | undefined;
afterEach(async () => {
  logs?.restore();
  await stack?.close();
  stack = undefined;
  logs = undefined;
});

/** The repo's example config with `mutate` applied: supportAgent follows ^1.2.0, billingAgent follows release-*. */
function config(mutate: (c: Record<string, any>) => void = () => {}): string {
  const c = parse(readFileSync(new URL('../../autopilot.config.yaml', import.meta.url), 'utf8'));
  mutate(c);
  return writeConfig(c);
}

async function start(mutate?: (c: Record<string, any>) => void) {
  logs = captureLogs();
  stack = await exampleStack({ configFile: config(mutate) });
  return stack;
}

const results = (s: NonNullable<typeof stack>) =>
  s.events.deliveries.filter((d) => d.targetId === 'onImagePush').map((d) => d.result as { status: string; reason?: string; message?: string; outcomes?: { reason: string }[] });

describe('container images as ECR sends them', () => {
  it('a multi-platform push: the untagged per-platform manifests are skipped quietly, the tagged index deploys by its digest', async () => {
    const s = await start();
    const pushed = s.pushImage({ repository: 'support-agent', tags: ['1.3.0'], digest: digest('a'), platforms: ['linux/amd64', 'linux/arm64'], provenance: true });
    expect(pushed.events.map((e) => e.detail['image-tag'])).toEqual([undefined, undefined, '1.3.0']);
    await s.settle();
    expect(results(s).map((r) => `${r.status}:${r.reason ?? ''}`)).toEqual(['skipped:untagged', 'skipped:untagged', 'processed:']);
    expect((await getRuntime(s.agentcore_, SUPPORT)).agentRuntimeArtifact.containerConfiguration.containerUri).toBe(`${REGISTRY}/support-agent@${digest('a')}`);
    expect(outcomeEvents(s).map((e) => e.detailType)).toEqual(['Runtime Redeploy Started', 'Runtime Redeploy Promoted']);
    // Routine, not a problem: no WARN line for the untagged manifests.
    expect(logs!.items().filter((l) => l.level === 'WARN')).toEqual([]);
  });

  it('an index without linux/arm64 is refused with the platforms it has; nothing is updated', async () => {
    const s = await start();
    s.pushImage({ repository: 'support-agent', tags: ['1.3.1'], digest: digest('b'), platforms: ['linux/amd64', 'linux/arm/v7'] });
    await s.settle();
    expect(s.emulator.count('UpdateAgentRuntime')).toBe(0);
    const skipped = outcomeEvents(s, 'Runtime Redeploy Skipped');
    expect(skipped).toHaveLength(1);
    expect(skipped[0].detail).toMatchObject({ runtimeId: SUPPORT, reason: 'no-linux-arm64', digest: digest('b'), tag: '1.3.1' });
    expect(skipped[0].detail.message).toContain('linux/amd64, linux/arm/v7');
  });

  it('signatures, attestations, SBOMs and Helm charts under a tag the rule matches are skipped quietly, never deployed', async () => {
    // billingAgent follows every tag.
    const s = await start((c) => { c.runtimes[1].track.tagPolicy = { glob: '*' }; });
    s.pushImage({ repository: 'billing/agent', tags: [`sha256-${'2'.repeat(64)}.sig`], artifact: 'cosign-signature' });
    s.pushImage({ repository: 'billing/agent', tags: [`sha256-${'2'.repeat(64)}.att`], artifact: 'attestation' });
    s.pushImage({ repository: 'billing/agent', tags: ['sbom-2026-05'], artifact: 'sbom' });
    s.pushImage({ repository: 'billing/agent', tags: ['chart-0.4.0'], artifact: 'helm-chart' });
    await s.settle();
    expect(s.emulator.count('UpdateAgentRuntime')).toBe(0);
    expect(outcomeEvents(s)).toEqual([]);
    const r = results(s);
    expect(r.map((x) => `${x.status}:${x.reason}`)).toEqual(Array(4).fill('skipped:not-an-image'));
    // The signature and the attestation carry an image config: only their layers give them away.
    expect(r[0].message).toContain('application/vnd.dev.cosign.simplesigning.v1+json');
    expect(r[1].message).toContain('application/vnd.dsse.envelope.v1+json');
    // The SBOM and the chart say so in the event: ECR is not even asked.
    expect(r[2].message).toContain('text/sbom+json');
    expect(r[3].message).toContain('application/vnd.cncf.helm.config.v1+json');
    expect(s.emulator.count('BatchGetImage')).toBe(2);
    expect(logs!.items().filter((l) => l.level === 'WARN')).toEqual([]);
    // An image right after still deploys.
    s.pushImage({ repository: 'billing/agent', tags: ['release-2026-06-01'], digest: digest('c') });
    await s.settle();
    expect((await getRuntime(s.agentcore_, BILLING)).agentRuntimeArtifact.containerConfiguration.containerUri).toBe(`${REGISTRY}/billing/agent@${digest('c')}`);
  });

  it('a replication into this region deploys the replica when the rule allows the source registry, and is refused otherwise', async () => {
    const s = await start((c) => { c.runtimes[0].track.registry = { accounts: ['123456789012'], regions: ['us-east-1', 'us-west-2'] }; });
    s.ecr.replicate({ repository: 'support-agent', tags: ['1.4.0'], digest: digest('d'), from: { account: '123456789012', region: 'us-west-2' } });
    await s.settle();
    // The replica in this region is what the runtime pulls.
    expect((await getRuntime(s.agentcore_, SUPPORT)).agentRuntimeArtifact.containerConfiguration.containerUri).toBe(`${REGISTRY}/support-agent@${digest('d')}`);
    expect(outcomeEvents(s, 'Runtime Redeploy Started')[0].detail).toMatchObject({ runtimeId: SUPPORT, digest: digest('d'), tag: '1.4.0' });

    s.ecr.replicate({ repository: 'support-agent', tags: ['1.5.0'], digest: digest('e'), from: { account: '999999999999', region: 'us-west-2' } });
    await s.settle();
    expect(results(s).at(-1)).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/registry account 999999999999 is not allowed/) });
    expect(s.emulator.count('UpdateAgentRuntime')).toBe(1);
  });
});
