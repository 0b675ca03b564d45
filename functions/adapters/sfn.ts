/**
 * Step Functions: start and inspect executions, and answer task tokens. A second start with an
 * existing execution name raises ExecutionAlreadyExistsError, which callers use for idempotency.
 */
import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  paginateListExecutions,
  paginateListStateMachines,
} from '@aws-sdk/client-sfn';
import type {
  DescribeExecutionCommandOutput,
  ExecutionListItem,
  ExecutionStatus,
  SFNClient,
  StartExecutionCommandOutput,
  StopExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { callAws, collectPages, translateAwsError } from './aws-errors.ts';

const SERVICE = 'sfn';
const PAGE_SIZE = 1000;

export interface StartExecutionRequest {
  stateMachineArn: string;
  /** Execution name (1-80 chars, unique per state machine for 90 days): the idempotency key. */
  name?: string;
  /** Serialised as JSON. */
  input: unknown;
}

/** `error` is matched by Catch/ErrorEquals; `cause` is free text (never a secret value). */
export interface FailureReason {
  error?: string;
  cause?: string;
}

/** Typed Step Functions calls over an injected client. */
export class SfnAdapter {
  readonly client: SFNClient;

  constructor(client: SFNClient) {
    this.client = client;
  }

  /** StartExecution; ExecutionAlreadyExistsError when `name` is taken. */
  async startExecution(request: StartExecutionRequest): Promise<StartExecutionCommandOutput> {
    return callAws({ service: SERVICE, operation: 'StartExecution', resource: request.name ?? request.stateMachineArn }, () =>
      this.client.send(
        new StartExecutionCommand({
          stateMachineArn: request.stateMachineArn,
          input: JSON.stringify(request.input ?? {}),
          ...(request.name !== undefined && { name: request.name }),
        }),
      ),
    );
  }

  /** DescribeExecution. */
  async describeExecution(executionArn: string): Promise<DescribeExecutionCommandOutput> {
    return callAws({ service: SERVICE, operation: 'DescribeExecution', resource: executionArn }, () =>
      this.client.send(new DescribeExecutionCommand({ executionArn })),
    );
  }

  /**
   * ARNs of the state machines with these names (ListStateMachines, stopping once all are found);
   * a name absent from the account and region is absent from the result.
   */
  async findStateMachines(names: readonly string[]): Promise<Record<string, string>> {
    const found: Record<string, string> = {};
    try {
      for await (const page of paginateListStateMachines({ client: this.client, pageSize: PAGE_SIZE }, {})) {
        for (const m of page.stateMachines ?? []) if (m.name && m.stateMachineArn && names.includes(m.name)) found[m.name] = m.stateMachineArn;
        if (names.every((n) => found[n])) break;
      }
    } catch (err) {
      throw translateAwsError(err, { service: SERVICE, operation: 'ListStateMachines' });
    }
    return found;
  }

  /** Every execution of a state machine (all pages), optionally only those in `status`. */
  async listExecutions(stateMachineArn: string, status?: ExecutionStatus): Promise<ExecutionListItem[]> {
    return collectPages(
      { service: SERVICE, operation: 'ListExecutions', resource: stateMachineArn },
      paginateListExecutions(
        { client: this.client, pageSize: PAGE_SIZE },
        { stateMachineArn, ...(status !== undefined && { statusFilter: status }) },
      ),
      (p) => p.executions,
    );
  }

  /** StopExecution. */
  async stopExecution(executionArn: string, reason: FailureReason = {}): Promise<StopExecutionCommandOutput> {
    return callAws({ service: SERVICE, operation: 'StopExecution', resource: executionArn }, () =>
      this.client.send(new StopExecutionCommand({ executionArn, ...reason })),
    );
  }

  /** SendTaskSuccess with `output` serialised as JSON. */
  async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    await callAws({ service: SERVICE, operation: 'SendTaskSuccess' }, () =>
      this.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output ?? {}) })),
    );
  }

  /** SendTaskFailure. */
  async sendTaskFailure(taskToken: string, reason: FailureReason): Promise<void> {
    await callAws({ service: SERVICE, operation: 'SendTaskFailure' }, () =>
      this.client.send(new SendTaskFailureCommand({ taskToken, ...reason })),
    );
  }
}
