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
import { secretReaderFor } from './secrets.ts';
import type { Context } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import { agentCoreAdapter } from '../adapters/agentcore.ts';
import { ecrAdapter } from '../adapters/ecr.ts';
import { eventsAdapter, type EventsAdapter } from '../adapters/events.ts';
import type { Adapters } from '../adapters/index.ts';
import { sfnAdapter } from '../adapters/sfn.ts';
import type { Config } from '../lib/config/types.ts';
import { ExecutionAlreadyExistsError } from '../lib/errors.ts';
import { now as clockNow, sleep } from '../lib/time.ts';
import { planOf, type DriftPlan } from '../domain/drift/plan.ts';
import { detectedEvents, outcomeEvents, summarize, type DriftEvent, type DriftSummary } from '../domain/drift/report.ts';
import { adaptersFor, budgetOf, configFor, envValue, homeOf, perEndpoint } from './lambda-env.ts';

export type { DriftDeps, DriftRun, ReadCache, ReadOptions } from './drift-common.ts';
export * from './drift-read.ts';
export * from './drift-apply.ts';
import type { ApplyOutcome, ApplyResult } from './drift-apply.ts';
import { errorText, retrying, type DriftDeps, type DriftRun } from './drift-common.ts';
import { scanDrift, type ScanCursor } from './drift-scan.ts';
import { describeHolder, DriftLock } from './drift-lock.ts';
import { LockAdapter } from '../adapters/lock.ts';
import { createDynamoDbClient } from '../lib/clients/dynamodb.ts';

// ---------------------------------------------------------------------------------------------
// run: the correctDrift Lambda

export interface CorrectDriftDeps {
  adapters: Pick<Adapters, 'agentCore' | 'ecr' | 'sfn' | 'events'>;
  loadConfig: () => Promise<Config>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  rolloutStateMachineArn?: string;
  promotionStateMachineArn?: string;
  /** POLICY_PROMOTION_STATE_MACHINE_ARN: staged promotions of declared Cedar policies. */
  policyPromotionStateMachineArn?: string;
  /** AUTOPILOT_EVENT_BUS (else the config's events.busName). */
  eventBusName?: string;
  home: { account?: string; region?: string };
  logger: Logger;
  /** First backoff step for resources that keep drifting back (default 1 hour). */
  backoffBaseMs?: number;
  /** The drift-scan state machine (DRIFT_SCAN_STATE_MACHINE_ARN): goes on with a pass that does not fit in one run. */
  scanStateMachineArn?: string;
  /** Milliseconds the invocation may still spend (the Lambda's time left minus a margin). */
  remainingMs?: () => number;
  /** Reads what a secret reference names. */
  readSecret?: SecretReader;
  /**
   * The drift lock (functions/app/drift-lock.ts), taken before a correcting run reads; when it is
   * held elsewhere, or `unavailable` says why it cannot be used, the run only reports. Absent: no lock.
   */
  lock?: DriftLock | { unavailable: string };
}

/**
 * What starts a run: the schedule's `{trigger}` input, a `Drift Check Requested` event, or the
 * drift-scan state machine going on with a pass (`scan`: the cursor the previous run returned).
 */
export interface DriftRunEvent {
  trigger?: string;
  'detail-type'?: string;
  detail?: { reportOnly?: boolean };
  scan?: { cursor: ScanCursor; reportOnly?: boolean };
}

export interface CorrectDriftResult {
  trigger: string;
  summary: DriftSummary;
  /** The redacted plan of the resources this run checked. */
  plan: DriftPlan;
  outcomes: ApplyResult['outcomes'];
  /** Problems met while reading and applying (no secret values). */
  notes: string[];
  eventsPublished: number;
  /** Where the pass goes on (null: this run finished it). */
  cursor: ScanCursor | null;
  pass: PassProgress;
}

