/**
 * Drift orchestration: read the live resources -> plan (pure, functions/domain/drift/plan.ts) ->
 * apply. Shared by the scheduled `correctDrift` Lambda and the `autopilot plan` / `apply` CLI.
 *
 * Read: every declared runtime and gateway is resolved by id or name (a missing one is reported,
 * never created), read with GetAgentRuntime / GetGateway, its correction history read from its
 * tags, and, for tracked runtimes, the newest image the rule allows looked up in ECR (the missed
 * push safety net; a runtime not on that image has its tags read for the digests it rejected,
 * which are never redeployed). Running policy rollouts are listed once so their in-flight mode is
 * not drift; when they cannot be listed, no gateway's policy mode is acted on this run. A tampered
 * gateway whose last staged rollout ended without enforcing under the same declaration gets no
 * new one: it `needs-human` (functions/domain/drift/tamper-guard.ts).
 *
 * Apply: one lossless update per resource (read-merge-write with the update builders, pinned by
 * digest for a redeploy), at most `drift.concurrency` in flight, retryable errors (throttling,
 * conflicts, 5xx) retried with backoff inside a time budget, at most `drift.maxCorrectionsPerRun`
 * resources per run, and no new work once failures / attempts exceed `drift.maxErrorRatio`
 * (judged once at least min(3, planned) attempts have finished). A tampered policy engine starts
 * the staged rollout (or is restored to ENFORCE at once). Each success bumps the resource's
 * correction history tag, which the next runs turn into exponential backoff.
 *
 * Run (`runCorrectDrift`, the `correctDrift` Lambda's use case): read, apply, publish `Drift Detected`
 * / `Drift Corrected` / `Drift Correction Failed` with the redacted diff, and write one summary log
 * line with counts; policy-engine tampering is logged at error level as well.
 *
 * Nothing here logs or returns a secret value: the plan is redacted by planDrift, and the
 * unredacted live resources stay inside the `DriftRun` (its `targets` are never serialised).
 */
