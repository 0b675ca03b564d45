/**
 * Lambda function URLs with AuthType AWS_IAM, from the caller's side (the CLI's approvals): find a
 * function's URL (GetFunctionUrlConfig) and send it a SigV4-signed JSON request (service `lambda`,
 * Lambda Developer Guide, "Invoking Lambda function URLs"). Not part of the handlers' adapters: only
 * the CLI uses it, and the handlers' bundles stay free of the Lambda client.
 */
import { GetFunctionUrlConfigCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { callAws } from './aws-errors.ts';

export interface FunctionUrlCallOptions {
  region: string;
  /** Static credentials or a provider (default: the SDK's default provider chain). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Overrides the Lambda API endpoint (default: AWS_ENDPOINT_URL / the SDK's resolution). */
  endpoint?: string;
}

export interface FunctionUrlResult {
  status: number;
  body: unknown;
}

/** The URL of a function (name or ARN); ResourceNotFoundError when it has none. */
export async function functionUrlOf(functionName: string, options: FunctionUrlCallOptions): Promise<string> {
  const client = new LambdaClient({ region: options.region, ...(options.credentials && { credentials: options.credentials }), ...(options.endpoint && { endpoint: options.endpoint }) });
  try {
    const out = await callAws({ service: 'lambda', operation: 'GetFunctionUrlConfig', resource: functionName }, () =>
      client.send(new GetFunctionUrlConfigCommand({ FunctionName: functionName })),
    );
    return out.FunctionUrl!;
  } finally {
    client.destroy();
  }
}

/** POSTs `body` as JSON to a function URL, signed for the `lambda` service; returns status and parsed body. */
export async function postToFunctionUrl(url: string, body: unknown, options: FunctionUrlCallOptions): Promise<FunctionUrlResult> {
  const target = new URL(url);
  const payload = JSON.stringify(body);
  const signer = new SignatureV4({
    service: 'lambda',
    region: options.region,
    credentials: options.credentials ?? defaultProvider(),
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: target.protocol,
    hostname: target.hostname,
    port: target.port ? Number(target.port) : undefined,
    path: target.pathname,
    query: Object.fromEntries(target.searchParams),
    headers: { host: target.host, 'content-type': 'application/json' },
    body: payload,
  });
  // fetch sets Host itself (to the same value that was signed).
  const { host: _host, ...headers } = signed.headers;
  const res = await fetch(target, { method: 'POST', headers, body: payload });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed };
}
