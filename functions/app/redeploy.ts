/**
 * The redeploy orchestration shared by the onImagePush and onChangeRequest handlers and the
 * `autopilot redeploy` command: read the live runtime -> decide (plan) -> build the lossless update
 * -> UpdateAgentRuntime (retried on ConflictException / throttling inside a time budget, re-reading
 * the runtime before every attempt so a concurrent update is never overwritten) -> start the
 * runtime-promotion state machine, which follows the new version (and moves the endpoints the
 * tracking rule names; with none, it only waits for READY and reports Promoted / Failed) -> publish
 * the outcome event.
 *
 * Replays: concurrent deliveries of one push send the same client token, and the service answers the
 * later ones with the first one's version. The execution name is per runtime version and its input
 * carries a per-invocation claim, so only the first delivery starts the execution; the others get
 * ExecutionAlreadyExists and report `Runtime Redeploy Skipped` (reason `duplicate`), not a second
 * Started. A response version not newer than the version read before the call is a replay too.
 *
 * Nothing here reads the environment or a clock of its own: the caller passes adapters, the loaded
 * config, a logger, the time budget and the sleep function. Environment variable values never reach
 * a log line, an outcome or an event: diffs are redacted (redactChanges) and errors travel as
 * name (+ message for our own, value-free errors).
 */
import { SecretUnresolvedError, hasSecretRefs, refProblems, resolveEnv, type SecretReader } from '../domain/secrets/refs.ts';
import type { Logger } from '@aws-lambda-powertools/logger';
import { ListTagsForResourceCommand, TagResourceCommand, type UpdateAgentRuntimeCommandInput } from '@aws-sdk/client-bedrock-agentcore-control';
import type { Adapters, AgentCoreAdapter } from '../adapters/index.ts';
import { callAws } from '../adapters/aws-errors.ts';
import { diffConfig, type FieldChange } from '../domain/diff.ts';
import { redactChanges } from '../domain/redact.ts';
import { buildRuntimeUpdate, containerUriOf, RUNTIME_UPDATE_FIELDS, type LiveRuntime, type RuntimeChange } from '../domain/runtime-update.ts';
import { randomUUID } from 'node:crypto';
import { CHANGE_REQUEST_DETAIL_TYPE, parseChangeRequest, parseEcrImageAction, requestedImageUri, type ImagePush } from '../domain/redeploy/events.ts';
import { requestRefused } from '../domain/requests/refusal.ts';
import { undeclaredRuntime } from '../domain/requests/scope.ts';
import { refuseRequest } from './requests.ts';
import { isDuplicateRedeploy, withRedeployClientToken } from '../domain/redeploy/idempotency.ts';
import { comparableLiveImage, olderThanLiveRefusal, rejectedRefusal, staleTagRefusal, type ImageLookup } from '../domain/redeploy/guards.ts';
import { DIGEST_PATTERN, parseImageUri, pinnedUri, sameImage } from '../domain/redeploy/image-ref.ts';
import { decodeRejected, encodeRejected, REJECTED_DIGESTS_TAG } from '../domain/redeploy/rejected.ts';
import {
  describeError,
  originOf,
  redeployFailed,
  redeploySkipped,
  redeployStarted,
  type OutcomeEvent,
  type RedeploySubject,
} from '../domain/redeploy/outcome-events.ts';
import type { PromotionOrigin } from '../domain/redeploy/promotion.ts';
import { planRedeploy, requestedImageRefusal, trackDecision, type HomeRegistry, type LiveRuntimeLike } from '../domain/redeploy/plan.ts';
import { buildPromotionInput, promotionExecutionName, VERIFY_ONLY, type PromoteSettings } from '../domain/redeploy/promotion.ts';
import { tagPolicyKind, tagVersion } from '../domain/redeploy/tag-policy.ts';
import { mapWithConcurrency } from '../lib/concurrency.ts';
import type { Config, RuntimeSpec, TrackRule } from '../lib/config/index.ts';
import {
  AutopilotError,
  ConflictError,
  ExecutionAlreadyExistsError,
  ResourceNotFoundError,
  ServiceUnavailableError,
  ThrottledError,
} from '../lib/errors.ts';
import { retryWithBackoff, RetryBudgetExceededError } from '../lib/retry.ts';
import { sleep } from '../lib/time.ts';

export type Log = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** Everything the orchestration needs from its caller. */
export interface RedeployContext {
  adapters: Pick<Adapters, 'agentCore' | 'ecr' | 'events' | 'sfn'>;
  config: Config;
  log: Log;
  /** ARN of the runtime-promotion state machine (PROMOTION_STATE_MACHINE_ARN). */
  promotionStateMachineArn?: string;
  /** The account/region autopilot runs in: what an empty `registry` list in a rule allows. */
  home?: HomeRegistry;
  /** Milliseconds left for retries (e.g. Lambda remaining time minus a safety margin). */
  remainingMs: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Backoff of the conflict/throttle retries (default 250 ms doubling, at most 5 s per wait). */
  retry?: { baseMs: number; maxMs: number };
  /** Poll interval of the promotion state machine (default: the contract's 15 s). */
  pollSeconds?: number;
  /** Reads what a secret reference in a change request names (onChangeRequest only). */
  readSecret?: SecretReader;
  /** Unique id of this invocation's promotion claim (default: a random UUID). */
  claimId?: () => string;
}

