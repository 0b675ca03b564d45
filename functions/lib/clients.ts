/**
 * AWS SDK client factories and the lazily created per-container client set (the CLI and tests use
 * the whole set; a Lambda builds only the adapters its function uses: functions/app/lambda-env.ts).
 */
import type { BedrockAgentCoreControlClient } from '@aws-sdk/client-bedrock-agentcore-control';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { createAgentCoreControlClient } from './clients/agentcore.ts';
import { createCloudWatchClient } from './clients/cloudwatch.ts';
import { createEcrClient } from './clients/ecr.ts';
import { createEventBridgeClient } from './clients/eventbridge.ts';
import type { ClientOptions } from './clients/options.ts';
import { createSfnClient } from './clients/sfn.ts';

export type { ClientOptions };
export { createAgentCoreControlClient, createCloudWatchClient, createEcrClient, createEventBridgeClient, createSfnClient };
export { captureRawBodies, RAW_BODY_COMMANDS, rawBodyOf } from './clients/agentcore.ts';

/** One client per service. Handlers take this (or single clients) through their `deps`. */
export interface AwsClients {
  readonly agentCoreControl: BedrockAgentCoreControlClient;
  readonly sfn: SFNClient;
  readonly cloudWatch: CloudWatchClient;
  readonly ecr: ECRClient;
  readonly eventBridge: EventBridgeClient;
}

const FACTORIES: { [K in keyof AwsClients]: (options: ClientOptions) => AwsClients[K] } = {
  agentCoreControl: createAgentCoreControlClient,
  sfn: createSfnClient,
  cloudWatch: createCloudWatchClient,
  ecr: createEcrClient,
  eventBridge: createEventBridgeClient,
};

/**
 * A client set whose clients are created on first access (a function that only talks to Step
 * Functions never builds the others). `overrides` supply ready-made clients, e.g. in tests.
 */
export function lazyClients(options: ClientOptions = {}, overrides: Partial<AwsClients> = {}): AwsClients {
  const created: Partial<Record<keyof AwsClients, unknown>> = { ...overrides };
  const set = {} as AwsClients;
  for (const key of Object.keys(FACTORIES) as (keyof AwsClients)[]) {
    Object.defineProperty(set, key, {
      enumerable: true,
      get: () => (created[key] ??= FACTORIES[key](options)),
    });
  }
  return set;
}

let defaults: AwsClients | undefined;

/**
 * The process-wide client set, reused across warm invocations (SDK clients keep their connections
 * alive). Used by handlers' `defaultDeps()`; tests pass their own clients instead.
 */
export function defaultClients(): AwsClients {
  defaults ??= lazyClients();
  return defaults;
}
