/**
 * Drift, step two: apply the plan, one lossless update per resource (see functions/app/drift.ts).
 */
import type { Config, GatewaySpec, RuntimeSpec, DriftSettings } from '../lib/config/types.ts';
import { AutopilotError, ExecutionAlreadyExistsError } from '../lib/errors.ts';
import { buildRuntimeUpdate, containerUriOf, RUNTIME_UPDATE_FIELDS, type RuntimeChange } from '../domain/runtime-update.ts';
import { buildGatewayUpdate, GATEWAY_UPDATE_FIELDS, type GatewayChange } from '../domain/gateway-update.ts';
import { compareDeclared, normalizeRuntimeFields } from '../domain/drift/compare.ts';
import { correctionFields, type DriftAction, type DriftPlan, type FieldPlan, type ResourcePlan } from '../domain/drift/plan.ts';
import { afterCorrection } from '../domain/drift/history.ts';
import { DRIFT_ROLLOUT_TAG, encodeRolloutRecord, gatewayFingerprint } from '../domain/drift/tamper-guard.ts';
import { PromotionStateMachineUnknownError, RolloutStateMachineUnknownError } from '../domain/drift/errors.ts';
import { startPolicyRollout } from '../domain/rollout/start.ts';
import { RolloutInProgressError } from '../domain/rollout/errors.ts';
import { buildPromotionInput, promotionExecutionName, VERIFY_ONLY } from '../domain/redeploy/promotion.ts';

import { createLimiter, type Limiter } from '../lib/concurrency.ts';
import { errorText, retrying, strip, writeHistory, writeTag, type DriftDeps, type DriftRun, type PolicyTargetSpec, type Target } from './drift-common.ts';
import { startPromotion } from './promotion.ts';

// ---------------------------------------------------------------------------------------------
// apply

export type OutcomeStatus = 'corrected' | 'failed' | 'skipped';

export interface ApplyOutcome {
  kind: 'runtime' | 'gateway' | 'policy';
  ref: string;
  id?: string;
  action: DriftAction;
  status: OutcomeStatus;
  reason?: string;
  /** Redacted, as in the plan. */
  fields: FieldPlan[];
  fromVersion?: string;
  toVersion?: string;
  rolloutExecution?: { name: string; arn?: string; alreadyRunning: boolean; status: 'STARTED' | 'ALREADY_RUNNING' | 'ALREADY_RAN' };
  /** A declared Cedar policy's staged promotion this run started (or found). */
  policyPromotion?: { name: string; arn?: string; status: 'STARTED' | 'ALREADY_RUNNING' | 'ALREADY_RAN' };
  promotionExecution?: string;
  error?: { name: string; message: string };
}

export interface ApplyResult {
  outcomes: ApplyOutcome[];
  /** Why the run stopped early, if it did (lock-lost: the drift lock could not be confirmed before a write). */
  stopped?: 'max-corrections' | 'error-ratio' | 'lock-lost';
  counts: { planned: number; attempted: number; corrected: number; failed: number; skipped: number };
}

export interface ApplyOptions {
  onProgress?: (outcome: ApplyOutcome, done: number, total: number) => void;
  /**
   * Attempts, failures and the stop reason shared by several applyDrift calls (the slices of one
   * scan, and the invocations of one pass): `maxCorrectionsPerRun` and `maxErrorRatio` hold for
   * the whole pass. Updated in place.
   */
  tally?: ApplyTally;
  /** Corrections in flight across several applyDrift calls (the slices of one scan): `drift.concurrency` in all. */
  limiter?: Limiter;
  /**
   * Called before every write (functions/app/drift-lock.ts DriftLock.guard): when it throws, this
   * resource and every later one is skipped (`stopped: lock-lost`) and nothing more is written.
   */
  guard?: () => Promise<void>;
}

export interface ApplyTally {
  attempted: number;
  failed: number;
  stopped?: ApplyResult['stopped'];
}

const ACTIONABLE: readonly DriftAction[] = ['correct', 'redeploy', 'needs-rollout', 'restore-enforce', 'promote', 'delete'];

/** The resources of a plan that apply would change. */
export const actionable = (plan: DriftPlan): ResourcePlan[] => plan.resources.filter((r) => ACTIONABLE.includes(r.action));