export type OutcomeStatus = 'updated' | 'skipped' | 'failed' | 'planned';

/** What happened to one runtime. Never carries an environment variable value. */
export interface RuntimeOutcome {
  runtimeId: string;
  status: OutcomeStatus;
  /**
   * Short code: new-digest, already-on-digest, tag-not-matched, downgrade-refused, stale-tag,
   * older-than-live, digest-rejected, no-change, change-request, manual, ...
   */
  reason: string;
  message?: string;
  fromVersion?: string;
  toVersion?: string;
  fromUri?: string;
  toUri?: string;
  /** Field diff of the update (redacted). */
  changes?: FieldChange[];
  promotion?: { name: string; endpoints: string[]; started: boolean; executionArn?: string; reason?: string };
  error?: { name: string; message?: string };
  /** The failure may succeed on a later attempt (busy, throttled, unavailable). */
  retryable?: boolean;
  /** Things the caller should know that did not stop the update (e.g. a rejected digest deployed by hand). */
  notes?: string[];
}

/** One or more runtimes failed with a retryable error: the invocation fails so the platform retries. */
export class RedeployIncompleteError extends AutopilotError {}

/** What a decide step answers for a freshly read runtime. */
export type ChangeDecision =
  | { action: 'skip'; reason: string; message: string }
  | { action: 'update'; change: RuntimeChange; reason: string; message: string; note?: string };

export interface ApplyArgs {
  runtimeId: string;
  subject: RedeploySubject;
  /** Called with a fresh GetAgentRuntime before every attempt. */
  decide: (live: LiveRuntime) => Promise<ChangeDecision> | ChangeDecision;
  /** Use the tag-independent redeploy client token (image pushes). */
  redeployToken: boolean;
  /** Plan only: no UpdateAgentRuntime, no event, no promotion. */
  dryRun: boolean;
  promote?: PromoteSettings;
  /**
   * Follow the new version even without `promote` (VERIFY_ONLY: the state machine waits for READY
   * and reports a failed version). The event-driven triggers set it; `autopilot redeploy` does not.
   */
  follow?: boolean;
}

const DEFAULT_RETRY = { baseMs: 250, maxMs: 5_000 };

/** Busy runtime, throttling and 5xx are worth another attempt within the budget. */
export function isRetryableAwsError(err: unknown): boolean {
  return err instanceof ConflictError || err instanceof ThrottledError || err instanceof ServiceUnavailableError;
}

function updateFields(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of RUNTIME_UPDATE_FIELDS) if (o[f] !== undefined && o[f] !== null) out[f] = o[f];
  return out;
}

/** The redacted field diff between the live runtime and the update request. */
export function requestDiff(live: LiveRuntime, request: UpdateAgentRuntimeCommandInput): FieldChange[] {
  return redactChanges(diffConfig(updateFields(live as Record<string, unknown>), updateFields(request as unknown as Record<string, unknown>)));
}

function stripMetadata<T extends object>(output: T): LiveRuntime {
  const { $metadata: _m, ...rest } = output as T & { $metadata?: unknown };
  return rest as LiveRuntime;
}

async function publish(ctx: RedeployContext, event: OutcomeEvent): Promise<void> {
  try {
    await ctx.adapters.events.publish(event.detailType, event.detail, { source: ctx.config.events.source, busName: ctx.config.events.busName });
  } catch (err) {
    // The runtime change stands whatever happens to its notification.
    ctx.log.error('Outcome event not published', { detailType: event.detailType, runtimeId: event.detail.runtimeId, error: describeError(err) });
  }
}

function retryOptions(ctx: RedeployContext, runtimeId: string, operation: string) {
  const backoff = ctx.retry ?? DEFAULT_RETRY;
  return {
    isRetryable: isRetryableAwsError,
    baseMs: backoff.baseMs,
    maxMs: backoff.maxMs,
    deadline: ctx.remainingMs,
    sleep: ctx.sleep ?? sleep,
    random: ctx.random,
    onRetry: ({ attempt, waitMs, error }: { attempt: number; waitMs: number; error: unknown }) =>
      ctx.log.warn('Retrying a busy or throttled call', { runtimeId, operation, attempt, waitMs, error: describeError(error).name }),
  };
}

type Attempt =
  | { kind: 'skip'; reason: string; message: string; live: LiveRuntime }
  | {
      kind: 'planned' | 'updated';
      live: LiveRuntime;
      request: UpdateAgentRuntimeCommandInput;
      changes: FieldChange[];
      toVersion?: string;
      reason: string;
      message: string;
      note?: string;
    };

/**
 * Reads, decides, builds and (unless dryRun) sends one runtime update, then publishes the outcome
 * and starts the promotion. Never throws: failures come back as a `failed` outcome.
 */