/** The pass a run belongs to, and how far it got. */
export interface PassProgress {
  startedAt: string;
  /** This run's number in the pass (1 = the run the schedule or the request started). */
  run: number;
  /** Resources checked by this run, as a scan-order range [from, to) of `total`. */
  from: number;
  to: number;
  total: number;
  /** The drift-scan execution that goes on with the pass (first run only). */
  continuedBy?: string;
}

/** What the drift-scan state machine keeps of a run (its state stays far below 256 KB). */
export type CompactDriftResult = Pick<CorrectDriftResult, 'trigger' | 'summary' | 'eventsPublished' | 'cursor' | 'pass'> & { notes: string[] };

/** The run's deps from the Lambda environment and context (read per invocation). */
export function correctDriftDepsFor(lambda: Pick<Context, 'invokedFunctionArn'> & Partial<Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>>, logger: Logger, env: NodeJS.ProcessEnv = process.env): CorrectDriftDeps {
  return {
    lock: lambdaDriftLock(lambda, env),
    adapters: adaptersFor({ agentCore: agentCoreAdapter, ecr: ecrAdapter, sfn: sfnAdapter, events: eventsAdapter }, env),
    loadConfig: () => configFor(env),
    now: () => clockNow().getTime(),
    sleep,
    rolloutStateMachineArn: envValue('ROLLOUT_STATE_MACHINE_ARN', env),
    promotionStateMachineArn: envValue('PROMOTION_STATE_MACHINE_ARN', env),
    policyPromotionStateMachineArn: envValue('POLICY_PROMOTION_STATE_MACHINE_ARN', env),
    scanStateMachineArn: envValue('DRIFT_SCAN_STATE_MACHINE_ARN', env),
    eventBusName: envValue('AUTOPILOT_EVENT_BUS', env),
    home: homeOf(lambda, env),
    logger,
    ...(lambda.getRemainingTimeInMillis && { remainingMs: budgetOf(lambda as Pick<Context, 'getRemainingTimeInMillis'>) }),
    readSecret: secretReaderFor(env),
  };
}

const LAMBDA_LEASE_MARGIN_MS = 60_000;
const lockClients = new Map<string, ReturnType<typeof createDynamoDbClient>>();

/**
 * The function's drift lock: DRIFT_LOCK_TABLE (serverless.yml always sets it; without it the run
 * only reports), leased for the invocation's time left plus a margin (a run cannot outlive it).
 */
function lambdaDriftLock(lambda: Partial<Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>>, env: NodeJS.ProcessEnv): CorrectDriftDeps['lock'] {
  const table = envValue('DRIFT_LOCK_TABLE', env);
  if (!table) return { unavailable: 'DRIFT_LOCK_TABLE is not set, so the drift lock cannot be taken' };
  const client = perEndpoint(lockClients, env, createDynamoDbClient);
  const leaseMs = (lambda.getRemainingTimeInMillis?.() ?? 15 * 60_000) + LAMBDA_LEASE_MARGIN_MS;
  const holder = `correctDrift${lambda.awsRequestId ? ` (request ${lambda.awsRequestId})` : ''}`;
  return new DriftLock(new LockAdapter(client, table), holder, leaseMs, () => clockNow().getTime());
}

/**
 * Takes the run's drift lock. Returns why the run may not correct (the lock is held elsewhere, or
 * could not be taken: fail closed), or undefined when it holds the lock (or uses none).
 */
