/**
 * The deps of the policy-rollout and policy-promotion tasks from the Lambda environment (read per
 * invocation). Each task calls one or two of CloudWatch, EventBridge and Step Functions: they load
 * on first use (functions/adapters/lazy.ts), so the others never do. A module of its own: the use
 * cases (app/rollout.ts, app/promotion.ts) are also imported by correctDrift, whose bundle must not
 * carry the lazy clients' chunks.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Adapters } from '../adapters/index.ts';
import { agentCoreAdapter } from '../adapters/agentcore.ts';
import { lazyCloudWatchAdapter, lazyEventsAdapter, lazySfnAdapter } from '../adapters/lazy.ts';
import type { Config } from '../lib/config/types.ts';
import { now as clockNow } from '../lib/time.ts';
import { adaptersFor, configFor, envValue } from './lambda-env.ts';

/** The deps of a policy-rollout or policy-promotion task (RolloutDeps, PromotionDeps). */
export interface PolicyTaskDeps {
  adapters: Pick<Adapters, 'agentCore' | 'cloudWatch' | 'events' | 'sfn'>;
  loadConfig: () => Promise<Config>;
  now: () => Date;
  /** AUTOPILOT_EVENT_BUS (else the config's events.busName). */
  eventBusName?: string;
  /** The task's state machine: ROLLOUT_STATE_MACHINE_ARN (else derived from the execution ARN) or POLICY_PROMOTION_STATE_MACHINE_ARN. */
  stateMachineArn?: string;
  logger: Logger;
}

/** The tasks' deps; `stateMachineVariable` names the environment variable of their state machine's ARN. */
export function policyTaskDepsFor(logger: Logger, stateMachineVariable: 'ROLLOUT_STATE_MACHINE_ARN' | 'POLICY_PROMOTION_STATE_MACHINE_ARN', env: NodeJS.ProcessEnv = process.env): PolicyTaskDeps {
  return {
    adapters: adaptersFor({ agentCore: agentCoreAdapter, cloudWatch: lazyCloudWatchAdapter, events: lazyEventsAdapter, sfn: lazySfnAdapter }, env),
    loadConfig: () => configFor(env),
    now: clockNow,
    eventBusName: envValue('AUTOPILOT_EVENT_BUS', env),
    stateMachineArn: envValue(stateMachineVariable, env),
    logger,
  };
}