export async function applyRuntimeUpdate(ctx: RedeployContext, args: ApplyArgs): Promise<RuntimeOutcome> {
  const { runtimeId, subject } = args;
  const { agentCore } = ctx.adapters;
  let attempt: Attempt;
  try {
    attempt = await retryWithBackoff(async (): Promise<Attempt> => {
      const live = stripMetadata(await agentCore.getRuntime(runtimeId));
      const decision = await args.decide(live);
      if (decision.action === 'skip') return { kind: 'skip', reason: decision.reason, message: decision.message, live };
      let request = buildRuntimeUpdate(live, decision.change);
      if (args.redeployToken) request = withRedeployClientToken(request, live.agentRuntimeVersion as string);
      const changes = requestDiff(live, request);
      if (changes.length === 0) return { kind: 'skip', reason: 'no-change', message: 'the live runtime already has this configuration', live };
      const note = decision.note === undefined ? {} : { note: decision.note };
      if (args.dryRun) return { kind: 'planned', live, request, changes, reason: decision.reason, message: decision.message, ...note };
      try {
        const response = await agentCore.updateRuntime(request);
        return { kind: 'updated', live, request, changes, toVersion: response.agentRuntimeVersion, reason: decision.reason, message: decision.message, ...note };
      } catch (err) {
        if (isDuplicateRedeploy(err)) {
          return { kind: 'skip', reason: 'duplicate-request', message: 'the same image is already being deployed by another request', live };
        }
        throw err;
      }
    }, retryOptions(ctx, runtimeId, 'UpdateAgentRuntime'));
  } catch (err) {
    const retryable = err instanceof RetryBudgetExceededError || isRetryableAwsError(err);
    const outcome: RuntimeOutcome = {
      runtimeId,
      status: 'failed',
      reason: err instanceof RetryBudgetExceededError ? 'retry-budget-exceeded' : err instanceof ResourceNotFoundError ? 'runtime-not-found' : 'update-failed',
      message: err instanceof AutopilotError ? err.message : undefined,
      error: describeError(err),
      retryable,
    };
    ctx.log.error('Runtime update failed', { runtimeId, reason: outcome.reason, retryable, error: outcome.error });
    if (!args.dryRun) await publish(ctx, redeployFailed(subject, { reason: outcome.reason, message: outcome.message, error: err }));
    return outcome;
  }

  const fromVersion = attempt.live.agentRuntimeVersion;
  const fromUri = containerUriOf(attempt.live);
  if (attempt.kind === 'skip') {
    const outcome: RuntimeOutcome = { runtimeId, status: 'skipped', reason: attempt.reason, message: attempt.message, fromVersion, fromUri };
    ctx.log.info('Runtime skipped', { runtimeId, reason: attempt.reason, explanation: attempt.message, fromVersion });
    if (!args.dryRun) await publish(ctx, redeploySkipped(subject, { reason: attempt.reason, message: attempt.message, fromVersion, fromUri }));
    return outcome;
  }

  const toUri = containerUriOf(attempt.request);
  const outcome: RuntimeOutcome = {
    runtimeId,
    status: attempt.kind,
    reason: attempt.reason,
    message: attempt.message,
    fromVersion,
    fromUri,
    toUri,
    changes: attempt.changes,
  };
  if (attempt.toVersion !== undefined) outcome.toVersion = attempt.toVersion;
  if (attempt.note !== undefined) outcome.notes = [attempt.note];
  const endpoints = args.promote?.endpoints ?? [];
  if (attempt.kind === 'planned') {
    if (endpoints.length > 0) outcome.promotion = { name: '', endpoints: [...endpoints], started: false, reason: 'dry-run' };
    return outcome;
  }

  const duplicate = async (why: string): Promise<RuntimeOutcome> => {
    const skipped: RuntimeOutcome = { runtimeId, status: 'skipped', reason: 'duplicate', message: why, fromVersion, fromUri, toUri };
    if (outcome.toVersion !== undefined) skipped.toVersion = outcome.toVersion;
    ctx.log.info('Runtime skipped', { runtimeId, reason: 'duplicate', explanation: why, fromVersion, toVersion: outcome.toVersion });
    await publish(ctx, redeploySkipped(subject, { reason: 'duplicate', message: why, fromVersion, fromUri }));
    return skipped;
  };
  if (isReplayedVersion(fromVersion, outcome.toVersion)) {
    return duplicate(`the update was a replay: version ${outcome.toVersion} existed before this request`);
  }

  const follow = args.promote ?? (args.follow ? VERIFY_ONLY : undefined);
  const promotion = follow ? await startPromotion(ctx, outcome, follow, originOf(subject)) : undefined;
  if (promotion?.kind === 'duplicate') {
    return duplicate(`version ${outcome.toVersion} is already being followed by another delivery of the same update`);
  }

  ctx.log.info('Runtime update accepted', { runtimeId, fromVersion, toVersion: outcome.toVersion, changedFields: attempt.changes.map((c) => c.path) });
  if (attempt.note !== undefined) ctx.log.warn('Deploying despite a warning', { runtimeId, reason: attempt.reason, explanation: attempt.note });
  await publish(
    ctx,
    redeployStarted(subject, { fromVersion, toVersion: outcome.toVersion, fromUri, toUri, changes: attempt.changes, endpoints, ...(attempt.note !== undefined && { message: attempt.note }) }),
  );
  if (promotion?.kind === 'started') {
    outcome.promotion = promotion.promotion;
  } else if (promotion?.kind === 'not-started') {
    const { reason, error } = promotion;
    ctx.log.error('Promotion not started', { runtimeId, reason, error: error === undefined ? undefined : describeError(error) });
    await publish(ctx, redeployFailed(subject, { reason: 'promotion-not-started', message: reason, error, fromVersion, toVersion: outcome.toVersion, endpoints }));
    outcome.promotion = { name: promotion.name, endpoints: [...endpoints], started: false, reason };
  } else if (promotion?.kind === 'not-followed') {
    ctx.log.warn('New version not followed', { runtimeId, toVersion: outcome.toVersion, reason: promotion.reason });
  }
  return outcome;
}

