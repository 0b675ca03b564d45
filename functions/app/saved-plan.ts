/**
 * Saved drift plans (`autopilot plan -out FILE`, then `autopilot apply FILE`), terraform-like: apply
 * does exactly the reviewed plan or nothing. A saved plan records the config file's digest, where
 * it was computed (region, endpoint), the redacted plan and, for every resource it would change, a
 * fingerprint of the live resource (runtime version and update time, gateway update time: no
 * values, so no secret). Applying re-reads everything and refuses when the config changed, when a
 * resource to change moved since the plan, or when the fresh plan would do anything else.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { DriftPlan, ResourcePlan } from '../domain/drift/plan.ts';
import { AutopilotError } from '../lib/errors.ts';
import { actionable, type DriftRun } from './drift.ts';

export const PLAN_FORMAT = 'agentcore-autopilot/drift-plan';
export const PLAN_FORMAT_VERSION = 1;

export interface ResourceFingerprint {
  kind: ResourcePlan['kind'];
  ref: string;
  id?: string;
  /** Runtime: the live version (every update creates one). */
  version?: string;
  /** Runtime lastUpdatedAt / gateway updatedAt, ISO 8601. */
  updatedAt?: string;
}

export interface SavedPlan {
  format: typeof PLAN_FORMAT;
  formatVersion: number;
  createdAt: string;
  config: { file: string; sha256: string };
  target: { region?: string; endpoint?: string };
  plan: DriftPlan;
  fingerprints: ResourceFingerprint[];
}

/** The saved plan is stale, of another target, or not a plan: nothing was applied. */
export class SavedPlanRefusedError extends AutopilotError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`the saved plan was not applied: ${problems.join('; ')}`, { details: { problems } });
    this.problems = problems;
  }
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const iso = (v: unknown): string | undefined => (v instanceof Date ? v.toISOString() : typeof v === 'string' ? v : undefined);

function fingerprintOf(r: ResourcePlan, live: Record<string, unknown> | undefined): ResourceFingerprint {
  return {
    kind: r.kind,
    ref: r.ref,
    ...(r.id !== undefined && { id: r.id }),
    ...(r.kind === 'runtime' && typeof live?.agentRuntimeVersion === 'string' && { version: live.agentRuntimeVersion }),
    ...(iso(live?.lastUpdatedAt ?? live?.updatedAt) !== undefined && { updatedAt: iso(live?.lastUpdatedAt ?? live?.updatedAt) }),
  };
}

/** The fingerprints of every resource the run would change. */
function fingerprints(run: DriftRun): ResourceFingerprint[] {
  const todo = new Set(actionable(run.plan));
  return run.plan.resources.flatMap((r, i) => (todo.has(r) ? [fingerprintOf(r, run.targets[i]?.live)] : []));
}

/** A plan file's content for a run read from `configText` (the config file's bytes). */
export function savePlan(run: DriftRun, config: { file: string; text: string }, target: SavedPlan['target'], now: Date): SavedPlan {
  return {
    format: PLAN_FORMAT,
    formatVersion: PLAN_FORMAT_VERSION,
    createdAt: now.toISOString(),
    config: { file: config.file, sha256: sha256(config.text) },
    target,
    plan: run.plan,
    fingerprints: fingerprints(run),
  };
}

/** Parses a plan file; a SavedPlanRefusedError when it is not one this version reads. */
export function parseSavedPlan(text: string, file: string): SavedPlan {
  let doc: Partial<SavedPlan>;
  try {
    doc = JSON.parse(text) as Partial<SavedPlan>;
  } catch {
    throw new SavedPlanRefusedError([`${file} is not a saved plan (not JSON)`]);
  }
  if (doc?.format !== PLAN_FORMAT) throw new SavedPlanRefusedError([`${file} is not a saved plan of autopilot plan -out`]);
  if (doc.formatVersion !== PLAN_FORMAT_VERSION) throw new SavedPlanRefusedError([`${file} has plan format ${doc.formatVersion}; this autopilot reads ${PLAN_FORMAT_VERSION}`]);
  return doc as SavedPlan;
}

/** What a resource's plan says apply would do, without the read-time facts (for the comparison). */
function intent(r: ResourcePlan): unknown {
  // Through JSON, as the saved side was: absent and undefined members compare equal.
  return JSON.parse(JSON.stringify({ kind: r.kind, ref: r.ref, id: r.id, action: r.action, fields: r.fields, redeploy: r.redeploy ?? null, tamper: r.tamper ?? null }));
}

/**
 * Checks a fresh run against the saved plan: same config, same target, the same resources to
 * change the same way, none of them moved. Throws SavedPlanRefusedError listing every problem.
 */
export function checkSavedPlan(saved: SavedPlan, fresh: DriftRun, current: { configText: string; target: SavedPlan['target'] }): void {
  const problems: string[] = [];
  if (sha256(current.configText) !== saved.config.sha256) problems.push(`the config ${saved.config.file} changed since the plan`);
  if ((saved.target.region ?? '') !== (current.target.region ?? '') || (saved.target.endpoint ?? '') !== (current.target.endpoint ?? '')) {
    problems.push(`the plan was made for ${saved.target.endpoint ?? 'AWS'} in ${saved.target.region ?? 'the default region'}, this is ${current.target.endpoint ?? 'AWS'} in ${current.target.region ?? 'the default region'}`);
  }
  const key = (r: { kind: string; ref: string }) => `${r.kind} ${r.ref}`;
  const reviewed = new Map(actionable(saved.plan).map((r) => [key(r), r]));
  const now = new Map(actionable(fresh.plan).map((r) => [key(r), r]));
  const prints = new Map(fingerprints(fresh).map((f) => [key(f), f]));
  for (const [k, r] of reviewed) {
    const f = now.get(k);
    if (!f) {
      problems.push(`${k} no longer needs ${r.action} (live state moved)`);
      continue;
    }
    const before = saved.fingerprints.find((p) => key(p) === k);
    const after = prints.get(k);
    if (!isDeepStrictEqual(before, after)) {
      const what = before?.version !== after?.version ? `version ${before?.version ?? '?'} -> ${after?.version ?? '?'}` : `updated ${after?.updatedAt ?? '?'}`;
      problems.push(`${k} moved since the plan (${what})`);
    } else if (!isDeepStrictEqual(intent(r), intent(f))) {
      problems.push(`${k} would now be changed differently than reviewed`);
    }
  }
  for (const k of now.keys()) if (!reviewed.has(k)) problems.push(`${k} now needs ${now.get(k)!.action}, which the plan did not review`);
  if (problems.length > 0) throw new SavedPlanRefusedError(problems);
}