/** Executes the plan of `run`. Never throws for one resource's failure: it is an outcome. */
export async function applyDrift(deps: DriftDeps, run: DriftRun, options: ApplyOptions = {}): Promise<ApplyResult> {
  const { plan, settings } = run;
  const work = plan.resources.map((r, i) => ({ r, t: run.targets[i] })).filter(({ r }) => ACTIONABLE.includes(r.action));
  const slots: ApplyOutcome[] = new Array(work.length);
  let done = 0;
  const total = work.length;
  const tally: ApplyTally = options.tally ?? { attempted: 0, failed: 0 };
  const attemptedBefore = tally.attempted;
  // The error ratio is judged once a few attempts have finished (fewer when that is all there is to do).
  const minAttempts = options.tally ? 3 : Math.min(3, total);
  const limiter = options.limiter ?? createLimiter(settings.concurrency);
  let lockProblem = '';
  const skippedReason = () => (tally.stopped === 'max-corrections' ? `cap of ${settings.maxCorrectionsPerRun} corrections per run reached`
    : tally.stopped === 'lock-lost' ? `run stopped, nothing more written: ${lockProblem || 'the drift lock could not be confirmed'}` : 'run stopped: error ratio exceeded');
  const push = (index: number, o: ApplyOutcome) => { slots[index] = o; options.onProgress?.(o, ++done, total); };
  const base = (r: ResourcePlan): Omit<ApplyOutcome, 'status'> => ({ kind: r.kind, ref: r.ref, id: r.id, action: r.action, fields: r.fields });

  // A failed rollout drift did not start is tied to the current declaration once, so that a later
  // change of the declaration lets drift try again (functions/domain/drift/tamper-guard.ts).
  await Promise.all(plan.resources.map(async (r, i) => {
    const t = run.targets[i];
    if (!r.previousRollout || !t?.rolloutRecord || !t.arn) return;
    try {
      await writeTag(deps, t.arn, DRIFT_ROLLOUT_TAG, t.rolloutRecord);
    } catch (err) {
      run.notes.push(`${r.kind} ${r.ref}: could not record the failed rollout ${r.previousRollout.executionName} (${errorText(err)})`);
    }
  }));

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < work.length) {
      const index = next++;
      const { r, t } = work[index];
      if (!tally.stopped && tally.attempted >= settings.maxCorrectionsPerRun) tally.stopped = 'max-corrections';
      if (tally.stopped) {
        push(index, { ...base(r), status: 'skipped', reason: skippedReason() });
        continue;
      }
      await limiter.run(async () => {
        // The pass may have stopped (or reached its cap) while this one waited for its turn.
        if (!tally.stopped && tally.attempted >= settings.maxCorrectionsPerRun) tally.stopped = 'max-corrections';
        if (tally.stopped) {
          push(index, { ...base(r), status: 'skipped', reason: skippedReason() });
          return;
        }
        // Counted before the lock is confirmed (an await), so other slices see the cap at once.
        tally.attempted++;
        if (options.guard) {
          try {
            await options.guard();
          } catch (err) {
            tally.attempted--;
            lockProblem ||= err instanceof Error ? err.message : String(err);
            tally.stopped ??= 'lock-lost';
            push(index, { ...base(r), status: 'skipped', reason: skippedReason() });
            return;
          }
        }
        let outcome: ApplyOutcome;
        try {
          outcome = { ...base(r), ...(await correctOne(deps, r, t, settings, run.config)) };
        } catch (err) {
          outcome = { ...base(r), status: 'failed', error: { name: err instanceof Error ? err.name : 'Error', message: err instanceof Error ? err.message : String(err) } };
        }
        if (outcome.status === 'failed') tally.failed++;
        else if (outcome.status === 'corrected' && t.arn) {
          try {
            await writeHistory(deps, t.arn, afterCorrection(t.history, deps.now()));
          } catch (err) {
            outcome.reason = `${outcome.reason ? `${outcome.reason}; ` : ''}correction history not saved (${errorText(err)})`;
          }
        }
        push(index, outcome);
        if (!tally.stopped && tally.attempted >= minAttempts && tally.failed / tally.attempted > settings.maxErrorRatio) tally.stopped = 'error-ratio';
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(settings.concurrency, work.length)) }, worker));

  const outcomes = [...slots];
  const count = (s: OutcomeStatus) => outcomes.filter((o) => o.status === s).length;
  return { outcomes, stopped: tally.stopped, counts: { planned: total, attempted: tally.attempted - attemptedBefore, corrected: count('corrected'), failed: count('failed'), skipped: count('skipped') } };
}