/** UpdateAgentRuntime answered with a version that is not newer than the one read before the call. */
function isReplayedVersion(fromVersion: string | undefined, toVersion: string | undefined): boolean {
  const from = Number(fromVersion);
  const to = Number(toVersion);
  return fromVersion !== undefined && toVersion !== undefined && Number.isInteger(from) && Number.isInteger(to) && to <= from;
}

type PromotionStart =
  | { kind: 'started'; promotion: NonNullable<RuntimeOutcome['promotion']> }
  /** Another delivery owns the execution of this version: this one is a replay. */
  | { kind: 'duplicate' }
  /** A promoting rule whose execution could not be started: reported as Failed. */
  | { kind: 'not-started'; name: string; reason: string; error?: unknown }
  /** A rule without `promote` where no state machine is configured: logged only. */
  | { kind: 'not-followed'; reason: string };


/** Starts the execution that follows (and, with endpoints, promotes) the new version. Never throws. */
async function startPromotion(ctx: RedeployContext, outcome: RuntimeOutcome, promote: PromoteSettings, origin: PromotionOrigin): Promise<PromotionStart> {
  const endpoints = [...promote.endpoints];
  const { runtimeId } = outcome;
  const name = outcome.toVersion ? promotionExecutionName(runtimeId, outcome.toVersion) : '';
  const notStarted = (reason: string, error?: unknown): PromotionStart =>
    endpoints.length === 0 && error === undefined ? { kind: 'not-followed', reason } : { kind: 'not-started', name, reason, ...(error !== undefined && { error }) };
  if (!ctx.promotionStateMachineArn) return notStarted('PROMOTION_STATE_MACHINE_ARN is not set');
  if (!outcome.toVersion || !outcome.fromVersion || !outcome.fromUri || !outcome.toUri) {
    return notStarted('the update did not report the versions and images a promotion needs');
  }
  let input;
  try {
    input = buildPromotionInput({
      runtimeId,
      newVersion: outcome.toVersion,
      previousVersion: outcome.fromVersion,
      previousUri: outcome.fromUri,
      newUri: outcome.toUri,
      promote,
      claim: (ctx.claimId ?? randomUUID)(),
      origin,
      ...(ctx.pollSeconds !== undefined && { pollSeconds: ctx.pollSeconds }),
    });
  } catch (err) {
    return notStarted(err instanceof Error ? err.message : 'invalid promotion input', err);
  }
  try {
    const started = await retryWithBackoff(async () => {
      try {
        return await ctx.adapters.sfn.startExecution({ stateMachineArn: ctx.promotionStateMachineArn!, name, input });
      } catch (err) {
        // Another delivery (its own claim in the input) started this version's execution first.
        if (err instanceof ExecutionAlreadyExistsError) return undefined;
        throw err;
      }
    }, retryOptions(ctx, runtimeId, 'StartExecution'));
    if (started === undefined) return { kind: 'duplicate' };
    ctx.log.info(endpoints.length > 0 ? 'Promotion started' : 'Following the new version', { runtimeId, execution: name, endpoints });
    return { kind: 'started', promotion: { name, endpoints, started: true, ...(started.executionArn !== undefined && { executionArn: started.executionArn }) } };
  } catch (err) {
    return notStarted('StartExecution failed', err);
  }
}

// ---- image push -------------------------------------------------------------------------------

export type RedeployResult =
  | { status: 'rejected'; reason: string }
  | { status: 'processed'; push?: { repository: string; digest: string; tag?: string }; outcomes: RuntimeOutcome[] };

async function resolveRuntimeId(ctx: RedeployContext, spec: { id?: string; name?: string }): Promise<string> {
  if (spec.id !== undefined) return spec.id;
  const found = await ctx.adapters.agentCore.resolveRuntime({ name: spec.name as string });
  return found.agentRuntimeId as string;
}

/** Tags ECR holds for `digest` (undefined when the lookup fails: the plan then works without them). */
async function tagsOfDigest(ctx: RedeployContext, repository: string, digest: string, registryId: string): Promise<string[] | undefined> {
  const found = await lookupImage(ctx, repository, digest, registryId);
  return found.state === 'found' ? [...found.tags] : undefined;
}

/**
 * DescribeImages of one digest: found (tags, push time), missing (ECR says the image or the
 * repository does not exist) or unknown (the lookup failed, or the image lives in another region
 * than the ECR client's, which cannot see it). Never throws.
 */
async function lookupImage(ctx: RedeployContext, repository: string, digest: string, registryId: string, region?: string): Promise<ImageLookup> {
  if (region !== undefined && ctx.home?.region !== undefined && region !== ctx.home.region) return { state: 'unknown' };
  try {
    const [detail] = await ctx.adapters.ecr.describeImages(repository, [{ imageDigest: digest }], { registryId });
    if (!detail) return { state: 'missing' };
    const pushedAt = detail.imagePushedAt === undefined ? undefined : new Date(detail.imagePushedAt);
    return { state: 'found', tags: detail.imageTags ?? [], ...(pushedAt !== undefined && { pushedAt }) };
  } catch (err) {
    if (err instanceof ResourceNotFoundError) return { state: 'missing' };
    ctx.log.warn('Image details not available', { repository, digest, error: describeError(err).name });
    return { state: 'unknown' };
  }
}

