/**
 * Drift, step one: read every declared resource and plan (see functions/app/drift.ts).
 */
import { withResolvedSecrets } from './secrets.ts';
import type { ImageDetail } from '@aws-sdk/client-ecr';
import type { SfnAdapter } from '../adapters/sfn.ts';
import type { Config, GatewaySpec, RuntimeSpec } from '../lib/config/types.ts';
import { ResourceNotFoundError } from '../lib/errors.ts';
import { unknownMembersOf } from '../lib/model/unknown-members.ts';
import { mapWithConcurrency } from '../lib/concurrency.ts';
import { containerUriOf } from '../domain/runtime-update.ts';
import {
  planDrift,
  type CorrectionHistory,
  type GatewayObservation,
  type RolloutBlock,
  type RuntimeObservation,
} from '../domain/drift/plan.ts';
import { decodeHistory, historyKey } from '../domain/drift/history.ts';
import { newestAllowedImage, rankAllowedImages } from '../domain/drift/safety-net.ts';
import { decodeRolloutRecord, gatewayFingerprint, judgeTamperRollout, latestExecution } from '../domain/drift/tamper-guard.ts';
import { decodeRejected, REJECTED_DIGESTS_TAG as REJECTED_TAG_NAME } from '../domain/redeploy/rejected.ts';
import { isRolloutOfGateway } from '../domain/rollout/execution-name.ts';
import { planPolicyEngine, type LivePolicyFact, type PolicyEngineObservation } from '../domain/drift/policies.ts';
import { promotionExecutionPrefix } from '../domain/promotion/preflight.ts';
import { canonicalStatement } from '../lib/cedar.ts';

import {
  digestOf,
  errorText,
  readTags,
  resolveId,
  retrying,
  strip,
  type DriftDeps,
  type DriftRun,
  type ReadOptions,
  type Target,
} from './drift-common.ts';

// ---------------------------------------------------------------------------------------------
// read + plan

/** Reads every declared resource and plans. Read errors of one resource are reported on it, never thrown. */
export async function readDrift(deps: DriftDeps, declared: Config, options: ReadOptions = {}): Promise<DriftRun> {
  const notes: string[] = [];
  // Secret references are compared (and corrected) by what they name, read now and kept in memory.
  const config = await withResolvedSecrets(declared, deps.readSecret, notes);
  const concurrency = config.drift.concurrency;
  // Once per readDrift call, or once per scan when the slices of one share a cache.
  const cache = options.cache ?? {};
  const runtimeList = () => (cache.runtimeList ??= retrying(deps, () => deps.agentCore.listRuntimes()).then((rs) => rs.map((r) => ({ id: r.agentRuntimeId, name: r.agentRuntimeName }))));
  const gatewayList = () => (cache.gatewayList ??= retrying(deps, () => deps.agentCore.listGateways()).then((gs) => gs.map((g) => ({ id: g.gatewayId, name: g.name }))));
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
      const unknown = unknownMembersOf(live);
      if (unknown.length > 0) {
        notes.push(`${kind} ${spec.id ?? spec.name}: carries member(s) the bundled AgentCore model does not know (${unknown.join(', ')}): it is compared, but no correction will write it until they are acknowledged in the config (unknownMembers.acknowledged.${kind})`);
      }
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
        listing = await imagesFor(deps, obs.spec, (cache.images ??= new Map()));
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
        const running = await (cache.runningRollouts ??= retrying(deps, () => deps.sfn.listExecutions(deps.rolloutStateMachineArn!, 'RUNNING')));
        rolloutsInProgress = watched.filter((g) => running.some((e) => e.name !== undefined && isRolloutOfGateway(e.name, g)));
      } catch (err) {
        rolloutsUnknown = `could not list running policy rollouts (${errorText(err)})`;
      }
    }
    if (rolloutsUnknown) notes.push(`${rolloutsUnknown}: no policy engine mode is acted on this run (gateways ${watched.join(', ')})`);
  }

  const { observations: policyObs, targets: policyTargets } = await readPolicyEngines(deps, config, notes);

  const targets = [...runtimeTargets, ...gatewayTargets, ...policyTargets];
  const promotionAvailable = deps.promotionStateMachineArn !== undefined;
  let rolloutBlocks: Record<string, RolloutBlock> = {};
  const planWith = (history: Record<string, CorrectionHistory>) => planDrift({
    drift: config.drift, runtimes: runtimeObs, gateways: gatewayObs, now: deps.now(), history,
    backoffBaseMs: deps.backoffBaseMs, rolloutsInProgress, rolloutsUnknown, rolloutBlocks, promotionAvailable,
    policyEngines: policyObs, reportOnly: options.reportOnly,
  });
  // The correction history (backoff) only matters for drifted resources: read their tags alone, so
  // a resource in sync costs one Get, then plan again with the history.
  const history: Record<string, CorrectionHistory> = {};
  let plan = planWith(history);
  const drifted = new Set(plan.resources.filter((r) => r.status === 'drifted' && r.id && r.kind !== 'policy').map((r) => historyKey(r.kind as 'runtime' | 'gateway', r.id!)));
  if (drifted.size > 0) {
    await mapWithConcurrency(targets, concurrency, async (t) => {
      if (t.kind === 'policy') return;
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
    if (!promotionAvailable && (r.action === 'redeploy' || r.action === 'correct') && promote && promote.endpoints.length > 0) {
      notes.push(`runtime ${r.ref}: its tracking rule promotes, but the runtime-promotion state machine is unknown (set PROMOTION_STATE_MACHINE_ARN): apply fails its ${r.redeploy ? 'redeploy' : 'correction'}`);
    }
  });
  const run = { plan, notes, settings: config.drift } as DriftRun;
  Object.defineProperty(run, 'targets', { value: targets, enumerable: false });
  Object.defineProperty(run, 'config', { value: config, enumerable: false });
  return run;
}

