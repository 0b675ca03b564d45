/**
 * The tamper guard's memory: a gateway whose policy engine was relaxed gets ONE staged ENFORCE
 * rollout per declared configuration. When the gateway's most recent policy rollout (any starter:
 * drift, the CLI, an event) ended without enforcing -- ROLLED_BACK, HALTED_IN_LOG_ONLY, ABORTED,
 * or failed -- for the declared engine, and the declared gateway configuration is the one that
 * rollout ran under, drift does not start another: the same rollout would end the same way (and
 * its own restore changes the gateway, which used to look like fresh tampering every run). The
 * finding becomes `needs-human`.
 *
 * "The configuration it ran under" is a fingerprint of the declared gateway spec, kept in one
 * gateway tag next to the execution it belongs to:
 * `autopilot:drift-rollout = <16 hex fingerprint> <execution name>`. Drift writes it when it starts
 * a rollout, and when it first meets a failed rollout it did not start (so a later change of the
 * declaration is seen as one). A changed declaration (engine, rollout settings, desired fields...)
 * lets drift start a new rollout. A human retries sooner with `autopilot rollout start --attempt`.
 *
 * Pure: the caller lists and describes the executions and reads the tags.
 */
import { createHash } from 'node:crypto';
import type { GatewaySpec } from '../../lib/config/types.ts';

export const DRIFT_ROLLOUT_TAG = 'autopilot:drift-rollout';

/** Rollout ends after which drift does not start the same rollout again by itself. */
export const NON_ENFORCING_OUTCOMES: readonly string[] = ['ROLLED_BACK', 'HALTED_IN_LOG_ONLY', 'ABORTED', 'ROLLBACK_FAILED', 'FAILED', 'TIMED_OUT'];

const stable = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(stable);
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => [k, stable((v as Record<string, unknown>)[k])]));
  }
  return v;
};

/** 16 hex characters identifying the declared gateway spec (key order does not matter). */
export function gatewayFingerprint(spec: GatewaySpec): string {
  return createHash('sha256').update(JSON.stringify(stable(spec))).digest('hex').slice(0, 16);
}

export interface RolloutRecord {
  fingerprint: string;
  executionName: string;
}

/** The tag value (TagValue pattern: letters, digits, spaces, `_ . : / = + - @`). */
export function encodeRolloutRecord(r: RolloutRecord): string {
  return `${r.fingerprint} ${r.executionName}`;
}

/** Reads the tag; undefined when absent or malformed (a hand-edited tag never breaks a run). */
export function decodeRolloutRecord(tags: Record<string, string> | undefined): RolloutRecord | undefined {
  const raw = tags?.[DRIFT_ROLLOUT_TAG];
  const m = typeof raw === 'string' ? /^([0-9a-f]{16}) ([A-Za-z0-9_-]{1,80})$/.exec(raw.trim()) : null;
  return m ? { fingerprint: m[1], executionName: m[2] } : undefined;
}

/** One closed (or running) rollout execution, as DescribeExecution tells it. */
export interface PastRollout {
  name: string;
  /** Step Functions status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED. */
  status: string;
  /** The execution output (JSON text of the RolloutResult), when it succeeded. */
  output?: string;
  /** The execution input (JSON text of the RolloutRequest). */
  input?: string;
  /** The Fail state's error, when it failed. */
  error?: string;
}

/** How a rollout execution ended: its RolloutResult outcome, else the Step Functions status. */
export function rolloutOutcome(e: PastRollout): string | undefined {
  if (e.status === 'RUNNING' || e.status === 'PENDING_REDRIVE') return undefined;
  if (e.status === 'SUCCEEDED') {
    try {
      const outcome = (JSON.parse(e.output ?? '{}') as { outcome?: unknown }).outcome;
      return typeof outcome === 'string' ? outcome : 'SUCCEEDED';
    } catch {
      return 'SUCCEEDED';
    }
  }
  if (e.status === 'FAILED' && e.error === 'RollbackFailedError') return 'ROLLBACK_FAILED';
  return e.status;
}

function engineOf(e: PastRollout): string | undefined {
  try {
    const arn = (JSON.parse(e.input ?? '{}') as { policyEngineArn?: unknown }).policyEngineArn;
    return typeof arn === 'string' ? arn : undefined;
  } catch {
    return undefined;
  }
}

export interface TamperRolloutInput {
  gatewayId: string;
  declaredEngineArn: string;
  /** gatewayFingerprint of the declared spec. */
  fingerprint: string;
  /** The gateway's most recent (non-dry-run) rollout execution, if any. */
  latest?: PastRollout;
  /** The gateway's DRIFT_ROLLOUT_TAG. */
  recorded?: RolloutRecord;
}

export type TamperRolloutVerdict =
  | { start: true; reason?: string }
  | {
    start: false;
    reason: string;
    previous: { executionName: string; outcome: string };
    /** Tag value to record (the fingerprint this failed rollout is now tied to), when it changes. */
    record?: string;
  };

/** Whether drift may start a staged ENFORCE rollout for a tampered gateway (see the module comment). */
export function judgeTamperRollout(input: TamperRolloutInput): TamperRolloutVerdict {
  const { latest, recorded, fingerprint, gatewayId } = input;
  if (!latest) return { start: true };
  const outcome = rolloutOutcome(latest);
  if (outcome === undefined || !NON_ENFORCING_OUTCOMES.includes(outcome)) return { start: true };
  const engine = engineOf(latest);
  if (engine !== undefined && engine !== input.declaredEngineArn) return { start: true, reason: `the last rollout (${latest.name}) was for another policy engine` };
  const ours = recorded?.executionName === latest.name;
  if (ours && recorded.fingerprint !== fingerprint) {
    return { start: true, reason: `the declared gateway configuration changed since the last rollout (${latest.name}, ${outcome})` };
  }
  return {
    start: false,
    previous: { executionName: latest.name, outcome },
    reason: `needs a human: the last staged rollout of this gateway (${latest.name}) ended ${outcome}` +
      `${ours ? '' : ' (not started by the drift job)'} and the declared gateway configuration has not changed since, so drift does not start another; ` +
      `fix the cause, then change the declaration or run \`autopilot rollout start --gateway ${gatewayId} --attempt <new>\``,
    ...(ours ? {} : { record: encodeRolloutRecord({ fingerprint, executionName: latest.name }) }),
  };
}

/** The newest execution (by start date) among those of the gateway. */
export function latestExecution<T extends { startDate?: Date | number | string }>(executions: readonly T[]): T | undefined {
  const at = (e: T) => (e.startDate === undefined ? 0 : new Date(e.startDate).getTime());
  return [...executions].sort((a, b) => at(b) - at(a))[0];
}