function ignoreOf(spec: RuntimeSpec | GatewaySpec, settings: DriftSettings, kind: 'runtime' | 'gateway'): string[] {
  const ignore = [...settings.ignore, ...spec.ignore];
  if (kind === 'runtime' && (spec as RuntimeSpec).track) ignore.push('/agentRuntimeArtifact');
  return ignore;
}

const pick = (o: Record<string, unknown>, keys: readonly string[]) => Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));

async function correctOne(deps: DriftDeps, r: ResourcePlan, t: Target, settings: DriftSettings, config: Config | undefined): Promise<Omit<ApplyOutcome, 'kind' | 'ref' | 'id' | 'action' | 'fields'>> {
  if (t.kind === 'policy') return correctPolicy(deps, r, t.spec as PolicyTargetSpec, config);
  if (!r.id || !t.live) throw new AutopilotError('resource vanished between plan and apply', { details: { ref: r.ref } });
  const ignore = ignoreOf(t.spec as RuntimeSpec | GatewaySpec, settings, t.kind);
  if (t.kind === 'runtime') {
    const spec = t.spec as RuntimeSpec;
    const fresh = strip(await retrying(deps, () => deps.agentCore.getRuntime(r.id!)));
    // Drift is recomputed on the fresh read: only what is still drifted is written.
    const drifted = compareDeclared(spec.desired as Record<string, unknown>, normalizeRuntimeFields(pick(fresh, RUNTIME_UPDATE_FIELDS)), ignore).map((d) => d.path);
    const change: RuntimeChange = {};
    const set = correctionFields('runtime', spec.desired as Record<string, unknown>, fresh, ignore, drifted);
    if (Object.keys(set).length > 0) change.set = set as RuntimeChange['set'];
    if (r.redeploy) {
      const liveUri = containerUriOf(fresh);
      if (!liveUri?.endsWith(`@${r.redeploy.digest}`)) change.containerUri = r.redeploy.toUri;
    }
    if (!change.set && !change.containerUri) return { status: 'skipped', reason: 'already in sync on re-read' };
    const promote = spec.track?.promote;
    if (promote && promote.endpoints.length > 0 && !deps.promotionStateMachineArn) {
      // A new version the endpoints are never moved to would be a half-done correction: write nothing.
      throw new PromotionStateMachineUnknownError(
        `${change.containerUri ? 'redeploy' : 'correction'} not applied: the tracking rule promotes (endpoints ${promote.endpoints.join(', ')}) but the runtime-promotion state machine is unknown; set PROMOTION_STATE_MACHINE_ARN (or pass --promotion-state-machine)`,
        { details: { runtimeId: r.id, endpoints: promote.endpoints } },
      );
    }
    const request = buildRuntimeUpdate(fresh, change);
    const out = await retrying(deps, () => deps.agentCore.updateRuntime(request));
    const result: Omit<ApplyOutcome, 'kind' | 'ref' | 'id' | 'action' | 'fields'> = {
      status: 'corrected', fromVersion: fresh.agentRuntimeVersion as string, toVersion: out.agentRuntimeVersion,
      reason: `new runtime version ${out.agentRuntimeVersion} (managed session storage is reset)`,
    };
    // Like every accepted update, the new version is followed (and promoted when the rule names endpoints).
    const previousUri = containerUriOf(fresh);
    const newUri = change.containerUri ?? previousUri;
    if (!deps.promotionStateMachineArn) {
      result.reason += '; not followed: the runtime-promotion state machine is unknown';
    } else if (out.agentRuntimeVersion && previousUri && newUri && out.agentRuntimeVersion !== fresh.agentRuntimeVersion) {
      const digest = change.containerUri ? r.redeploy?.digest : undefined;
      const input = buildPromotionInput({
        runtimeId: r.id, newVersion: out.agentRuntimeVersion, previousVersion: fresh.agentRuntimeVersion as string,
        previousUri, newUri, promote: promote ?? VERIFY_ONLY,
        origin: { trigger: 'drift', ...(digest && spec.track && { repository: spec.track.repository, digest, ...(r.redeploy?.tag && { tag: r.redeploy.tag }) }) },
      });
      const name = promotionExecutionName(r.id, out.agentRuntimeVersion);
      try {
        await retrying(deps, () => deps.sfn.startExecution({ stateMachineArn: deps.promotionStateMachineArn!, name, input }));
      } catch (err) {
        if (!(err instanceof ExecutionAlreadyExistsError)) throw err;
      }
      result.promotionExecution = name;
    }
    return result;
  }

  const spec = t.spec as GatewaySpec;
  const fresh = strip(await retrying(deps, () => deps.agentCore.getGateway(r.id!)));
  const drifted = compareDeclared(spec.desired as Record<string, unknown>, pick(fresh, GATEWAY_UPDATE_FIELDS), ignore).map((d) => d.path);
  const change: GatewayChange = {};
  const set = correctionFields('gateway', spec.desired as Record<string, unknown>, fresh, ignore, drifted);
  if (Object.keys(set).length > 0) change.set = set as GatewayChange['set'];
  const policyField = r.fields.find((f) => f.path === '/policyEngineConfiguration');
  const pe = spec.policyEngine;
  if (pe && policyField?.action === 'correct') change.policyEngine = { arn: pe.arn, mode: pe.mode };
  if (pe && policyField?.action === 'restore-enforce') change.policyEngine = { arn: pe.arn, mode: 'ENFORCE' };
  const needsRollout = pe !== undefined && policyField?.action === 'needs-rollout';
  if (!change.set && !change.policyEngine && !needsRollout) return { status: 'skipped', reason: 'already in sync on re-read' };
  const result: Omit<ApplyOutcome, 'kind' | 'ref' | 'id' | 'action' | 'fields'> = { status: 'corrected' };
  const notes: string[] = [];
  if (change.set || change.policyEngine) {
    const request = buildGatewayUpdate(fresh, change);
    await retrying(deps, () => deps.agentCore.updateGateway(request));
    if (change.policyEngine?.mode === 'ENFORCE' && r.tamper) notes.push('policy engine restored to ENFORCE at once (tamperResponse: restore)');
  }
  if (needsRollout) {
    result.rolloutExecution = await startEnforceRollout(deps, config, r.id, pe!.arn, fresh, spec);
    const st = result.rolloutExecution.status;
    // Ties the rollout to this declaration: if it ends without enforcing, the next runs do not start it again.
    const name = result.rolloutExecution.name;
    const record = name ? encodeRolloutRecord({ fingerprint: gatewayFingerprint(spec), executionName: name }) : undefined;
    if (t.arn && record && t.tags?.[DRIFT_ROLLOUT_TAG] !== record) {
      try {
        await writeTag(deps, t.arn, DRIFT_ROLLOUT_TAG, record);
      } catch (err) {
        notes.push(`rollout record not saved (${errorText(err)})`);
      }
    }
    if (st === 'ALREADY_RAN') {
      result.status = 'skipped';
      notes.push(`a staged ENFORCE rollout for this tampering already ran (${result.rolloutExecution.name}) and the engine is still relaxed: needs a human`);
    } else {
      notes.push(st === 'STARTED' ? `staged ENFORCE rollout started (${result.rolloutExecution.name})` : 'a staged ENFORCE rollout is already running');
    }
  }
  if (notes.length > 0) result.reason = notes.join('; ');
  return result;
}

