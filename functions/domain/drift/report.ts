/**
 * What a drift run tells the world: one `Drift Detected` event per resource that is not in sync
 * (drifted, missing, unreadable), one `Drift Corrected` / `Drift Correction Failed` per resource
 * apply touched, and a summary with counts for the one log line. Built from the redacted plan and
 * outcomes only, so no environment variable value or description can reach an event.
 */
import type { DriftPlan, ResourcePlan } from './plan.ts';

export const DRIFT_DETAIL_TYPES = {
  detected: 'Drift Detected',
  corrected: 'Drift Corrected',
  failed: 'Drift Correction Failed',
} as const;

/** The parts of an apply outcome the events carry (functions/app/drift.ts ApplyOutcome). */
export interface OutcomeLike {
  kind: 'runtime' | 'gateway' | 'policy';
  ref: string;
  id?: string;
  action: string;
  status: 'corrected' | 'failed' | 'skipped';
  reason?: string;
  fields: ResourcePlan['fields'];
  fromVersion?: string;
  toVersion?: string;
  rolloutExecution?: { name: string; arn?: string; alreadyRunning: boolean };
  promotionExecution?: string;
  error?: { name: string; message: string };
}

export interface DriftEvent {
  detailType: (typeof DRIFT_DETAIL_TYPES)[keyof typeof DRIFT_DETAIL_TYPES];
  detail: Record<string, unknown>;
}

const compact = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** `Drift Detected` for every resource that is not in sync (tampering is flagged `severity: HIGH`). */
export function detectedEvents(plan: DriftPlan, trigger: string): DriftEvent[] {
  return plan.resources
    .filter((r) => r.status === 'drifted' || r.status === 'missing' || r.status === 'error')
    .map((r) => ({
      detailType: DRIFT_DETAIL_TYPES.detected,
      detail: compact({
        trigger,
        resourceType: r.kind, ref: r.ref, id: r.id, status: r.status, action: r.action, reason: r.reason,
        severity: r.tamper ? 'HIGH' : r.status === 'drifted' ? 'MEDIUM' : 'LOW',
        createsVersion: r.createsVersion, liveVersion: r.liveVersion, tamper: r.tamper, redeploy: r.redeploy,
        previousRollout: r.previousRollout, needsHuman: r.action === 'needs-human' || r.fields.some((f) => f.action === 'needs-human') ? true : undefined,
        diff: r.fields,
      }),
    }));
}

/** `Drift Corrected` / `Drift Correction Failed` per applied resource (skipped ones are in the summary). */
export function outcomeEvents(outcomes: readonly OutcomeLike[], trigger: string, tamperRefs: ReadonlySet<string> = new Set()): DriftEvent[] {
  return outcomes
    .filter((o) => o.status !== 'skipped')
    .map((o) => ({
      detailType: o.status === 'corrected' ? DRIFT_DETAIL_TYPES.corrected : DRIFT_DETAIL_TYPES.failed,
      detail: compact({
        trigger,
        resourceType: o.kind, ref: o.ref, id: o.id, action: o.action, reason: o.reason,
        tamper: tamperRefs.has(`${o.kind}:${o.ref}`) ? true : undefined,
        fromVersion: o.fromVersion, toVersion: o.toVersion, rolloutExecution: o.rolloutExecution, promotionExecution: o.promotionExecution,
        error: o.error, diff: o.fields,
      }),
    }));
}

export interface DriftSummary {
  resources: number;
  inSync: number;
  drifted: number;
  missing: number;
  excluded: number;
  errors: number;
  tampered: number;
  /** Findings drift leaves to a human (a tampering whose staged rollout already failed). */
  needsHuman: number;
  fields: number;
  toCorrect: number;
  corrected: number;
  failed: number;
  skipped: number;
  stopped?: string;
}

/** Counts for the run's one summary log line. */
export function summarize(plan: DriftPlan, outcomes: readonly OutcomeLike[] = [], stopped?: string): DriftSummary {
  const c = plan.counts;
  return compact({
    resources: c.resources, inSync: c.inSync, drifted: c.drifted, missing: c.missing, excluded: c.excluded, errors: c.errors,
    tampered: plan.resources.filter((r) => r.tamper).length, needsHuman: c.needsHuman, fields: c.fields, toCorrect: c.toCorrect,
    corrected: outcomes.filter((o) => o.status === 'corrected').length,
    failed: outcomes.filter((o) => o.status === 'failed').length,
    skipped: outcomes.filter((o) => o.status === 'skipped').length,
    stopped,
  }) as unknown as DriftSummary;
}