async function takeDriftLock(deps: CorrectDriftDeps, trigger: string): Promise<string | undefined> {
  const lock = deps.lock;
  if (!lock) return undefined;
  if (!(lock instanceof DriftLock)) return `${lock.unavailable}: this run only reports`;
  try {
    const result = await lock.tryAcquire();
    if (result.acquired) return undefined;
    deps.logger.info('Drift lock held', { trigger, holder: describeHolder(result.current) });
    return `the drift lock is held by ${describeHolder(result.current)}: this run only reports; the next run corrects`;
  } catch (err) {
    deps.logger.error('Drift lock not taken', { trigger, error: errorText(err) });
    return `the drift lock (table ${lock.table}) could not be taken (${errorText(err)}): this run only reports`;
  }
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

/**
 * One drift run: scan the fleet from the start (or from the cursor of the pass it continues) for as
 * long as the invocation allows, each slice read, planned, applied and its events published as it
 * finishes (functions/app/drift-scan.ts), then log one summary line. A pass that does not fit goes
 * on in the drift-scan state machine: the first run starts it with its cursor, and the machine's
 * runs return theirs until the pass is done. A scheduled run while a pass is still going on checks
 * nothing (the pass will check everything).
 */
export async function runCorrectDrift(deps: CorrectDriftDeps, event: DriftRunEvent): Promise<CorrectDriftResult> {
  const trigger = event.trigger ?? (event['detail-type'] === 'Drift Check Requested' ? 'on-demand' : 'unknown');
  let reportOnly = event.scan ? event.scan.reportOnly === true : event.detail?.reportOnly === true;
  const config = await deps.loadConfig();
  const driftDeps: DriftDeps = {
    agentCore: deps.adapters.agentCore, ecr: deps.adapters.ecr, sfn: deps.adapters.sfn,
    rolloutStateMachineArn: deps.rolloutStateMachineArn, promotionStateMachineArn: deps.promotionStateMachineArn,
    policyPromotionStateMachineArn: deps.policyPromotionStateMachineArn,
    home: deps.home, now: deps.now, sleep: deps.sleep, backoffBaseMs: deps.backoffBaseMs, remainingMs: deps.remainingMs, readSecret: deps.readSecret,
  };

  if (!event.scan && trigger === 'schedule' && deps.scanStateMachineArn) {
    const going = await passInProgress(deps, driftDeps);
    if (going) {
      const note = `a drift pass is still going on (${going}): this scheduled run checks nothing, the pass checks every resource`;
      deps.logger.info('Drift run skipped', { trigger, reason: 'pass-in-progress', execution: going });
      const plan = planOf([], deps.now());
      return { trigger, summary: summarize(plan), plan, outcomes: [], notes: [note], eventsPublished: 0, cursor: null, pass: { startedAt: '', run: 0, from: 0, to: 0, total: 0 } };
    }
  }

  const lockNote = reportOnly ? undefined : await takeDriftLock(deps, trigger);
  if (lockNote) reportOnly = true;
  const lock = deps.lock instanceof DriftLock && deps.lock.isHeld ? deps.lock : undefined;
  const release = async () => {
    if (lock?.isHeld && !(await lock.release().catch(() => false))) deps.logger.warn('Drift lock was not ours to release', { table: lock.table });
  };
  try {
    return await scanAndReport(deps, driftDeps, config, event, trigger, reportOnly, lock, lockNote, release);
  } finally {
    await release();
  }
}

async function scanAndReport(
  deps: CorrectDriftDeps, driftDeps: DriftDeps, config: Config, event: DriftRunEvent, trigger: string, reportOnly: boolean,
  lock: DriftLock | undefined, lockNote: string | undefined, releaseLock: () => Promise<void>,
): Promise<CorrectDriftResult> {
  let published = 0;
  const publishSlice = async ({ run, applied }: { run: DriftRun; applied: ApplyResult }) => {
    for (const note of run.notes) deps.logger.warn('Drift read problem', { note });
    for (const r of run.plan.resources) {
      if (r.tamper) {
        deps.logger.error('Policy engine tampering detected', {
          gatewayId: r.id, declared: r.tamper.declared, live: r.tamper.live, response: r.tamper.response, action: r.action,
          ...(r.previousRollout && { needsHuman: true, previousRollout: r.previousRollout, reason: r.reason }),
        });
      }
    }
    for (const o of applied.outcomes) {
      if (o.status === 'failed') deps.logger.warn('Drift correction failed', { resourceType: o.kind, ref: o.ref, error: o.error });
    }
    published += await publishDriftEvents(deps.adapters.events, config, run, applied.outcomes, trigger, {
      busName: deps.eventBusName,
      onError: (detailType, count, err) => deps.logger.error('Publishing drift events failed', { detailType, count, error: err instanceof Error ? err.name : String(err) }),
    });
  };

  const scan = await scanDrift(driftDeps, config, {
    reportOnly, cursor: event.scan?.cursor, remainingMs: deps.remainingMs, onSlice: publishSlice,
    ...(lock && { guard: () => lock.guard() }),
  });
  const notes = [...(lockNote ? [lockNote] : []), ...scan.run.notes];
  if (scan.gaveUp) notes.push(scan.gaveUp);
  const startedAt = scan.cursor?.pass ?? event.scan?.cursor.pass ?? new Date(deps.now()).toISOString();
  const pass: PassProgress = { startedAt, run: (event.scan?.cursor.runs ?? 0) + 1, from: scan.range.from, to: scan.range.to, total: scan.range.total };
  // Written what it will write: the pass's next run (or an apply) may take the lock now.
  await releaseLock();
  let cursor = scan.cursor ?? null;
  if (cursor && !event.scan) {
    // The first run of a pass that does not fit: the drift-scan state machine goes on with it.
    const started = await continuePass(deps, driftDeps, trigger, reportOnly, cursor);
    if (started.execution) pass.continuedBy = started.execution;
    if (started.note) notes.push(started.note);
    cursor = started.execution ? cursor : null;
  }

  const summary = summarize(scan.run.plan, scan.outcomes, scan.stopped);
  deps.logger.info('Drift run summary', {
    trigger, reportOnly, ...summary, eventsPublished: published,
    pass: { ...pass, slices: scan.slices, longestSliceMs: scan.longestSliceMs, done: cursor === null },
  });
  return { trigger, summary, plan: scan.run.plan, outcomes: scan.outcomes, notes, eventsPublished: published, cursor, pass };
}

/** The compact result the drift-scan state machine carries from one run to the next. */
export function compactResult(result: CorrectDriftResult): CompactDriftResult {
  const { trigger, summary, eventsPublished, cursor, pass, notes } = result;
  return { trigger, summary, eventsPublished, cursor, pass, notes: notes.slice(0, 20) };
}

/** The drift-scan execution of a pass still running, if any (scheduled runs do not overlap it). */
async function passInProgress(deps: CorrectDriftDeps, driftDeps: DriftDeps): Promise<string | undefined> {
  try {
    const running = await retrying(driftDeps, () => deps.adapters.sfn.listExecutions(deps.scanStateMachineArn!, 'RUNNING'));
    return running[0]?.name;
  } catch (err) {
    // Not knowing is not a reason to check nothing: run (at worst two passes overlap once).
    deps.logger.warn('Could not list running drift passes', { error: errorText(err) });
    return undefined;
  }
}

/** Starts the drift-scan execution that goes on with a pass (one per pass: the name is the pass). */
async function continuePass(
  deps: CorrectDriftDeps, driftDeps: DriftDeps, trigger: string, reportOnly: boolean, cursor: ScanCursor,
): Promise<{ execution?: string; note?: string }> {
  const left = `resources ${cursor.next + 1}-${cursor.total} of the pass are not checked this time`;
  if (!deps.scanStateMachineArn) {
    const note = `the fleet does not fit in one run and the drift-scan state machine is unknown (set DRIFT_SCAN_STATE_MACHINE_ARN): ${left}`;
    deps.logger.error('Drift pass cut short', { note });
    return { note };
  }
  const name = `drift-${cursor.pass.replace(/[^0-9]/g, '').slice(0, 17)}-${trigger}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80);
  try {
    await retrying(driftDeps, () => deps.adapters.sfn.startExecution({
      stateMachineArn: deps.scanStateMachineArn!, name, input: { trigger, reportOnly, cursor },
    }));
    return { execution: name };
  } catch (err) {
    if (err instanceof ExecutionAlreadyExistsError) return { execution: name };
    deps.logger.error('Drift pass cut short', { error: errorText(err) });
    return { note: `could not start the drift-scan execution ${name} (${errorText(err)}): ${left}` };
  }
}
