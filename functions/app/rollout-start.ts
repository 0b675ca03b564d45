/**
 * The start of a policy rollout (the startRollout function): the request from an EventBridge event
 * or a direct invocation, handed to functions/domain/rollout/start.ts, which checks it and starts
 * the policy-rollout state machine at most once per gateway and request.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Adapters } from '../adapters/index.ts';
import { agentCoreAdapter } from '../adapters/agentcore.ts';
import { sfnAdapter } from '../adapters/sfn.ts';
import type { Config } from '../lib/config/types.ts';
import { now as clockNow } from '../lib/time.ts';
import { InvalidRolloutInputError } from '../domain/rollout/errors.ts';
import { startPolicyRollout } from '../domain/rollout/start.ts';
import type { StartRolloutRequest, StartRolloutResult } from '../domain/rollout/start.ts';
import { adaptersFor, configFor, envValue } from './lambda-env.ts';

export const ROLLOUT_REQUESTED_DETAIL_TYPE = 'Policy Rollout Requested';

export interface StartRolloutHandlerDeps {
  adapters: Pick<Adapters, 'agentCore' | 'sfn'>;
  loadConfig: () => Promise<Config>;
  stateMachineArn: string | undefined;
  now: () => Date;
  logger: Logger;
}

/** The start's deps from the Lambda environment (read per invocation). */
export function startRolloutDepsFor(logger: Logger, env: NodeJS.ProcessEnv = process.env): StartRolloutHandlerDeps {
  return {
    adapters: adaptersFor({ agentCore: agentCoreAdapter, sfn: sfnAdapter }, env),
    loadConfig: () => configFor(env),
    stateMachineArn: envValue('ROLLOUT_STATE_MACHINE_ARN', env),
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

/** Starts the rollout an event or direct invocation asks for (see functions/domain/rollout/start.ts). */
export async function startRollout(deps: StartRolloutHandlerDeps, event: unknown): Promise<StartRolloutResult> {
  if (!deps.stateMachineArn) throw new InvalidRolloutInputError('ROLLOUT_STATE_MACHINE_ARN is not set');
  const request = requestOf(event);
  const result = await startPolicyRollout(
    {
      sfn: deps.adapters.sfn,
      agentCore: deps.adapters.agentCore,
      stateMachineArn: deps.stateMachineArn,
      config: await deps.loadConfig(),
      now: deps.now,
    },
    request,
  );
  deps.logger.info('Policy rollout start', {
    status: result.status,
    executionName: result.executionName,
    gatewayId: result.gatewayId,
    dryRun: result.dryRun,
  });
  return result;
}