const AGENTCORE_SERVICE = 'bedrock-agentcore-control';

/** ListTagsForResource of a runtime (by its ARN). */
export async function runtimeTags(agentCore: AgentCoreAdapter, arn: string): Promise<Record<string, string>> {
  const out = await callAws({ service: AGENTCORE_SERVICE, operation: 'ListTagsForResource', resource: arn }, () =>
    agentCore.client.send(new ListTagsForResourceCommand({ resourceArn: arn })),
  );
  return out.tags ?? {};
}

/**
 * Adds `digest` to the runtime's rejected list (tag REJECTED_DIGESTS_TAG): read-merge-write, newest
 * first, at most three. Returns the list as written.
 */
export async function recordRejectedDigest(agentCore: AgentCoreAdapter, arn: string, digest: string): Promise<string[]> {
  const value = encodeRejected(decodeRejected(await runtimeTags(agentCore, arn)), digest);
  await callAws({ service: AGENTCORE_SERVICE, operation: 'TagResource', resource: arn }, () =>
    agentCore.client.send(new TagResourceCommand({ resourceArn: arn, tags: { [REJECTED_DIGESTS_TAG]: value } })),
  );
  return decodeRejected({ [REJECTED_DIGESTS_TAG]: value });
}

/**
 * The runtime's tags for the rejected-digest check. A busy/throttled/unavailable answer is thrown
 * (the update attempt is retried); any other failure (e.g. access denied) is logged and the check
 * is skipped: the promotion still guards a bad image.
 */
async function tagsForRejectedCheck(ctx: RedeployContext, runtimeId: string, live: LiveRuntime): Promise<Record<string, string> | undefined> {
  const arn = (live as { agentRuntimeArn?: string }).agentRuntimeArn;
  if (typeof arn !== 'string' || arn === '') {
    ctx.log.warn('Rejected digests not checked: the runtime has no ARN', { runtimeId });
    return undefined;
  }
  try {
    return await runtimeTags(ctx.adapters.agentCore, arn);
  } catch (err) {
    if (isRetryableAwsError(err)) throw err;
    ctx.log.error('Rejected digests not checked: ListTagsForResource failed', { runtimeId, error: describeError(err) });
    return undefined;
  }
}

/** Under a semver rule, the tags of the live digest tell which version runs when the URI has none. */
async function liveTagsFor(ctx: RedeployContext, rule: TrackRule, live: LiveRuntimeLike, push: ImagePush): Promise<string[] | undefined> {
  if (tagPolicyKind(rule.tagPolicy) !== 'semver') return undefined;
  const ref = parseImageUri(live.agentRuntimeArtifact?.containerConfiguration?.containerUri);
  if (!ref?.digest || ref.isPublic || ref.repository !== rule.repository || tagVersion(ref.tag) !== undefined) return undefined;
  if (ref.digest === push.digest) return undefined;
  return tagsOfDigest(ctx, ref.repository, ref.digest, ref.account as string);
}

function rejected(ctx: RedeployContext, reason: string, facts: Record<string, unknown> = {}): RedeployResult {
  ctx.log.warn('Event rejected', { reason, ...facts });
  return { status: 'rejected', reason };
}

/**
 * Handles one `ECR Image Action` event: every configured runtime whose tracking rule follows the
 * push is updated (bounded concurrency), each pinned to the pushed digest. Refused events make no
 * API call at all. Throws RedeployIncompleteError when a runtime failed with a retryable error,
 * after every runtime has been handled and every outcome published.
 */
