/**
 * The drift plan: a value describing, per declared resource and per field, how the live resource
 * differs from the declaration and what the apply step will do about it. Pure: the caller reads
 * the live resources (and the correction history) and passes them in.
 */
import type { GatewaySpec, RuntimeSpec, ChangeWindow, DriftSettings, PolicyEngineMode } from '../../lib/config/types.ts';
import { agentCoreModel } from '../../lib/model/validate.ts';
import { containerUriOf, RUNTIME_UPDATE_FIELDS } from '../runtime-update.ts';
import { GATEWAY_UPDATE_FIELDS } from '../gateway-update.ts';
import { REDACTED } from '../redact.ts';
import { STREAK_RESET_MS } from './history.ts';
import { planPolicyEngine, type PolicyEngineObservation } from './policies.ts';
import { compareDeclared, isIgnored, mergeDeclared, normalizeRuntimeFields, pointerSegments, unionPathsOf, type FieldDrift } from './compare.ts';

export type ResourceKind = 'runtime' | 'gateway' | 'policy';
/** What apply does with a resource (or one of its fields). */
export type DriftAction =
  | 'none'
  | 'correct'
  | 'report-only'
  | 'ignored'
  | 'needs-rollout'
  | 'restore-enforce'
  | 'redeploy'
  /** A declared Cedar policy brought to ACTIVE through a staged promotion (policy-promotion state machine). */
  | 'promote'
  /** An undeclared Cedar policy deleted (the engine's declaration says `prune: true`). */
  | 'delete'
  /**
   * Tampering that drift does not answer by itself: the gateway's last staged rollout ended without
   * enforcing and the declaration has not changed since (functions/domain/drift/tamper-guard.ts).
   */
  | 'needs-human';
export type ResourceStatus = 'in-sync' | 'drifted' | 'missing' | 'excluded' | 'error';

export interface FieldPlan extends FieldDrift {
  action: DriftAction;
}

export interface TamperFinding {
  declared: PolicyEngineMode;
  /** Live mode, or DETACHED when no engine (or another engine) is attached. */
  live: PolicyEngineMode | 'DETACHED';
  liveArn?: string;
  response: 'rollout' | 'restore';
}

export interface RedeployFinding {
  fromUri?: string;
  toUri: string;
  digest: string;
  tag?: string;
}

export interface ResourcePlan {
  kind: ResourceKind;
  /** The declared id or name. */
  ref: string;
  /** Resolved id, when the resource exists. */
  id?: string;
  status: ResourceStatus;
  action: DriftAction;
  /** Why the action is what it is (report mode, change window, backoff, ...). */
  reason?: string;
  fields: FieldPlan[];
  /** A runtime correction creates a new runtime version, which resets managed session storage. */
  createsVersion?: boolean;
  tamper?: TamperFinding;
  redeploy?: RedeployFinding;
  /** Live version the plan was computed against (runtimes). */
  liveVersion?: string;
  /**
   * A staged policy rollout of this gateway is running (or the running rollouts could not be
   * listed): its policy engine mode is left alone this run.
   */
  rolloutInProgress?: boolean;
  /** The rollout that makes a tampering `needs-human` (it ended without enforcing). */
  previousRollout?: { executionName: string; outcome: string };
  /**
   * Environment variables the live runtime has but the config does not declare (added by hand), by
   * name only, when the runtime declares `environmentVariables`. Not drift: a correction merges and
   * keeps them; the plan reports them so nobody is surprised.
   */
  undeclaredEnv?: string[];
}

export interface DriftPlan {
  generatedAt: string;
  inSync: boolean;
  resources: ResourcePlan[];
  counts: { resources: number; inSync: number; drifted: number; missing: number; excluded: number; errors: number; toCorrect: number; fields: number;
    /** Resources with a finding drift will not act on by itself (a tampering whose rollout already failed). */
    needsHuman: number;
  };
}

