/**
 * Rollback of a policy rollout: put back the gateway's `policyEngineConfiguration` as it was
 * before the rollout, and nothing else. The update is read-merge-write from the live gateway at
 * that moment, so edits others made during a multi-hour bake (description, interceptors,
 * authorizer...) survive.
 *
 * The rollout only ever set the engine under rollout, in LOG_ONLY or ENFORCE. When the live
 * `policyEngineConfiguration` is anything else (another engine, detached), someone changed it
 * during the rollout: restoring would overwrite their change, so the outcome is a conflict and
 * nothing is written.
 */
import { canonicalRequestJson } from '../client-token.ts';
import type { GatewayPolicyEngineMode } from '@aws-sdk/client-bedrock-agentcore-control';
import type { GatewayChange } from '../gateway-update.ts';

export interface EngineConfig {
  arn: string;
  mode: string;
}

/** What a restore needs, recorded at preflight (and nothing more: the state stays small). */
export interface RollbackPoint {
  /** The gateway's policyEngineConfiguration before the rollout; null when none was attached. */
  policyEngineConfiguration: EngineConfig | null;
}

/** What a restore did (or refused to do), as events and the CLI report it. */
export interface RestoreReport {
  action: 'restored' | 'unchanged' | 'conflict';
  field: 'policyEngineConfiguration';
  /** The live value before the restore. */
  from: EngineConfig | null;
  /** The value restored (or, for a conflict, the value it would have restored). */
  to: EngineConfig | null;
}

export interface RestorePlan {
  report: RestoreReport;
  /** The change to apply; null when nothing is to be written. */
  change: GatewayChange | null;
}

function engineConfigOf(gateway: Record<string, unknown>): EngineConfig | null {
  const c = gateway.policyEngineConfiguration as { arn?: unknown; mode?: unknown } | undefined | null;
  return c && typeof c.arn === 'string' ? { arn: c.arn, mode: String(c.mode) } : null;
}

function same(a: EngineConfig | null, b: EngineConfig | null): boolean {
  return canonicalRequestJson(a) === canonicalRequestJson(b);
}

/** The rollback point of a gateway as GetGateway returned it before any change. */
export function rollbackPointOf(gateway: Record<string, unknown>): RollbackPoint {
  return { policyEngineConfiguration: engineConfigOf(gateway) };
}

/**
 * The restore of `point` onto the live gateway for a rollout of `policyEngineArn`. A gateway left
 * UPDATE_UNSUCCESSFUL with the recorded value is rewritten once (with no field changed) so that it
 * becomes READY again.
 */
export function planRestore(live: Record<string, unknown>, point: RollbackPoint, policyEngineArn: string): RestorePlan {
  const current = engineConfigOf(live);
  const recorded = point.policyEngineConfiguration ?? null;
  if (same(current, recorded)) {
    const rewrite = live.status === 'UPDATE_UNSUCCESSFUL' ? { set: {} } : null;
    return { report: { action: rewrite ? 'restored' : 'unchanged', field: 'policyEngineConfiguration', from: current, to: recorded }, change: rewrite };
  }
  const ours = current !== null && current.arn === policyEngineArn && (current.mode === 'LOG_ONLY' || current.mode === 'ENFORCE');
  if (!ours) {
    return { report: { action: 'conflict', field: 'policyEngineConfiguration', from: current, to: recorded }, change: null };
  }
  const change: GatewayChange = recorded
    ? { policyEngine: { arn: recorded.arn, mode: recorded.mode as GatewayPolicyEngineMode } }
    : { policyEngine: { detach: true } };
  return { report: { action: 'restored', field: 'policyEngineConfiguration', from: current, to: recorded }, change };
}
