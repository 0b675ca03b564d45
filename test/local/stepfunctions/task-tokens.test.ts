import {
  GetExecutionHistoryCommand, InvalidToken, SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, StartExecutionCommand,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../local/clock.ts';
import { startStack, until, type Stack } from './helpers.ts';

let stack: Stack | undefined;
afterEach(async () => { await stack?.close(); stack = undefined; });

async function start(s: Stack, machine: string, input: unknown): Promise<string> {
  const r = await s.sfn.send(new StartExecutionCommand({ stateMachineArn: s.config.stateMachines[machine].arn, input: JSON.stringify(input) }));
  return r.executionArn!;
}

async function historyTypes(s: Stack, executionArn: string): Promise<string[]> {
  const h = await s.sfn.send(new GetExecutionHistoryCommand({ executionArn }));
  return h.events!.map((e) => e.type!);
}

/** Waits for the approval machine's putEvents and returns the task token it carried. */
async function publishedToken(s: Stack, index = 0): Promise<string> {
  const entries = await until(() => s.putEvents[index]);
  expect(entries).toHaveLength(1);
  expect(entries[0]).toMatchObject({ EventBusName: 'default', Source: 'autopilot', DetailType: 'ApprovalRequested' });
  expect(typeof entries[0].Detail).toBe('string');
  const detail = JSON.parse(entries[0].Detail!) as { taskToken: string; change: string };
  expect(detail.change).toBe('c-7');
  return detail.taskToken;
}

describe('Step Functions stand-in: .waitForTaskToken', () => {
  it('events:putEvents: delivers the token with the entries and resumes on SendTaskSuccess', async () => {
    const clock = new VirtualClock();
    stack = await startStack(clock);
    const arn = await start(stack, 'approval', { change: 'c-7' });
    const token = await publishedToken(stack);
    await until(async () => (await historyTypes(stack!, arn)).at(-1) === 'TaskSubmitted');
    expect((await stack.standIn.getExecution(arn))?.status).toBe('RUNNING');

    await clock.advance(3600_000); // still within TimeoutSeconds (1 day)
    await stack.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approver: 'alice' }) }));
    const done = await stack.standIn.waitForExecution(arn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({ change: 'c-7', approval: { approver: 'alice' } });
    expect(await historyTypes(stack, arn)).toEqual([
      'ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded', 'TaskStateExited',
      'SucceedStateEntered', 'SucceedStateExited', 'ExecutionSucceeded',
    ]);
    const { events } = await stack.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    const scheduled = events!.find((e) => e.type === 'TaskScheduled')!.taskScheduledEventDetails!;
    expect(scheduled).toMatchObject({ resourceType: 'events', resource: 'putEvents.waitForTaskToken', region: 'us-east-1', timeoutInSeconds: 86400 });

    // A token whose task is over, and a token that was never issued.
    await expect(stack.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toBeInstanceOf(TaskTimedOut);
    await expect(stack.sfn.send(new SendTaskSuccessCommand({ taskToken: 'AQnot-a-token', output: '{}' }))).rejects.toBeInstanceOf(InvalidToken);
  });

  it('events:putEvents: SendTaskFailure propagates the error name to the Catch', async () => {
    stack = await startStack(new VirtualClock());
    const arn = await start(stack, 'approval', { change: 'c-7' });
    const token = await publishedToken(stack);
    await until(async () => (await historyTypes(stack!, arn)).at(-1) === 'TaskSubmitted');
    await stack.sfn.send(new SendTaskFailureCommand({ taskToken: token, error: 'ApprovalRejectedError', cause: 'too risky' }));
    const done = await stack.standIn.waitForExecution(arn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({
      change: 'c-7', outcome: 'rejected', error: { Error: 'ApprovalRejectedError', Cause: 'too risky' },
    });
    expect(await historyTypes(stack, arn)).toContain('TaskFailed');
  });

  it('events:putEvents: times out on the clock after TimeoutSeconds with States.Timeout', async () => {
    const clock = new VirtualClock({ mode: 'auto' });
    stack = await startStack(clock);
    const arn = await start(stack, 'approval', { change: 'c-7' });
    const token = await publishedToken(stack);
    const done = await stack.standIn.waitForExecution(arn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    expect(done.stopDate! - done.startDate).toBe(86_400_000);
    expect((await historyTypes(stack, arn)).slice(-2)).toEqual(['TaskTimedOut', 'ExecutionFailed']);
    await expect(stack.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toBeInstanceOf(TaskTimedOut);
  });

  it('lambda:invoke: the real handler receives the token and answers through the SDK (success and failure)', async () => {
    stack = await startStack(new VirtualClock({ mode: 'auto' }));
    const ok = await start(stack, 'callback', { decision: 'approve' });
    const okDone = await stack.standIn.waitForExecution(ok);
    expect(okDone.status).toBe('SUCCEEDED');
    expect(JSON.parse(okDone.output!)).toEqual({ approvedBy: 'autopilot-fixture-dev-approve' });
    expect(await historyTypes(stack, ok)).toEqual([
      'ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded', 'TaskStateExited', 'ExecutionSucceeded',
    ]);

    const rejected = await start(stack, 'callback', { decision: 'reject' });
    const rejectedDone = await stack.standIn.waitForExecution(rejected);
    expect(rejectedDone).toMatchObject({ status: 'FAILED', error: 'ApprovalRejectedError', cause: 'rejected by fixture' });
    // Both answers went through the HTTP API.
    expect(stack.core.counters.get('states:SendTaskSuccess')).toBe(1);
    expect(stack.core.counters.get('states:SendTaskFailure')).toBe(1);
  });

  it('lambda:invoke: heartbeats keep the task alive; a missed heartbeat times it out', async () => {
    const clock = new VirtualClock();
    stack = await startStack(clock);
    const arn = await start(stack, 'callback', { decision: 'ignore' });
    await until(async () => (await historyTypes(stack!, arn)).at(-1) === 'TaskSubmitted');
    const { events } = await stack.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    const params = JSON.parse(events!.find((e) => e.type === 'TaskScheduled')!.taskScheduledEventDetails!.parameters!) as { Payload: { token: string } };
    const token = params.Payload.token;

    await clock.advance(599_000);
    await stack.sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    await clock.advance(599_000);
    await new Promise((r) => setTimeout(r, 10));
    expect(stack.standIn.getExecution(arn)?.status).toBe('RUNNING');
    await clock.advance(2_000);
    const done = await stack.standIn.waitForExecution(arn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    expect(done.stopDate! - done.startDate).toBe(599_000 + 600_000);
    await expect(stack.sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }))).rejects.toBeInstanceOf(TaskTimedOut);
  });
});
