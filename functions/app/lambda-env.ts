/**
 * Lambda-side wiring shared by every handler's default deps: adapters over the process
 * environment's endpoint and region, the config (cached per file), the home account and region
 * from the invoked function ARN, and the time budget from the Lambda context. Tests pass their own.
 */
import type { Context } from 'aws-lambda';
import type { AgentCoreAdapterOptions } from '../adapters/agentcore.ts';
import type { Adapters } from '../adapters/index.ts';
import type { ClientOptions } from '../lib/clients/options.ts';
import type { Config } from '../lib/config/types.ts';
import { configWarnings } from '../lib/config/warnings.ts';
import { configureAgentCorePacing } from '../lib/pacing.ts';
import { createLogger } from '../lib/logger.ts';

/** Time kept back from the Lambda timeout for publishing outcomes and returning. */
export const SAFETY_MARGIN_MS = 10_000;

/** How to build each adapter a function uses (e.g. `{ agentCore: agentCoreAdapter }` from functions/adapters/*). */
export type AdapterBuilders = { [K in keyof Adapters]?: (options: ClientOptions, adapterOptions: AgentCoreAdapterOptions) => Adapters[K] };

// Per endpoint and region, one adapter per builder: the same service can have an eager and a lazy
// builder (functions/adapters/lazy.ts), and functions sharing a process (the local stack) use both.
const adapterCache = new Map<string, Map<unknown, unknown>>();

/**
 * The adapters a function uses, built on first access and reused across warm invocations. Only the
 * builders passed in are imported by the function's module, so its bundle holds only those SDK
 * clients. Keyed by endpoint and region: `AWS_ENDPOINT_URL` is read when a client is built, so a
 * process serving several local stacks one after the other must not keep a client of an old one.
 */
export function adaptersFor<B extends AdapterBuilders & { [key: string]: ((...args: never[]) => unknown) | undefined }>(builders: B, env: NodeJS.ProcessEnv = process.env): { readonly [K in keyof B & keyof Adapters]: Adapters[K] } {
  const endpoint = env.AWS_ENDPOINT_URL || undefined;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
  const key = `${endpoint ?? ''}|${region ?? ''}|${env.AUTOPILOT_CONFIG_FILE ?? ''}|${env.LAMBDA_TASK_ROOT ?? ''}`;
  let built = adapterCache.get(key);
  if (!built) adapterCache.set(key, (built = new Map()));
  const cache = built;
  // Live members the bundled model does not know stop every write unless the config acknowledges them.
  const acknowledgedMembers = async () => (await configFor(env)).unknownMembers.acknowledged;
  const adapters = {} as Record<string, unknown>;
  for (const name of Object.keys(builders) as (keyof Adapters)[]) {
    const build = builders[name];
    if (typeof build !== 'function') throw new TypeError(`adaptersFor: "${String(name)}" is not an adapter builder (pass e.g. { agentCore: agentCoreAdapter }, then the environment)`);
    Object.defineProperty(adapters, name, {
      enumerable: true,
      get: () => {
        if (!cache.has(build)) cache.set(build, build({ endpoint, region }, { acknowledgedMembers }));
        return cache.get(build);
      },
    });
  }
  return adapters as { readonly [K in keyof B & keyof Adapters]: Adapters[K] };
}

/**
 * One `T` per endpoint and region of `env` (AWS_ENDPOINT_URL, AWS_REGION), built with those client
 * options on first use and reused across warm invocations: a reader or adapter a function builds
 * outside adaptersFor (the secret reader, the drift lock's client).
 */
export function perEndpoint<T>(cache: Map<string, T>, env: NodeJS.ProcessEnv, build: (options: ClientOptions) => T): T {
  const endpoint = env.AWS_ENDPOINT_URL || undefined;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
  const key = `${endpoint ?? ''}|${region ?? ''}`;
  let value = cache.get(key);
  if (value === undefined) cache.set(key, (value = build({ endpoint, region })));
  return value;
}

/** The config as loaded at package time, with the name of the file it came from. */
export interface CompiledConfig {
  file: string;
  config: Config;
}

declare global {
  /** `true` in a packaged bundle (esbuild `define`, scripts/esbuild-plugins.ts); absent when run from source. */
  var AUTOPILOT_CONFIG_COMPILED: boolean | undefined;
  /** The packaged config as JSON text (a CompiledConfig; esbuild `define`), read only when AUTOPILOT_CONFIG_COMPILED is true. */
  var AUTOPILOT_COMPILED_CONFIG: string | undefined;
}

const configCache = new Map<string, Promise<Config>>();
const configLogger = createLogger();

/**
 * A packaged function's config was loaded and validated at package time by the same loader: its
 * bundle carries the result and neither the YAML parser nor the config schemas. Run from source
 * (tests, the local stack, `npm start`), the file is read and validated here. The define makes
 * the condition a constant, so esbuild drops the other branch and, with it, the dynamic import.
 */
async function readConfig(env: NodeJS.ProcessEnv, cedar: boolean): Promise<Config> {
  const warn = (warning: string) => configLogger.warn('Configuration warning', { warning });
  // if/else, not an early return: esbuild drops a dead `else`, not the statements after a block.
  if (globalThis.AUTOPILOT_CONFIG_COMPILED) {
    const { file, config } = JSON.parse(globalThis.AUTOPILOT_COMPILED_CONFIG!) as CompiledConfig;
    for (const warning of configWarnings(config)) warn(`${file}: ${warning}`);
    return config;
  } else {
    const { loadConfig } = await import('../lib/config/load.ts');
    return loadConfig(undefined, { env, cedar, warn });
  }
}

/**
 * The config named by AUTOPILOT_CONFIG_FILE (default autopilot.config.yaml), parsed once per file;
 * in a packaged function, the one compiled into its bundle at package time (see readConfig).
 * Declared Cedar statements are checked with Cedar only where AUTOPILOT_CEDAR is `on` (the
 * functions that read policies ship Cedar's wasm; the others never look at the statements).
 * Loading it also sizes the AgentCore pacer from its `quotas`.
 */
export function configFor(env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  const cedar = env.AUTOPILOT_CEDAR === 'on';
  const key = `${env.AUTOPILOT_CONFIG_FILE ?? ''}|${env.LAMBDA_TASK_ROOT ?? ''}|${cedar}`;
  let config = configCache.get(key);
  if (!config) {
    config = readConfig(env, cedar).then((c) => {
      configureAgentCorePacing(c.quotas);
      return c;
    });
    configCache.set(key, config);
    // A broken file is read again on the next invocation.
    config.catch(() => configCache.delete(key));
  }
  return config;
}

/** Account and region of the function itself: what an empty `registry` list in a rule allows. */
export function homeOf(context: Pick<Context, 'invokedFunctionArn'>, env: NodeJS.ProcessEnv = process.env): { account?: string; region?: string } {
  const parts = (context.invokedFunctionArn ?? '').split(':');
  const account = /^[0-9]{12}$/.test(parts[4] ?? '') ? parts[4] : undefined;
  const region = env.AWS_REGION || parts[3] || undefined;
  return { ...(account && { account }), ...(region && { region }) };
}

/** Milliseconds the invocation may still spend on retries. */
export function budgetOf(context: Pick<Context, 'getRemainingTimeInMillis'>, marginMs = SAFETY_MARGIN_MS): () => number {
  return () => Math.max(0, context.getRemainingTimeInMillis() - marginMs);
}

/** A non-empty environment variable, else undefined (serverless renders unset values as ''). */
export function envValue(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[name] || undefined;
}
