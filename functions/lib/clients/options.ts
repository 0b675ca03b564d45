/**
 * Settings common to every AWS SDK client of autopilot. Endpoints are not configured here on
 * purpose: the SDK itself honours `AWS_ENDPOINT_URL` and the per-service `AWS_ENDPOINT_URL_<SERVICE>`
 * (e.g. `AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL`, `AWS_ENDPOINT_URL_SFN`), which is how local
 * runs reach the emulator. An explicit `endpoint` option wins over both.
 *
 * One module per service (functions/lib/clients/*.ts), so that a Lambda bundle holds only the SDK
 * clients its function uses.
 */
import type { SFNClientConfig } from '@aws-sdk/client-sfn';
import type { Pacer } from '../pacing.ts';

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
  /**
   * AgentCore Control only: the per-operation pacer its calls wait on (default: the process-wide
   * one, functions/lib/pacing.ts); `false` sends unpaced.
   */
  pacer?: Pacer | false;
}

/** The SDK client configuration: only what is set (an explicit `undefined` would mask the SDK's env-based defaults). */
export function clientConfig(options: ClientOptions): Omit<ClientOptions, 'pacer'> {
  return Object.fromEntries(Object.entries(options).filter(([k, v]) => v !== undefined && k !== 'pacer')) as Omit<ClientOptions, 'pacer'>;
}
