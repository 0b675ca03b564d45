/**
 * onChangeRequest end to end: a `Runtime Change Requested` event on the bus -> serverless.yml rule
 * -> real handler -> lossless UpdateAgentRuntime on the emulator.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../local/stack.ts';
import { BILLING, REGISTRY, SECRET, SUPPORT, captureLogs, configOf, digest, exampleStack, getEndpoint, getRuntime, outcomeEvents } from './redeploy-helpers.ts';

const NEW_SECRET = 'n3w-S3CR3T-never-logged';

let stack: Awaited<ReturnType<typeof exampleStack>>;
let logs: ReturnType<typeof captureLogs>;
beforeEach(async () => {
  logs = captureLogs();
  stack = await exampleStack();
});
afterEach(async () => {
  logs.restore();
  // What autopilot wrote: logs, its outcome events, its handlers' results (the request itself carries the value).
  const ours = stack.events.events.filter((e) => e.event['detail-type'].startsWith('Runtime Redeploy'));
  const everything = logs.text() + JSON.stringify(ours) + JSON.stringify(stack.events.deliveries.map((d) => [d.result, d.errors]));
  await stack.close();
  expect(everything).not.toContain(SECRET);
  expect(everything).not.toContain(NEW_SECRET);
});

function request(detail: Record<string, unknown>, id = crypto.randomUUID()) {
  return {
    version: '0' as const, id, source: 'agentcore-autopilot.requests', 'detail-type': 'Runtime Change Requested',
    account: '123456789012', region: 'us-east-1', time: '2026-11-16T03:00:00Z', resources: [] as string[], detail,
  };
}
const results = () => stack.events.deliveries.filter((d) => d.targetId === 'onChangeRequest').map((d) => d.result as any);

describe('onChangeRequest', () => {
  it('refuses an image that is not in its registry, or is no container image, like a push: no write', async () => {
    stack.ecr.seed({ repositories: [{ name: 'support-agent', images: [{ tags: ['chart-1'], artifact: 'helm-chart' }] }] });
    stack.events.put(request({ runtime: { id: SUPPORT }, change: { containerUri: `${REGISTRY}/support-agent@${digest('7')}` } }), stack.requestBus);
    stack.events.put(request({ runtime: { id: SUPPORT }, change: { containerUri: `${REGISTRY}/support-agent:chart-1` } }), stack.requestBus);
    await stack.settle();
    expect(results().map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(results()[0].reason).toMatch(/no image sha256:7{64} in ECR repository support-agent/);
    expect(results()[1].reason).toMatch(/not deployable: .*helm/);
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(0);
  });

  it('applies image, env set/unset and other fields losslessly, publishes a redacted diff and promotes', async () => {
    const before = await getRuntime(stack.agentcore_, SUPPORT);
    // The requested image is in ECR (a missing one is refused like a push would be).
    stack.ecr.seed({ repositories: [{ name: 'support-agent', images: [{ tags: ['1.8.0'], digest: digest('8') }] }] });
    const uri = `${REGISTRY}/support-agent:1.8.0@${digest('8')}`;
    stack.events.put(request({
      runtime: { id: SUPPORT },
      change: {
        containerUri: uri,
        environmentVariables: { set: { LOG_LEVEL: 'debug', NEW_TOKEN: NEW_SECRET }, unset: ['MODEL_ID'] },
        set: { lifecycleConfiguration: { idleRuntimeSessionTimeout: 600, maxLifetime: 3600 } },
        unset: ['description'],
      },
      requestId: 'ticket-4711',
    }), stack.requestBus);
    await stack.settle();

    const after = await getRuntime(stack.agentcore_, SUPPORT, '2');
    expect(after.agentRuntimeArtifact).toEqual({ containerConfiguration: { containerUri: uri } });
    expect(after.environmentVariables).toEqual({ LOG_LEVEL: 'debug', API_TOKEN: SECRET, NEW_TOKEN: NEW_SECRET });
    expect(after.lifecycleConfiguration).toEqual({ idleRuntimeSessionTimeout: 600, maxLifetime: 3600 });
    expect(after.description).toBeUndefined();
    const { environmentVariables: _e1, lifecycleConfiguration: _l1, description: _d1, ...restAfter } = configOf(after);
    const { environmentVariables: _e2, lifecycleConfiguration: _l2, description: _d2, ...restBefore } = configOf(before);
    expect(restAfter).toEqual(restBefore);

    const started = outcomeEvents(stack, 'Runtime Redeploy Started')[0].detail;
    expect(started).toMatchObject({ runtimeId: SUPPORT, trigger: 'change-request', requestId: 'ticket-4711', fromVersion: '1', toVersion: '2' });
    const byPath = Object.fromEntries(started.changes.map((c: any) => [c.path, c]));
    expect(byPath['/environmentVariables/NEW_TOKEN']).toEqual({ path: '/environmentVariables/NEW_TOKEN', kind: 'added', to: '<redacted>' });
    expect(byPath['/environmentVariables/LOG_LEVEL']).toEqual({ path: '/environmentVariables/LOG_LEVEL', kind: 'changed', from: '<redacted>', to: '<redacted>' });
    expect(byPath['/environmentVariables/MODEL_ID']).toEqual({ path: '/environmentVariables/MODEL_ID', kind: 'removed', from: '<redacted>' });
    expect(byPath['/description']).toEqual({ path: '/description', kind: 'removed', from: '<redacted>' });
    expect(byPath['/lifecycleConfiguration/maxLifetime']).toMatchObject({ kind: 'changed', from: 28800, to: 3600 });
    expect(Object.keys(byPath)).not.toContain('/environmentVariables/API_TOKEN');
    // supportAgent's rule promotes prod: the requested version is promoted like a pushed one.
    expect((await getEndpoint(stack.agentcore_, SUPPORT, 'prod')).liveVersion).toBe('2');
  });

  it('resolves a runtime by name (declared by name); a duplicate delivery makes no second version', async () => {
    // Requests name a runtime the way the config declares it: here billingAgent by name.
    const config = path.join(mkdtempSync(path.join(tmpdir(), 'autopilot-by-name-')), 'autopilot.config.yaml');
    writeFileSync(config, readFileSync(path.join(REPO_ROOT, 'autopilot.config.yaml'), 'utf8').replace('- id: billingAgent-f6g7h8i9j0', '- name: billingAgent'));
    await stack.close();
    stack = await exampleStack({ configFile: config });
    const event = request({ runtime: { name: 'billingAgent' }, change: { environmentVariables: { set: { LOG_LEVEL: 'error' } } } });
    stack.events.put(event, stack.requestBus);
    await stack.settle();
    stack.events.put(event, stack.requestBus);
    await stack.settle();
    expect(stack.agentcore.getRuntime(BILLING).versions.map((v) => v.version)).toEqual([1, 2]);
    expect((await getRuntime(stack.agentcore_, BILLING)).environmentVariables).toEqual({ LOG_LEVEL: 'error' });
    expect(results().map((r) => r.outcomes[0].status)).toEqual(['updated', 'skipped']);
    expect(results()[1].outcomes[0].reason).toBe('no-change');
  });

  it('dryRun plans without writing', async () => {
    stack.events.put(request({ runtime: { id: BILLING }, change: { set: { description: 'x' } }, dryRun: true }), stack.requestBus);
    await stack.settle();
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(0);
    const [outcome] = results()[0].outcomes;
    expect(outcome).toMatchObject({ status: 'planned', changes: [{ path: '/description', kind: 'added', to: '<redacted>' }] });
    expect(outcomeEvents(stack)).toEqual([]);
  });

  it('refuses invalid requests with a specific reason and no API call', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ runtime: { id: SUPPORT }, change: { unset: ['roleArn'] } }, /roleArn is required and cannot be cleared/],
      [{ runtime: { id: SUPPORT }, change: { set: { agentRuntimeName: 'x' } } }, /agentRuntimeName is not an UpdateAgentRuntime field/],
      [{ runtime: { id: SUPPORT }, change: { environmentVariables: { set: { A: NEW_SECRET }, unset: ['A'] } } }, /both sets and unsets A/],
      [{ runtime: { id: SUPPORT }, change: { containerUri: 'docker.io/library/nginx:latest' } }, /containerUri is not an ECR image URI/],
      // Passes the service model's pattern, not the Docker tag grammar pushes follow.
      [{ runtime: { id: SUPPORT }, change: { containerUri: `${REGISTRY}/support-agent:$(id)` } }, /containerUri has an invalid image tag/],
      [{ runtime: { id: SUPPORT }, change: { set: { agentRuntimeArtifact: { containerConfiguration: { containerUri: `${REGISTRY}/support-agent:-x` } } } } }, /containerUri has an invalid image tag/],
      // Outside the tracking rule's registry (accounts ['123456789012'], regions [us-east-1]).
      [{ runtime: { id: SUPPORT }, change: { containerUri: `999999999999.dkr.ecr.us-east-1.amazonaws.com/support-agent@${digest('1')}` } }, /registry account 999999999999 is not allowed/],
      [{ runtime: { id: SUPPORT }, change: { containerUri: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/support-agent@${digest('1')}` } }, /registry region eu-west-1 is not allowed/],
      [{ runtime: { id: SUPPORT }, change: { containerUri: 'public.ecr.aws/someone/agent:1.0' } }, /not in a private ECR registry/],
      // No registry in billing's rule: the home account/region only, as for pushes.
      [{ runtime: { id: BILLING }, change: { containerUri: `999999999999.dkr.ecr.us-east-1.amazonaws.com/billing/agent@${digest('1')}` } }, /registry account 999999999999 is not allowed/],
      [{ runtime: { id: SUPPORT }, change: {} }, /change is empty/],
      [{ runtime: { id: SUPPORT, name: 'x' }, change: { set: { description: 'y' } } }, /exactly one of id or name/],
      [{ change: { set: { description: 'y' } } }, /missing runtime/],
      [{ runtime: { id: SUPPORT }, change: { set: { protocolConfiguration: { serverProtocol: 'SMTP' } } } }, /protocolConfiguration/],
    ];
    for (const [detail, reason] of cases) {
      stack.emulator.resetCounters();
      const result = await stack.lambda.invoke('onChangeRequest', request(detail)) as { status: string; reason: string };
      expect(result.status, String(reason)).toBe('rejected');
      expect(result.reason).toMatch(reason);
      // No AgentCore call; only the `Request Refused` report (PutEvents).
      expect(stack.emulator.requests.map((r) => `${r.service}:${r.operation}`)).toEqual(['events:PutEvents']);
    }
    expect(logs.items().filter((l) => l.message === 'Request refused')).toHaveLength(cases.length);
  });

  it('a runtime the config does not declare is refused and reported, not retried', async () => {
    stack.events.put(request({ runtime: { id: 'nobodyHere-abcdefghij' }, change: { set: { description: 'y' } } }), stack.requestBus);
    await stack.settle();
    expect(results()[0]).toMatchObject({ status: 'rejected', reason: expect.stringContaining('not declared') });
    expect(stack.events.events.filter((e) => e.event['detail-type'] === 'Request Refused').map((e) => e.event.detail))
      .toMatchObject([{ request: 'Runtime Change Requested', reason: 'undeclared-runtime', resource: 'nobodyHere-abcdefghij' }]);
    expect(stack.emulator.count('GetAgentRuntime') + stack.emulator.count('UpdateAgentRuntime')).toBe(0);
    expect(stack.deadLetters).toEqual([]);
  });
});
