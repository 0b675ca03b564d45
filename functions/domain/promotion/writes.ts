/**
 * The writes of a policy promotion, decided from the live policies (pure; the app performs them):
 * - stage: put the declared statement in LOG_ONLY under the trial name;
 * - promote: make it ACTIVE (for a candidate: write the statement into the policy, drop the copy);
 * - restore: put back what the promotion found, touching only what it changed. UpdatePolicy is a
 *   PATCH (omitted members stay as they are: model UpdatePolicyRequest), so a restore sends only
 *   the member it puts back. A policy someone else changed meanwhile is a conflict: nothing written.
 *
 * `validationMode` is always sent: UpdatePolicy documents no default for it.
 */
import type { PolicyRestoreReport, PromotionContext, WriteAction } from './contract.ts';
import type { LivePolicy } from './preflight.ts';

export type PolicyCall =
  | { op: 'create'; name: string; enforcementMode: 'LOG_ONLY'; withStatement: true }
  | { op: 'update'; name: string; policyId: string; enforcementMode?: 'ACTIVE' | 'LOG_ONLY'; statement?: 'declared' | 'before' }
  | { op: 'delete'; name: string; policyId: string };

export interface WritePlan {
  calls: PolicyCall[];
  /** The policy the readiness loop then waits for. */
  waitFor: string;
  /** restore: what was put back (or the conflict). */
  report?: PolicyRestoreReport;
  /** restore: what the settled policy must show. */
  expect?: { enforcementMode: 'ACTIVE' | 'LOG_ONLY'; statementHash: string | null } | null;
}

function shows(p: LivePolicy | undefined, mode: 'ACTIVE' | 'LOG_ONLY', hash: string | null): boolean {
  return p !== undefined && p.enforcementMode === mode && p.statementHash === hash && p.status !== 'CREATE_FAILED';
}

/** The calls of `action` given the live policy and its trial copy. */
export function planWrite(action: WriteAction, ctx: PromotionContext, live: LivePolicy | undefined, trial: LivePolicy | undefined): WritePlan {
  const declared = ctx.statementHash;
  if (action === 'stage') {
    const target = ctx.change === 'candidate' ? trial : live;
    if (shows(target, 'LOG_ONLY', declared)) return { calls: [], waitFor: ctx.trialName };
    if (!target) return { calls: [{ op: 'create', name: ctx.trialName, enforcementMode: 'LOG_ONLY', withStatement: true }], waitFor: ctx.trialName };
    return { calls: [{ op: 'update', name: ctx.trialName, policyId: target.policyId, enforcementMode: 'LOG_ONLY', statement: 'declared' }], waitFor: ctx.trialName };
  }
  if (action === 'promote') {
    if (!live) throw new Error(`policy ${ctx.policyName} disappeared before its promotion`);
    const calls: PolicyCall[] = [];
    if (ctx.change === 'candidate') {
      if (!shows(live, 'ACTIVE', declared)) calls.push({ op: 'update', name: ctx.policyName, policyId: live.policyId, enforcementMode: 'ACTIVE', statement: 'declared' });
      if (trial) calls.push({ op: 'delete', name: ctx.trialName, policyId: trial.policyId });
    } else if (!shows(live, 'ACTIVE', declared)) {
      calls.push({ op: 'update', name: ctx.policyName, policyId: live.policyId, enforcementMode: 'ACTIVE' });
    }
    return { calls, waitFor: ctx.policyName };
  }
  // restore
  const before = ctx.before;
  const now = { enforcementMode: live?.enforcementMode ?? null, statementHash: live?.statementHash ?? null };
  const candidate = ctx.change === 'candidate';
  // What the policy goes back to: its previous statement, ACTIVE (candidate); LOG_ONLY otherwise.
  const to = candidate
    ? { enforcementMode: 'ACTIVE' as const, statementHash: before.statementHash }
    : { enforcementMode: 'LOG_ONLY' as const, statementHash: declared };
  const base = { policyName: ctx.policyName, from: now, to };
  if (!live) return { calls: [], waitFor: ctx.policyName, report: { action: 'conflict', ...base }, expect: null };
  if (shows(live, to.enforcementMode, to.statementHash)) return { calls: [], waitFor: ctx.policyName, report: { action: 'unchanged', ...base }, expect: to };
  // Ours: what the promote step set (the declared statement, ACTIVE). Anything else: someone else's.
  if (!(live.enforcementMode === 'ACTIVE' && live.statementHash === declared)) {
    return { calls: [], waitFor: ctx.policyName, report: { action: 'conflict', ...base }, expect: null };
  }
  const call: PolicyCall = candidate
    ? { op: 'update', name: ctx.policyName, policyId: live.policyId, statement: 'before' }
    : { op: 'update', name: ctx.policyName, policyId: live.policyId, enforcementMode: 'LOG_ONLY' };
  return { calls: [call], waitFor: ctx.policyName, report: { action: 'restored', ...base }, expect: to };
}
