/**
 * AWS access of the CLI: region, profile, endpoint and credentials from the global options and the
 * command's environment (io.env, so tests and the local stack's variables are honoured).
 */
import { connect } from 'node:net';
import type { ClientOptions } from '../functions/lib/clients.ts';
import { hasTimeSource, setTimeSource } from '../functions/lib/time.ts';
import { CliError } from './errors.ts';
import { EXIT } from './exit-codes.ts';
import type { ActionContext, CliIO } from './types.ts';

/** Client settings: --region, else AWS_REGION / AWS_DEFAULT_REGION; --profile, else AWS_PROFILE; AWS_ENDPOINT_URL. */
export function clientOptions(ctx: Pick<ActionContext, 'io' | 'opts'>): ClientOptions {
  const e = ctx.io.env;
  const profile = (ctx.opts.profile as string | undefined) || e.AWS_PROFILE || undefined;
  const staticKeys = !ctx.opts.profile && e.AWS_ACCESS_KEY_ID && e.AWS_SECRET_ACCESS_KEY
    ? { accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY, ...(e.AWS_SESSION_TOKEN ? { sessionToken: e.AWS_SESSION_TOKEN } : {}) }
    : undefined;
  return {
    region: (ctx.opts.region as string | undefined) || e.AWS_REGION || e.AWS_DEFAULT_REGION || undefined,
    endpoint: e.AWS_ENDPOINT_URL || undefined,
    ...(staticKeys ? { credentials: staticKeys } : profile ? { profile } : {}),
  };
}

/** How long the reachability check of an explicit endpoint waits before saying so. */
export const REACH_TIMEOUT_MS = 2000;

/**
 * With AWS_ENDPOINT_URL set (the local stack, or a proxy), checks once that something listens
 * there before any AWS call, so an operator waiting on a stopped stack hears "connection refused"
 * and the URL at once, not after the SDK's and the use case's retries.
 */
export async function ensureReachable(io: CliIO, timeoutMs = REACH_TIMEOUT_MS): Promise<void> {
  const endpoint = io.env.AWS_ENDPOINT_URL;
  if (!endpoint) return;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new CliError('InvalidEndpoint', `AWS_ENDPOINT_URL is not a URL: ${JSON.stringify(endpoint)}`, EXIT.ERROR);
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const code = await new Promise<string | undefined>((resolve) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port });
    const done = (result: string | undefined) => { socket.destroy(); resolve(result); };
    socket.setTimeout(timeoutMs, () => done('ETIMEDOUT'));
    socket.once('connect', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? 'ECONNREFUSED'));
  });
  if (code === undefined) return;
  const what = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ETIMEDOUT' ? `no answer within ${timeoutMs / 1000}s` : 'network error';
  throw new CliError('Unreachable', `cannot reach ${endpoint} (AWS_ENDPOINT_URL): ${what} (${code}); is the local stack running? \`npm start -- --keep-running\` prints the variables`, EXIT.ERROR);
}

/**
 * Pointed at the local stack from another process, the CLI reads time from the stack's clock
 * (`AWSEvents.LocalGetClock`, a local-only operation): bake countdowns, approval deadlines and
 * backoff are then on the stack's time, which runs at --speed times wall time. Against AWS, or
 * when the process already has a time source (an in-process stack), nothing changes. Call again to
 * re-read (a --watch loop does, so a fast clock does not drift away).
 */
export async function followStackClock(io: CliIO): Promise<void> {
  const endpoint = io.env.AWS_ENDPOINT_URL;
  if (!endpoint || (hasTimeSource() && !following)) return;
  try {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.LocalGetClock' },
      body: '{}',
      signal: AbortSignal.timeout(REACH_TIMEOUT_MS),
    });
    if (!res.ok) return; // not our local stack (or another emulator): the system clock it is
    const { Now } = (await res.json()) as { Now?: number };
    if (typeof Now !== 'number') return;
    const offset = Now - Date.now();
    following = true;
    setTimeSource(() => Date.now() + offset);
  } catch {
    // Unreachable endpoints are reported by ensureReachable; the clock falls back to the system's.
  }
}
let following = false;
