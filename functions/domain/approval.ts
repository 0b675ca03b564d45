/**
 * Approvals of a policy rollout or promotion, as the approveRollout function URL receives them: who calls (the
 * IAM identity Lambda authenticated), whether that principal is a configured approver, and what
 * the answer to the waiting execution is. Pure: the request in, the decision out.
 *
 * The caller comes from the function URL's request context (AuthType AWS_IAM): `authorizer.iam.
 * userArn` is the IAM user, or for a role the role session `arn:aws:sts::<account>:assumed-role/
 * <role>/<session>` (Lambda Developer Guide, "Invoking Lambda function URLs", request payload).
 * A role session has no path in its ARN, so an approver role is matched by account and role name.
 */

/** The part of a function URL event (payload format 2.0) an approval reads. */
export interface FunctionUrlEvent {
  version?: string;
  body?: string | null;
  isBase64Encoded?: boolean;
  requestContext?: {
    http?: { method?: string };
    authorizer?: { iam?: { userArn?: string; accountId?: string } };
  };
}

export interface FunctionUrlResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export type Decision = 'approve' | 'reject';

export interface ApprovalRequest {
  executionArn: string;
  decision: Decision;
  /** Why (optional, at most 500 characters): recorded with the answer. */
  comment?: string;
}

/** What waits for an approval: a policy rollout or a policy promotion (the same answer shape). */
export type ApprovalKind = 'rollout' | 'promotion';
export const APPROVAL_DETAIL_TYPES = {
  rollout: { approve: 'Policy Rollout Approved', reject: 'Policy Rollout Rejected' },
  promotion: { approve: 'Policy Promotion Approved', reject: 'Policy Promotion Rejected' },
} as const;
/** The `request` of a refused approval's `Request Refused` event. */
export const APPROVAL_REQUEST = 'Approval';
const MAX_COMMENT = 500;
const EXECUTION_ARN = /^arn:aws[\w-]*:states:[a-z0-9-]+:\d{12}:execution:[^:\s]{1,80}:[^:\s]{1,80}$/;
const ROLE_SESSION = /^arn:aws[\w-]*:sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/[\w+=,.@-]+$/;
const ROLE = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]+)$/;

export function response(statusCode: number, body: Record<string, unknown>): FunctionUrlResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** The authenticated caller's ARN, if the URL authenticated one. */
export function callerArn(event: FunctionUrlEvent): string | undefined {
  const arn = event.requestContext?.authorizer?.iam?.userArn;
  return typeof arn === 'string' && arn.length > 0 ? arn : undefined;
}

/** Whether the caller is one of the approvers (IAM user ARNs exactly, roles by account and name). */
export function isApprover(caller: string, approvers: readonly string[]): boolean {
  const session = ROLE_SESSION.exec(caller);
  return approvers.some((approver) => {
    if (approver === caller) return true;
    const role = ROLE.exec(approver);
    return session !== null && role !== null && role[1] === session[1] && role[2] === session[2];
  });
}

/** Parses the body of an approval: `{executionArn, decision: approve|reject, comment?}`. */
export function parseApprovalRequest(event: FunctionUrlEvent): { ok: true; request: ApprovalRequest } | { ok: false; reason: string } {
  if ((event.requestContext?.http?.method ?? '').toUpperCase() !== 'POST') return { ok: false, reason: 'use POST' };
  let body: unknown;
  try {
    const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : event.body ?? '';
    body = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'the body must be JSON: {executionArn, decision, comment?}' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, reason: 'the body must be an object' };
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !['executionArn', 'decision', 'comment'].includes(k));
  if (unknown.length > 0) return { ok: false, reason: `unknown field ${unknown[0].slice(0, 40)}` };
  if (typeof b.executionArn !== 'string' || !EXECUTION_ARN.test(b.executionArn)) return { ok: false, reason: 'executionArn must be a Step Functions execution ARN' };
  if (b.decision !== 'approve' && b.decision !== 'reject') return { ok: false, reason: 'decision must be approve or reject' };
  if (b.comment !== undefined && (typeof b.comment !== 'string' || b.comment.length > MAX_COMMENT)) {
    return { ok: false, reason: `comment must be text of at most ${MAX_COMMENT} characters` };
  }
  return { ok: true, request: { executionArn: b.executionArn, decision: b.decision, ...(b.comment !== undefined && { comment: b.comment as string }) } };
}

/** Whether an execution ARN belongs to the given state machine. */
export function isExecutionOf(executionArn: string, stateMachineArn: string): boolean {
  return executionArn.startsWith(`${stateMachineArn.replace(':stateMachine:', ':execution:')}:`);
}

/** Which of the stack's state machines an execution belongs to (undefined: none of them). */
export function approvalKindOf(executionArn: string, stateMachines: Partial<Record<ApprovalKind, string>>): ApprovalKind | undefined {
  return (Object.keys(stateMachines) as ApprovalKind[]).find((k) => stateMachines[k] !== undefined && isExecutionOf(executionArn, stateMachines[k]!));
}

/** What the waiting execution gets: SendTaskSuccess output, or SendTaskFailure's error and cause. */
export function answerOf(request: ApprovalRequest, by: string, at: Date):
  | { kind: 'success'; output: { approvedBy: string; comment: string | null; at: string } }
  | { kind: 'failure'; error: 'ApprovalRejectedError'; cause: string } {
  if (request.decision === 'approve') return { kind: 'success', output: { approvedBy: by, comment: request.comment ?? null, at: at.toISOString() } };
  return { kind: 'failure', error: 'ApprovalRejectedError', cause: JSON.stringify({ rejectedBy: by, reason: request.comment ?? 'rejected', at: at.toISOString() }) };
}
