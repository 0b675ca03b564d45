/**
 * The `Request Refused` outcome event: a request (from the request bus) that autopilot did not act
 * on, with its reason code and the problems found. It names fields and resource ids only: never a
 * value of the request's settings or environment variables (the problems come from scope.ts and
 * the request parsers, which follow the same rule).
 */
import type { Refusal, RefusalReason } from './scope.ts';

export const REQUEST_REFUSED_DETAIL_TYPE = 'Request Refused';

export interface RequestRefusedDetail {
  /** The request's detail-type, e.g. `Policy Rollout Requested`. */
  request: string;
  reason: RefusalReason | 'image-not-allowed';
  problems: string[];
  /** The runtime, gateway or engine the request named, when it named one. */
  resource?: string;
  requestId?: string;
  /** The EventBridge id of the request. */
  eventId?: string;
}

const MAX_PROBLEMS = 20;
const MAX_PROBLEM_CHARS = 300;

/** The event detail for a refused request (problems capped in number and length). */
export function requestRefused(request: string, refusal: Refusal | { reason: 'image-not-allowed'; problems: string[] }, ids: { resource?: string; requestId?: string; eventId?: string } = {}): RequestRefusedDetail {
  return {
    request,
    reason: refusal.reason,
    problems: refusal.problems.slice(0, MAX_PROBLEMS).map((p) => (p.length > MAX_PROBLEM_CHARS ? `${p.slice(0, MAX_PROBLEM_CHARS)}…` : p)),
    ...(ids.resource !== undefined && { resource: ids.resource }),
    ...(ids.requestId !== undefined && { requestId: ids.requestId }),
    ...(ids.eventId !== undefined && { eventId: ids.eventId }),
  };
}
