/**
 * The Step Functions stand-in enforces the service's quotas: 256 KiB per state input/output and
 * task result (States.DataLimitExceeded, which States.ALL does not catch), 25,000 history events
 * per execution, 256 KiB of StartExecution input, one year per execution.
 */
import { SFNClient, StartExecutionCommand, ValidationException } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../local/clock.ts';
import { startHttpCore, type HttpCore } from '../../../local/emulator/server.ts';
import { StepFunctionsStandIn } from '../../../local/emulator/stepfunctions/index.ts';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:big';
const BIG = 'x'.repeat(260 * 1024);

let core: HttpCore | undefined;
afterEach(async () => { await core?.close(); core = undefined; });

function standIn(invoked: string[] = []) {
  return new StepFunctionsStandIn({
    clock: new VirtualClock({ mode: 'auto' }),
    validateDefinitions: false,
    invokeLambda: async (_target, payload) => {
      invoked.push(JSON.stringify(payload).slice(0, 20));
      return (payload as { big?: boolean })?.big ? { blob: BIG } : { small: true };
    },
  });
}

async function run(sfn: StepFunctionsStandIn, definition: Record<string, unknown>, input: unknown = {}) {
  const arn = sfn.registerStateMachine({ name: `m-${Math.random().toString(36).slice(2, 8)}`, definition });
  const { executionArn } = sfn.startExecution({ stateMachineArn: arn, input: JSON.stringify(input) });
  return sfn.waitForExecution(executionArn);
}

describe('Step Functions stand-in: service limits', () => {
  it('a task result over 256 KiB fails the execution with States.DataLimitExceeded; Retry and Catch on States.ALL do not apply', async () => {
    const invoked: string[] = [];
    const sfn = standIn(invoked);
    const done = await run(sfn, {
      StartAt: 'Big',
      States: {
        Big: {
          Type: 'Task', Resource: FN, Parameters: { big: true },
          Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 3, IntervalSeconds: 1 }],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
          End: true,
        },
        Caught: { Type: 'Succeed' },
      },
    });
    expect(done).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(done.cause).toMatch(/The result of task Big is \d+ bytes, more than the 262144-byte payload quota/);
    expect(invoked).toHaveLength(1);
    expect(done.history.map((e) => e.type)).not.toContain('SucceedStateEntered');
    expect(done.history.at(-1)!.type).toBe('ExecutionFailed');
  });

  it('a Pass state whose output is over 256 KiB fails the execution too', async () => {
    const done = await run(standIn(), { StartAt: 'P', States: { P: { Type: 'Pass', Result: { blob: BIG }, End: true } } });
    expect(done).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(done.cause).toMatch(/output of state P/);
  });

  it('an execution reaching 25,000 history events fails; the 25,000th event is ExecutionFailed', async () => {
    const done = await run(standIn(), {
      StartAt: 'Loop',
      States: {
        Loop: { Type: 'Pass', Next: 'Again' },
        Again: { Type: 'Choice', Choices: [{ Variable: '$.stop', IsPresent: true, Next: 'Done' }], Default: 'Loop' },
        Done: { Type: 'Succeed' },
      },
    });
    expect(done).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(done.cause).toMatch(/history reached the quota of 25000 events/);
    expect(done.history).toHaveLength(25_000);
    expect(done.history.at(-1)!.type).toBe('ExecutionFailed');
  });

  it('an execution still running after one year times out (States.Timeout), with or without TimeoutSeconds', async () => {
    const year = 365 * 24 * 3600;
    for (const TimeoutSeconds of [undefined, 2 * year]) {
      const done = await run(standIn(), { StartAt: 'W', TimeoutSeconds, States: { W: { Type: 'Wait', Seconds: year + 60, End: true } } });
      expect(done).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
      expect(done.stopDate! - done.startDate).toBe(year * 1000);
      expect(done.history.at(-1)!.type).toBe('ExecutionTimedOut');
    }
    const inTime = await run(standIn(), { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: year - 60, End: true } } });
    expect(inTime.status).toBe('SUCCEEDED');
  });

  it('StartExecution refuses an input over 256 KiB (ValidationException)', async () => {
    const sfn = standIn();
    const arn = sfn.registerStateMachine({ name: 'small', definition: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } } });
    core = await startHttpCore({ services: [sfn], clock: new VirtualClock() });
    const client = new SFNClient({ endpoint: core.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
    try {
      await expect(client.send(new StartExecutionCommand({ stateMachineArn: arn, input: JSON.stringify({ blob: BIG }) }))).rejects.toBeInstanceOf(ValidationException);
      expect((await client.send(new StartExecutionCommand({ stateMachineArn: arn, input: '{"ok":true}' }))).executionArn).toBeDefined();
    } finally {
      client.destroy();
    }
  });
});
