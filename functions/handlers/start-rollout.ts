/**
 * `startRollout`: starts a staged policy rollout (at most one per gateway and request). Invoked
 * directly (CLI, drift) with a StartRolloutRequest, or by the EventBridge rule of the request bus
 * on `Policy Rollout Requested`, whose detail is one. See functions/app/rollout-start.ts (startRollout)
 * and functions/domain/rollout/start.ts.
 *
 * A request from the bus first passes the request gate (functions/app/requests.ts): a gateway or
 * engine the config does not declare, settings that loosen the declared ones, or a malformed
 * request is refused (`Request Refused` event, status REFUSED) without any AgentCore call or retry.
 * A duplicate request returns the existing execution (ALREADY_RUNNING / ALREADY_RAN) and starts
 * nothing; another rollout running for the gateway fails the invocation with
 * RolloutInProgressError (Lambda retries the asynchronous invocation); bad input to a direct
 * invocation fails with InvalidRolloutInputError before any AWS write.
 */
import type { Context } from 'aws-lambda';
import { gateRolloutRequest, isBusEvent, type RefusedRequest, type RequestGateDeps } from '../app/requests.ts';
import { adaptersFor, configFor, envValue } from '../app/lambda-env.ts';
import { lazyEventsAdapter } from '../adapters/lazy.ts';
import { startRollout, startRolloutDepsFor, type StartRolloutHandlerDeps } from '../app/rollout-start.ts';
import type { StartRolloutResult } from '../domain/rollout/start.ts';
import { createLogger } from '../lib/logger.ts';
import { withMiddleware } from '../lib/middy.ts';

export { ROLLOUT_REQUESTED_DETAIL_TYPE, requestOf, type StartRolloutHandlerDeps } from '../app/rollout-start.ts';

const logger = createLogger();

type Result = StartRolloutResult | RefusedRequest;

/** The handler over `deps` and `gate` (defaults: AWS clients and the config from the environment, per invocation). */
export function createHandler(deps?: StartRolloutHandlerDeps, gate?: () => Promise<RequestGateDeps>): (event: unknown, context: Context) => Promise<Result> {
  const log = deps?.logger ?? logger;
  // Only a refused request publishes (its Request Refused event): EventBridge loads then (functions/adapters/lazy.ts).
  const gateDeps = gate ?? (async () => ({ events: adaptersFor({ events: lazyEventsAdapter }).events, config: await configFor(), log, eventBusName: envValue('AUTOPILOT_EVENT_BUS') }));
  return withMiddleware<unknown, Result>(async (event) => {
    const start = deps ?? startRolloutDepsFor(log);
    if (!isBusEvent(event)) return startRollout(start, event);
    const gated = await gateRolloutRequest(await gateDeps(), event);
    return 'status' in gated ? gated : startRollout(start, gated.request);
  }, { logger: log }) as unknown as (event: unknown, context: Context) => Promise<Result>;
}

export const handler = createHandler();
