/**
 * AWS access of the CLI: region, profile, endpoint and credentials from the global options and the
 * command's environment (io.env, so tests and the local stack's variables are honoured).
 */
import type { ClientOptions } from '../functions/lib/clients.ts';
import type { ActionContext } from './types.ts';

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
