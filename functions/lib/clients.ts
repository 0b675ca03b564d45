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

/** Settings common to every client. Unset fields fall back to the SDK's own env/config resolution. */
export interface ClientOptions {
  region?: string;
  /** Total attempts per call including the first (SDK default 3, or `AWS_MAX_ATTEMPTS`). */
  maxAttempts?: number;
  /** Overrides the endpoint (and the AWS_ENDPOINT_URL* variables). */
  endpoint?: string;
  /** Static credentials or a provider; the default provider chain otherwise. */
  credentials?: SFNClientConfig['credentials'];
  /** Named profile of the shared AWS config/credentials files (as AWS_PROFILE). */
  profile?: string;
}

function config(options: ClientOptions): ClientOptions {
  // Only pass what is set: an explicit `undefined` would mask the SDK's env-based defaults.
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as ClientOptions;
}

/** A Bedrock AgentCore Control client that keeps the raw body of GetAgentRuntime and GetGateway (see rawBodyOf). */
export function createAgentCoreControlClient(options: ClientOptions = {}): BedrockAgentCoreControlClient {
  const client = new BedrockAgentCoreControlClient(config(options));
  captureRawBodies(client, RAW_BODY_COMMANDS);
  return client;
}

/**
 * Commands whose raw response body is kept: the reads every read-merge-write starts from. The
 * SDK's parser drops members its model does not know; the raw body still has them
 * (functions/lib/model/unknown-members.ts).
 */
export const RAW_BODY_COMMANDS: readonly string[] = ['GetAgentRuntimeCommand', 'GetGatewayCommand'];

const RAW_BODY = Symbol.for('agentcore-autopilot.rawBody');

/** The parsed JSON body a command's output was deserialized from, when the client kept it (else undefined). */
export function rawBodyOf(output: object): unknown {
  return (output as { [RAW_BODY]?: unknown })[RAW_BODY];
}

interface RawBodyContext { commandName?: string; [RAW_BODY]?: Uint8Array }

/**
 * Adds two middlewares to `client`: one under the deserializer (priority low in the deserialize
 * step: it sees the HTTP response first) buffers a successful response body of the named commands
 * and hands the same bytes on; one above it attaches the parsed body to the command output as a
 * non-enumerable property. Other commands are untouched (no buffering).
 */
export function captureRawBodies(client: { middlewareStack: BedrockAgentCoreControlClient['middlewareStack']; config: { streamCollector: (body: unknown) => Promise<Uint8Array> } }, commands: readonly string[]): void {
  const wanted = new Set(commands);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const ctx = context as RawBodyContext;
      const response = result.response as { statusCode?: unknown; body?: unknown } | undefined;
      if (ctx.commandName && wanted.has(ctx.commandName) && typeof response?.statusCode === 'number' && response.statusCode < 300 && response.body) {
        const bytes = response.body instanceof Uint8Array ? response.body : await client.config.streamCollector(response.body);
        response.body = bytes;
        ctx[RAW_BODY] = bytes;
      }
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'autopilotBufferRawBody' },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const bytes = (context as RawBodyContext)[RAW_BODY];
      if (bytes !== undefined && typeof result.output === 'object' && result.output !== null) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(new TextDecoder().decode(bytes));
        } catch {
          parsed = undefined;
        }
        Object.defineProperty(result.output, RAW_BODY, { value: parsed, enumerable: false, configurable: true });
      }
      return result;
    },
    { step: 'deserialize', priority: 'high', name: 'autopilotAttachRawBody' },
  );
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
