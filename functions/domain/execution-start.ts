/**
 * Starting a staged execution (policy rollout, policy promotion) at most once per request: the
 * execution name is derived from the request, so StartExecution's ExecutionAlreadyExists (a name
 * is unique per state machine for 90 days: Step Functions StartExecution API reference) tells a
 * request that is running or already ran.
 */
import { randomUUID } from 'node:crypto';
import { ExecutionAlreadyExistsError } from '../lib/errors.ts';

export type StartStatus =
  /** A new execution was started. */
  | 'STARTED'
  /** The same request is already running: that execution is returned. */
  | 'ALREADY_RUNNING'
  /** The same request already ran (its execution is closed); nothing started. */
  | 'ALREADY_RAN';

/** A caller's attempt id (a new run of a request that already ran). */
export const ATTEMPT = /^[A-Za-z0-9_.:-]{1,40}$/;
export const ATTEMPT_PROBLEM = 'attempt must be 1-40 letters, digits, or . _ : -';

/** A dry run changes nothing: every one is its own execution unless the caller names an attempt. */
export function dryRunAttempt(now: Date): string {
  return `${now.getTime()}-${randomUUID().slice(0, 8)}`;
}

export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** StartExecution under `name`; an existing execution of that name is reported, not restarted. */
/** The two calls startOnce makes (SfnAdapter satisfies it). */
export interface StartOnceSfn {
  startExecution(request: { stateMachineArn: string; name?: string; input: unknown }): Promise<{ executionArn?: string }>;
  describeExecution(executionArn: string): Promise<{ status?: string }>;
}

export async function startOnce(
  sfn: StartOnceSfn,
  args: { stateMachineArn: string; name: string; input: unknown },
): Promise<{ status: StartStatus; executionArn: string; executionStatus?: string }> {
  const executionArn = executionArnOf(args.stateMachineArn, args.name);
  try {
    const started = await sfn.startExecution({ stateMachineArn: args.stateMachineArn, name: args.name, input: args.input });
    return { status: 'STARTED', executionArn: started.executionArn ?? executionArn };
  } catch (err) {
    if (!(err instanceof ExecutionAlreadyExistsError)) throw err;
    // Started in between (RUNNING) or an earlier run of the same request (closed).
    const existing = await sfn.describeExecution(executionArn);
    return { status: existing.status === 'RUNNING' ? 'ALREADY_RUNNING' : 'ALREADY_RAN', executionArn, executionStatus: existing.status };
  }
}
