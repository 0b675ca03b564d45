/**
 * Many runtimes tracking one repository: bounded concurrency, per-runtime outcomes, one failure
 * does not stop the others, and a retryable failure hands the event back to the platform (DLQ).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REGISTRY, captureLogs, digest, exampleSeed, exampleStack, getRuntime } from './redeploy-helpers.ts';

const IDS = ['fleetAgent1-aaaaaaaaaa', 'fleetAgent2-aaaaaaaaaa', 'fleetAgent3-aaaaaaaaaa', 'fleetAgent4-aaaaaaaaaa', 'fleetAgent5-aaaaaaaaaa'];
const GHOST = 'ghostAgent-zzzzzzzzzz';

function fleetConfig(concurrency: number): string {
  const runtime = (id: string) => `  - id: ${id}
    track:
      repository: support-agent
      tagPolicy: { exact: stable }
      registry: { accounts: ['123456789012'], regions: [us-east-1] }
`;
  const text = `version: 1\nruntimes:\n${[...IDS, GHOST].map(runtime).join('')}redeploy:\n  concurrency: ${concurrency}\n`;
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'fleet-')), 'autopilot.config.yaml');
  writeFileSync(file, text);
  return file;
}

function fleetSeed() {
  return exampleSeed((seed) => {
    const template = seed.runtimes[1];
    seed.runtimes = IDS.map((id) => ({ id, config: structuredClone(template.config) }));
  });
}

let stack: Awaited<ReturnType<typeof exampleStack>> | undefined;
let logs: ReturnType<typeof captureLogs> | undefined;
afterEach(async () => {
  logs?.restore();
  await stack?.close();
  stack = undefined;
});

/** Instruments the emulator's fault hook: the most UpdateAgentRuntime calls in flight at once. */
function trackInFlight(s: NonNullable<typeof stack>, delayMs: number) {
  let inFlight = 0;
  let max = 0;
  const before = s.emulator.faults.before.bind(s.emulator.faults);
  s.emulator.faults.before = async (service: string, operation: string) => {
    if (operation !== 'UpdateAgentRuntime') return before(service, operation);
    inFlight++;
    max = Math.max(max, inFlight);
    try {
      await new Promise((r) => setTimeout(r, delayMs));
      return await before(service, operation);
    } finally {
      inFlight--;
    }
  };
  return () => max;
}

describe('onImagePush over a fleet', () => {
  it('updates with at most `redeploy.concurrency` calls in flight and reports each runtime', async () => {
    logs = captureLogs();
    stack = await exampleStack({ seed: fleetSeed(), configFile: fleetConfig(2) });
    const maxInFlight = trackInFlight(stack, 30);
    stack.pushImage({ repository: 'support-agent', tags: ['stable'], digest: digest('7') });
    await stack.settle();

    expect(maxInFlight()).toBe(2);
    for (const id of IDS) {
      const rt = await getRuntime(stack.agentcore_, id);
      expect(rt.agentRuntimeVersion, id).toBe('2');
      expect(rt.agentRuntimeArtifact.containerConfiguration.containerUri).toBe(`${REGISTRY}/support-agent@${digest('7')}`);
    }
    // The unknown runtime failed on its own; the others went ahead.
    const delivery = stack.events.deliveries.find((d) => d.targetId === 'onImagePush')!;
    expect(delivery.outcome).toBe('delivered');
    const result = delivery.result as { status: string; outcomes: { runtimeId: string; status: string; reason: string }[] };
    expect(result.outcomes.map((o) => [o.runtimeId, o.status, o.reason])).toEqual([
      ...IDS.map((id) => [id, 'updated', 'new-digest']),
      [GHOST, 'failed', 'runtime-not-found'],
    ]);
    const failed = stack.events.events.filter((e) => e.event['detail-type'] === 'Runtime Redeploy Failed');
    expect(failed.map((e) => e.event.detail.runtimeId)).toEqual([GHOST]);
  });

  it('a runtime still busy after the time budget fails the invocation: retried by Lambda (async invocation), then dead-lettered', async () => {
    logs = captureLogs();
    stack = await exampleStack({
      seed: fleetSeed(),
      configFile: fleetConfig(5),
    });
    // A small Lambda timeout: 1 s of retry budget after the 10 s safety margin.
    stack.serverless.functions.onImagePush.timeout = 11;
    stack.emulator.faults.addRule({ operation: 'UpdateAgentRuntime', conflicts: 10_000 });
    stack.pushImage({ repository: 'support-agent', tags: ['stable'], digest: digest('8') });
    await stack.settle({ timeoutMs: 60_000 });
    // EventBridge handed the event to Lambda; Lambda ran the function 1 + maximumRetryAttempts (2) times.
    const delivery = stack.events.deliveries.find((d) => d.targetId === 'onImagePush')!;
    expect(delivery).toMatchObject({ outcome: 'delivered', attempts: 1 });
    const [inv] = stack.lambdaAsync.invocations;
    expect(inv).toMatchObject({ functionKey: 'onImagePush', outcome: 'failed', condition: 'RetriesExhausted', attempts: 3 });
    expect(inv.errors[0]).toMatch(/^RedeployIncompleteError: 5 runtime\(s\) could not be updated/);
    expect(stack.deadLetters).toHaveLength(1);
    expect(stack.deadLetters[0]).toMatchObject({ kind: 'invocation', queueArn: expect.stringMatching(/events-dlq/) });
  }, 60_000);
});
