import {
  DescribeExecutionCommand, ExecutionAlreadyExists, ExecutionDoesNotExist, GetExecutionHistoryCommand, InvalidArn, InvalidName,
  ListExecutionsCommand, StartExecutionCommand, StateMachineDoesNotExist, StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../local/clock.ts';
import { startStack, until, type Stack } from './helpers.ts';

const HOUR = 3600_000;
let stack: Stack | undefined;
afterEach(async () => { await stack?.close(); stack = undefined; });

async function start(s: Stack, input: unknown, name?: string, machine = 'pipeline'): Promise<string> {
  const r = await s.sfn.send(new StartExecutionCommand({
    stateMachineArn: s.config.stateMachines[machine].arn, name, input: JSON.stringify(input),
  }));
  return r.executionArn!;
}

async function historyTypes(s: Stack, executionArn: string): Promise<string[]> {
  const h = await s.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return h.events!.map((e) => e.type!);
}

describe('Step Functions stand-in: executions', () => {
  it('runs the real ASL (Lambda tasks, Retry, Choice, 1 h Wait) to SUCCEEDED on an auto clock in well under a second', async () => {
    const clock = new VirtualClock({ mode: 'auto' });
    stack = await startStack(clock);
    const t0 = clock.now();
    const started = Date.now();
    const arn = await start(stack, { mode: 'deploy', failures: 2, change: 'c-1' }, 'run-1');
    expect(arn).toBe('arn:aws:states:us-east-1:123456789012:execution:autopilot-fixture-dev-pipeline:run-1');
    await stack.standIn.waitForExecution(arn);
    expect(Date.now() - started).toBeLessThan(800);

    const d = await stack.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(d.status).toBe('SUCCEEDED');
    expect(JSON.parse(d.output!)).toEqual({
      mode: 'deploy', failures: 2, change: 'c-1',
      work: { worked: true, change: 'c-1' },
      flaky: { attempts: 3 },
    });
    expect(d.startDate!.getTime()).toBe(t0);
    // Two retries (30 s, then 60 s with BackoffRate 2) and the 1 h bake, all on the virtual clock.
    expect(d.stopDate!.getTime() - t0).toBe(HOUR + 90_000);

    expect(await historyTypes(stack, arn)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionSucceeded', 'TaskStateExited',
      'TaskStateEntered',
      'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionFailed',
      'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionFailed',
      'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionSucceeded',
      'TaskStateExited',
      'ChoiceStateEntered', 'ChoiceStateExited',
      'WaitStateEntered', 'WaitStateExited',
      'SucceedStateEntered', 'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('records ids, timestamps and details the way GetExecutionHistory returns them', async () => {
    const clock = new VirtualClock({ mode: 'auto' });
    stack = await startStack(clock);
    const t0 = clock.now();
    const arn = await start(stack, { mode: 'deploy', failures: 1 }, 'details');
    await stack.standIn.waitForExecution(arn);
    const { events } = await stack.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    expect(events!.map((e) => e.id)).toEqual(events!.map((_, i) => i + 1));
    expect(events![0].previousEventId).toBe(0);
    expect(events![0].executionStartedEventDetails?.input).toBe(JSON.stringify({ mode: 'deploy', failures: 1 }));
    const failed = events!.find((e) => e.type === 'LambdaFunctionFailed')!;
    expect(failed.lambdaFunctionFailedEventDetails?.error).toBe('TransientError');
    expect(JSON.parse(failed.lambdaFunctionFailedEventDetails!.cause!)).toMatchObject({ errorType: 'TransientError', errorMessage: 'attempt 1 failed' });
    const scheduled = events!.find((e) => e.type === 'LambdaFunctionScheduled')!;
    expect(scheduled.lambdaFunctionScheduledEventDetails?.resource).toBe(stack.config.functions.work.arn);
    const waitEntered = events!.find((e) => e.type === 'WaitStateEntered')!;
    const waitExited = events!.find((e) => e.type === 'WaitStateExited')!;
    expect(waitEntered.stateEnteredEventDetails?.name).toBe('Bake');
    expect(waitExited.timestamp!.getTime() - waitEntered.timestamp!.getTime()).toBe(HOUR);
    expect(waitEntered.timestamp!.getTime() - t0).toBe(30_000);
    const times = events!.map((e) => e.timestamp!.getTime());
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    const reversed = await stack.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 2, includeExecutionData: false }));
    expect(reversed.events!.map((e) => e.type)).toEqual(['ExecutionSucceeded', 'SucceedStateExited']);
    expect(reversed.events![0].executionSucceededEventDetails?.output).toBeUndefined();
    const next = await stack.sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 2, nextToken: reversed.nextToken }));
    expect(next.events!.map((e) => e.type)).toEqual(['SucceedStateEntered', 'WaitStateExited']);
  });

  it('routes a named handler error to the Catch (Error = errorType, Cause = Lambda JSON)', async () => {
    stack = await startStack(new VirtualClock({ mode: 'auto' }));
    const arn = await start(stack, { mode: 'fail', failures: 0 });
    const done = await stack.standIn.waitForExecution(arn);
    expect(done.status).toBe('SUCCEEDED');
    const out = JSON.parse(done.output!);
    expect(out.outcome).toBe('recovered');
    expect(out.error.Error).toBe('DeployFailedError');
    expect(JSON.parse(out.error.Cause)).toMatchObject({ errorType: 'DeployFailedError', errorMessage: 'runtime update rejected' });
    const types = await historyTypes(stack, arn);
    expect(types.slice(-9)).toEqual([
      'ChoiceStateExited',
      'TaskStateEntered', 'LambdaFunctionScheduled', 'LambdaFunctionStarted', 'LambdaFunctionFailed', 'TaskStateExited',
      'PassStateEntered', 'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('fails the execution with the error name once retries are exhausted', async () => {
    const clock = new VirtualClock({ mode: 'auto' });
    stack = await startStack(clock);
    const t0 = clock.now();
    const arn = await start(stack, { mode: 'deploy', failures: 10 });
    const done = await stack.standIn.waitForExecution(arn);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('TransientError');
    expect(JSON.parse(done.cause!)).toMatchObject({ errorMessage: 'attempt 4 failed' });
    expect(done.stopDate! - t0).toBe(30_000 + 60_000 + 120_000);
    expect((await historyTypes(stack, arn)).filter((t) => t === 'LambdaFunctionFailed')).toHaveLength(4);
  });

  it('holds an execution at the Wait state on a manual clock until time is advanced', async () => {
    const clock = new VirtualClock();
    stack = await startStack(clock);
    const arn = await start(stack, { mode: 'deploy', failures: 0 }, 'held');
    await until(async () => (await historyTypes(stack!, arn)).at(-1) === 'WaitStateEntered');
    await new Promise((r) => setTimeout(r, 20));
    expect((await stack.sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('RUNNING');
    await clock.advance(HOUR - 1000);
    await new Promise((r) => setTimeout(r, 20));
    expect((await stack.sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('RUNNING');
    await clock.advance(1000);
    const done = await stack.standIn.waitForExecution(arn);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.stopDate! - done.startDate).toBe(HOUR);
  });

  it('is idempotent for the same name and input while running, ExecutionAlreadyExists otherwise', async () => {
    const clock = new VirtualClock();
    stack = await startStack(clock);
    const input = { mode: 'deploy', failures: 0 };
    const arn = await start(stack, input, 'dup');
    expect(await start(stack, input, 'dup')).toBe(arn);
    await expect(start(stack, { ...input, change: 'other' }, 'dup')).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    await until(async () => (await historyTypes(stack!, arn)).at(-1) === 'WaitStateEntered');
    await clock.advance(HOUR);
    await stack.standIn.waitForExecution(arn);
    await expect(start(stack, input, 'dup')).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });

  it('validates names, ARNs and existence with the SDK error classes', async () => {
    stack = await startStack(new VirtualClock({ mode: 'auto' }));
    await expect(start(stack, {}, 'bad name')).rejects.toBeInstanceOf(InvalidName);
    await expect(stack.sfn.send(new StartExecutionCommand({ stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:nope' })))
      .rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(stack.sfn.send(new DescribeExecutionCommand({ executionArn: 'arn:aws:states:us-east-1:123456789012:execution:autopilot-fixture-dev-pipeline:nope' })))
      .rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(stack.sfn.send(new DescribeExecutionCommand({ executionArn: 'not-an-arn' }))).rejects.toBeInstanceOf(InvalidArn);
  });

  it('lists executions newest first, filtered by status and paginated', async () => {
    const clock = new VirtualClock();
    stack = await startStack(clock);
    const fast = await start(stack, { mode: 'fail', failures: 0 }, 'fast');
    await stack.standIn.waitForExecution(fast);
    const slow1 = await start(stack, { mode: 'deploy', failures: 0 }, 'slow-1');
    const slow2 = await start(stack, { mode: 'deploy', failures: 0 }, 'slow-2');
    await until(async () => (await historyTypes(stack!, slow2)).at(-1) === 'WaitStateEntered');
    const stateMachineArn = stack.config.stateMachines.pipeline.arn;

    const running = await stack.sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING' }));
    expect(running.executions!.map((e) => e.name)).toEqual(['slow-2', 'slow-1']);
    const succeeded = await stack.sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'SUCCEEDED' }));
    expect(succeeded.executions!.map((e) => [e.name, e.status])).toEqual([['fast', 'SUCCEEDED']]);
    expect(succeeded.executions![0].stopDate).toBeInstanceOf(Date);

    const page1 = await stack.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 2 }));
    expect(page1.executions!.map((e) => e.name)).toEqual(['slow-2', 'slow-1']);
    const page2 = await stack.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 2, nextToken: page1.nextToken }));
    expect(page2.executions!.map((e) => e.name)).toEqual(['fast']);
    expect(page2.nextToken).toBeUndefined();
    await expect(stack.sfn.send(new ListExecutionsCommand({ stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:nope' })))
      .rejects.toBeInstanceOf(StateMachineDoesNotExist);
    void slow1;
  });

  it('StopExecution aborts a parked execution', async () => {
    const clock = new VirtualClock();
    stack = await startStack(clock);
    const arn = await start(stack, { mode: 'deploy', failures: 0 }, 'to-stop');
    await until(async () => (await historyTypes(stack!, arn)).at(-1) === 'WaitStateEntered');
    await clock.advance(60_000);
    const stopped = await stack.sfn.send(new StopExecutionCommand({ executionArn: arn, error: 'Operator', cause: 'stopped by test' }));
    expect(stopped.stopDate!.getTime()).toBe(clock.now());
    const d = await stack.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(d).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'stopped by test' });
    expect(d.output).toBeUndefined();
    expect((await historyTypes(stack, arn)).slice(-2)).toEqual(['WaitStateEntered', 'ExecutionAborted']);
    expect(clock.pending()).toBe(0); // the Wait's sleep was cancelled
    await clock.advance(HOUR);
    expect((await stack.sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('ABORTED');
    expect((await historyTypes(stack, arn)).at(-1)).toBe('ExecutionAborted');
  });

  it('times an execution out on the clock (TimeoutSeconds of the state machine)', async () => {
    const clock = new VirtualClock({ mode: 'auto' });
    stack = await startStack(clock);
    const stateMachineArn = stack.standIn.registerStateMachine({
      name: 'short',
      definition: { TimeoutSeconds: 60, StartAt: 'Long', States: { Long: { Type: 'Wait', Seconds: 3600, End: true } } },
    });
    const { executionArn } = await stack.sfn.send(new StartExecutionCommand({ stateMachineArn }));
    const done = await stack.standIn.waitForExecution(executionArn!);
    expect(done).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    expect(done.stopDate! - done.startDate).toBe(60_000);
    expect((await historyTypes(stack, executionArn!)).slice(-2)).toEqual(['WaitStateEntered', 'ExecutionTimedOut']);
  });

  it('rejects definitions the ASL validator rejects', async () => {
    stack = await startStack(new VirtualClock());
    expect(() => stack!.standIn.registerStateMachine({ name: 'broken', definition: { StartAt: 'Missing', States: {} } }))
      .toThrow(/InvalidDefinition|Invalid State Machine Definition/);
  });
});
