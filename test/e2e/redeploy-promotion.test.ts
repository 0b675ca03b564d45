/**
 * Promotion end to end: image push -> onImagePush -> runtime-promotion state machine (the real ASL
 * on the Step Functions stand-in) -> the six real task handlers -> emulator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { REGISTRY, LIVE_SUPPORT_DIGEST, SECRET, SUPPORT, captureLogs, configOf, digest, exampleSeed, exampleStack, getEndpoint, getRuntime, outcomeEvents } from './redeploy-helpers.ts';

let stack: Awaited<ReturnType<typeof exampleStack>> | undefined;
let logs: ReturnType<typeof captureLogs> | undefined;
afterEach(async () => {
  logs?.restore();
  expect(logs?.text() ?? '').not.toContain(SECRET);
  await stack?.close();
  stack = undefined;
});

const BROKEN = digest('0');

describe('runtime promotion', () => {
  it('success: the prod endpoint serves the new version (liveVersion = new version)', async () => {
    logs = captureLogs();
    stack = await exampleStack();
    stack.pushImage({ repository: 'support-agent', tags: ['1.5.0'], digest: digest('a') });
    await stack.settle();

    const [execution] = stack.sfn.listExecutions();
    expect(execution.name).toBe(`promote-${SUPPORT}-v2`);
    const done = await stack.sfn.waitForExecution(execution.executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toMatchObject({ outcome: 'PROMOTED', runtimeId: SUPPORT, version: '2', previousVersion: '1', endpoints: ['prod'] });
    const prod = await getEndpoint(stack.agentcore_, SUPPORT, 'prod');
    expect(prod).toMatchObject({ liveVersion: '2', status: 'READY', description: 'Production traffic' });
    const promoted = outcomeEvents(stack, 'Runtime Redeploy Promoted');
    expect(promoted.map((e) => e.detail)).toEqual([expect.objectContaining({ runtimeId: SUPPORT, fromVersion: '1', toVersion: '2', endpoints: ['prod'] })]);
  });

  it('an image the seed marks failing: UPDATE_FAILED -> prod stays, the runtime is rolled back to the previous image', async () => {
    logs = captureLogs();
    const failingUri = `${REGISTRY}/support-agent@${BROKEN}`;
    stack = await exampleStack({ seed: exampleSeed((seed) => { seed.settings.failingImages.push(failingUri); }) });
    const before = await getRuntime(stack.agentcore_, SUPPORT);
    stack.pushImage({ repository: 'support-agent', tags: ['1.6.0'], digest: BROKEN });
    await stack.settle();

    const [execution] = stack.sfn.listExecutions();
    const done = await stack.sfn.waitForExecution(execution.executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toMatchObject({ outcome: 'ROLLED_BACK', failedVersion: '2', previousVersion: '1', rolledBackVersion: '3', error: 'RuntimeVersionFailedError' });

    expect((await getRuntime(stack.agentcore_, SUPPORT, '2')).status).toBe('UPDATE_FAILED');
    // The rolled-back version settles like any update.
    await (stack.clock as unknown as { advance(ms: number): Promise<void> }).advance(60_000);
    const latest = await getRuntime(stack.agentcore_, SUPPORT);
    expect(latest).toMatchObject({ agentRuntimeVersion: '3', status: 'READY' });
    expect(latest.agentRuntimeArtifact.containerConfiguration.containerUri).toBe(`${REGISTRY}/support-agent@${LIVE_SUPPORT_DIGEST}`);
    expect(configOf(latest)).toEqual(configOf(before));
    expect((await getEndpoint(stack.agentcore_, SUPPORT, 'prod'))).toMatchObject({ liveVersion: '1', status: 'READY' });
    expect(stack.emulator.count('UpdateAgentRuntimeEndpoint')).toBe(0);

    const types = outcomeEvents(stack).map((e) => e.detailType);
    expect(types).toEqual(['Runtime Redeploy Started', 'Runtime Redeploy Rolled Back']);
    expect(outcomeEvents(stack, 'Runtime Redeploy Rolled Back')[0].detail).toMatchObject({
      runtimeId: SUPPORT, fromVersion: '2', toVersion: '3', fromUri: failingUri, toUri: `${REGISTRY}/support-agent@${LIVE_SUPPORT_DIGEST}`, reason: 'RuntimeVersionFailedError',
    });
  });

  it('without rollbackOnFailure the failed version stays and the outcome is FAILED', async () => {
    logs = captureLogs();
    const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const config = readFileSync(path.join(import.meta.dirname, '../../autopilot.config.yaml'), 'utf8').replace('rollbackOnFailure: true', 'rollbackOnFailure: false');
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'norollback-')), 'autopilot.config.yaml');
    writeFileSync(file, config);
    stack = await exampleStack({ configFile: file, seed: exampleSeed((seed) => { seed.settings.failingImages.push(`${REGISTRY}/support-agent@${BROKEN}`); }) });
    stack.pushImage({ repository: 'support-agent', tags: ['1.6.0'], digest: BROKEN });
    await stack.settle();
    const [execution] = stack.sfn.listExecutions();
    const done = await stack.sfn.waitForExecution(execution.executionArn);
    expect(JSON.parse(done.output!)).toMatchObject({ outcome: 'FAILED', error: 'RuntimeVersionFailedError' });
    expect((await getRuntime(stack.agentcore_, SUPPORT)).agentRuntimeVersion).toBe('2');
    expect((await getEndpoint(stack.agentcore_, SUPPORT, 'prod')).liveVersion).toBe('1');
    expect(outcomeEvents(stack, 'Runtime Redeploy Failed').map((e) => e.detail)).toEqual([
      expect.objectContaining({
        runtimeId: SUPPORT, reason: 'version-failed', fromVersion: '1', toVersion: '2',
        message: `RuntimeVersionFailedError: version 2 of runtime ${SUPPORT} is UPDATE_FAILED; ${BROKEN} recorded in the runtime's autopilot:rejected-digests tag`,
      }),
    ]);
  });

  it('an alarm not OK keeps prod on the previous version and rolls back', async () => {
    logs = captureLogs();
    const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const config = readFileSync(path.join(import.meta.dirname, '../../autopilot.config.yaml'), 'utf8').replace(/alarms: \[\] +# CloudWatch alarms that must be OK before promoting.*/, 'alarms: [supportAgent-5xx]');
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'alarm-')), 'autopilot.config.yaml');
    writeFileSync(file, config);
    stack = await exampleStack({ configFile: file });
    stack.cloudwatch.seed({ alarms: [{ name: 'supportAgent-5xx', state: 'ALARM' }] });
    stack.pushImage({ repository: 'support-agent', tags: ['1.7.0'], digest: digest('c') });
    await stack.settle();
    const [execution] = stack.sfn.listExecutions();
    const done = await stack.sfn.waitForExecution(execution.executionArn);
    expect(JSON.parse(done.output!)).toMatchObject({ outcome: 'ROLLED_BACK', error: 'AlarmNotOkError' });
    expect((await getEndpoint(stack.agentcore_, SUPPORT, 'prod')).liveVersion).toBe('1');
  });
});
