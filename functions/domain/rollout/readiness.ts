/**
 * Readiness after a gateway update (there is no SDK waiter for gateways, agentcore-api.md §8):
 * the state machine polls with a Wait loop; each poll's verdict is decided here.
 */
import type { ReadinessProgress } from './contract.ts';
import { GatewayUpdateFailedError, ReadyTimeoutError } from './errors.ts';

/** The progress value an apply/restore task hands to the first poll. */
export function startReadiness(now: Date, readyTimeoutSeconds: number, changed: boolean): ReadinessProgress {
  return { ready: false, attempt: 0, deadline: new Date(now.getTime() + readyTimeoutSeconds * 1000).toISOString(), changed };
}

const FAILED = new Set(['UPDATE_UNSUCCESSFUL', 'FAILED', 'DELETING']);

/**
 * One poll: READY -> ready; a failed status -> GatewayUpdateFailedError; otherwise not ready yet,
 * unless this was the last allowed poll or the deadline passed -> ReadyTimeoutError.
 */
export function assessReadiness(args: {
  gatewayId: string;
  status: string;
  attempt: number;
  maxAttempts: number;
  deadline: string;
  now: Date;
}): ReadinessProgress {
  const attempt = args.attempt + 1;
  const checkedAt = args.now.toISOString();
  if (args.status === 'READY') return { ready: true, attempt, deadline: args.deadline, status: args.status, checkedAt };
  if (FAILED.has(args.status)) {
    throw new GatewayUpdateFailedError(`Gateway ${args.gatewayId} is ${args.status} after the update`, {
      details: { status: args.status },
    });
  }
  if (attempt >= args.maxAttempts || args.now.getTime() >= Date.parse(args.deadline)) {
    throw new ReadyTimeoutError(
      `Gateway ${args.gatewayId} is still ${args.status} after ${attempt} polls (deadline ${args.deadline})`,
      { details: { status: args.status, attempt } },
    );
  }
  return { ready: false, attempt, deadline: args.deadline, status: args.status, checkedAt };
}