/** Live state of one declared runtime, as read by the caller. */
export interface RuntimeObservation {
  spec: RuntimeSpec;
  /** GetAgentRuntime output (undefined when the resource does not exist). */
  live?: Record<string, unknown>;
  /** A read error (not "missing"): reported, and the resource is left alone. */
  error?: string;
  /** Newest image the tracking rule allows (missed-push safety net), when one was found. */
  newestImage?: { uri: string; digest: string; tag?: string };
}

export interface GatewayObservation {
  spec: GatewaySpec;
  live?: Record<string, unknown>;
  error?: string;
}

/** Correction history of one resource (kept by the apply step, e.g. in resource tags). */
export interface CorrectionHistory {
  /** Consecutive runs in which this resource had to be corrected. */
  count: number;
  /** Epoch ms of the last correction. */
  lastAt: number;
}

export interface PlanInput {
  drift: DriftSettings;
  runtimes: RuntimeObservation[];
  gateways: GatewayObservation[];
  /** Epoch ms (change window, backoff). */
  now: number;
  history?: Record<string, CorrectionHistory>;
  /** First backoff step; doubles with each consecutive correction (default 1 hour). */
  backoffBaseMs?: number;
  /** Gateway ids with a running staged policy rollout (their engine mode is in flight, not drift). */
  rolloutsInProgress?: readonly string[];
  /**
   * Set when the running rollouts could not be listed (why): every gateway with a declared policy
   * engine is then treated as having one in progress (no policy-mode action this run).
   */
  rolloutsUnknown?: string;
  /** Tampered gateways (by id) that get no staged rollout this run, and why. */
  rolloutBlocks?: Record<string, RolloutBlock>;
  /**
   * False when the runtime-promotion state machine is unknown: redeploys of promoting rules are
   * flagged (apply fails them rather than skipping the promotion). Default true.
   */
  promotionAvailable?: boolean;
  /** Declared Cedar policies per engine (functions/domain/drift/policies.ts). */
  policyEngines?: PolicyEngineObservation[];
  /** An on-demand check: nothing is to be acted on. */
  reportOnly?: boolean;
}

export interface RolloutBlock {
  /** needs-human: a rollout already ended without enforcing; report-only: could not tell this run. */
  action: 'needs-human' | 'report-only';
  reason: string;
  previousRollout?: { executionName: string; outcome: string };
}

const RUNTIME_UNIONS = unionPathsOf(agentCoreModel, 'UpdateAgentRuntimeRequest');
const GATEWAY_UNIONS = unionPathsOf(agentCoreModel, 'UpdateGatewayRequest');
/** Paths whose values are secret: shown as changed, never shown. */
const SECRET_PATH = /^\/(environmentVariables\/[^/]+|description)$/;

const pick = (o: Record<string, unknown>, keys: readonly string[]) =>
  Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));

/** Redacts secret values in a field plan (environment variable values, descriptions). */
export function redactFieldPlan(f: FieldPlan): FieldPlan {
  if (!SECRET_PATH.test(f.path)) return f;
  return { ...f, from: f.from === undefined ? undefined : REDACTED, to: f.to === undefined ? undefined : REDACTED };
}

/** True when `now` falls inside the change window (always true without a window). */
export function inChangeWindow(window: ChangeWindow | undefined, now: number): boolean {
  if (!window) return true;
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: window.timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(now));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const day = get('weekday').slice(0, 3);
  const minutes = Number(get('hour')) * 60 + Number(get('minute'));
  const toMin = (hhmm: string) => { const [h, m] = hhmm.split(':').map(Number); return h * 60 + m; };
  const start = toMin(window.start);
  const end = toMin(window.end);
  const days = window.days as string[];
  if (start <= end) return days.includes(day) && minutes >= start && minutes < end;
  // Spans midnight: the part after midnight belongs to the previous day's window.
  if (minutes >= start) return days.includes(day);
  const prev = new Intl.DateTimeFormat('en-US', { timeZone: window.timezone, weekday: 'short' })
    .format(new Date(now - 24 * 3600 * 1000)).slice(0, 3);
  return minutes < end && days.includes(prev);
}

