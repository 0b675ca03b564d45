/**
 * AWS SDK client factories and the lazily created per-container client set.
 *
 * Endpoints are not configured here on purpose: the SDK itself honours `AWS_ENDPOINT_URL` and the
 * per-service `AWS_ENDPOINT_URL_<SERVICE>` (e.g. `AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL`,
 * `AWS_ENDPOINT_URL_SFN`), which is how local runs reach the emulator. An explicit `endpoint`
 * option wins over both.
 */
import { BedrockAgentCoreControlClient } from '@aws-sdk/client-bedrock-agentcore-control';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECRClient } from '@aws-sdk/client-ecr';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { SFNClientConfig } from '@aws-sdk/client-sfn';
import { addPacing, agentCorePacer, type Pacer } from './pacing.ts';

/** Settings common to every client. Unset fields fall back to the SDK's own env/config resolution. */
export interface ClientOptions {
  region?: string;
  /** Total attempts per call including the first (SDK default 3, or `AWS_MAX_ATTEMPTS`). */
  maxAttempts?: number;
  /** Overrides the endpoint (and the AWS_ENDPOINT_URL* variables). */
  endpoint?: string;
  /** Static credentials or a provider; the default provider chain otherwise. */
  credentials?: SFNClientConfig['credentials'];
  /**
   * AgentCore Control only: the per-operation pacer its calls wait on (default: the process-wide
   * one, functions/lib/pacing.ts); `false` sends unpaced.
   */
  pacer?: Pacer | false;
}

function config(options: ClientOptions): Omit<ClientOptions, 'pacer'> {
  // Only pass what is set: an explicit `undefined` would mask the SDK's env-based defaults.
  return Object.fromEntries(Object.entries(options).filter(([k, v]) => v !== undefined && k !== 'pacer')) as Omit<ClientOptions, 'pacer'>;
}

/** A Bedrock AgentCore Control client whose calls are paced per operation (see `pacer`). */
export function createAgentCoreControlClient(options: ClientOptions = {}): BedrockAgentCoreControlClient {
  const client = new BedrockAgentCoreControlClient(config(options));
  if (options.pacer !== false) addPacing(client, options.pacer ?? agentCorePacer());
  return client;
}

/** A Step Functions client. */
export function createSfnClient(options: ClientOptions = {}): SFNClient {
  return new SFNClient(config(options));
}

/** A CloudWatch client. */
export function createCloudWatchClient(options: ClientOptions = {}): CloudWatchClient {
  return new CloudWatchClient(config(options));
}

/** An ECR client. */
export function createEcrClient(options: ClientOptions = {}): ECRClient {
  return new ECRClient(config(options));
}

/** An EventBridge client. */
export function createEventBridgeClient(options: ClientOptions = {}): EventBridgeClient {
  return new EventBridgeClient(config(options));
}

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