import type { SecretReader } from '../domain/secrets/refs.ts';
import { secretReaderFor, withResolvedSecrets } from './secrets.ts';
import type { Context } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { ImageDetail } from '@aws-sdk/client-ecr';
import { ListTagsForResourceCommand, TagResourceCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import type { AgentCoreAdapter } from '../adapters/agentcore.ts';
import type { Adapters } from '../adapters/index.ts';
import type { EcrAdapter } from '../adapters/ecr.ts';
import type { EventsAdapter } from '../adapters/events.ts';
import type { SfnAdapter } from '../adapters/sfn.ts';
import { callAws } from '../adapters/aws-errors.ts';
import type { Config, GatewaySpec, RuntimeSpec, DriftSettings } from '../lib/config/types.ts';
import { AmbiguousResourceError, AutopilotError, AwsServiceError, ExecutionAlreadyExistsError, ResourceNotFoundError, ThrottledError } from '../lib/errors.ts';
import { retryWithBackoff } from '../lib/retry.ts';
import { now as clockNow, sleep } from '../lib/time.ts';
import { mapWithConcurrency } from '../lib/concurrency.ts';
import { buildRuntimeUpdate, containerUriOf, RUNTIME_UPDATE_FIELDS, type RuntimeChange } from '../domain/runtime-update.ts';
import { buildGatewayUpdate, GATEWAY_UPDATE_FIELDS, type GatewayChange } from '../domain/gateway-update.ts';
import { compareDeclared, normalizeRuntimeFields } from '../domain/drift/compare.ts';
import {
  correctionFields, planDrift,
  type CorrectionHistory, type DriftAction, type DriftPlan, type FieldPlan, type GatewayObservation, type ResourcePlan, type RolloutBlock, type RuntimeObservation,
} from '../domain/drift/plan.ts';
import { afterCorrection, decodeHistory, encodeHistory, HISTORY_TAG, historyKey } from '../domain/drift/history.ts';
import { newestAllowedImage, rankAllowedImages } from '../domain/drift/safety-net.ts';
import {
  decodeRolloutRecord, DRIFT_ROLLOUT_TAG, encodeRolloutRecord, gatewayFingerprint, judgeTamperRollout, latestExecution,
} from '../domain/drift/tamper-guard.ts';
import { PromotionStateMachineUnknownError, RolloutStateMachineUnknownError } from '../domain/drift/errors.ts';
import { decodeRejected, REJECTED_DIGESTS_TAG as REJECTED_TAG_NAME } from '../domain/redeploy/rejected.ts';
import { isRolloutOfGateway } from '../domain/rollout/execution-name.ts';
import { startPolicyRollout } from '../domain/rollout/start.ts';
import { RolloutInProgressError } from '../domain/rollout/errors.ts';
import { buildPromotionInput, promotionExecutionName } from '../domain/redeploy/promotion.ts';
import { detectedEvents, outcomeEvents, summarize, type DriftEvent, type DriftSummary } from '../domain/drift/report.ts';
import { adaptersFor, configFor, envValue, homeOf } from './lambda-env.ts';

const SERVICE = 'bedrock-agentcore-control';

export interface DriftDeps {
  agentCore: AgentCoreAdapter;
  ecr: EcrAdapter;
  sfn: SfnAdapter;
  /** Where a run by hand (`autopilot apply`) publishes its events; the Lambda publishes its own. */
  events?: Pick<EventsAdapter, 'publish'>;
  /** The policy-rollout state machine (ROLLOUT_STATE_MACHINE_ARN). */
  rolloutStateMachineArn?: string;
  /** The runtime-promotion state machine (PROMOTION_STATE_MACHINE_ARN), for safety-net redeploys with `promote`. */
  promotionStateMachineArn?: string;
  /** The account and region autopilot runs in (ECR registry of tracking rules without `registry`). */
  home: { account?: string; region?: string };
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random?: () => number;
  /** Elapsed wall time allowed for retrying one call (ms, default 120 000). */
  retryBudgetMs?: number;
  /** First backoff step of a resource that keeps drifting back (ms, default 1 hour). */
  backoffBaseMs?: number;
  /** Reads what a secret reference in a declared environment names (resolved in memory only). */
  readSecret?: SecretReader;
}

/** The unredacted facts behind one resource of the plan (same index as plan.resources). Never serialised. */
interface Target {
  kind: 'runtime' | 'gateway';
  spec: RuntimeSpec | GatewaySpec;
  live?: Record<string, unknown>;
  arn?: string;
  history?: CorrectionHistory;
  /** The resource's tags, when they were read. */
  tags?: Record<string, string>;
  /** DRIFT_ROLLOUT_TAG value apply records for a `needs-human` tampering (ties the failed rollout to this declaration). */
  rolloutRecord?: string;
}

export interface DriftRun {
  plan: DriftPlan;
  /** Non-fatal problems met while reading (no secret values): ECR lookups, tags, rollouts. */
  notes: string[];
  readonly settings: DriftSettings;
  readonly config?: Config;
  /** Internal: unredacted live state; not enumerable, so JSON.stringify(run) never shows it. */
  readonly targets: Target[];
}

export interface ReadOptions {
  /** Force report-only for every resource (on-demand checks, `autopilot plan`). */
  reportOnly?: boolean;
}

// ---------------------------------------------------------------------------------------------
// read + plan

const strip = (o: object): Record<string, unknown> => {
  const { $metadata: _m, ...rest } = o as Record<string, unknown>;
  void _m;
  return rest;
};

const errorText = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

function isRetryable(err: unknown): boolean {
  return err instanceof AwsServiceError && err.retryable;
}

function retrying<T>(deps: DriftDeps, fn: () => Promise<T>): Promise<T> {
  // The budget is elapsed wall time (the invocation's own clock), not deps.now(): that is the
  // business clock (backoff history, change windows), which a local stack may move in jumps.
  const started = performance.now();
  const budget = deps.retryBudgetMs ?? 120_000;
  // Throttling is waited out (a large scan saturates per-operation quotas; that is expected);
  // outages and conflicts get a few retries only, so a failing service fails the run quickly.
  let otherFailures = 0;
  return retryWithBackoff(fn, {
    isRetryable: (err) => isRetryable(err) && (err instanceof ThrottledError || ++otherFailures <= MAX_OTHER_RETRIES),
    baseMs: 250, maxMs: 10_000, sleep: deps.sleep, random: deps.random,
    deadline: () => budget - (performance.now() - started), maxAttempts: 20,
  });
}

/** Retries of one call after 5xx or conflicts (throttling has its own, larger allowance). */
const MAX_OTHER_RETRIES = 4;

/** Resolves a declared ref to an id: the id itself, or the unique match of the name in `list`. */
async function resolveId(
  spec: { id?: string; name?: string },
  list: () => Promise<{ id?: string; name?: string }[]>,
  kind: string,
): Promise<string | undefined> {
  if (spec.id !== undefined) return spec.id;
  const matches = (await list()).filter((x) => x.name === spec.name);
  if (matches.length > 1) {
    throw new AmbiguousResourceError(`${matches.length} ${kind}s are named "${spec.name}"`, { details: { kind, name: spec.name } });
  }
  return matches[0]?.id;
}

async function readTags(deps: DriftDeps, arn: string): Promise<Record<string, string>> {
  const out = await retrying(deps, () => callAws({ service: SERVICE, operation: 'ListTagsForResource', resource: arn }, () =>
    deps.agentCore.client.send(new ListTagsForResourceCommand({ resourceArn: arn }))));
  return out.tags ?? {};
}

async function writeTag(deps: DriftDeps, arn: string, key: string, value: string): Promise<void> {
  await retrying(deps, () => callAws({ service: SERVICE, operation: 'TagResource', resource: arn }, () =>
    deps.agentCore.client.send(new TagResourceCommand({ resourceArn: arn, tags: { [key]: value } }))));
}

async function writeHistory(deps: DriftDeps, arn: string, history: CorrectionHistory): Promise<void> {
  await writeTag(deps, arn, HISTORY_TAG, encodeHistory(history));
}

/** The digest a container URI is pinned to (`...@sha256:<hex>`), if any. */
const digestOf = (uri: string | undefined): string | undefined => /@(sha256:[0-9a-fA-F]{64})$/.exec(uri ?? '')?.[1]?.toLowerCase();

/** Reads every declared resource and plans. Read errors of one resource are reported on it, never thrown. */
export async function readDrift(deps: DriftDeps, declared: Config, options: ReadOptions = {}): Promise<DriftRun> {
  const notes: string[] = [];
  // Secret references are compared (and corrected) by what they name, read now and kept in memory.
  const config = await withResolvedSecrets(declared, deps.readSecret, notes);
  const concurrency = config.drift.concurrency;
  const once = <T>(f: () => Promise<T>): (() => Promise<T>) => { let p: Promise<T> | undefined; return () => (p ??= f()); };
  const runtimeList = once(async () => (await retrying(deps, () => deps.agentCore.listRuntimes())).map((r) => ({ id: r.agentRuntimeId, name: r.agentRuntimeName })));
  const gatewayList = once(async () => (await retrying(deps, () => deps.agentCore.listGateways())).map((g) => ({ id: g.gatewayId, name: g.name })));
  const report = (spec: RuntimeSpec | GatewaySpec) => (options.reportOnly && spec.drift === 'correct' ? { ...spec, drift: 'report' as const } : spec);

  /**
   * Reads one declared resource into `targets[i]`: resolves its id, gets it (missing -> no live
   * state) and reads its correction history. Errors become the observation's `error`.
   */
  const readOne = async <S extends RuntimeSpec | GatewaySpec>(
    kind: Target['kind'], declared: S, targets: Target[], i: number,
    read: { list: () => Promise<{ id?: string; name?: string }[]>; get: (id: string) => Promise<object>; arnField: string },
  ): Promise<{ spec: S; live?: Record<string, unknown>; error?: string }> => {
    const spec = report(declared) as S;
    const target: Target = { kind, spec: declared };
    targets[i] = target;
    try {
      const id = await resolveId(spec, read.list, kind);
      if (id === undefined) return { spec };
      let live: Record<string, unknown>;
      try {
        live = strip(await retrying(deps, () => read.get(id)));
      } catch (err) {
        if (err instanceof ResourceNotFoundError) return { spec };
        throw err;
      }
      target.live = live;
      target.arn = live[read.arnField] as string | undefined;
      return { spec, live };
    } catch (err) {
      return { spec, error: errorText(err) };
    }
  };

  const runtimeTargets: Target[] = [];
  const runtimeRead = { list: runtimeList, get: (id: string) => deps.agentCore.getRuntime(id), arnField: 'agentRuntimeArn' };
  const runtimeObs = (await mapWithConcurrency(config.runtimes, concurrency, async (declared, i): Promise<RuntimeObservation> => {
    const obs: RuntimeObservation = await readOne('runtime', declared, runtimeTargets, i, runtimeRead);
    if (obs.live && obs.spec.track) {
      const ref = obs.spec.id ?? obs.spec.name;
      let listing: Awaited<ReturnType<typeof imagesFor>>;
      try {
        listing = await imagesFor(deps, obs.spec);
      } catch (err) {
        notes.push(`runtime ${ref}: safety net skipped, ECR lookup failed (${errorText(err)})`);
      }
      if (listing) {
        const liveDigest = digestOf(containerUriOf(obs.live));
        const newest = rankAllowedImages(listing.rule, listing.images)[0];
        if (newest && newest.digest !== liveDigest) {
          // Not on the newest image: the runtime's rejected digests (rolled back / failed) decide.
          const target = runtimeTargets[i];
          try {
            target.tags = target.arn ? await readTags(deps, target.arn) : {};
            const rejected = decodeRejected(target.tags);
            obs.newestImage = newestAllowedImage(listing.rule, listing.images, listing.registry, { rejected, liveDigest });
            if (rejected.includes(newest.digest)) {
              notes.push(`runtime ${ref}: newest allowed image ${newest.digest} (tag ${newest.tag}) was rejected (rolled back or failed, tag ${REJECTED_TAG_NAME}): not redeployed${obs.newestImage && obs.newestImage.digest !== liveDigest ? `; ${obs.newestImage.digest} (tag ${obs.newestImage.tag}) is the newest one not rejected` : ''}`);
            }
          } catch (err) {
            notes.push(`runtime ${ref}: safety net skipped, could not read its rejected digests (${errorText(err)})`);
          }
        }
      }
    }
    return obs;
  })).map((r, i) => (r.status === 'fulfilled' ? r.value : { spec: config.runtimes[i], error: errorText(r.reason) }));

  const gatewayTargets: Target[] = [];
  const gatewayRead = { list: gatewayList, get: (id: string) => deps.agentCore.getGateway(id), arnField: 'gatewayArn' };
  const gatewayObs = (await mapWithConcurrency(config.gateways, concurrency, (declared, i): Promise<GatewayObservation> =>
    readOne('gateway', declared, gatewayTargets, i, gatewayRead)))
    .map((r, i) => (r.status === 'fulfilled' ? r.value : { spec: config.gateways[i], error: errorText(r.reason) }));

  let rolloutsInProgress: string[] = [];
  let rolloutsUnknown: string | undefined;
  const watched = gatewayTargets.filter((t) => t.live && (t.spec as GatewaySpec).policyEngine).map((t) => t.live!.gatewayId as string);
  if (watched.length > 0) {
    // Not knowing which rollouts run is treated as "one runs for every watched gateway": a
    // rollout's LOG_ONLY stage must never be mistaken for tampering (nor a second one started).
    if (!deps.rolloutStateMachineArn) {
      rolloutsUnknown = 'the policy-rollout state machine is unknown (set ROLLOUT_STATE_MACHINE_ARN), so running rollouts cannot be listed';
    } else {
      try {
        const running = await retrying(deps, () => deps.sfn.listExecutions(deps.rolloutStateMachineArn!, 'RUNNING'));
        rolloutsInProgress = watched.filter((g) => running.some((e) => e.name !== undefined && isRolloutOfGateway(e.name, g)));
      } catch (err) {
        rolloutsUnknown = `could not list running policy rollouts (${errorText(err)})`;
      }
    }
    if (rolloutsUnknown) notes.push(`${rolloutsUnknown}: no policy engine mode is acted on this run (gateways ${watched.join(', ')})`);
  }

  const targets = [...runtimeTargets, ...gatewayTargets];
  const promotionAvailable = deps.promotionStateMachineArn !== undefined;
  let rolloutBlocks: Record<string, RolloutBlock> = {};
  const planWith = (history: Record<string, CorrectionHistory>) => planDrift({
    drift: config.drift, runtimes: runtimeObs, gateways: gatewayObs, now: deps.now(), history,
    backoffBaseMs: deps.backoffBaseMs, rolloutsInProgress, rolloutsUnknown, rolloutBlocks, promotionAvailable,
  });
  // The correction history (backoff) only matters for drifted resources: read their tags alone, so
  // a resource in sync costs one Get, then plan again with the history.
  const history: Record<string, CorrectionHistory> = {};
  let plan = planWith(history);
  const drifted = new Set(plan.resources.filter((r) => r.status === 'drifted' && r.id).map((r) => historyKey(r.kind, r.id!)));
  if (drifted.size > 0) {
    await mapWithConcurrency(targets, concurrency, async (t) => {
      const id = t.live?.[t.kind === 'runtime' ? 'agentRuntimeId' : 'gatewayId'];
      if (typeof id !== 'string' || !t.arn || !drifted.has(historyKey(t.kind, id))) return;
      try {
        t.tags ??= await readTags(deps, t.arn);
        t.history = decodeHistory(t.tags);
        if (t.history) history[historyKey(t.kind, id)] = t.history;
      } catch (err) {
        notes.push(`${t.kind} ${t.spec.id ?? t.spec.name}: could not read tags (${errorText(err)}); no backoff history`);
      }
    });
    if (Object.keys(history).length > 0) plan = planWith(history);
  }

  // Tampered gateways about to get a staged rollout: not again when the last one ended without
  // enforcing and the declaration has not changed since (the tamper guard's memory).
  const wantRollout = plan.resources
    .map((r, i) => ({ r, t: targets[i] }))
    .filter(({ r }) => r.kind === 'gateway' && r.id && r.fields.some((f) => f.action === 'needs-rollout'));
  if (wantRollout.length > 0 && deps.rolloutStateMachineArn) {
    rolloutBlocks = await tamperRolloutBlocks(deps, wantRollout.map(({ r, t }) => ({ gatewayId: r.id!, target: t })));
    if (Object.keys(rolloutBlocks).length > 0) plan = planWith(history);
  }
  plan.resources.forEach((r, i) => {
    const promote = r.kind === 'runtime' ? (targets[i]?.spec as RuntimeSpec | undefined)?.track?.promote : undefined;
    if (!promotionAvailable && r.redeploy && (r.action === 'redeploy' || r.action === 'correct') && promote && promote.endpoints.length > 0) {
      notes.push(`runtime ${r.ref}: its tracking rule promotes, but the runtime-promotion state machine is unknown (set PROMOTION_STATE_MACHINE_ARN): apply fails its redeploy`);
    }
  });
  const run = { plan, notes, settings: config.drift } as DriftRun;
  Object.defineProperty(run, 'targets', { value: targets, enumerable: false });
  Object.defineProperty(run, 'config', { value: config, enumerable: false });
  return run;
}

/**
 * For each tampered gateway about to get a staged rollout: its most recent rollout (ListExecutions
 * once, DescribeExecution of the newest per gateway) judged against the declaration's fingerprint.
 * An unreadable history blocks the start for this run (report-only): never a blind second rollout.
 */
async function tamperRolloutBlocks(deps: DriftDeps, gateways: { gatewayId: string; target: Target }[]): Promise<Record<string, RolloutBlock>> {
  const blocks: Record<string, RolloutBlock> = {};
  let all: Awaited<ReturnType<SfnAdapter['listExecutions']>>;
  try {
    all = await retrying(deps, () => deps.sfn.listExecutions(deps.rolloutStateMachineArn!));
  } catch (err) {
    for (const g of gateways) blocks[g.gatewayId] = { action: 'report-only', reason: `could not read the previous policy rollouts (${errorText(err)}): no rollout started this run` };
    return blocks;
  }
  await Promise.all(gateways.map(async ({ gatewayId, target }) => {
    const spec = target.spec as GatewaySpec;
    const latest = latestExecution(all.filter((e) => e.name !== undefined && isRolloutOfGateway(e.name, gatewayId)));
    if (!latest?.executionArn || !spec.policyEngine) return;
    try {
      const d = await retrying(deps, () => deps.sfn.describeExecution(latest.executionArn!));
      const verdict = judgeTamperRollout({
        gatewayId, declaredEngineArn: spec.policyEngine.arn, fingerprint: gatewayFingerprint(spec),
        latest: { name: d.name ?? latest.name!, status: d.status ?? latest.status ?? 'UNKNOWN', output: d.output, input: d.input, error: d.error },
        recorded: decodeRolloutRecord(target.tags),
      });
      if (!verdict.start) {
        blocks[gatewayId] = { action: 'needs-human', reason: verdict.reason, previousRollout: verdict.previous };
        target.rolloutRecord = verdict.record;
      }
    } catch (err) {
      blocks[gatewayId] = { action: 'report-only', reason: `could not read the previous policy rollout ${latest.name} (${errorText(err)}): no rollout started this run` };
    }
  }));
  return blocks;
}

interface ImageListing {
  rule: NonNullable<RuntimeSpec['track']> & { tagPolicy: Parameters<typeof newestAllowedImage>[0]['tagPolicy'] };
  images: ImageDetail[];
  registry: { account: string; region: string };
}

/** The tracked repository's images (DescribeImages), or undefined when the rule does not apply here. */
async function imagesFor(deps: DriftDeps, spec: RuntimeSpec): Promise<ImageListing | undefined> {
  const rule = spec.track!;
  const region = deps.home.region;
  if (!region || (rule.registry.regions.length > 0 && !rule.registry.regions.includes(region))) return undefined;
  const registryId = rule.registry.accounts[0];
  let images: ImageDetail[];
  try {
    images = await retrying(deps, () => deps.ecr.describeImages(rule.repository, undefined, registryId ? { registryId } : {}));
  } catch (err) {
    if (err instanceof ResourceNotFoundError) return undefined;
    throw err;
  }
  const account = registryId ?? images[0]?.registryId ?? deps.home.account;
  if (!account) return undefined;
  const policy = { [rule.tagPolicy.kind]: (rule.tagPolicy as Record<string, string>)[rule.tagPolicy.kind] } as Parameters<typeof newestAllowedImage>[0]['tagPolicy'];
  return { rule: { ...rule, tagPolicy: policy } as ImageListing['rule'], images, registry: { account, region } };
}

// ---------------------------------------------------------------------------------------------
// apply

export type OutcomeStatus = 'corrected' | 'failed' | 'skipped';

export interface ApplyOutcome {
  kind: 'runtime' | 'gateway';
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
  promotionExecution?: string;
  error?: { name: string; message: string };
}

export interface ApplyResult {
  outcomes: ApplyOutcome[];
  /** Why the run stopped early, if it did. */
  stopped?: 'max-corrections' | 'error-ratio';
  counts: { planned: number; attempted: number; corrected: number; failed: number; skipped: number };
}

export interface ApplyOptions {
  onProgress?: (outcome: ApplyOutcome, done: number, total: number) => void;
}

const ACTIONABLE: readonly DriftAction[] = ['correct', 'redeploy', 'needs-rollout', 'restore-enforce'];

/** The resources of a plan that apply would change. */
export const actionable = (plan: DriftPlan): ResourcePlan[] => plan.resources.filter((r) => ACTIONABLE.includes(r.action));

/** Executes the plan of `run`. Never throws for one resource's failure: it is an outcome. */
export async function applyDrift(deps: DriftDeps, run: DriftRun, options: ApplyOptions = {}): Promise<ApplyResult> {
  const { plan, settings } = run;
  const work = plan.resources.map((r, i) => ({ r, t: run.targets[i] })).filter(({ r }) => ACTIONABLE.includes(r.action));
  const slots: ApplyOutcome[] = new Array(work.length);
  let done = 0;
  const total = work.length;
  let attempted = 0;
  let failed = 0;
  let stopped: ApplyResult['stopped'];
  const minAttempts = Math.min(3, total);
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
      if (!stopped && attempted >= settings.maxCorrectionsPerRun) stopped = 'max-corrections';
      if (stopped) {
        push(index, { ...base(r), status: 'skipped', reason: stopped === 'max-corrections' ? `cap of ${settings.maxCorrectionsPerRun} corrections per run reached` : 'run stopped: error ratio exceeded' });
        continue;
      }
      attempted++;
      let outcome: ApplyOutcome;
      try {
        outcome = { ...base(r), ...(await correctOne(deps, r, t, settings, run.config)) };
      } catch (err) {
        outcome = { ...base(r), status: 'failed', error: { name: err instanceof Error ? err.name : 'Error', message: err instanceof Error ? err.message : String(err) } };
      }
      if (outcome.status === 'failed') failed++;
      else if (outcome.status === 'corrected' && t.arn) {
        try {
          await writeHistory(deps, t.arn, afterCorrection(t.history, deps.now()));
        } catch (err) {
          outcome.reason = `${outcome.reason ? `${outcome.reason}; ` : ''}correction history not saved (${errorText(err)})`;
        }
      }
      push(index, outcome);
      if (!stopped && attempted >= minAttempts && failed / attempted > settings.maxErrorRatio) stopped = 'error-ratio';
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(settings.concurrency, work.length)) }, worker));

  const outcomes = [...slots];
  const count = (s: OutcomeStatus) => outcomes.filter((o) => o.status === s).length;
  return { outcomes, stopped, counts: { planned: total, attempted, corrected: count('corrected'), failed: count('failed'), skipped: count('skipped') } };
}

