/**
 * Policy rollout end to end, part 2: the approval gate (the Awaiting Approval event on the bus
 * carries no task token; the token is in the execution history, and SendTaskSuccess /
 * SendTaskFailure answer it: test/e2e/approvals.test.ts drives the approvers' entry point),
 * duplicate and concurrent starts, the `Policy Rollout Requested` EventBridge trigger, and the
 * state-transition count.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SendTaskFailureCommand, SendTaskSuccessCommand, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { countStateTransitions, getExecutionHistory } from '../../functions/adapters/sfn-history.ts';
import { rolloutProgress, type HistoryEventLike } from '../../functions/domain/rollout/inspect.ts';
import { rolloutExecutionName } from '../../functions/domain/rollout/execution-name.ts';
import {
  ENGINE_ARN, GATEWAY_ID, finished, gatewayUpdates, liveGateway, rolloutEvents, rolloutStack, scriptTraffic, GatedClock, type RolloutStack,
} from './rollout-fixture.ts';

let r: RolloutStack | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

// A one-day approval window: no bake sleeps that long, so GatedClock stops exactly at the approval.
const APPROVAL_MINUTES = 24 * 60;
const APPROVAL = { approval: { required: true, timeoutMinutes: APPROVAL_MINUTES } };
const gated = () => new GatedClock(APPROVAL_MINUTES * 60_000);

async function startWithApproval(stack: RolloutStack): Promise<{ executionArn: string; token: string; detail: Record<string, any> }> {
  scriptTraffic(stack.stack, { allowed: 10, denied: 0.1 });
  const started = (await stack.stack.lambda.invoke('startRollout', { gatewayId: GATEWAY_ID, settings: APPROVAL })) as { executionArn: string };
  await stack.stack.settle();
  const awaiting = rolloutEvents(stack.stack).filter((e) => e.detailType === 'Policy Rollout Awaiting Approval');
  expect(awaiting).toHaveLength(1);
  expect(awaiting[0].detail).not.toHaveProperty('taskToken');
  const history = await getExecutionHistory(stack.sfn, started.executionArn);
  const token = rolloutProgress(history as HistoryEventLike[], stack.stack.clock.now()).approvalToken!;
  return { executionArn: started.executionArn, token, detail: awaiting[0].detail };
}

describe('approval gate', () => {
  it('publishes the verify results (no task token on the bus) and enforces once approved', async () => {
    const clock = gated();
    r = await rolloutStack({ clock });
    const { executionArn, token, detail } = await startWithApproval(r);
    expect(typeof token).toBe('string');
    expect(detail).toMatchObject({ stage: 'AWAITING_APPROVAL', gatewayId: GATEWAY_ID, approvalTimeoutSeconds: 86_400, shadow: { verdict: 'PASS' } });
    expect(detail.shadow.report.decisions).toBeGreaterThanOrEqual(590);
    // Parked: nothing enforced while the approval is pending.
    expect(gatewayUpdates(r.stack)).toEqual([]);

    await r.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approvedBy: 'alice' }) }));
    clock.resume();
    const done = await finished(r, executionArn);
    expect(done.output).toMatchObject({ outcome: 'ENFORCED', approval: { approved: true, answer: { approvedBy: 'alice' } } });
    expect((await liveGateway(r)).policyEngineConfiguration).toEqual({ arn: ENGINE_ARN, mode: 'ENFORCE' });
  });

  it('rejected -> ABORTED, never enforced', async () => {
    const clock = gated();
    r = await rolloutStack({ clock });
    const { executionArn, token } = await startWithApproval(r);
    await r.sfn.send(new SendTaskFailureCommand({ taskToken: token, error: 'ApprovalRejectedError', cause: 'bob: too many denies' }));
    clock.resume();
    const done = await finished(r, executionArn);
    expect(done.output).toMatchObject({ outcome: 'ABORTED', approval: { Error: 'ApprovalRejectedError' } });
    expect(gatewayUpdates(r.stack)).toEqual([]);
    expect(rolloutEvents(r.stack).at(-1)).toMatchObject({ detailType: 'Policy Rollout Aborted', detail: { outcome: 'ABORTED' } });
  });

  it('no answer before the deadline -> ABORTED (States.Timeout), never enforced', async () => {
    r = await rolloutStack();
    const t0 = r.stack.clock.now();
    const { executionArn } = await startWithApproval(r);
    const done = await finished(r, executionArn);
    expect(done.output).toMatchObject({ outcome: 'ABORTED', approval: { Error: 'States.Timeout' } });
    // The 60-minute shadow bake, then the whole approval window.
    expect(r.stack.clock.now() - t0).toBeGreaterThanOrEqual((60 + APPROVAL_MINUTES) * 60_000);
    expect(gatewayUpdates(r.stack)).toEqual([]);
  });
});

describe('starting', () => {
  it('a duplicate request returns the running execution; a concurrent rollout of the same gateway is refused', async () => {
    r = await rolloutStack({ clock: gated() });
    const { executionArn } = await startWithApproval(r);
    const again = (await r.stack.lambda.invoke('startRollout', { gatewayId: GATEWAY_ID, settings: APPROVAL })) as Record<string, unknown>;
    expect(again).toMatchObject({ status: 'ALREADY_RUNNING', executionArn });

    await expect(r.stack.lambda.invoke('startRollout', { gatewayId: GATEWAY_ID, attempt: 2 })).rejects.toMatchObject({ name: 'RolloutInProgressError' });
    // Even past startRollout (a direct StartExecution), the preflight refuses and changes nothing.
    const name = rolloutExecutionName(GATEWAY_ID, ENGINE_ARN, 'ENFORCE', { attempt: 'direct' });
    const direct = await r.sfn.send(new StartExecutionCommand({
      stateMachineArn: r.stateMachineArn, name, input: JSON.stringify({ gatewayId: GATEWAY_ID, policyEngineArn: ENGINE_ARN }),
    }));
    const refused = await finished(r, direct.executionArn!);
    expect(refused).toMatchObject({ status: 'FAILED', error: 'RolloutInProgressError' });
    expect(r.stack.sfn.listExecutions().filter((e) => e.status === 'RUNNING').map((e) => e.executionArn)).toEqual([executionArn]);

    // Abort = StopExecution: nothing was enforced.
    await r.sfn.send(new StopExecutionCommand({ executionArn, error: 'Aborted', cause: 'operator' }));
    expect((await finished(r, executionArn)).status).toBe('ABORTED');
    expect(gatewayUpdates(r.stack)).toEqual([]);
  });

  it('bad input is refused before any AWS write', async () => {
    r = await rolloutStack();
    await expect(r.stack.lambda.invoke('startRollout', { gatewayId: 'not a gateway!' })).rejects.toMatchObject({ name: 'InvalidRolloutInputError' });
    await expect(r.stack.lambda.invoke('startRollout', { gatewayId: GATEWAY_ID, settings: { maxDenyRatio: 3 } }))
      .rejects.toMatchObject({ name: 'InvalidRolloutInputError', message: expect.stringContaining('settings.maxDenyRatio') });
    expect(r.stack.emulator.requests.filter((q) => q.operation === 'StartExecution' || q.operation === 'UpdateGateway')).toEqual([]);
  });

  it('the `Policy Rollout Requested` event starts a rollout through the serverless.yml rule, once per request', async () => {
    r = await rolloutStack();
    scriptTraffic(r.stack, { allowed: 10, denied: 0.1 });
    const request = { source: 'agentcore-autopilot.requests', 'detail-type': 'Policy Rollout Requested', detail: { gatewayId: GATEWAY_ID } };
    r.stack.events.put(request, r.stack.requestBus);
    await r.stack.settle();
    r.stack.events.put(request, r.stack.requestBus);
    await r.stack.settle();
    const executions = r.stack.sfn.listExecutions();
    expect(executions).toHaveLength(1);
    expect(executions[0].name).toBe(rolloutExecutionName(GATEWAY_ID, ENGINE_ARN, 'ENFORCE'));
    expect(JSON.parse(executions[0].output!)).toMatchObject({ outcome: 'ENFORCED' });
    expect(r.stack.deadLetters).toEqual([]);
  });
});

describe('cost', () => {
  it('a default successful rollout uses the same number of state transitions for a 10-minute and a 24-hour bake', async () => {
    const counts: number[] = [];
    for (const [attempt, bakeMinutes] of [['short', 10], ['long', 24 * 60]] as const) {
      r = await rolloutStack();
      scriptTraffic(r.stack, { allowed: 20, denied: 0.2 });
      const started = (await r.stack.lambda.invoke('startRollout', { gatewayId: GATEWAY_ID, attempt, settings: { bakeMinutes } })) as { executionArn: string };
      const done = await finished(r, started.executionArn);
      expect(done.output?.outcome).toBe('ENFORCED');
      counts.push(await countStateTransitions(r.sfn, started.executionArn));
      await r.close();
      r = undefined;
    }
    expect(counts[0]).toBe(counts[1]);
    expect(counts[0]).toBeGreaterThan(10);
    expect(counts[0]).toBeLessThanOrEqual(30);
  });
});
