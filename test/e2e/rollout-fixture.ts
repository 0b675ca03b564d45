/**
 * Shared set-up of the policy-rollout end-to-end tests: the local stack on the example seed (the
 * real serverless.yml, ASL and handlers), SDK clients pointed at it, the handlers' time source on
 * the stack's virtual clock, and gateway traffic that the emulator decides with the seed's Cedar
 * policies (the policy metrics are what that traffic produces, under the projections AWS publishes).
 */
import { readFileSync } from 'node:fs';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { BedrockAgentCoreControlClient, GetGatewayCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { parse } from 'yaml';
import { startStack, REPO_ROOT, type Stack, type StackSeed } from '../../local/stack.ts';
import { setTimeSource } from '../../functions/lib/time.ts';
import { VirtualClock, type Clock } from '../../local/clock.ts';
import type { RolloutResult } from '../../functions/domain/rollout/contract.ts';

export const GATEWAY_ID = 'gw-support-k1l2m3n4o5';
export const GATEWAY_ARN = `arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/${GATEWAY_ID}`;
export const ENGINE_ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/supportPolicies-u1v2w3x4y5';
export const OTHER_ENGINE_ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/billingPolicies-z6a7b8c9d0';

export interface RolloutStack {
  stack: Stack;
  sfn: SFNClient;
  agentCore: BedrockAgentCoreControlClient;
  stateMachineArn: string;
  close(): Promise<void>;
}

export function exampleSeed(mutate?: (seed: StackSeed) => void): StackSeed {
  const seed = parse(readFileSync(`${REPO_ROOT}/local/seed/example.yaml`, 'utf8')) as StackSeed;
  mutate?.(seed);
  return seed;
}

export async function rolloutStack(options: { seed?: StackSeed; configFile?: string; clock?: Clock; env?: Record<string, string> } = {}): Promise<RolloutStack> {
  const stack = await startStack({
    seed: options.seed ?? exampleSeed(),
    configFile: options.configFile,
    clock: options.clock,
    env: options.env,
  });
  const previous = setTimeSource(() => stack.clock.now());
  const clientConfig = {
    endpoint: stack.url,
    region: stack.env.AWS_REGION,
    credentials: { accessKeyId: stack.env.AWS_ACCESS_KEY_ID, secretAccessKey: stack.env.AWS_SECRET_ACCESS_KEY },
  };
  const sfn = new SFNClient(clientConfig);
  const agentCore = new BedrockAgentCoreControlClient(clientConfig);
  return {
    stack,
    sfn,
    agentCore,
    stateMachineArn: stack.stateMachineArn('policyRollout'),
    async close() {
      sfn.destroy();
      agentCore.destroy();
      setTimeSource(previous);
      await stack.close();
    },
  };
}

/** Tool calls of each kind on gw-support, decided by the example seed's Cedar policies. */
export interface TrafficMix {
  /** Agents reading tickets: permitted (support_agents). */
  allowed: number;
  /** Agents deleting tickets: forbidden (no_ticket_deletes determines the deny). */
  denied?: number;
  /** Guests reading tickets: denied with no determining policy (Cedar's default deny). */
  noDetermining?: number;
  /** Agents updating a ticket without `priority`: urgent_by_leads cannot evaluate (a mismatch); permitted. */
  mismatched?: number;
}

/**
 * Tool calls per minute on the support gateway from `from` to `to` (time specs relative to now),
 * which the emulator decides with Cedar and publishes as AWS's policy metrics.
 */
export function scriptTraffic(stack: Stack, perMinute: TrafficMix, from = '-2h', to = '+3d', gatewayId = GATEWAY_ID): void {
  const agent = { oauthUser: 'agent-7', claims: { role: 'agent' } };
  const scripts = [
    { rate: perMinute.allowed, tool: 'tickets___getTicket', input: { ticketId: 'T-1' }, principal: agent },
    { rate: perMinute.denied, tool: 'tickets___deleteTicket', input: { ticketId: 'T-2' }, principal: agent },
    { rate: perMinute.noDetermining, tool: 'tickets___getTicket', input: { ticketId: 'T-3' }, principal: { oauthUser: 'guest-3' } },
    { rate: perMinute.mismatched, tool: 'tickets___updateTicket', input: { ticketId: 'T-4' }, principal: agent },
  ];
  const now = stack.clock.now();
  for (const { rate, ...call } of scripts) {
    if (rate) stack.agentcore.traffic.add({ gateway: gatewayId, perMinute: rate, from, to, ...call }, now);
  }
}

export async function liveGateway(r: RolloutStack, gatewayId = GATEWAY_ID): Promise<Record<string, unknown>> {
  const { $metadata: _m, ...rest } = await r.agentCore.send(new GetGatewayCommand({ gatewayIdentifier: gatewayId }));
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
}

/** Waits (settle) and returns the execution's status and parsed output through the SFN API. */
export async function finished(r: RolloutStack, executionArn: string): Promise<{ status: string; output?: RolloutResult; error?: string; cause?: string }> {
  await r.stack.sfn.waitForExecution(executionArn);
  const d = await r.sfn.send(new DescribeExecutionCommand({ executionArn }));
  return {
    status: String(d.status),
    ...(d.output !== undefined && { output: JSON.parse(d.output) as RolloutResult }),
    ...(d.error !== undefined && { error: d.error }),
    ...(d.cause !== undefined && { cause: d.cause }),
  };
}

/** Rollout events that went onto the bus, in order. */
export function rolloutEvents(stack: Stack): { detailType: string; detail: Record<string, any> }[] {
  return stack.events.events
    .filter((e) => e.event.source === 'agentcore-autopilot' && e.event['detail-type'].startsWith('Policy Rollout') && e.event['detail-type'] !== 'Policy Rollout Requested')
    .map((e) => ({ detailType: e.event['detail-type'], detail: e.event.detail as Record<string, any> }));
}

/** UpdateGateway calls the emulator received, with the policy engine mode each one asked for. */
export function gatewayUpdates(stack: Stack): { mode: string | undefined; input: Record<string, any> }[] {
  return stack.emulator.requests
    .filter((q) => q.operation === 'UpdateGateway')
    .map((q) => ({ mode: (q.input as any)?.policyEngineConfiguration?.mode, input: q.input as Record<string, any> }));
}

/**
 * An auto-advancing virtual clock that stops advancing (manual mode) as soon as something sleeps
 * exactly `gateMs` (the approval task's timeout), so a test can answer the approval before the
 * deadline; `resume()` lets time run again.
 */
export class GatedClock implements Clock {
  readonly inner = new VirtualClock({ mode: 'auto' });
  readonly gateMs: number;
  constructor(gateMs: number) {
    this.gateMs = gateMs;
  }
  now(): number {
    return this.inner.now();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms === this.gateMs) this.inner.setMode('manual');
    return this.inner.sleep(ms, signal);
  }
  resume(): void {
    this.inner.setMode('auto');
  }
}
