/**
 * Answering a pending approval (a policy rollout's or a policy promotion's) through the stack's
 * approval entry point: the approveRollout function URL, AuthType AWS_IAM, signed with the
 * operator's credentials. Only the configured approvers are answered and the execution records who
 * answered; the task token never leaves AWS (functions/app/approval.ts).
 */
import { functionUrlOf, postToFunctionUrl } from '../../functions/adapters/lambda-url.ts';
import { AutopilotError, ResourceNotFoundError } from '../../functions/lib/errors.ts';
import { clientOptions } from '../aws.ts';
import { notFound, refused } from '../errors.ts';
import type { ActionContext } from '../types.ts';

export interface ApprovalAnswer {
  executionArn: string;
  approve: boolean;
  /** The approval's comment or the rejection's reason. */
  comment?: string;
  /** --approval-url (else $AUTOPILOT_APPROVAL_URL, else the approveRollout function's URL of `stage`). */
  url?: string;
  stage?: string;
}

/** Posts the answer; returns who the entry point recorded. Refused (403/409): exit 3; 404: not found. */
export async function answerThroughApprovalUrl(ctx: Pick<ActionContext, 'io' | 'opts'>, a: ApprovalAnswer): Promise<{ answered: string; by: string; executionArn: string }> {
  const options = clientOptions(ctx);
  const call = { region: options.region ?? 'us-east-1', ...(options.endpoint && { endpoint: options.endpoint }), ...(options.credentials && { credentials: options.credentials as never }) };
  const url = a.url ?? (ctx.io.env.AUTOPILOT_APPROVAL_URL || undefined)
    ?? await functionUrlOf(`agentcore-autopilot-${a.stage ?? 'dev'}-approveRollout`, call).catch((err: unknown) => {
      if (err instanceof ResourceNotFoundError) throw notFound('The stack has no approval URL (approveRollout); deploy it or pass --approval-url');
      throw err;
    });
  const res = await postToFunctionUrl(url, { executionArn: a.executionArn, decision: a.approve ? 'approve' : 'reject', ...(a.comment !== undefined && { comment: a.comment }) }, call);
  const body = (res.body ?? {}) as { message?: string; Message?: string; by?: string; answered?: string };
  if (res.status === 403 || res.status === 409) throw refused(body.message ?? body.Message ?? `the approval entry point refused (${res.status})`);
  if (res.status === 404) throw notFound(body.message ?? 'no such execution');
  if (res.status !== 200) throw new AutopilotError(`The approval entry point answered ${res.status}: ${body.message ?? body.Message ?? 'error'}`);
  return { answered: body.answered ?? (a.approve ? 'APPROVED' : 'REJECTED'), by: body.by ?? 'unknown', executionArn: a.executionArn };
}