/**
 * Applies a declared Cedar policy's drift: a LOG_ONLY write (create or update in LOG_ONLY), a staged
 * promotion to ACTIVE (its execution started through the promotion job's own start, which refuses
 * undeclared policies), or the deletion of an undeclared one (prune).
 */
async function correctPolicy(deps: DriftDeps, r: ResourcePlan, spec: PolicyTargetSpec, config: Config | undefined): Promise<Omit<ApplyOutcome, 'kind' | 'ref' | 'id' | 'action' | 'fields'>> {
  const engineId = spec.engine.arn.slice(spec.engine.arn.lastIndexOf('/') + 1);
  if (r.action === 'delete') {
    if (!spec.policyId) return { status: 'skipped', reason: 'already gone' };
    await retrying(deps, () => deps.agentCore.deletePolicy(engineId, spec.policyId!));
    return { status: 'corrected', reason: 'undeclared policy deleted (prune: true)' };
  }
  const declared = spec.declared;
  if (!declared) throw new AutopilotError(`policy ${spec.name} is not declared`, { details: { ref: r.ref } });
  if (r.action === 'correct') {
    // Declared LOG_ONLY: writing it in LOG_ONLY changes no decision.
    if (spec.policyId) {
      await retrying(deps, () => deps.agentCore.updatePolicy({
        policyEngineId: engineId, policyId: spec.policyId!, definition: { cedar: { statement: declared.statement } }, enforcementMode: 'LOG_ONLY', validationMode: declared.validationMode,
      }));
      return { status: 'corrected', reason: 'statement written in LOG_ONLY' };
    }
    await retrying(deps, () => deps.agentCore.createPolicy({
      policyEngineId: engineId, name: declared.name, definition: { cedar: { statement: declared.statement } }, enforcementMode: 'LOG_ONLY', validationMode: declared.validationMode,
      ...(declared.description !== undefined && { description: declared.description }),
    }));
    return { status: 'corrected', reason: 'created in LOG_ONLY' };
  }
  // promote
  if (!deps.policyPromotionStateMachineArn || !config) {
    throw new AutopilotError('the policy-promotion state machine is unknown (set POLICY_PROMOTION_STATE_MACHINE_ARN): cannot start the staged promotion', { details: { ref: r.ref } });
  }
  const out = await retrying(deps, () => startPromotion(
    { sfn: deps.sfn, stateMachineArn: deps.policyPromotionStateMachineArn!, config, now: () => new Date(deps.now()) },
    { policyEngineArn: spec.engine.arn, policyName: declared.name },
  ));
  const policyPromotion = { name: out.executionName, arn: out.executionArn, status: out.status };
  if (out.status === 'ALREADY_RAN') {
    return { status: 'skipped', policyPromotion, reason: `the promotion of this statement already ran (${out.executionName}, ${out.executionStatus ?? 'closed'}) and the policy is still not as declared: a person decides (autopilot policy promote --attempt <new>)` };
  }
  return { status: 'corrected', policyPromotion, reason: out.status === 'STARTED' ? `staged promotion started (${out.executionName})` : 'a staged promotion is already running' };
}

