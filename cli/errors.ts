/**
 * What the CLI says when something goes wrong: one clear sentence with the cause, never a stack
 * trace, an internal class name or a path inside the installation. Commands throw; the dispatcher
 * (cli/program.ts) turns the error into that sentence and its exit code.
 */
import { fileURLToPath } from 'node:url';
import { AwsServiceError, AutopilotError } from '../functions/lib/errors.ts';
import { ConfigError } from '../functions/lib/config/config-error.ts';
import { EXIT } from './exit-codes.ts';

/** Bad usage: unknown option, missing or invalid value. Exit 2 (plan: 1, since 2 means drift). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An error with its own exit code and the kind a JSON consumer sees (`{error: kind, message}`). */
export class CliError extends Error {
  readonly exitCode: number;
  readonly kind: string;
  constructor(kind: string, message: string, exitCode: number) {
    super(message);
    this.kind = kind;
    this.exitCode = exitCode;
  }
}

/** The thing asked about does not exist (exit 1). */
export const notFound = (message: string) => new CliError('NotFound', message, EXIT.ERROR);
/** Not allowed now: another run in progress, nothing pending, not running (exit 3). */
export const refused = (message: string) => new CliError('Refused', message, EXIT.REFUSED);
/** Input the command cannot use (a file that cannot be read, an unknown name): exit 2, no usage line. */
export const invalidInput = (message: string) => new CliError('InvalidInput', message, EXIT.USAGE);
/** Waited longer than --timeout (exit 5); what was waited for goes on. */
export const timedOut = (message: string) => new CliError('Timeout', message, EXIT.TIMEOUT);

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Removes the installation's own paths from a message (they mean nothing to the operator). */
export function withoutInstallPaths(message: string): string {
  return message.split(REPO_ROOT).join('').split(`file://${REPO_ROOT}`).join('');
}

/** Node's network error codes an unreachable endpoint shows up as. */
const NETWORK = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
} as const;

/** The network code somewhere in an error's cause chain (the SDK wraps Node's error). */
export function networkCode(err: unknown): keyof typeof NETWORK | undefined {
  for (let e = err as { code?: unknown; cause?: unknown; errors?: unknown[] } | undefined, depth = 0; e && depth < 6; depth++) {
    if (typeof e.code === 'string' && e.code in NETWORK) return e.code as keyof typeof NETWORK;
    const inner = Array.isArray(e.errors) ? e.errors.find((x) => networkCode(x)) : undefined;
    if (inner) return networkCode(inner);
    e = e.cause as typeof e;
  }
  return undefined;
}

export interface DescribedError {
  /** Exit code. */
  code: number;
  /** Machine-readable kind for JSON output (UsageError, NotFound, Refused, Timeout, Unreachable, ...). */
  kind: string;
  /** One sentence, no stack, no internal names or paths. */
  message: string;
}

/** The operator-facing description of anything a command threw. `endpoint` names where the CLI was talking to. */
export function describeCliError(err: unknown, endpoint: string | undefined): DescribedError {
  if (err instanceof UsageError) return { code: EXIT.USAGE, kind: 'UsageError', message: err.message };
  if (err instanceof CliError) return { code: err.exitCode, kind: err.kind, message: withoutInstallPaths(err.message) };
  if (err instanceof ConfigError) return { code: EXIT.ERROR, kind: 'ConfigError', message: `invalid configuration\n${err.message}` };
  const net = networkCode(err);
  if (net) {
    const where = endpoint ?? 'the AWS endpoint';
    const hint = endpoint ? ' (is the local stack running? `npm start -- --keep-running` prints the variables)' : '';
    return { code: EXIT.ERROR, kind: 'Unreachable', message: `cannot reach ${where}: ${NETWORK[net]} (${net})${hint}` };
  }
  if (err instanceof AwsServiceError) {
    return { code: EXIT.ERROR, kind: err.awsErrorName && /^[A-Za-z]+$/.test(err.awsErrorName) ? err.awsErrorName : 'AwsError', message: withoutInstallPaths(err.message) };
  }
  if (err instanceof AutopilotError) {
    return { code: EXIT.ERROR, kind: 'Error', message: withoutInstallPaths(err.message) };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: EXIT.ERROR, kind: 'Error', message: withoutInstallPaths(message || 'unknown error') };
}