interface Gate { action: DriftAction; reason?: string }

/** Decides whether a drifted resource is corrected, reported, or skipped. */
function gateFor(
  mode: RuntimeSpec['drift'], ref: string, id: string | undefined, input: PlanInput, backoffKey: string | undefined,
): Gate {
  if (mode === 'ignore') return { action: 'ignored', reason: 'drift is set to ignore for this resource' };
  if (mode === 'report') return { action: 'report-only', reason: 'drift mode is report' };
  if (!inChangeWindow(input.drift.changeWindow, input.now)) return { action: 'report-only', reason: 'outside the change window' };
  const h = backoffKey ? input.history?.[backoffKey] : undefined;
  // A streak older than STREAK_RESET_MS is over (afterCorrection starts a new one).
  if (h && h.count > 0 && input.now - h.lastAt < STREAK_RESET_MS) {
    const wait = (input.backoffBaseMs ?? 3_600_000) * 2 ** (h.count - 1);
    if (input.now < h.lastAt + wait) {
      return {
        action: 'report-only',
        reason: `keeps drifting back (${h.count} consecutive corrections): backing off until ${new Date(h.lastAt + wait).toISOString()}`,
      };
    }
  }
  void ref; void id;
  return { action: 'correct' };
}

function isExcluded(spec: { id?: string; name?: string }, live: Record<string, unknown> | undefined, exclude: readonly string[], nameKey: string, idKey: string): boolean {
  const names = [spec.id, spec.name, live?.[nameKey], live?.[idKey]].filter((x): x is string => typeof x === 'string');
  return names.some((n) => exclude.includes(n));
}

function planRuntime(obs: RuntimeObservation, input: PlanInput): ResourcePlan {
  const spec = obs.spec;
  const ref = spec.id ?? spec.name!;
  const base: ResourcePlan = { kind: 'runtime', ref, status: 'in-sync', action: 'none', fields: [] };
  if (obs.error) return { ...base, status: 'error', reason: obs.error };
  const live = obs.live;
  if (isExcluded(spec, live, input.drift.exclude, 'agentRuntimeName', 'agentRuntimeId')) {
    return { ...base, id: live?.agentRuntimeId as string | undefined, status: 'excluded', action: 'ignored', reason: 'excluded by drift.exclude' };
  }
  if (!live) return { ...base, status: 'missing', reason: 'declared runtime does not exist (drift never creates resources)' };
  const id = live.agentRuntimeId as string;
  const liveVersion = live.agentRuntimeVersion as string | undefined;
  const ignore = [...input.drift.ignore, ...spec.ignore];
  // A tracked runtime's artifact belongs to the redeploy job; the safety net below covers it.
  if (spec.track) ignore.push('/agentRuntimeArtifact');
  const liveFields = normalizeRuntimeFields(pick(live, RUNTIME_UPDATE_FIELDS));
  const drifts = compareDeclared(spec.desired as Record<string, unknown>, liveFields, ignore);
  const gate = gateFor(spec.drift, ref, id, input, `runtime:${id}`);
  const fields = drifts.map((d) => ({ ...d, action: gate.action }));

  let redeploy: RedeployFinding | undefined;
  if (spec.track && obs.newestImage) {
    const liveUri = containerUriOf(live);
    if (!liveUri || !liveUri.endsWith(`@${obs.newestImage.digest}`)) {
      redeploy = { fromUri: liveUri, toUri: obs.newestImage.uri, digest: obs.newestImage.digest, tag: obs.newestImage.tag };
      fields.push({ path: '/agentRuntimeArtifact/containerConfiguration/containerUri', from: liveUri, to: obs.newestImage.uri, action: gate.action === 'correct' ? 'redeploy' : gate.action });
    }
  }
  const declaredEnv = (spec.desired as { environmentVariables?: Record<string, unknown> }).environmentVariables;
  const liveEnv = live.environmentVariables as Record<string, unknown> | undefined;
  const undeclaredEnv = declaredEnv && liveEnv
    ? Object.keys(liveEnv).filter((k) => !(k in declaredEnv) && !isIgnored(`/environmentVariables/${k}`, ignore)).sort()
    : [];
  const extra = undeclaredEnv.length > 0 ? { undeclaredEnv } : {};
  if (fields.length === 0) return { ...base, id, liveVersion, ...extra };
  const action: DriftAction = gate.action === 'correct' ? (drifts.length > 0 ? 'correct' : 'redeploy') : gate.action;
  const endpoints = spec.track?.promote?.endpoints ?? [];
  const promotionMissing = redeploy && endpoints.length > 0 && input.promotionAvailable === false && (action === 'correct' || action === 'redeploy')
    ? `the tracking rule promotes (endpoints ${endpoints.join(', ')}) but the runtime-promotion state machine is unknown (set PROMOTION_STATE_MACHINE_ARN): apply fails this redeploy instead of skipping the promotion`
    : undefined;
  const reason = [gate.reason, promotionMissing].filter(Boolean).join('; ') || undefined;
  return {
    ...base, id, liveVersion, status: 'drifted', action, reason, fields,
    createsVersion: action === 'correct' || action === 'redeploy', redeploy, ...extra,
  };
}