/**
 * The declared Cedar policies of every declared engine (ListPolicies once per engine), statements
 * in Cedar's canonical form, and which declared policies have a promotion running. Targets line up
 * with the plan entries planPolicyEngine makes (declared policies first, then undeclared live ones).
 */
async function readPolicyEngines(deps: DriftDeps, config: Config, notes: string[]): Promise<{ observations: PolicyEngineObservation[]; targets: Target[] }> {
  const observations: PolicyEngineObservation[] = [];
  const targets: Target[] = [];
  if (config.policyEngines.length === 0) return { observations, targets };
  let running: { name?: string }[] = [];
  if (deps.policyPromotionStateMachineArn) {
    try {
      running = await retrying(deps, () => deps.sfn.listExecutions(deps.policyPromotionStateMachineArn!, 'RUNNING'));
    } catch (err) {
      notes.push(`could not list running policy promotions (${errorText(err)}): no promotion is started this run`);
      running = [{ name: '*' }];
    }
  }
  for (const engine of config.policyEngines) {
    const engineId = engine.arn.slice(engine.arn.lastIndexOf('/') + 1);
    const declared = Object.fromEntries(engine.policies.map((p) => [p.name, canonicalStatement(p.statement)]));
    const inProgress = engine.policies
      .filter((p) => running.some((e) => e.name === '*' || (e.name ?? '').startsWith(promotionExecutionPrefix(engine.arn, p.name))))
      .map((p) => p.name);
    let live: LivePolicyFact[] | undefined;
    let error: string | undefined;
    try {
      live = (await retrying(deps, () => deps.agentCore.listPolicies(engineId))).map((p) => {
        const statement = p.definition && 'cedar' in p.definition ? p.definition.cedar?.statement : undefined;
        return {
          policyId: String(p.policyId), name: String(p.name), status: String(p.status),
          enforcementMode: p.enforcementMode === 'LOG_ONLY' ? 'LOG_ONLY' as const : 'ACTIVE' as const,
          statement: typeof statement === 'string' ? canonicalStatement(statement) : null,
        };
      });
    } catch (err) {
      error = errorText(err);
    }
    observations.push({ declaration: engine, declared, ...(live && { live }), ...(error !== undefined && { error }), promotionsInProgress: inProgress });
    const plan = planPolicyEngine(observations.at(-1)!, { driftMode: config.drift.mode, windowOpen: true });
    for (const entry of plan) {
      const name = entry.ref.slice(entry.ref.indexOf('/') + 1);
      const l = live?.find((x) => x.name === name);
      targets.push({
        kind: 'policy',
        spec: { engine, name, declared: engine.policies.find((p) => p.name === name), ...(l && { policyId: l.policyId }), ignore: [] },
        ...(l && { live: l as unknown as Record<string, unknown> }),
      });
    }
  }
  return { observations, targets };
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

/** The tracked repository's images (DescribeImages, once per repository and registry per run), or undefined when the rule does not apply here. */
async function imagesFor(deps: DriftDeps, spec: RuntimeSpec, listed: Map<string, Promise<ImageDetail[]>>): Promise<ImageListing | undefined> {
  const rule = spec.track!;
  const region = deps.home.region;
  if (!region || (rule.registry.regions.length > 0 && !rule.registry.regions.includes(region))) return undefined;
  const registryId = rule.registry.accounts[0];
  const key = `${registryId ?? ''}/${rule.repository}`;
  let listing = listed.get(key);
  if (!listing) listed.set(key, (listing = retrying(deps, () => deps.ecr.describeImages(rule.repository, undefined, registryId ? { registryId } : {}))));
  let images: ImageDetail[];
  try {
    images = await listing;
  } catch (err) {
    if (err instanceof ResourceNotFoundError) return undefined;
    throw err;
  }
  const account = registryId ?? images[0]?.registryId ?? deps.home.account;
  if (!account) return undefined;
  const policy = { [rule.tagPolicy.kind]: (rule.tagPolicy as Record<string, string>)[rule.tagPolicy.kind] } as Parameters<typeof newestAllowedImage>[0]['tagPolicy'];
  return { rule: { ...rule, tagPolicy: policy } as ImageListing['rule'], images, registry: { account, region } };
}
