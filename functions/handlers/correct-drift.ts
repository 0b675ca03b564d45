/**
 * `correctDrift`: the scheduled drift job (EventBridge schedule, `{trigger: schedule}`) and its
 * on-demand twin (custom event `Drift Check Requested`; `detail.reportOnly: true` only reports).
 *
 * Reads every declared runtime and gateway, plans (functions/app/drift.ts), applies what the config
 * allows, publishes `Drift Detected` / `Drift Corrected` / `Drift Correction Failed` with the
 * redacted diff, and writes one summary log line with counts. Policy-engine tampering is logged
 * at error level as well. Environment variable values never reach a log line or an event.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createAdapters, type Adapters } from '../adapters/index.ts';
import { lazyClients } from '../lib/clients.ts';
import { loadConfig } from '../lib/config/load.ts';
import type { Config } from '../lib/config/types.ts';
import { createLogger } from '../lib/logger.ts';
import { withMiddleware } from '../lib/middy.ts';
import { now as clockNow } from '../lib/time.ts';
import { applyDrift, readDrift, type ApplyResult, type DriftDeps } from '../app/drift.ts';
import { detectedEvents, outcomeEvents, summarize, type DriftEvent, type DriftSummary } from '../domain/drift/report.ts';
import type { DriftPlan } from '../domain/drift/plan.ts';

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
}

export interface CorrectDriftResult {
  trigger: string;
  summary: DriftSummary;
  /** The redacted plan. */
  plan: DriftPlan;
  outcomes: ApplyResult['outcomes'];
  eventsPublished: number;
}

const eventSchema = z.object({
  trigger: z.string().max(64).optional(),
  source: z.string().optional(),
  'detail-type': z.string().optional(),
  detail: z.object({ reportOnly: z.boolean().optional() }).passthrough().optional(),
}).passthrough();
type DriftEventInput = z.infer<typeof eventSchema>;

const logger = createLogger();
const adapterCache = new Map<string, Adapters>();

function accountOf(arn: string | undefined): string | undefined {
  return arn?.split(':')[4] || undefined;
}

function defaultDeps(): CorrectDriftDeps {
  const key = process.env.AWS_ENDPOINT_URL ?? '';
  let adapters = adapterCache.get(key);
  if (!adapters) {
    adapters = createAdapters(lazyClients());
    adapterCache.set(key, adapters);
  }
  const rolloutStateMachineArn = process.env.ROLLOUT_STATE_MACHINE_ARN || undefined;
  return {
    adapters,
    loadConfig: () => loadConfig(),
    now: () => clockNow().getTime(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    rolloutStateMachineArn,
    promotionStateMachineArn: process.env.PROMOTION_STATE_MACHINE_ARN || undefined,
    eventBusName: process.env.AUTOPILOT_EVENT_BUS || undefined,
    home: { account: accountOf(rolloutStateMachineArn), region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION },
    logger,
  };
}

/** Runs one drift pass; exported for tests that inject their own deps. */
export async function runCorrectDrift(deps: CorrectDriftDeps, event: DriftEventInput): Promise<CorrectDriftResult> {
  const trigger = event.trigger ?? (event['detail-type'] === 'Drift Check Requested' ? 'on-demand' : 'unknown');
  const reportOnly = event.detail?.reportOnly === true;
  const config = await deps.loadConfig();
  const driftDeps: DriftDeps = {
    agentCore: deps.adapters.agentCore, ecr: deps.adapters.ecr, sfn: deps.adapters.sfn,
    rolloutStateMachineArn: deps.rolloutStateMachineArn, promotionStateMachineArn: deps.promotionStateMachineArn,
    home: deps.home, now: deps.now, sleep: deps.sleep, backoffBaseMs: deps.backoffBaseMs,
  };
  const run = await readDrift(driftDeps, config, { reportOnly });
  for (const note of run.notes) deps.logger.warn('Drift read problem', { note });
  for (const r of run.plan.resources) {
    if (r.tamper) {
      deps.logger.error('Policy engine tampering detected', {
        gatewayId: r.id, declared: r.tamper.declared, live: r.tamper.live, response: r.tamper.response, action: r.action,
      });
    }
  }

  const applied = await applyDrift(driftDeps, run);
  for (const o of applied.outcomes) {
    if (o.status === 'failed') deps.logger.warn('Drift correction failed', { resourceType: o.kind, ref: o.ref, error: o.error });
  }

  const tamperRefs = new Set(run.plan.resources.filter((r) => r.tamper).map((r) => `${r.kind}:${r.ref}`));
  const events: DriftEvent[] = [...detectedEvents(run.plan, trigger), ...outcomeEvents(applied.outcomes, trigger, tamperRefs)];
  let published = 0;
  const busName = deps.eventBusName ?? config.events.busName;
  for (const detailType of new Set(events.map((e) => e.detailType))) {
    const details = events.filter((e) => e.detailType === detailType).map((e) => e.detail);
    try {
      published += (await deps.adapters.events.publish(detailType, details, { source: config.events.source, busName })).length;
    } catch (err) {
      deps.logger.error('Publishing drift events failed', { detailType, count: details.length, error: err instanceof Error ? err.name : String(err) });
    }
  }

  const summary = summarize(run.plan, applied.outcomes, applied.stopped);
  deps.logger.info('Drift run summary', { trigger, reportOnly, ...summary, eventsPublished: published });
  return { trigger, summary, plan: run.plan, outcomes: applied.outcomes, eventsPublished: published };
}

/** The handler over injected dependencies (a function, so env-derived deps are read per invocation). */
export function createHandler(deps: CorrectDriftDeps | (() => CorrectDriftDeps)) {
  const resolve = typeof deps === 'function' ? deps : () => deps;
  return withMiddleware<DriftEventInput, CorrectDriftResult>((event) => runCorrectDrift(resolve(), event), {
    logger: typeof deps === 'function' ? logger : deps.logger,
    schema: eventSchema,
  });
}

export const handler = createHandler(defaultDeps);