function planGateway(obs: GatewayObservation, input: PlanInput): ResourcePlan {
  const spec = obs.spec;
  const ref = spec.id ?? spec.name!;
  const base: ResourcePlan = { kind: 'gateway', ref, status: 'in-sync', action: 'none', fields: [] };
  if (obs.error) return { ...base, status: 'error', reason: obs.error };
  const live = obs.live;
  if (isExcluded(spec, live, input.drift.exclude, 'name', 'gatewayId')) {
    return { ...base, id: live?.gatewayId as string | undefined, status: 'excluded', action: 'ignored', reason: 'excluded by drift.exclude' };
  }
  if (!live) return { ...base, status: 'missing', reason: 'declared gateway does not exist (drift never creates resources)' };
  const id = live.gatewayId as string;
  const ignore = [...input.drift.ignore, ...spec.ignore];
  const liveFields = pick(live, GATEWAY_UPDATE_FIELDS);
  const drifts = compareDeclared(spec.desired as Record<string, unknown>, liveFields, ignore);
  const gate = gateFor(spec.drift, ref, id, input, `gateway:${id}`);
  const fields: FieldPlan[] = drifts.map((d) => ({ ...d, action: gate.action }));

  let tamper: TamperFinding | undefined;
  let policyAction: DriftAction | undefined;
  const pe = spec.policyEngine;
  const unknown = pe && input.rolloutsUnknown !== undefined ? input.rolloutsUnknown : undefined;
  const rolloutInProgress = input.rolloutsInProgress?.includes(id) || unknown !== undefined ? true : undefined;
  const block = input.rolloutBlocks?.[id];
  let previousRollout: ResourcePlan['previousRollout'];
  let blocked = false;
  if (pe && !rolloutInProgress && !isIgnored('/policyEngineConfiguration', ignore)) {
    const livePe = live.policyEngineConfiguration as { arn?: string; mode?: PolicyEngineMode } | undefined;
    const attached = livePe?.arn === pe.arn;
    const liveMode: PolicyEngineMode | 'DETACHED' = attached && livePe?.mode ? livePe.mode : 'DETACHED';
    if (liveMode !== pe.mode) {
      const weakened = pe.mode === 'ENFORCE';
      if (weakened) {
        tamper = { declared: pe.mode, live: liveMode, liveArn: livePe?.arn, response: pe.tamperResponse };
        policyAction = gate.action === 'correct' ? (pe.tamperResponse === 'rollout' ? 'needs-rollout' : 'restore-enforce') : gate.action;
        if (policyAction === 'needs-rollout' && block) {
          policyAction = block.action;
          previousRollout = block.previousRollout;
          blocked = true;
        }
      } else {
        policyAction = gate.action;
      }
      fields.push({
        path: '/policyEngineConfiguration', from: livePe ? { arn: livePe.arn, mode: livePe.mode } : undefined,
        to: { arn: pe.arn, mode: pe.mode }, action: policyAction,
      });
    }
  }
  const unknownReason = unknown !== undefined ? `policy engine mode left alone this run: ${unknown}` : undefined;
  if (fields.length === 0) return { ...base, id, rolloutInProgress, ...(unknownReason && { reason: unknownReason }) };
  let action: DriftAction = gate.action;
  if (gate.action === 'correct' && policyAction && policyAction !== 'correct' && drifts.length === 0) action = policyAction;
  const reasons = [
    tamper ? `policy engine ${tamper.live === 'DETACHED' ? 'detached' : `set to ${tamper.live}`} while declared ${tamper.declared}: tampering` : undefined,
    gate.reason,
    blocked ? block!.reason : undefined,
    unknownReason,
  ].filter(Boolean);
  return {
    ...base, id, status: 'drifted', action, reason: reasons.join('; ') || undefined,
    fields, tamper, rolloutInProgress, previousRollout,
  };
}

