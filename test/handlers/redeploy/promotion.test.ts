/**
 * The six runtime-promotion task handlers, invoked one by one through the stack's Lambda runner
 * (serverless.yml function keys) against the emulator: results, and the error names the ASL matches.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../local/clock.ts';
import { ListTagsForResourceCommand, UpdateAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { decodeRejected } from '../../../functions/domain/redeploy/rejected.ts';
import { PROMOTION_ERROR_NAMES } from '../../../functions/domain/redeploy/errors.ts';
import { PROMOTION_FUNCTION_KEYS } from '../../../functions/domain/redeploy/promotion.ts';
import { REGISTRY, LIVE_SUPPORT_DIGEST, SUPPORT, captureLogs, digest, exampleSeed, exampleStack, getEndpoint, getRuntime } from '../../e2e/redeploy-helpers.ts';

let stack: Awaited<ReturnType<typeof exampleStack>>;
let logs: ReturnType<typeof captureLogs>;
beforeEach(async () => {
  logs = captureLogs();
  // A manual clock: a version settles only when the test advances it (an auto clock could settle it
  // while the test waits for real I/O on a loaded machine).
  stack = await exampleStack({ clock: new VirtualClock({ mode: 'manual' }), seed: exampleSeed((s) => { s.settings.failingImages.push(`${REGISTRY}/support-agent@${digest('0')}`); }) });
});
afterEach(async () => {
  logs.restore();
  await stack.close();
});

const invoke = (key: keyof typeof PROMOTION_FUNCTION_KEYS, input: unknown) => stack.lambda.invoke(PROMOTION_FUNCTION_KEYS[key], input);
const advance = (ms: number) => (stack.clock as unknown as { advance(ms: number): Promise<void> }).advance(ms);
async function errorOf(p: Promise<unknown>): Promise<string> {
  try { await p; } catch (err) { return (err as Error).name; }
  return 'no error';
}

/** supportAgent's rejected digests (ListTagsForResource). */
async function rejected(): Promise<string[]> {
  const arn = (await getRuntime(stack.agentcore_, SUPPORT)).agentRuntimeArn;
  return decodeRejected((await stack.agentcore_.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags);
}

/** A new version of supportAgent using `uri`; resolves to its version. */
async function newVersion(uri: string): Promise<string> {
  const live = await getRuntime(stack.agentcore_, SUPPORT);
  const { agentRuntimeArn: _a, agentRuntimeName: _n, agentRuntimeVersion: _v, createdAt: _c, lastUpdatedAt: _l, status: _s, workloadIdentityDetails: _w, ...fields } = live;
  const out = await stack.agentcore_.send(new UpdateAgentRuntimeCommand({ ...fields, agentRuntimeArtifact: { containerConfiguration: { containerUri: uri } } } as never));
  return out.agentRuntimeVersion!;
}

describe('promotion task handlers', () => {
  it('checkRuntime: UPDATING, then READY; a failed version is RuntimeVersionFailedError', async () => {
    const good = await newVersion(`${REGISTRY}/support-agent@${digest('a')}`);
    expect(await invoke('checkRuntime', { runtimeId: SUPPORT, version: good })).toEqual({ status: 'UPDATING' });
    await advance(60_000);
    expect(await invoke('checkRuntime', { runtimeId: SUPPORT, version: good })).toEqual({ status: 'READY' });
    const bad = await newVersion(`${REGISTRY}/support-agent@${digest('0')}`);
    await advance(60_000);
    expect(await errorOf(invoke('checkRuntime', { runtimeId: SUPPORT, version: bad }))).toBe('RuntimeVersionFailedError');
    expect(await errorOf(invoke('checkRuntime', { runtimeId: SUPPORT, version: '99' }))).toBe('RuntimeVersionFailedError');
    expect(await errorOf(invoke('checkRuntime', { runtimeId: SUPPORT }))).toBe('InvalidPromotionInputError');
  });

  it('checkAlarms: OK passes; ALARM and missing alarms are AlarmNotOkError', async () => {
    stack.cloudwatch.seed({ alarms: [{ name: 'ok-alarm', state: 'OK' }, { name: 'bad-alarm', state: 'ALARM' }] });
    expect(await invoke('checkAlarms', { runtimeId: SUPPORT, alarms: ['ok-alarm'] })).toEqual({ state: 'OK' });
    expect(await errorOf(invoke('checkAlarms', { runtimeId: SUPPORT, alarms: ['ok-alarm', 'bad-alarm'] }))).toBe('AlarmNotOkError');
    expect(await errorOf(invoke('checkAlarms', { runtimeId: SUPPORT, alarms: ['no-such-alarm'] }))).toBe('AlarmNotOkError');
  });

  it('moveEndpoint + checkEndpoint: moves prod keeping its description; a second move is a no-op', async () => {
    const v = await newVersion(`${REGISTRY}/support-agent@${digest('a')}`);
    await advance(60_000);
    expect(await invoke('checkEndpoint', { runtimeId: SUPPORT, endpointName: 'prod' })).toEqual({ endpointName: 'prod', status: 'READY', liveVersion: '1', targetVersion: '1' });
    expect(await invoke('moveEndpoint', { runtimeId: SUPPORT, endpointName: 'prod', targetVersion: v })).toEqual({ endpointName: 'prod', targetVersion: v });
    expect(await invoke('checkEndpoint', { runtimeId: SUPPORT, endpointName: 'prod' })).toEqual({ endpointName: 'prod', status: 'UPDATING', liveVersion: '1', targetVersion: v });
    await invoke('moveEndpoint', { runtimeId: SUPPORT, endpointName: 'prod', targetVersion: v });
    expect(stack.emulator.count('UpdateAgentRuntimeEndpoint')).toBe(1);
    await advance(60_000);
    expect(await getEndpoint(stack.agentcore_, SUPPORT, 'prod')).toMatchObject({ liveVersion: v, status: 'READY', description: 'Production traffic' });
    await invoke('moveEndpoint', { runtimeId: SUPPORT, endpointName: 'prod', targetVersion: v });
    expect(stack.emulator.count('UpdateAgentRuntimeEndpoint')).toBe(1);
  });

  it('moveEndpoint to a failed version: the endpoint ends UPDATE_FAILED, checkEndpoint says EndpointUpdateFailedError', async () => {
    const bad = await newVersion(`${REGISTRY}/support-agent@${digest('0')}`);
    await advance(60_000);
    await invoke('moveEndpoint', { runtimeId: SUPPORT, endpointName: 'prod', targetVersion: bad });
    await advance(60_000);
    expect(await errorOf(invoke('checkEndpoint', { runtimeId: SUPPORT, endpointName: 'prod' }))).toBe('EndpointUpdateFailedError');
    expect((await getEndpoint(stack.agentcore_, SUPPORT, 'prod')).liveVersion).toBe('1');
  });

  it('rollback restores the previous image as a new version, losslessly and idempotently', async () => {
    const previousUri = `${REGISTRY}/support-agent@${LIVE_SUPPORT_DIGEST}`;
    const before = await getRuntime(stack.agentcore_, SUPPORT);
    const bad = await newVersion(`${REGISTRY}/support-agent@${digest('0')}`);
    await advance(60_000);
    const input = { runtimeId: SUPPORT, previousUri, failedVersion: bad, previousVersion: '1' };
    expect(await invoke('rollback', input)).toEqual({ rolledBackVersion: '3', rejectedDigest: digest('0') });
    expect(await invoke('rollback', input)).toEqual({ rolledBackVersion: '3', rejectedDigest: digest('0') });
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(2); // the test's own update + one rollback
    expect(await rejected()).toEqual([digest('0')]);
    await advance(60_000);
    const after = await getRuntime(stack.agentcore_, SUPPORT);
    expect(after.agentRuntimeArtifact.containerConfiguration.containerUri).toBe(previousUri);
    expect(after.environmentVariables).toEqual(before.environmentVariables);
    expect(after.authorizerConfiguration).toEqual(before.authorizerConfiguration);
  });

  it('a late rollback does not overwrite a newer deployment of another image: superseded, nothing updated', async () => {
    const previousUri = `${REGISTRY}/support-agent@${LIVE_SUPPORT_DIGEST}`;
    const failedUri = `${REGISTRY}/support-agent@${digest('0')}`;
    const bad = await newVersion(failedUri);
    await advance(60_000);
    const good = await newVersion(`${REGISTRY}/support-agent@${digest('c')}`); // a newer push, deployed meanwhile
    await advance(60_000);
    stack.emulator.resetCounters();
    // Retried late by the state machine (with and without the failed image in its input).
    for (const input of [
      { runtimeId: SUPPORT, previousUri, failedVersion: bad, previousVersion: '1', failedUri },
      { runtimeId: SUPPORT, previousUri, failedVersion: bad, previousVersion: '1' },
    ]) {
      expect(await invoke('rollback', input)).toEqual({ superseded: true, liveVersion: good, liveUri: `${REGISTRY}/support-agent@${digest('c')}`, rejectedDigest: digest('0') });
    }
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(0);
    const latest = await getRuntime(stack.agentcore_, SUPPORT);
    expect(latest).toMatchObject({ agentRuntimeVersion: good, agentRuntimeArtifact: { containerConfiguration: { containerUri: `${REGISTRY}/support-agent@${digest('c')}` } } });
    expect(await rejected()).toEqual([digest('0')]);

    // Reported as Failed (superseded), not Rolled Back.
    const promotion = {
      runtimeId: SUPPORT, newVersion: bad, previousVersion: '1', newUri: failedUri, previousUri, endpoints: ['prod'],
      failure: { Error: 'AlarmNotOkError', Cause: JSON.stringify({ errorMessage: 'alarm(s) not OK: x=ALARM' }) },
      rollback: { superseded: true, liveVersion: good, rejectedDigest: digest('0') },
      origin: { trigger: 'image-push', repository: 'support-agent', digest: digest('0'), tag: '1.6.0', eventId: 'e-1' },
    };
    expect(await invoke('report', { outcome: 'FAILED', promotion })).toEqual({ published: 'Runtime Redeploy Failed' });
    expect(stack.events.events.at(-1)!.event.detail).toMatchObject({
      runtimeId: SUPPORT, trigger: 'image-push', digest: digest('0'), tag: '1.6.0', eventId: 'e-1', reason: 'superseded', fromVersion: '1', toVersion: bad,
      message: `AlarmNotOkError: alarm(s) not OK: x=ALARM; not rolled back: version ${good} superseded version ${bad}; ${digest('0')} recorded in the runtime's autopilot:rejected-digests tag`,
    });
  });

  it('a newer version running the failed image itself is still rolled back', async () => {
    const previousUri = `${REGISTRY}/support-agent@${LIVE_SUPPORT_DIGEST}`;
    const failedUri = `${REGISTRY}/support-agent@${digest('0')}`;
    const bad = await newVersion(failedUri);
    await advance(60_000);
    await newVersion(`${REGISTRY}/support-agent:1.6.0@${digest('0')}`); // same image, other URI text
    await advance(60_000);
    expect(await invoke('rollback', { runtimeId: SUPPORT, previousUri, failedVersion: bad, previousVersion: '1', failedUri })).toEqual({ rolledBackVersion: '4', rejectedDigest: digest('0') });
  });

  it('report of a failed version without rollback records its digest; its events keep the trigger', async () => {
    const failedUri = `${REGISTRY}/support-agent@${digest('0')}`;
    const bad = await newVersion(failedUri);
    await advance(60_000);
    const promotion = {
      runtimeId: SUPPORT, newVersion: bad, previousVersion: '1', newUri: failedUri, previousUri: 'p', endpoints: [],
      failure: { Error: 'RuntimeVersionFailedError', Cause: JSON.stringify({ errorMessage: `version ${bad} of runtime ${SUPPORT} is UPDATE_FAILED` }) },
      origin: { trigger: 'manual', repository: 'support-agent', digest: digest('0') },
    };
    expect(await invoke('report', { outcome: 'FAILED', promotion })).toEqual({ published: 'Runtime Redeploy Failed' });
    expect(stack.events.events.at(-1)!.event.detail).toMatchObject({ trigger: 'manual', digest: digest('0'), reason: 'version-failed' });
    expect(await rejected()).toEqual([digest('0')]);
  });

  it('rollback on a runtime that stays busy past the budget throws RetryBudgetExceededError (the ASL retries it)', async () => {
    stack.serverless.functions.promotionRollback.timeout = 6; // 1 s of budget after the 5 s margin
    stack.emulator.faults.addRule({ operation: 'UpdateAgentRuntime', conflicts: 1000 });
    const input = { runtimeId: SUPPORT, previousUri: `${REGISTRY}/support-agent@${digest('b')}`, failedVersion: '1', previousVersion: '1' };
    expect(await errorOf(invoke('rollback', input))).toBe('RetryBudgetExceededError');
  });

  it('report publishes the outcome event; every error name thrown here is one the ASL knows', async () => {
    const promotion = { runtimeId: SUPPORT, newVersion: '2', previousVersion: '1', newUri: 'n', previousUri: 'p', endpoints: ['prod'], failure: { Error: 'AlarmNotOkError', Cause: '{}' }, rollback: { rolledBackVersion: '3' } };
    expect(await invoke('report', { outcome: 'ROLLED_BACK', promotion })).toEqual({ published: 'Runtime Redeploy Rolled Back' });
    const [event] = stack.events.events;
    expect(event.event).toMatchObject({ source: 'agentcore-autopilot', 'detail-type': 'Runtime Redeploy Rolled Back' });
    expect(event.event.detail).toMatchObject({ runtimeId: SUPPORT, fromVersion: '2', toVersion: '3', reason: 'AlarmNotOkError', endpoints: ['prod'] });
    expect(await errorOf(invoke('report', { outcome: 'MAYBE', promotion }))).toBe('InvalidPromotionInputError');
    for (const name of ['RuntimeVersionFailedError', 'AlarmNotOkError', 'EndpointUpdateFailedError', 'InvalidPromotionInputError', 'RetryBudgetExceededError', 'RollbackFailedError', 'ServiceUnavailableError', 'ThrottledError']) {
      expect(PROMOTION_ERROR_NAMES).toContain(name);
    }
  });
});
