/**
 * Powertools Logger factory with redaction built into serialisation, so no call site can forget it:
 * every log item (message attributes, persistent keys, extra arguments, child loggers) passes
 * through `redactingReplacer` on its way to JSON.
 *
 * - Under a key named like `environmentVariables`, every value is replaced by `<redacted>` at any
 *   depth; the variable names stay visible (they are useful and not secret).
 * - Under a key listed as sensitive (`description`, `authorization`, ...), the whole value is
 *   replaced by `<redacted>`.
 * Key matching ignores case.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export const REDACTED = '<redacted>';

/** Keys whose children are kept but whose values are all masked. */
export const ENVIRONMENT_KEYS: readonly string[] = ['environmentVariables'];

/** Keys whose whole value is masked. Runtime descriptions can carry secrets too (DEVELOPING.md). */
export const DEFAULT_SENSITIVE_KEYS: readonly string[] = [
  'description',
  'authorization',
  'password',
  'secret',
  'clientSecret',
  'apiKey',
  'secretAccessKey',
  'sessionToken',
  'taskToken',
];

export interface RedactionOptions {
  /** Replaces DEFAULT_SENSITIVE_KEYS. */
  sensitiveKeys?: readonly string[];
  /** Replaces ENVIRONMENT_KEYS. */
  environmentKeys?: readonly string[];
}

function lowerSet(keys: readonly string[]): Set<string> {
  return new Set(keys.map((k) => k.toLowerCase()));
}

/** `value` with every leaf replaced by REDACTED, keeping object keys and array lengths. */
function maskLeaves(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskLeaves);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.keys(value).map((k) => [k, maskLeaves((value as Record<string, unknown>)[k])]));
  }
  return REDACTED;
}

/** A JSON.stringify replacer that applies the redaction rules above. */
export function redactingReplacer(options: RedactionOptions = {}): (key: string, value: unknown) => unknown {
  const sensitive = lowerSet(options.sensitiveKeys ?? DEFAULT_SENSITIVE_KEYS);
  const environment = lowerSet(options.environmentKeys ?? ENVIRONMENT_KEYS);
  return (key, value) => {
    if (key === '' || value === undefined || value === null) return value;
    const k = key.toLowerCase();
    if (environment.has(k)) return maskLeaves(value);
    if (sensitive.has(k)) return REDACTED;
    return value;
  };
}

/** A deep copy of `value` with the redaction rules applied (input untouched). For non-log outputs. */
export function redactForLog(value: unknown, options: RedactionOptions = {}): unknown {
  if (value === undefined) return undefined;
  const replacer = redactingReplacer(options);
  return JSON.parse(JSON.stringify(value, (key, v) => replacer(key, typeof v === 'bigint' ? v.toString() : v)));
}

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The level Powertools takes from an environment: POWERTOOLS_LOG_LEVEL, then LOG_LEVEL, else INFO. */
export function environmentLogLevel(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const value = (env.POWERTOOLS_LOG_LEVEL?.trim() || env.LOG_LEVEL?.trim() || '') as LogLevel;
  return LOG_LEVELS.includes(value) ? value : 'INFO';
}

export interface LoggerOptions extends RedactionOptions {
  /** Defaults to POWERTOOLS_SERVICE_NAME, then `agentcore-autopilot`. */
  serviceName?: string;
  /**
   * Fixed level. Without it the level is the environment's (environmentLogLevel), read when the
   * logger is created and again per invocation (followEnvironmentLogLevel).
   */
  logLevel?: LogLevel;
  /** Keys added to every log line. */
  persistentKeys?: Record<string, unknown>;
}

/** Loggers created without a fixed level -> the environment's level when they were created. */
const levelAtCreation = new WeakMap<Logger, LogLevel>();

/** Creates a Powertools Logger whose output never contains environment variable or sensitive values. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const logger = new Logger({
    serviceName: options.serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? 'agentcore-autopilot',
    ...(options.logLevel !== undefined && { logLevel: options.logLevel }),
    ...(options.persistentKeys !== undefined && { persistentKeys: options.persistentKeys }),
    jsonReplacerFn: redactingReplacer(options),
  });
  if (options.logLevel === undefined) levelAtCreation.set(logger, environmentLogLevel());
  return logger;
}

/**
 * Sets a logger made by createLogger without a fixed level to the level of `env` (the current
 * invocation's environment); withMiddleware calls it at the start of every invocation.
 *
 * A handler module creates its logger once, at load time, in whatever environment loads it. In
 * Lambda that is the function's own environment and never changes: the level equals the one at
 * creation and nothing is touched (Powertools' injectLambdaContext restores the creation level and
 * its debug sampling on every warm invocation). The local Lambda runner serves every function and
 * every stack of a process from one module graph and gives each invocation its own environment:
 * there the level must be read per invocation, or the first loader's level would stick.
 */
export function followEnvironmentLogLevel(logger: Logger, env: NodeJS.ProcessEnv = process.env): void {
  const created = levelAtCreation.get(logger);
  if (created === undefined) return;
  const level = environmentLogLevel(env);
  if (level !== created) logger.setLogLevel(level);
}