/** Computes the drift plan. Field values of secrets are redacted in the returned plan. */
export function planDrift(input: PlanInput): DriftPlan {
  const resources = [
    ...input.runtimes.map((o) => planRuntime(o, input)),
    ...input.gateways.map((o) => planGateway(o, input)),
    ...(input.policyEngines ?? []).flatMap((o) => planPolicyEngine(o, {
      driftMode: input.drift.mode, windowOpen: inChangeWindow(input.drift.changeWindow, input.now), reportOnly: input.reportOnly,
    })),
  ].map((r) => ({ ...r, fields: r.fields.map(redactFieldPlan) }));
  const count = (s: ResourceStatus) => resources.filter((r) => r.status === s).length;
  const drifted = count('drifted');
  return {
    generatedAt: new Date(input.now).toISOString(),
    inSync: drifted === 0 && count('missing') === 0 && count('error') === 0,
    resources,
    counts: {
      resources: resources.length,
      inSync: count('in-sync'),
      drifted,
      missing: count('missing'),
      excluded: count('excluded'),
      errors: count('error'),
      toCorrect: resources.filter((r) => ['correct', 'needs-rollout', 'restore-enforce', 'redeploy', 'promote', 'delete'].includes(r.action)).length,
      fields: resources.reduce((n, r) => n + r.fields.length, 0),
      needsHuman: resources.filter((r) => r.action === 'needs-human' || r.fields.some((f) => f.action === 'needs-human')).length,
    },
  };
}

/**
 * The `set` part of a lossless update that corrects a runtime or gateway: each drifted top-level
 * field becomes the live value with the declared leaves merged in (ignored paths keep live values).
 * Computed from the unredacted declaration and live resource, never from the (redacted) plan.
 */
export function correctionFields(
  kind: ResourceKind,
  desired: Record<string, unknown>,
  live: Record<string, unknown>,
  ignore: readonly string[],
  driftedPaths: readonly string[],
): Record<string, unknown> {
  const tops = [...new Set(driftedPaths.map((p) => pointerSegments(p)[0]))]
    .filter((f) => f !== 'policyEngineConfiguration' && f in desired);
  const unions = kind === 'runtime' ? RUNTIME_UNIONS : GATEWAY_UNIONS;
  const liveFields = kind === 'runtime' ? normalizeRuntimeFields(live) : live;
  return Object.fromEntries(tops.map((f) => [f, mergeDeclared(liveFields[f], desired[f], `/${f}`, ignore, unions)]));
}