export async function redeployImagePush(ctx: RedeployContext, event: unknown): Promise<RedeployResult> {
  const parsed = parseEcrImageAction(event);
  if (!parsed.ok) return rejected(ctx, parsed.reason);
  const { push } = parsed;
  const facts = { repository: push.repository, digest: push.digest, tag: push.tag, eventId: push.eventId };

  const tracking = ctx.config.runtimes.filter((r): r is RuntimeSpec & { track: TrackRule } => r.track?.repository === push.repository);
  if (tracking.length === 0) return rejected(ctx, `repository ${push.repository} is not tracked by any runtime`, facts);
  const decisions = tracking.map((spec) => ({ spec, decision: trackDecision(spec.track, push, ctx.home) }));
  const inRegistry = decisions.filter(({ decision }) => decision.match || decision.reason !== 'registry-not-allowed');
  if (inRegistry.length === 0) {
    const first = decisions[0].decision;
    return rejected(ctx, first.match ? 'registry not allowed' : first.message, facts);
  }
  if (push.tag === undefined) return rejected(ctx, 'digest-only push: no tag for a tag policy to follow', facts);

  ctx.log.info('Image push received', { ...facts, runtimes: inRegistry.length });
  const subjectOf = (runtimeId: string): RedeploySubject => ({ runtimeId, push });

  const matching = inRegistry.filter(({ decision }) => decision.match);
  const skipped: RuntimeOutcome[] = [];
  for (const { spec, decision } of inRegistry) {
    if (decision.match) continue;
    const runtimeId = spec.id ?? spec.name ?? '';
    skipped.push({ runtimeId, status: 'skipped', reason: decision.reason, message: decision.message });
    ctx.log.info('Runtime skipped', { runtimeId, reason: decision.reason, explanation: decision.message });
    await publish(ctx, redeploySkipped(subjectOf(runtimeId), { reason: decision.reason, message: decision.message }));
  }

  const pushImage = matching.length > 0 ? await lookupImage(ctx, push.repository, push.digest, push.account, push.region) : undefined;
  const pushTags = pushImage?.state === 'found' ? pushImage.tags : undefined;

  // A late or redelivered event whose tag has moved on (or whose image is gone) deploys nothing.
  const stale = staleTagRefusal(push, pushImage);
  if (stale !== undefined) {
    for (const { spec } of matching) {
      const runtimeId = spec.id ?? spec.name ?? '';
      skipped.push({ runtimeId, status: 'skipped', reason: stale.reason, message: stale.message });
      ctx.log.info('Runtime skipped', { runtimeId, reason: stale.reason, explanation: stale.message });
      await publish(ctx, redeploySkipped(subjectOf(runtimeId), { reason: stale.reason, message: stale.message }));
    }
    return finish(ctx, { status: 'processed', push: { repository: push.repository, digest: push.digest, tag: push.tag }, outcomes: skipped });
  }

  // Live images looked up once per invocation (several runtimes often run the same one).
  const liveImages = new Map<string, Promise<ImageLookup>>();
  const liveImage = (ref: { repository: string; digest: string; account: string }): Promise<ImageLookup> => {
    const key = `${ref.account}/${ref.repository}@${ref.digest}`;
    let found = liveImages.get(key);
    if (found === undefined) liveImages.set(key, (found = lookupImage(ctx, ref.repository, ref.digest, ref.account, push.region)));
    return found;
  };

  const settled = await mapWithConcurrency(matching, ctx.config.redeploy.concurrency, async ({ spec }): Promise<RuntimeOutcome> => {
    let runtimeId: string;
    try {
      runtimeId = await resolveRuntimeId(ctx, spec);
    } catch (err) {
      const ref = spec.id ?? spec.name ?? '';
      const retryable = isRetryableAwsError(err);
      ctx.log.error('Runtime not resolved', { runtime: ref, error: describeError(err) });
      await publish(ctx, redeployFailed(subjectOf(ref), { reason: 'runtime-not-found', error: err }));
      return { runtimeId: ref, status: 'failed', reason: 'runtime-not-found', error: describeError(err), retryable };
    }
    return applyRuntimeUpdate(ctx, {
      runtimeId,
      subject: subjectOf(runtimeId),
      redeployToken: true,
      dryRun: false,
      promote: spec.track.promote,
      follow: true,
      decide: async (live) => {
        const liveTags = await liveTagsFor(ctx, spec.track, live as LiveRuntimeLike, push);
        const [d] = planRedeploy({
          push,
          home: ctx.home,
          pushTags,
          runtimes: [{ runtimeId, rule: spec.track, live: live as LiveRuntimeLike, ...(liveTags !== undefined && { liveTags }) }],
        });
        if (d.action === 'skip' || d.newUri === undefined) return { action: 'skip', reason: d.reason, message: d.message };
        // No going back in push time under exact/glob/regex rules (a late redelivery of an older push).
        if (tagPolicyKind(spec.track.tagPolicy) !== 'semver') {
          const liveRef = comparableLiveImage(push, containerUriOf(live));
          const older = liveRef && olderThanLiveRefusal(spec.track.tagPolicy, push, pushImage, { digest: liveRef.digest, image: await liveImage(liveRef) });
          if (older) return { action: 'skip', reason: older.reason, message: older.message };
        }
        // A digest this runtime rolled back or saw fail does not come back by itself.
        const refused = rejectedRefusal(await tagsForRejectedCheck(ctx, runtimeId, live), push.digest);
        if (refused) return { action: 'skip', reason: refused.reason, message: refused.message };
        return { action: 'update', change: { containerUri: d.newUri }, reason: d.reason, message: d.message };
      },
    });
  });
  const outcomes = [...skipped, ...settled.map((s, i) => (s.status === 'fulfilled' ? s.value : unexpected(matching[i].spec, s.reason)))];
  return finish(ctx, { status: 'processed', push: { repository: push.repository, digest: push.digest, ...(push.tag !== undefined && { tag: push.tag }) }, outcomes });
}

function unexpected(spec: { id?: string; name?: string }, err: unknown): RuntimeOutcome {
  return { runtimeId: spec.id ?? spec.name ?? '', status: 'failed', reason: 'internal-error', error: describeError(err), retryable: false };
}

function finish(ctx: RedeployContext, result: Extract<RedeployResult, { status: 'processed' }>): RedeployResult {
  const summary = result.outcomes.map((o) => ({ runtimeId: o.runtimeId, status: o.status, reason: o.reason, toVersion: o.toVersion }));
  ctx.log.info('Redeploy finished', { outcomes: summary });
  const retry = result.outcomes.filter((o) => o.status === 'failed' && o.retryable);
  if (retry.length > 0) {
    throw new RedeployIncompleteError(`${retry.length} runtime(s) could not be updated within the time budget; the event will be retried`, {
      details: { runtimes: retry.map((o) => o.runtimeId), outcomes: summary },
    });
  }
  return result;
}