/**
 * Starts the staged LOG_ONLY -> ENFORCE rollout of a tampered gateway through the rollout job's
 * startPolicyRollout. The attempt is derived from the tampering change (the gateway's updatedAt)
 * and the declaration: successive runs that see the same tampering name the same execution
 * (nothing new starts while it runs), while a later tampering gets a rollout of its own -- unless
 * the last one ended without enforcing under the same declaration (readDrift's tamper guard plans
 * `needs-human` then). Another rollout already running for the gateway counts as "already running".
 */
async function startEnforceRollout(
  deps: DriftDeps, config: Config | undefined, gatewayId: string, policyEngineArn: string, live: Record<string, unknown>, spec: GatewaySpec,
): Promise<NonNullable<ApplyOutcome['rolloutExecution']>> {
  if (!deps.rolloutStateMachineArn) {
    throw new RolloutStateMachineUnknownError('ROLLOUT_STATE_MACHINE_ARN is not set: cannot start the staged rollout', { details: { gatewayId } });
  }
  const updatedAt = live.updatedAt instanceof Date ? live.updatedAt.getTime() : Date.parse(String(live.updatedAt ?? '')) || 0;
  try {
    const out = await retrying(deps, () => startPolicyRollout(
      { sfn: deps.sfn, agentCore: deps.agentCore, stateMachineArn: deps.rolloutStateMachineArn!, config, now: () => new Date(deps.now()) },
      // The declaration's fingerprint too: a changed declaration is a new request even on an unchanged gateway.
      { gatewayId, policyEngineArn, attempt: `drift-${gatewayFingerprint(spec).slice(0, 12)}-${updatedAt}` },
    ));
    return { name: out.executionName, arn: out.executionArn, alreadyRunning: out.status !== 'STARTED', status: out.status };
  } catch (err) {
    if (err instanceof RolloutInProgressError) return { name: '', alreadyRunning: true, status: 'ALREADY_RUNNING' };
    throw err;
  }
}
