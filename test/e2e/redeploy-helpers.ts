/**
 * Shared set-up of the redeploy end-to-end tests: the local stack seeded from
 * local/seed/example.yaml plus ECR repositories, SDK clients pointed at it, and log capture.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { vi } from 'vitest';
import { parse } from 'yaml';
import { BedrockAgentCoreControlClient, GetAgentRuntimeCommand, GetAgentRuntimeEndpointCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { REPO_ROOT, startStack, type Stack, type StackOptions, type StackSeed } from '../../local/stack.ts';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const SUPPORT = 'supportAgent-a1b2c3d4e5';
export const BILLING = 'billingAgent-f6g7h8i9j0';
export const REGISTRY = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
/** A distinctive environment variable value: must never show up in logs or events. */
export const SECRET = 'tok-S3CR3T-value-4242';

export const digest = (c: string): string => `sha256:${c.repeat(64).slice(0, 64)}`;
export const LIVE_SUPPORT_DIGEST = digest('1');
export const LIVE_BILLING_DIGEST = digest('2');

/** local/seed/example.yaml, with a secret env var on supportAgent and the ECR images the runtimes run. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function exampleSeed(mutate?: (seed: any) => void): StackSeed {
  const seed = parse(readFileSync(path.join(REPO_ROOT, 'local/seed/example.yaml'), 'utf8'));
  seed.runtimes[0].config.environmentVariables.API_TOKEN = SECRET;
  seed.ecr = {
    repositories: [
      { name: 'support-agent', images: [{ tags: ['1.2.0'], digest: LIVE_SUPPORT_DIGEST, pushedAt: '-1d' }] },
      { name: 'billing/agent', images: [{ tags: ['release-2026-01-01'], digest: LIVE_BILLING_DIGEST, pushedAt: '-1d' }] },
    ],
  };
  mutate?.(seed);
  return seed;
}

/** The example stack; its handlers log at DEBUG, since the redeploy tests read their logs (captureLogs). */
export async function exampleStack(opts: StackOptions = {}): Promise<Stack & { agentcore_: BedrockAgentCoreControlClient }> {
  const stack = await startStack({ seed: exampleSeed(), logLevel: 'DEBUG', ...opts });
  const client = new BedrockAgentCoreControlClient({
    endpoint: stack.url, region: REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const close = stack.close.bind(stack);
  return Object.assign(stack, { agentcore_: client, close: async () => { client.destroy(); await close(); } });
}

/** GetAgentRuntime (latest or a version) without $metadata. */
export async function getRuntime(client: BedrockAgentCoreControlClient, id: string, version?: string): Promise<Record<string, any>> {
  const { $metadata: _m, ...rt } = await client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id, ...(version && { agentRuntimeVersion: version }) }));
  return rt;
}

export async function getEndpoint(client: BedrockAgentCoreControlClient, id: string, name: string): Promise<Record<string, any>> {
  const { $metadata: _m, ...ep } = await client.send(new GetAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: name }));
  return ep;
}

/** The fields that describe a runtime's configuration (not its version bookkeeping). */
export function configOf(rt: Record<string, any>): Record<string, any> {
  const { agentRuntimeVersion: _v, status: _s, lastUpdatedAt: _l, failureReason: _f, agentRuntimeArtifact: _a, ...rest } = rt;
  return rest;
}

/** Autopilot's own outcome events that went through the bus, in order. */
export function outcomeEvents(stack: Stack, detailType?: string): { detailType: string; detail: Record<string, any> }[] {
  return stack.events.events
    .filter((e) => e.event.source === 'agentcore-autopilot' && e.event['detail-type'].startsWith('Runtime Redeploy'))
    .filter((e) => detailType === undefined || e.event['detail-type'] === detailType)
    .map((e) => ({ detailType: e.event['detail-type'], detail: e.event.detail as Record<string, any> }));
}

/** Captures everything written to stdout/stderr (the handlers' structured logs). */
export function captureLogs() {
  const chunks: string[] = [];
  const record = (chunk: unknown) => { chunks.push(String(chunk)); return true; };
  const spies = [vi.spyOn(process.stdout, 'write').mockImplementation(record), vi.spyOn(process.stderr, 'write').mockImplementation(record)];
  return {
    text: () => chunks.join(''),
    items: () => chunks.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}
