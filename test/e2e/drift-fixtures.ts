/**
 * Shared pieces of the drift end-to-end tests: autopilot configs written to a temp dir, SDK
 * clients on the stack, and helpers that mutate live resources behind autopilot's back.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import {
  BedrockAgentCoreControlClient, GetAgentRuntimeCommand, GetGatewayCommand, ListTagsForResourceCommand, UpdateAgentRuntimeCommand, UpdateGatewayCommand,
} from '@aws-sdk/client-bedrock-agentcore-control';
import type { Stack } from '../../local/stack.ts';
import type { VirtualClock } from '../../local/clock.ts';
import type { CliIO } from '../../cli/types.ts';

export const SEED = path.resolve(import.meta.dirname, '../../local/seed/example.yaml');
export const SUPPORT = 'supportAgent-a1b2c3d4e5';
export const BILLING = 'billingAgent-f6g7h8i9j0';
export const GW_SUPPORT = 'gw-support-k1l2m3n4o5';
export const GW_BILLING = 'gw-billing-p6q7r8s9t0';
export const ACCOUNT = '123456789012';
export const SUPPORT_PE = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/supportPolicies-u1v2w3x4y5';
export const BILLING_PE = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/billingPolicies-z6a7b8c9d0';
/** A runtime environment variable value that must never show up anywhere. */
export const SECRET = 'sk-live-SENTINEL-7f3a9c';
export const SECRET_DRIFTED = 'sk-live-DRIFTED-1b2c3d';

