/**
 * `startRollout`: starts a staged policy rollout (at most one per gateway and request). Invoked
 * directly (CLI, drift) with a StartRolloutRequest, or by the EventBridge rule on the custom event
 * `Policy Rollout Requested` whose detail is one. See functions/app/rollout.ts (startRollout) and
 * functions/domain/rollout/start.ts.
 *
 * A duplicate request returns the existing execution (ALREADY_RUNNING / ALREADY_RAN) and starts
 * nothing; another rollout running for the gateway fails the invocation with
 * RolloutInProgressError (EventBridge retries it per the rule's retry policy); bad input fails with
 * InvalidRolloutInputError before any AWS write.
 */
import type { Context } from 'aws-lambda';
import { startRollout, startRolloutDepsFor, type StartRolloutHandlerDeps } from '../app/rollout.ts';
import type { StartRolloutResult } from '../domain/rollout/start.ts';
import { createLogger } from '../lib/logger.ts';
import { withMiddleware } from '../lib/middy.ts';

export { ROLLOUT_REQUESTED_DETAIL_TYPE, requestOf, type StartRolloutHandlerDeps } from '../app/rollout.ts';

const logger = createLogger();

export function createHandler(deps?: StartRolloutHandlerDeps): (event: unknown, context: Context) => Promise<StartRolloutResult> {
  const log = deps?.logger ?? logger;
  return withMiddleware<unknown, StartRolloutResult>((event) => startRollout(deps ?? startRolloutDepsFor(log), event), {
    logger: log,
  }) as unknown as (event: unknown, context: Context) => Promise<StartRolloutResult>;
}

export const handler = createHandler();
