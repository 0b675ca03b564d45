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
import type { SecretReader } from '../domain/secrets/refs.ts';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { UpdateAgentRuntimeCommandInput } from '@aws-sdk/client-bedrock-agentcore-control';
import type { Adapters } from '../adapters/index.ts';
import { diffConfig, type FieldChange } from '../domain/diff.ts';
import { redactChanges } from '../domain/redact.ts';
import {
  buildRuntimeUpdate,
  containerUriOf,
  RUNTIME_UPDATE_FIELDS,
  UnknownLiveMemberError,
  type LiveRuntime,
  type RuntimeChange,
} from '../domain/runtime-update.ts';
import { randomUUID } from 'node:crypto';
import { isDuplicateRedeploy, withRedeployClientToken } from '../domain/redeploy/idempotency.ts';
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
import type { HomeRegistry } from '../domain/redeploy/plan.ts';
import { buildPromotionInput, promotionExecutionName, VERIFY_ONLY, type PromoteSettings } from '../domain/redeploy/promotion.ts';
import type { Config, RuntimeSpec } from '../lib/config/index.ts';
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
  /**
   * ECR in another region (ECR is regional: an image is looked up where it lives). Without it,
   * images outside the home region cannot be looked up, and whatever needs the lookup fails closed.
   */
  ecrIn?: (region: string) => Pick<Adapters['ecr'], 'describeImages' | 'getManifest' | 'getImageDigest'>;
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

export async function publish(ctx: RedeployContext, event: OutcomeEvent): Promise<void> {
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
      reason: err instanceof RetryBudgetExceededError ? 'retry-budget-exceeded'
        : err instanceof ResourceNotFoundError ? 'runtime-not-found'
          : err instanceof UnknownLiveMemberError ? 'unknown-live-members' : 'update-failed',
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

// ---- shared by the triggers ------------------------------------------------------------------

export type RedeployResult =
  | { status: 'rejected'; reason: string }
  /** A routine push no rule deploys (untagged, not a container image): no event, an INFO log line. */
  | { status: 'skipped'; reason: string; message: string }
  | { status: 'processed'; push?: { repository: string; digest: string; tag?: string }; outcomes: RuntimeOutcome[] };

export async function resolveRuntimeId(ctx: RedeployContext, spec: { id?: string; name?: string }): Promise<string> {
  if (spec.id !== undefined) return spec.id;
  const found = await ctx.adapters.agentCore.resolveRuntime({ name: spec.name as string });
  return found.agentRuntimeId as string;
}

export function rejected(ctx: RedeployContext, reason: string, facts: Record<string, unknown> = {}): RedeployResult {
  ctx.log.warn('Event rejected', { reason, ...facts });
  return { status: 'rejected', reason };
}

/** A routine push that deploys nothing, said quietly (INFO, no outcome event). */
export function quietSkip(ctx: RedeployContext, reason: string, message: string, facts: Record<string, unknown> = {}): RedeployResult {
  ctx.log.info('Push skipped', { reason, explanation: message, ...facts });
  return { status: 'skipped', reason, message };
}

export function unexpected(spec: { id?: string; name?: string }, err: unknown): RuntimeOutcome {
  return { runtimeId: spec.id ?? spec.name ?? '', status: 'failed', reason: 'internal-error', error: describeError(err), retryable: false };
}

export function finish(ctx: RedeployContext, result: Extract<RedeployResult, { status: 'processed' }>): RedeployResult {
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

/** The configured spec of a runtime, by id (or by the name a change request used). */
export function specFor(config: Config, runtimeId: string, name?: string): RuntimeSpec | undefined {
  return config.runtimes.find((r) => (r.id !== undefined && r.id === runtimeId) || (name !== undefined && r.name === name));
}