export const REPO = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`;

/** Every declarable runtime field, for supportAgent. */
export const supportDesired = () => ({
  agentRuntimeArtifact: { containerConfiguration: { containerUri: `${REPO}/support-agent@sha256:${'1'.repeat(64)}` } },
  roleArn: 'arn:aws:iam::123456789012:role/AgentRuntimeRole',
  description: 'Customer support agent',
  networkConfiguration: { networkMode: 'VPC', networkModeConfig: { securityGroups: ['sg-11111111'], subnets: ['subnet-11111111', 'subnet-22222222'] } },
  protocolConfiguration: { serverProtocol: 'HTTP' },
  lifecycleConfiguration: { idleRuntimeSessionTimeout: 900, maxLifetime: 28800 },
  environmentVariables: { LOG_LEVEL: 'info', MODEL_ID: 'anthropic.claude-sonnet-4', API_KEY: SECRET },
  authorizerConfiguration: {
    customJWTAuthorizer: {
      discoveryUrl: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Support1/.well-known/openid-configuration',
      allowedClients: ['support-web-client'],
    },
  },
  requestHeaderConfiguration: { requestHeaderAllowlist: ['X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant', 'X-Request-Id'] },
  metadataConfiguration: { requireMMDSV2: true },
  filesystemConfigurations: [{ sessionStorage: { mountPath: '/mnt/session' } }],
  capacityProviderConfiguration: { capacityProviderArn: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:capacity-provider/supportPool-a1b2c3d4e5' },
  platformVersion: '1.0',
});

/** Every declarable gateway field (but the policy engine), for gw-support. */
export const gatewayDesired = () => ({
  description: 'Support tools',
  roleArn: 'arn:aws:iam::123456789012:role/GatewayRole',
  protocolType: 'MCP',
  protocolConfiguration: { mcp: { supportedVersions: ['2025-06-18'], searchType: 'SEMANTIC' } },
  authorizerType: 'CUSTOM_JWT',
  authorizerConfiguration: {
    customJWTAuthorizer: {
      discoveryUrl: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example/.well-known/openid-configuration',
      allowedClients: ['support-web'],
    },
  },
  kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555',
  customTransformConfiguration: { lambda: { arn: 'arn:aws:lambda:us-east-1:123456789012:function:transform' } },
  interceptorConfigurations: [{ interceptor: { lambda: { arn: 'arn:aws:lambda:us-east-1:123456789012:function:intercept' } }, interceptionPoints: ['REQUEST'] }],
  exceptionLevel: 'DEBUG',
  wafConfiguration: { failureMode: 'FAIL_CLOSE' },
});

export interface ConfigOptions {
  mode?: 'report' | 'correct';
  ignore?: string[];
  exclude?: string[];
  maxCorrectionsPerRun?: number;
  maxErrorRatio?: number;
  concurrency?: number;
  runtimes?: Record<string, unknown>[];
  gateways?: Record<string, unknown>[];
  changeWindow?: Record<string, unknown>;
}

/** The full drift config: every field of supportAgent and gw-support, billing gateway at LOG_ONLY. */
export function fullConfig(o: ConfigOptions = {}): Record<string, unknown> {
  return {
    version: 1,
    events: { busName: 'default', source: 'agentcore-autopilot' },
    runtimes: o.runtimes ?? [
      { id: SUPPORT, ignore: ['/environmentVariables/LOG_LEVEL'], desired: supportDesired() },
    ],
    gateways: o.gateways ?? [
      { id: GW_SUPPORT, desired: gatewayDesired() },
      {
        name: 'gw-billing',
        desired: { description: 'Billing tools', roleArn: 'arn:aws:iam::123456789012:role/GatewayRole', authorizerType: 'AWS_IAM', protocolType: 'MCP', exceptionLevel: 'DEBUG' },
        policyEngine: { arn: BILLING_PE, mode: 'LOG_ONLY' },
      },
    ],
    drift: {
      mode: o.mode ?? 'correct', schedule: 'rate(15 minutes)', ignore: o.ignore ?? [], exclude: o.exclude ?? [],
      maxCorrectionsPerRun: o.maxCorrectionsPerRun ?? 10, maxErrorRatio: o.maxErrorRatio ?? 0.5, concurrency: o.concurrency ?? 4,
      ...(o.changeWindow ? { changeWindow: o.changeWindow } : {}),
    },
  };
}

/** Writes a config to a fresh temp file and returns its path. */
export function writeConfig(config: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'drift-config-'));
  const file = path.join(dir, 'autopilot.config.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

export function agentCoreClient(stack: Stack): BedrockAgentCoreControlClient {
  return new BedrockAgentCoreControlClient({
    endpoint: stack.url, region: stack.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: stack.env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: stack.env.AWS_SECRET_ACCESS_KEY ?? 'test' },
  });
}

/** Lets every pending UPDATING settle (the emulator's lifecycle runs on the virtual clock). */
export async function settleResources(stack: Stack): Promise<void> {
  await (stack.clock as VirtualClock).advance(120_000);
}

/** Moves the virtual clock (and so the handlers' time) past the correction backoff. */
export async function passTime(stack: Stack, ms = 3 * 3600 * 1000): Promise<void> {
  await (stack.clock as VirtualClock).advance(ms);
}

const strip = (o: Record<string, unknown>) => {
  const out = { ...o };
  for (const k of ['$metadata', 'agentRuntimeArn', 'agentRuntimeName', 'agentRuntimeVersion', 'createdAt', 'lastUpdatedAt', 'status', 'failureReason', 'workloadIdentityDetails',
    'gatewayArn', 'gatewayId', 'gatewayUrl', 'updatedAt', 'statusReasons', 'webAclArn']) delete out[k];
  return out;
};

/** Changes a runtime behind autopilot's back: a full UpdateAgentRuntime with `patch` over the live config. */
export async function driftRuntime(stack: Stack, id: string, patch: (live: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
  const client = agentCoreClient(stack);
  const live = await client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id })) as unknown as Record<string, unknown>;
  const next = patch(strip(live));
  await client.send(new UpdateAgentRuntimeCommand({ ...(next as object), agentRuntimeId: id } as never));
  await settleResources(stack);
}

/** Changes a gateway behind autopilot's back. */
export async function driftGateway(stack: Stack, id: string, patch: (live: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
  const client = agentCoreClient(stack);
  const live = await client.send(new GetGatewayCommand({ gatewayIdentifier: id })) as unknown as Record<string, unknown>;
  const next = patch(strip(live));
  await client.send(new UpdateGatewayCommand({ ...(next as object), gatewayIdentifier: id } as never));
  await settleResources(stack);
}

export async function getRuntime(stack: Stack, id: string): Promise<Record<string, unknown>> {
  return await agentCoreClient(stack).send(new GetAgentRuntimeCommand({ agentRuntimeId: id })) as unknown as Record<string, unknown>;
}

export async function getGateway(stack: Stack, id: string): Promise<Record<string, unknown>> {
  return await agentCoreClient(stack).send(new GetGatewayCommand({ gatewayIdentifier: id })) as unknown as Record<string, unknown>;
}

export async function tagsOf(stack: Stack, arn: string): Promise<Record<string, string>> {
  return (await agentCoreClient(stack).send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags ?? {};
}

/** A CLI io over a stack's environment that records what the command prints. */
export function cliIO(s: Stack) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { stdout: (l) => out.push(l), stderr: (l) => err.push(l), env: { ...s.env, PATH: process.env.PATH }, isTTY: false };
  return { io, text: () => out.join('\n'), errors: () => err.join('\n') };
}
