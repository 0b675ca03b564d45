/**
 * `startRollout`: starts a staged policy rollout (at most one per gateway and request). Invoked
 * directly (CLI, drift) with a StartRolloutRequest, or by the EventBridge rule on the custom event
 * `Policy Rollout Requested` whose detail is one. See functions/domain/rollout/start.ts.
 *
 * A duplicate request returns the existing execution (ALREADY_RUNNING / ALREADY_RAN) and starts
 * nothing; another rollout running for the gateway fails the invocation with
 * RolloutInProgressError (EventBridge retries it per the rule's retry policy); bad input fails with
 * InvalidRolloutInputError before any AWS write.
 */
import type { Context } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import { createAdapters, type Adapters } from '../adapters/index.ts';
import { lazyClients } from '../lib/clients.ts';
import { loadConfig } from '../lib/config/load.ts';
import type { Config } from '../lib/config/types.ts';
import { createLogger } from '../lib/logger.ts';
import { withMiddleware } from '../lib/middy.ts';
import { now as clockNow } from '../lib/time.ts';
import { InvalidRolloutInputError } from '../domain/rollout/errors.ts';
import { startPolicyRollout } from '../domain/rollout/start.ts';
import type { StartRolloutRequest, StartRolloutResult } from '../domain/rollout/start.ts';

export const ROLLOUT_REQUESTED_DETAIL_TYPE = 'Policy Rollout Requested';

export interface StartRolloutHandlerDeps {
  adapters: Pick<Adapters, 'agentCore' | 'sfn'>;
  loadConfig: () => Promise<Config>;
  stateMachineArn: string | undefined;
  now: () => Date;
  logger: Logger;
}

const logger = createLogger();
const adapterCache = new Map<string, Adapters>();

function defaultDeps(): StartRolloutHandlerDeps {
  const key = process.env.AWS_ENDPOINT_URL ?? '';
  let adapters = adapterCache.get(key);
  if (!adapters) {
    adapters = createAdapters(lazyClients());
    adapterCache.set(key, adapters);
  }
  return {
    adapters,
    loadConfig: () => loadConfig(),
    stateMachineArn: process.env.ROLLOUT_STATE_MACHINE_ARN || undefined,
    now: clockNow,
    logger,
  };
}

/** The request inside an EventBridge event (its `detail`), or the direct invocation payload itself. */
export function requestOf(event: unknown): StartRolloutRequest {
  if (typeof event === 'object' && event !== null && 'detail-type' in event) {
    const e = event as { 'detail-type': unknown; detail?: unknown };
    if (e['detail-type'] !== ROLLOUT_REQUESTED_DETAIL_TYPE) {
      throw new InvalidRolloutInputError(`Unexpected event detail-type ${JSON.stringify(e['detail-type'])}; expected "${ROLLOUT_REQUESTED_DETAIL_TYPE}"`);
    }
    return e.detail as StartRolloutRequest;
  }
  return event as StartRolloutRequest;
}

export function createHandler(deps?: StartRolloutHandlerDeps): (event: unknown, context: Context) => Promise<StartRolloutResult> {
  return withMiddleware<unknown, StartRolloutResult>(
    async (event) => {
      const d = deps ?? defaultDeps();
      if (!d.stateMachineArn) throw new InvalidRolloutInputError('ROLLOUT_STATE_MACHINE_ARN is not set');
      const request = requestOf(event);
      const result = await startPolicyRollout(
        {
          sfn: d.adapters.sfn,
          agentCore: d.adapters.agentCore,
          stateMachineArn: d.stateMachineArn,
          config: await d.loadConfig(),
          now: d.now,
        },
        request,
      );
      d.logger.info('Policy rollout start', {
        status: result.status,
        executionName: result.executionName,
        gatewayId: result.gatewayId,
        dryRun: result.dryRun,
      });
      return result;
    },
    { logger: deps?.logger ?? logger },
  ) as unknown as (event: unknown, context: Context) => Promise<StartRolloutResult>;
}

export const handler = createHandler();
