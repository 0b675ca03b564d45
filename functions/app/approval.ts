/**
 * Answering a pending approval of a policy rollout or a policy promotion (the approveRollout
 * function URL): the caller must be a configured approver; the execution must be a running rollout
 * or promotion of this stack waiting for an approval; the task token is read from the execution's
 * history (it is never published) and answered with the approver's identity, which the execution
 * keeps as its approval and an outcome event (`Policy Rollout|Promotion Approved` / `Rejected`)
 * reports. A refused caller gets 403 and a
 * `Request Refused` event; nothing is answered. The token is never logged or returned.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Adapters } from '../adapters/index.ts';
import { getExecutionHistory } from '../adapters/sfn-history.ts';
import type { Config } from '../lib/config/types.ts';
import { ResourceNotFoundError } from '../lib/errors.ts';
import { describeError } from '../lib/middy.ts';
import {
  APPROVAL_DETAIL_TYPES, APPROVAL_REQUEST, answerOf, approvalKindOf, callerArn, isApprover, parseApprovalRequest, response,
  type ApprovalKind, type FunctionUrlEvent, type FunctionUrlResponse,
} from '../domain/approval.ts';
import { requestRefused } from '../domain/requests/refusal.ts';
import type { HistoryEvent } from '../domain/execution-progress.ts';
import { promotionProgress } from '../domain/promotion/inspect.ts';
import { rolloutProgress, type HistoryEventLike } from '../domain/rollout/inspect.ts';
import { refuseRequest } from './request-refusal.ts';

export interface ApprovalDeps {
  adapters: Pick<Adapters, 'sfn' | 'events'>;
  config: Config;
  /** APPROVER_PRINCIPALS: IAM role or user ARNs. */
  approvers: string[];
  /** ROLLOUT_STATE_MACHINE_ARN and POLICY_PROMOTION_STATE_MACHINE_ARN: whose approvals are answered. */
  stateMachines: Partial<Record<ApprovalKind, string>>;
  /** AUTOPILOT_EVENT_BUS (else the config's events.busName). */
  eventBusName?: string;
  now: () => Date;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}

export async function answerApproval(deps: ApprovalDeps, event: FunctionUrlEvent): Promise<FunctionUrlResponse> {
  const caller = callerArn(event);
  if (!caller) return response(401, { message: 'the approval URL needs SigV4-signed requests (AuthType AWS_IAM)' });
  if (!isApprover(caller, deps.approvers)) {
    await refuseRequest({ events: deps.adapters.events, config: deps.config, log: deps.logger, eventBusName: deps.eventBusName },
      requestRefused(APPROVAL_REQUEST, { reason: 'not-an-approver', problems: [`${caller} is not one of the approverPrincipals`] }));
    return response(403, { message: `${caller} is not an approver` });
  }
  const parsed = parseApprovalRequest(event);
  if (!parsed.ok) return response(400, { message: parsed.reason });
  const { request } = parsed;
  const kind = approvalKindOf(request.executionArn, deps.stateMachines);
  if (!kind) return response(400, { message: 'executionArn is not a policy rollout or promotion of this stack' });
  let pending: string | null = null;
  try {
    const execution = await deps.adapters.sfn.describeExecution(request.executionArn);
    if (execution.status === 'RUNNING') {
      const history = await getExecutionHistory(deps.adapters.sfn.client, request.executionArn);
      const at = deps.now().getTime();
      pending = kind === 'rollout'
        ? rolloutProgress(history as HistoryEventLike[], at).approvalToken
        : promotionProgress(history as HistoryEvent[], at).approvalToken;
    }
  } catch (err) {
    if (err instanceof ResourceNotFoundError) return response(404, { message: 'no such execution' });
    throw err;
  }
  if (!pending) return response(409, { message: `this ${kind} is not waiting for an approval` });

  const answer = answerOf(request, caller, deps.now());
  if (answer.kind === 'success') await deps.adapters.sfn.sendTaskSuccess(pending, answer.output);
  else await deps.adapters.sfn.sendTaskFailure(pending, { error: answer.error, cause: answer.cause });
  deps.logger.info('Approval answered', { kind, executionArn: request.executionArn, decision: request.decision, by: caller });
  const detailType = APPROVAL_DETAIL_TYPES[kind][request.decision];
  const detail = { executionArn: request.executionArn, decision: request.decision, by: caller, comment: request.comment ?? null };
  try {
    await deps.adapters.events.publish(detailType, detail, { source: deps.config.events.source, busName: deps.eventBusName ?? deps.config.events.busName });
  } catch (err) {
    deps.logger.error('Outcome event not published', { detailType, error: describeError(err) });
  }
  return response(200, { answered: request.decision === 'approve' ? 'APPROVED' : 'REJECTED', by: caller, executionArn: request.executionArn });
}
