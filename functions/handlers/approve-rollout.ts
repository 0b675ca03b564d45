/**
 * `approveRollout`: the approval entry point of policy rollouts and policy promotions, served as a
 * Lambda function URL with AuthType AWS_IAM (SigV4-signed requests only; `autopilot rollout|policy
 * approve|reject` sign with the operator's credentials). Only the principals in APPROVER_PRINCIPALS (serverless.yml's
 * approverPrincipals) may answer; every answer is recorded with the caller's ARN.
 * See functions/app/approval.ts.
 */
import type { Context } from 'aws-lambda';
import { answerApproval, type ApprovalDeps } from '../app/approval.ts';
import { adaptersFor, configFor, envValue } from '../app/lambda-env.ts';
import { eventsAdapter } from '../adapters/events.ts';
import { sfnAdapter } from '../adapters/sfn.ts';
import type { FunctionUrlEvent, FunctionUrlResponse } from '../domain/approval.ts';
import { now } from '../lib/time.ts';
import { createLogger } from '../lib/logger.ts';
import { withMiddleware } from '../lib/middy.ts';

const logger = createLogger();

/** The deps of one invocation from the Lambda environment. */
export async function approvalDepsFor(env: NodeJS.ProcessEnv = process.env): Promise<ApprovalDeps> {
  const rollout = envValue('ROLLOUT_STATE_MACHINE_ARN', env);
  if (!rollout) throw new Error('ROLLOUT_STATE_MACHINE_ARN is not set');
  const promotion = envValue('POLICY_PROMOTION_STATE_MACHINE_ARN', env);
  return {
    adapters: adaptersFor({ sfn: sfnAdapter, events: eventsAdapter }, env),
    config: await configFor(env),
    approvers: (envValue('APPROVER_PRINCIPALS', env) ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    stateMachines: { rollout, ...(promotion && { promotion }) },
    eventBusName: envValue('AUTOPILOT_EVENT_BUS', env),
    now,
    logger,
  };
}

export function createHandler(deps?: () => Promise<ApprovalDeps>): (event: unknown, context: Context) => Promise<FunctionUrlResponse> {
  return withMiddleware<FunctionUrlEvent, FunctionUrlResponse>(async (event) => answerApproval(await (deps ?? approvalDepsFor)(), event), {
    logger,
  }) as unknown as (event: unknown, context: Context) => Promise<FunctionUrlResponse>;
}

export const handler = createHandler();
