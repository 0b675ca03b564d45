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
import type { Adapters } from '../adapters/index.ts';
import type { EventsAdapter } from '../adapters/events.ts';
import type { Config } from '../lib/config/types.ts';
import { now as clockNow, sleep } from '../lib/time.ts';
import { planDrift, type DriftPlan } from '../domain/drift/plan.ts';
import { detectedEvents, outcomeEvents, summarize, type DriftEvent, type DriftSummary } from '../domain/drift/report.ts';
import { adaptersFor, configFor, envValue, homeOf } from './lambda-env.ts';

export type { DriftDeps, DriftRun, ReadOptions } from './drift-common.ts';
export * from './drift-read.ts';
export * from './drift-apply.ts';
import { readDrift } from './drift-read.ts';
import { applyDrift, type ApplyOutcome, type ApplyResult } from './drift-apply.ts';
import type { DriftDeps, DriftRun } from './drift-common.ts';

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
    policyPromotionStateMachineArn: envValue('POLICY_PROMOTION_STATE_MACHINE_ARN', env),
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
    policyPromotionStateMachineArn: deps.policyPromotionStateMachineArn,
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