function ignoreOf(spec: RuntimeSpec | GatewaySpec, settings: DriftSettings, kind: 'runtime' | 'gateway'): string[] {
  const ignore = [...settings.ignore, ...spec.ignore];
  if (kind === 'runtime' && (spec as RuntimeSpec).track) ignore.push('/agentRuntimeArtifact');
  return ignore;
}

const pick = (o: Record<string, unknown>, keys: readonly string[]) => Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));

async function correctOne(deps: DriftDeps, r: ResourcePlan, t: Target, settings: DriftSettings, config: Config | undefined): Promise<Omit<ApplyOutcome, 'kind' | 'ref' | 'id' | 'action' | 'fields'>> {
  if (!r.id || !t.live) throw new AutopilotError('resource vanished between plan and apply', { details: { ref: r.ref } });
  const ignore = ignoreOf(t.spec, settings, t.kind);
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
    if (change.containerUri && promote && promote.endpoints.length > 0 && !deps.promotionStateMachineArn) {
      // A new version the endpoints are never moved to would be a half-done redeploy: write nothing.
      throw new PromotionStateMachineUnknownError(
        `redeploy not applied: the tracking rule promotes (endpoints ${promote.endpoints.join(', ')}) but the runtime-promotion state machine is unknown; set PROMOTION_STATE_MACHINE_ARN (or pass --promotion-state-machine)`,
        { details: { runtimeId: r.id, endpoints: promote.endpoints } },
      );
    }
    const request = buildRuntimeUpdate(fresh, change);
    const out = await retrying(deps, () => deps.agentCore.updateRuntime(request));
    const result: Omit<ApplyOutcome, 'kind' | 'ref' | 'id' | 'action' | 'fields'> = {
      status: 'corrected', fromVersion: fresh.agentRuntimeVersion as string, toVersion: out.agentRuntimeVersion,
      reason: `new runtime version ${out.agentRuntimeVersion} (managed session storage is reset)`,
    };
    if (change.containerUri && promote && promote.endpoints.length > 0 && deps.promotionStateMachineArn && out.agentRuntimeVersion) {
      const input = buildPromotionInput({
        runtimeId: r.id, newVersion: out.agentRuntimeVersion, previousVersion: fresh.agentRuntimeVersion as string,
        previousUri: r.redeploy!.fromUri ?? '', newUri: change.containerUri, promote,
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

// ---------------------------------------------------------------------------------------------
// run: the correctDrift Lambda

export interface CorrectDriftDeps {
  adapters: Pick<Adapters, 'agentCore' | 'ecr' | 'sfn' | 'events'>;
  loadConfig: () => Promise<Config>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  rolloutStateMachineArn?: string;
  promotionStateMachineArn?: string;
  /** AUTOPILOT_EVENT_BUS (else the config's events.busName). */
  eventBusName?: string;
  home: { account?: string; region?: string };
  logger: Logger;
  /** First backoff step for resources that keep drifting back (default 1 hour). */
  backoffBaseMs?: number;
  /** Reads what a secret reference names. */
  readSecret?: SecretReader;
}

/** What starts a run: the schedule's `{trigger}` input, or a `Drift Check Requested` event. */
export interface DriftRunEvent {
  trigger?: string;
  'detail-type'?: string;
  detail?: { reportOnly?: boolean };
}

export interface CorrectDriftResult {
  trigger: string;
  summary: DriftSummary;
  /** The redacted plan. */
  plan: DriftPlan;
  outcomes: ApplyResult['outcomes'];
  /** Problems met while reading and applying (no secret values). */
  notes: string[];
  eventsPublished: number;
}

/** The run's deps from the Lambda environment and context (read per invocation). */
export function correctDriftDepsFor(lambda: Pick<Context, 'invokedFunctionArn'>, logger: Logger, env: NodeJS.ProcessEnv = process.env): CorrectDriftDeps {
  return {
    adapters: adaptersFor(env),
    loadConfig: () => configFor(env),
    now: () => clockNow().getTime(),
    sleep,
    rolloutStateMachineArn: envValue('ROLLOUT_STATE_MACHINE_ARN', env),
    promotionStateMachineArn: envValue('PROMOTION_STATE_MACHINE_ARN', env),
    eventBusName: envValue('AUTOPILOT_EVENT_BUS', env),
    home: homeOf(lambda, env),
    logger,
    readSecret: secretReaderFor(env),
  };
}

/**
 * Publishes a run's `Drift Detected` events and the `Drift Corrected` / `Drift Correction Failed`
 * of its outcomes (redacted diffs), grouped per detail-type. Returns how many were accepted;
 * a failing group is reported through `onError` and does not stop the others.
 */
export async function publishDriftEvents(
  events: Pick<EventsAdapter, 'publish'>,
  config: Config,
  run: DriftRun,
  outcomes: readonly ApplyOutcome[],
  trigger: string,
  options: { busName?: string; onError?: (detailType: string, count: number, err: unknown) => void } = {},
): Promise<number> {
  const tamperRefs = new Set(run.plan.resources.filter((r) => r.tamper).map((r) => `${r.kind}:${r.ref}`));
  const all: DriftEvent[] = [...detectedEvents(run.plan, trigger), ...outcomeEvents(outcomes, trigger, tamperRefs)];
  let published = 0;
  const busName = options.busName ?? config.events.busName;
  for (const detailType of new Set(all.map((e) => e.detailType))) {
    const details = all.filter((e) => e.detailType === detailType).map((e) => e.detail);
    try {
      published += (await events.publish(detailType, details, { source: config.events.source, busName })).length;
    } catch (err) {
      options.onError?.(detailType, details.length, err);
    }
  }
  return published;
}

/** One drift pass: read and plan, apply what the config allows, publish the events, log a summary. */
export async function runCorrectDrift(deps: CorrectDriftDeps, event: DriftRunEvent): Promise<CorrectDriftResult> {
  const trigger = event.trigger ?? (event['detail-type'] === 'Drift Check Requested' ? 'on-demand' : 'unknown');
  const reportOnly = event.detail?.reportOnly === true;
  const config = await deps.loadConfig();
  const driftDeps: DriftDeps = {
    agentCore: deps.adapters.agentCore, ecr: deps.adapters.ecr, sfn: deps.adapters.sfn,
    rolloutStateMachineArn: deps.rolloutStateMachineArn, promotionStateMachineArn: deps.promotionStateMachineArn,
    home: deps.home, now: deps.now, sleep: deps.sleep, backoffBaseMs: deps.backoffBaseMs, readSecret: deps.readSecret,
  };
  const run = await readDrift(driftDeps, config, { reportOnly });
  for (const note of run.notes) deps.logger.warn('Drift read problem', { note });
  for (const r of run.plan.resources) {
    if (r.tamper) {
      deps.logger.error('Policy engine tampering detected', {
        gatewayId: r.id, declared: r.tamper.declared, live: r.tamper.live, response: r.tamper.response, action: r.action,
        ...(r.previousRollout && { needsHuman: true, previousRollout: r.previousRollout, reason: r.reason }),
      });
    }
  }

  const applied = await applyDrift(driftDeps, run);
  for (const o of applied.outcomes) {
    if (o.status === 'failed') deps.logger.warn('Drift correction failed', { resourceType: o.kind, ref: o.ref, error: o.error });
  }

  const published = await publishDriftEvents(deps.adapters.events, config, run, applied.outcomes, trigger, {
    busName: deps.eventBusName,
    onError: (detailType, count, err) => deps.logger.error('Publishing drift events failed', { detailType, count, error: err instanceof Error ? err.name : String(err) }),
  });

  const summary = summarize(run.plan, applied.outcomes, applied.stopped);
  deps.logger.info('Drift run summary', { trigger, reportOnly, ...summary, eventsPublished: published });
  return { trigger, summary, plan: run.plan, outcomes: applied.outcomes, notes: run.notes, eventsPublished: published };
}
