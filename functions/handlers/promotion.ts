/**
 * The runtime-promotion state machine's task functions (statemachines/runtime-promotion.asl.yaml):
 * checkRuntime, checkAlarms, checkEndpoint, moveEndpoint, rollback, report. Thin wrappers over
 * functions/app/redeploy-promotion.ts; their error names are what the ASL's ErrorEquals match.
 */
import type { Context } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import * as tasks from '../app/redeploy-promotion.ts';
import type { PromotionTaskContext } from '../app/redeploy-promotion.ts';
import { agentCoreAdapter } from '../adapters/agentcore.ts';
import { lazyCloudWatchAdapter, lazyEventsAdapter } from '../adapters/lazy.ts';
import { adaptersFor, budgetOf, configFor } from '../app/lambda-env.ts';
import { createLogger } from '../lib/logger.ts';
import { withMiddleware } from '../lib/middy.ts';

export interface PromotionDeps {
  logger: Logger;
  context: (lambda: Context, logger: Logger) => PromotionTaskContext;
}

type Task<R> = (ctx: PromotionTaskContext, input: unknown) => Promise<R>;

/** The six handlers over one set of deps. */
export function createHandler(deps: PromotionDeps) {
  const wrap = <R>(task: Task<R>) =>
    withMiddleware<unknown, R>(async (event, context) => task(deps.context(context, deps.logger), event), { logger: deps.logger });
  return {
    checkRuntime: wrap(tasks.checkRuntime),
    checkAlarms: wrap(tasks.checkAlarms),
    checkEndpoint: wrap(tasks.checkEndpoint),
    moveEndpoint: wrap(tasks.moveEndpoint),
    rollback: wrap(tasks.rollback),
    report: wrap(tasks.report),
  };
}

const logger = createLogger();
const handlers = createHandler({
  logger,
  context: (lambda, log) => ({
    // checkAlarms alone reads CloudWatch, report alone publishes: lazily loaded clients (functions/adapters/lazy.ts).
    adapters: adaptersFor({ agentCore: agentCoreAdapter, cloudWatch: lazyCloudWatchAdapter, events: lazyEventsAdapter }),
    log,
    remainingMs: budgetOf(lambda, 5_000),
    events: async () => (await configFor()).events,
  }),
});

export const { checkRuntime, checkAlarms, checkEndpoint, moveEndpoint, rollback, report } = handlers;