import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  SFNClient,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { SfnAdapter } from '../../functions/adapters/sfn.ts';
import { ExecutionAlreadyExistsError, ResourceNotFoundError } from '../../functions/lib/errors.ts';

const sfn = mockClient(SFNClient);
const machine = 'arn:aws:states:us-east-1:123456789012:stateMachine:policy-rollout';

describe('SfnAdapter', () => {
  let adapter: SfnAdapter;
  beforeEach(() => {
    sfn.reset();
    adapter = new SfnAdapter(new SFNClient({ region: 'us-east-1' }));
  });

  it('startExecution sends the input as JSON with the execution name', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${machine}:run-1`, startDate: new Date(0) });

    const out = await adapter.startExecution({ stateMachineArn: machine, name: 'run-1', input: { gatewayId: 'gw-1' } });

    expect(out.executionArn).toBe(`${machine}:run-1`);
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: machine, name: 'run-1', input: '{"gatewayId":"gw-1"}' });
  });

  it('maps ExecutionAlreadyExists to ExecutionAlreadyExistsError with the cause kept', async () => {
    const cause = new ExecutionAlreadyExists({ message: 'exists', $metadata: { httpStatusCode: 400 } });
    sfn.on(StartExecutionCommand).rejects(cause);

    const error = await adapter.startExecution({ stateMachineArn: machine, name: 'run-1', input: {} }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ExecutionAlreadyExistsError);
    expect(error).toMatchObject({ name: 'ExecutionAlreadyExistsError', resource: 'run-1', cause });
  });

  it('listExecutions drains every page and filters by status', async () => {
    const item = (name: string) => ({ executionArn: `${machine}:${name}`, stateMachineArn: machine, name, status: 'RUNNING' as const, startDate: new Date(0) });
    sfn
      .on(ListExecutionsCommand)
      .resolvesOnce({ executions: [item('a')], nextToken: 'N' })
      .resolvesOnce({ executions: [item('b')] });

    const executions = await adapter.listExecutions(machine, 'RUNNING');

    expect(executions.map((e) => e.name)).toEqual(['a', 'b']);
    expect(sfn).toHaveReceivedCommandTimes(ListExecutionsCommand, 2);
    expect(sfn).toHaveReceivedCommandWith(ListExecutionsCommand, { stateMachineArn: machine, statusFilter: 'RUNNING' });
  });

  it('describeExecution translates a missing execution', async () => {
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'gone', $metadata: { httpStatusCode: 400 } }));

    await expect(adapter.describeExecution(`${machine}:x`)).rejects.toBeInstanceOf(ResourceNotFoundError);
  });

  it('stopExecution passes error and cause', async () => {
    sfn.on(StopExecutionCommand).resolves({ stopDate: new Date(0) });

    await adapter.stopExecution(`${machine}:x`, { error: 'OperatorAbortError', cause: 'stopped by operator' });

    expect(sfn).toHaveReceivedCommandWith(StopExecutionCommand, { executionArn: `${machine}:x`, error: 'OperatorAbortError', cause: 'stopped by operator' });
  });

  it('answers task tokens, translating an expired token', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).rejects(new TaskTimedOut({ message: 'late', $metadata: { httpStatusCode: 400 } }));

    await adapter.sendTaskSuccess('tok-1', { approved: true });

    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'tok-1', output: '{"approved":true}' });
    await expect(adapter.sendTaskFailure('tok-2', { error: 'RejectedError' })).rejects.toMatchObject({ name: 'ResourceNotFoundError', awsErrorName: 'TaskTimedOut' });
  });
});