// ---- change request ---------------------------------------------------------------------------

function specFor(config: Config, runtimeId: string, name?: string): RuntimeSpec | undefined {
  return config.runtimes.find((r) => (r.id !== undefined && r.id === runtimeId) || (name !== undefined && r.name === name));
}

/**
 * Handles one `Runtime Change Requested` event: the schema-validated partial change is applied
 * losslessly (read-merge-write). A requested image must pass the push rules: the Docker tag grammar
 * (checked by the parser) and the registry scope of the runtime's tracking rule (its registry
 * accounts/regions, or the home account/region). The new version is followed like an image push's
 * (promoted when the tracking rule names endpoints). Refused events make no write call.
 */
export async function applyChangeRequest(ctx: RedeployContext, event: unknown): Promise<RedeployResult> {
  const eventId = typeof (event as { id?: unknown } | null)?.id === 'string' ? (event as { id: string }).id : undefined;
  const parsed = parseChangeRequest(event);
  if (!parsed.ok) return refused(ctx, { reason: 'invalid-request', problems: [parsed.reason] }, { eventId });
  const { request } = parsed;
  const ref = 'id' in request.runtime ? request.runtime.id : request.runtime.name;
  const ids = { resource: ref, requestId: request.requestId, eventId: request.eventId };
  // Only a runtime the config declares, named as declared: anything else makes no call at all.
  const undeclared = undeclaredRuntime(ctx.config, request.runtime);
  if (undeclared) return refused(ctx, undeclared, ids);
  const badRefs = [
    ...refProblems(request.change.environmentVariables?.set, 'change.environmentVariables.set'),
    ...refProblems(request.change.set?.environmentVariables as Record<string, unknown> | undefined, 'change.set.environmentVariables'),
  ];
  if (badRefs.length > 0) return refused(ctx, { reason: 'invalid-request', problems: badRefs }, ids);
  const selectorName = 'name' in request.runtime ? request.runtime.name : undefined;
  const image = requestedImageUri(request.change);
  // The image must come from where the runtime's tracking rule allows pushes from (home by default).
  const imageRefusal = (runtimeSpec: RuntimeSpec | undefined) =>
    image === undefined ? undefined : requestedImageRefusal(image, runtimeSpec?.track?.registry, ctx.home);
  const early = imageRefusal(specFor(ctx.config, 'id' in request.runtime ? request.runtime.id : '', selectorName));
  if (early !== undefined) return refused(ctx, { reason: 'image-not-allowed', problems: [early] }, ids);
  const subject = (runtimeId: string): RedeploySubject => ({
    runtimeId,
    eventId: request.eventId,
    ...(request.requestId !== undefined && { requestId: request.requestId }),
  });
  ctx.log.info('Change request received', {
    runtime: ref,
    requestId: request.requestId,
    eventId: request.eventId,
    dryRun: request.dryRun,
    fields: changedFieldNames(request.change),
  });
  let runtimeId: string;
  try {
    runtimeId = 'id' in request.runtime ? request.runtime.id : await resolveRuntimeId(ctx, { name: request.runtime.name });
  } catch (err) {
    const retryable = isRetryableAwsError(err);
    ctx.log.error('Runtime not resolved', { runtime: ref, error: describeError(err) });
    if (!request.dryRun) await publish(ctx, redeployFailed(subject(ref), { reason: 'runtime-not-found', error: err }));
    return finish(ctx, { status: 'processed', outcomes: [{ runtimeId: ref, status: 'failed', reason: 'runtime-not-found', error: describeError(err), retryable }] });
  }
  const spec = specFor(ctx.config, runtimeId, selectorName);
  const late = imageRefusal(spec);
  if (late !== undefined) return refused(ctx, { reason: 'image-not-allowed', problems: [late] }, { ...ids, resource: runtimeId });
  // Secret references in the change are read now, in memory, and only written to the runtime.
  let change: RuntimeChange;
  try {
    change = await resolveChangeSecrets(request.change, ctx.readSecret);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    ctx.log.error('Secret reference not resolved', { runtimeId, requestId: request.requestId, error: message });
    if (!request.dryRun) await publish(ctx, redeployFailed(subject(runtimeId), { reason: 'secret-unresolved', message, error: err }));
    return finish(ctx, { status: 'processed', outcomes: [{ runtimeId, status: 'failed', reason: 'secret-unresolved', message, retryable: false }] });
  }
  const outcome = await applyRuntimeUpdate(ctx, {
    runtimeId,
    subject: subject(runtimeId),
    redeployToken: request.change.containerUri !== undefined,
    dryRun: request.dryRun,
    promote: spec?.track?.promote,
    follow: true,
    decide: () => ({ action: 'update', change, reason: 'change-request', message: `change requested${request.requestId ? ` (${request.requestId})` : ''}` }),
  });
  return finish(ctx, { status: 'processed', outcomes: [outcome] });
}

/** The change with the secret references of its environment (patch or full set) replaced by their values. */
async function resolveChangeSecrets(change: RuntimeChange, read: SecretReader | undefined): Promise<RuntimeChange> {
  const patch = change.environmentVariables?.set;
  const full = change.set?.environmentVariables as Record<string, string> | undefined;
  if (!hasSecretRefs(patch) && !hasSecretRefs(full)) return change;
  if (!read) throw new SecretUnresolvedError('the change references secrets, but no secret reader is available');
  const out: RuntimeChange = { ...change };
  if (patch && hasSecretRefs(patch)) out.environmentVariables = { ...change.environmentVariables, set: await resolveEnv(patch, read) };
  if (full && hasSecretRefs(full)) out.set = { ...change.set, environmentVariables: await resolveEnv(full, read) };
  return out;
}

