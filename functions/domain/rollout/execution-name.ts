/**
 * Step Functions execution names for rollouts. A name is derived from the request, so starting
 * the same request twice names the same execution: Step Functions returns the running one (same
 * input) or refuses with ExecutionAlreadyExists instead of starting a second rollout.
 *
 * Standard workflows keep names unique for 90 days after an execution closes, so a deliberate
 * retry of a finished rollout passes a new `attempt` (any string or number).
 *
 * Every name of one gateway starts with the same fixed-length prefix (a hash of the gateway id):
 * fixed length makes prefixes of different gateways never prefixes of one another, which the
 * "another rollout is running" check relies on (ListExecutions RUNNING, then filter by prefix).
 * Dry runs use another prefix: they change nothing, so they neither block nor are blocked.
 */
import { createHash } from 'node:crypto';

export type RolloutTargetMode = 'LOG_ONLY' | 'ENFORCE';

export interface RolloutNameOptions {
  attempt?: string | number;
  dryRun?: boolean;
}

const MAX_NAME_LENGTH = 80;
/** Step Functions: letters, digits, `-` and `_` are always accepted (the documented blacklist is wider). */
const SAFE = /[^A-Za-z0-9_-]/g;

function hash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** The prefix every execution name of this gateway's rollouts starts with (`rollout-<12 hex>-`). */
export function rolloutExecutionPrefix(gatewayId: string, options: { dryRun?: boolean } = {}): string {
  return `${options.dryRun ? 'dryrun' : 'rollout'}-${hash(`gateway:${gatewayId}`, 12)}-`;
}

/**
 * Deterministic, valid execution name: `<prefix><readable gateway id>-<10 hex of the request>`,
 * at most 80 characters.
 */
export function rolloutExecutionName(
  gatewayId: string,
  policyEngineArn: string,
  targetMode: RolloutTargetMode,
  options: RolloutNameOptions = {},
): string {
  const prefix = rolloutExecutionPrefix(gatewayId, options);
  const request = hash(
    JSON.stringify([gatewayId, policyEngineArn, targetMode, options.attempt === undefined ? null : String(options.attempt)]),
    10,
  );
  const room = MAX_NAME_LENGTH - prefix.length - 1 - request.length;
  const readable = gatewayId.replace(SAFE, '_').slice(0, room).replace(/-+$/, '') || 'gateway';
  return `${prefix}${readable}-${request}`;
}

/** Whether an execution name belongs to a (non-dry-run) rollout of this gateway. */
export function isRolloutOfGateway(executionName: string, gatewayId: string): boolean {
  return executionName.startsWith(rolloutExecutionPrefix(gatewayId));
}

/** RUNNING executions (ListExecutions) that are other rollouts of the same gateway. */
export function conflictingRollouts<T extends { name: string; executionArn: string }>(
  running: T[],
  gatewayId: string,
  selfExecutionArn: string,
): T[] {
  return running.filter((e) => e.executionArn !== selfExecutionArn && isRolloutOfGateway(e.name, gatewayId));
}
