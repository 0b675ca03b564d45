/**
 * Drift of Cedar policies under declared configuration (config `policyEngines`): per declared
 * policy, whether it is missing live, has another statement (compared in Cedar's canonical form,
 * so formatting alone is not drift) or another enforcement mode; and every live policy the config
 * does not declare. Pure: the caller lists the policies and canonicalises the statements.
 *
 * What apply may do (never loosening by itself):
 * - a declared LOG_ONLY policy missing or changed while live in LOG_ONLY: written directly in
 *   LOG_ONLY (`correct`; a LOG_ONLY policy never takes part in a decision);
 * - a declared ACTIVE policy missing, changed or live in LOG_ONLY: only through a staged promotion
 *   (`promote`, when the engine says `promote: auto`; otherwise reported with the command);
 * - a declared LOG_ONLY policy live in ACTIVE: `needs-human` (switching it off may loosen);
 * - an undeclared live policy: reported; deleted (`delete`) only with `prune: true`.
 */
import { CANDIDATE_SUFFIX } from '../../lib/config/defaults.ts';
import type { PolicyEngineDeclaration } from '../../lib/config/policies.ts';
import type { ChangeWindow } from '../../lib/config/types.ts';
import type { DriftAction, FieldPlan, ResourcePlan } from './plan.ts';

/** A live policy with its statement in Cedar's canonical form. */
export interface LivePolicyFact {
  policyId: string;
  name: string;
  status: string;
  enforcementMode: 'ACTIVE' | 'LOG_ONLY';
  /** Canonical statement; null when the policy has no Cedar statement. */
  statement: string | null;
}

export interface PolicyEngineObservation {
  declaration: PolicyEngineDeclaration;
  /** Canonical form of each declared statement, by policy name. */
  declared: Record<string, string>;
  live?: LivePolicyFact[];
  /** A read error: the engine's policies are left alone this run. */
  error?: string;
  /** Declared policies with a promotion running (left alone this run). */
  promotionsInProgress?: readonly string[];
}

const SETTLED = new Set(['ACTIVE']);

function ref(engineArn: string, name: string): string {
  return `${engineArn.slice(engineArn.lastIndexOf('/') + 1)}/${name}`;
}

function promoteCommand(engineArn: string, name: string): string {
  return `autopilot policy promote --engine ${engineArn} --policy ${name}`;
}

/** The plan entries (kind `policy`) of one engine. */
export function planPolicyEngine(o: PolicyEngineObservation, opts: { driftMode: 'report' | 'correct'; windowOpen: boolean; reportOnly?: boolean }): ResourcePlan[] {
  const d = o.declaration;
  const engineRef = d.arn.slice(d.arn.lastIndexOf('/') + 1);
  if (o.error !== undefined || !o.live) {
    return [{ kind: 'policy', ref: engineRef, status: 'error', action: 'report-only', reason: o.error ?? 'policies could not be listed', fields: [] }];
  }
  const out: ResourcePlan[] = [];
  const byName = new Map(o.live.map((p) => [p.name, p]));
  const inProgress = new Set(o.promotionsInProgress ?? []);
  const act = (wanted: DriftAction, reason: string): { action: DriftAction; reason: string } => {
    if (opts.reportOnly) return { action: 'report-only', reason: `${reason} (report only this run)` };
    if (!opts.windowOpen) return { action: 'report-only', reason: `${reason} (outside the change window)` };
    return { action: wanted, reason };
  };
  for (const p of d.policies) {
    const live = byName.get(p.name);
    const declared = o.declared[p.name];
    const fields: FieldPlan[] = [];
    const base = { kind: 'policy' as const, ref: ref(d.arn, p.name), ...(live && { id: live.policyId }) };
    if (!live) {
      fields.push({ path: '/definition/cedar/statement', from: undefined, to: declared, action: 'none' }, { path: '/enforcementMode', from: undefined, to: p.mode, action: 'none' });
    } else {
      if (live.statement !== declared) fields.push({ path: '/definition/cedar/statement', from: live.statement ?? undefined, to: declared, action: 'none' });
      if (live.enforcementMode !== p.mode) fields.push({ path: '/enforcementMode', from: live.enforcementMode, to: p.mode, action: 'none' });
    }
    if (fields.length === 0 && (!live || SETTLED.has(live.status))) {
      out.push({ ...base, status: 'in-sync', action: 'none', fields: [] });
      continue;
    }
    let decision: { action: DriftAction; reason: string };
    if (inProgress.has(p.name)) {
      decision = { action: 'none', reason: 'a promotion of this policy is running' };
    } else if (live && !SETTLED.has(live.status)) {
      decision = { action: 'report-only', reason: `the live policy is ${live.status}` };
    } else if (p.mode === 'LOG_ONLY') {
      decision = live?.enforcementMode === 'ACTIVE'
        ? { action: 'needs-human', reason: 'declared LOG_ONLY but ACTIVE live: switching it off may loosen what is enforced; do it by hand' }
        : opts.driftMode === 'correct'
          ? act('correct', live ? 'statement written in LOG_ONLY (decides nothing)' : 'created in LOG_ONLY (decides nothing)')
          : { action: 'report-only', reason: 'drift.mode is report' };
    } else if (d.promote === 'auto') {
      decision = act('promote', 'a staged promotion (LOG_ONLY, verify, ACTIVE, verify) brings it to ACTIVE');
    } else {
      decision = { action: 'report-only', reason: `needs a staged promotion: ${promoteCommand(d.arn, p.name)} (or promote: auto)` };
    }
    out.push({
      ...base,
      status: live ? 'drifted' : 'missing',
      action: decision.action,
      reason: decision.reason,
      fields: fields.map((f) => ({ ...f, action: decision.action })),
    });
  }
  const declaredNames = new Set(d.policies.map((p) => p.name));
  for (const live of o.live) {
    if (declaredNames.has(live.name)) continue;
    // The trial copy of a declared policy's promotion is the promotion's own business.
    if (live.name.endsWith(CANDIDATE_SUFFIX) && declaredNames.has(live.name.slice(0, -CANDIDATE_SUFFIX.length))) continue;
    const decision = d.prune ? act('delete', 'not declared: deleted (prune: true)') : { action: 'report-only' as const, reason: 'not declared (set prune: true to delete undeclared policies)' };
    out.push({
      kind: 'policy',
      ref: ref(d.arn, live.name),
      id: live.policyId,
      status: 'drifted',
      action: decision.action,
      reason: decision.reason,
      fields: [{ path: '', from: `${live.enforcementMode} policy ${live.name}`, to: undefined, action: decision.action }],
    });
  }
  return out;
}

/** Whether `now` falls in the change window (no window: always). */
export type WindowCheck = (window: ChangeWindow | undefined, now: number) => boolean;