/** A refused change request: logged, reported (`Request Refused`), answered without an error (no retry). */
async function refused(
  ctx: RedeployContext, refusal: Parameters<typeof requestRefused>[1], ids: { resource?: string; requestId?: string; eventId?: string },
): Promise<RedeployResult> {
  await refuseRequest({ events: ctx.adapters.events, config: ctx.config, log: ctx.log }, requestRefused(CHANGE_REQUEST_DETAIL_TYPE, refusal, ids));
  return { status: 'rejected', reason: refusal.problems.join('; ') };
}

/** Top-level fields a change touches (names only). */
function changedFieldNames(change: RuntimeChange): string[] {
  const fields = new Set<string>();
  if (change.containerUri !== undefined) fields.add('agentRuntimeArtifact');
  if (change.environmentVariables !== undefined) fields.add('environmentVariables');
  for (const k of Object.keys(change.set ?? {})) fields.add(k);
  for (const k of change.unset ?? []) fields.add(k);
  return [...fields];
}

// ---- manual redeploy (CLI) --------------------------------------------------------------------

/** Bad input to a manual redeploy (image URI, unknown tag...). */
export class InvalidRedeployRequestError extends AutopilotError {}

/** A fully pinned image: where it lives and its digest. */
export interface ResolvedImage {
  uri: string;
  account: string;
  region: string;
  repository: string;
  digest: string;
  tag?: string;
}

/**
 * Resolves `--image`: a private ECR URI with a tag and/or digest. A tag-only URI is resolved to the
 * digest the tag points to now (DescribeImages). Returns the pinned URI (`repo@sha256:...`, or
 * `repo:tag@sha256:...` with keepTag).
 */
export async function resolveImage(ctx: RedeployContext, image: string, keepTag: boolean): Promise<ResolvedImage> {
  const ref = parseImageUri(image);
  if (!ref) throw new InvalidRedeployRequestError('--image is not an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag][@sha256:<64 hex>])');
  if (ref.isPublic || ref.account === undefined || ref.region === undefined) {
    throw new InvalidRedeployRequestError('--image must be a private ECR image (public.ecr.aws is not supported)');
  }
  let digest = ref.digest;
  if (digest === undefined) {
    if (ref.tag === undefined) throw new InvalidRedeployRequestError('--image needs a tag or a digest');
    try {
      digest = await ctx.adapters.ecr.getImageDigest(ref.repository, ref.tag, { registryId: ref.account });
    } catch (err) {
      if (err instanceof ResourceNotFoundError) {
        throw new InvalidRedeployRequestError(`no image tagged ${ref.tag} in ECR repository ${ref.repository}`, { cause: err });
      }
      throw err;
    }
  }
  if (!DIGEST_PATTERN.test(digest)) throw new InvalidRedeployRequestError('the image digest is not sha256:<64 hex>');
  const uri = pinnedUri({ account: ref.account, region: ref.region, repository: ref.repository, digest, tag: ref.tag, keepTag });
  return { uri, account: ref.account, region: ref.region, repository: ref.repository, digest, ...(ref.tag !== undefined && { tag: ref.tag }) };
}

export interface ManualRedeployArgs {
  runtimeId: string;
  image: ResolvedImage;
  dryRun: boolean;
}

/** `autopilot redeploy`: the same update an image push would make, for one runtime, by hand. */
export async function redeployManually(ctx: RedeployContext, args: ManualRedeployArgs): Promise<RuntimeOutcome> {
  const spec = specFor(ctx.config, args.runtimeId);
  const { image } = args;
  return applyRuntimeUpdate(ctx, {
    runtimeId: args.runtimeId,
    subject: { runtimeId: args.runtimeId, trigger: 'manual', image: { repository: image.repository, digest: image.digest, ...(image.tag !== undefined && { tag: image.tag }) } },
    redeployToken: true,
    dryRun: args.dryRun,
    promote: spec?.track?.promote,
    decide: async (live) => {
      if (sameImage(containerUriOf(live), image)) return { action: 'skip', reason: 'already-on-digest', message: `already runs ${image.digest}` };
      const decision: ChangeDecision = {
        action: 'update',
        change: { containerUri: image.uri },
        reason: 'manual',
        message: `deploy ${image.repository}${image.tag ? `:${image.tag}` : ''} (${image.digest})`,
      };
      // By hand, the rejected list does not stop the deploy, but the operator is told.
      if (rejectedRefusal(await tagsForRejectedCheck(ctx, args.runtimeId, live), image.digest) !== undefined) {
        decision.note = `${image.digest} is in the runtime's rejected digests (tag ${REJECTED_DIGESTS_TAG}: rolled back or failed before); deploying it anyway because this redeploy was run by hand`;
      }
      return decision;
    },
  });
}

/** The configured tracking rule of a runtime, if any (keepTag and promotion for manual redeploys). */
export function trackRuleOf(config: Config, runtimeId: string): TrackRule | undefined {
  return specFor(config, runtimeId)?.track;
}
