/**
 * Shared set-up of the policy-promotion tests: the local stack on the example seed with gw-support
 * ENFORCING its engine (LOG_ONLY policies report matches and flips only beside an enforced
 * decision), the example config plus a `policyEngines` declaration, and agent traffic.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { BedrockAgentCoreControlClient, ListPoliciesCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { parse, stringify } from 'yaml';
import { REPO_ROOT, startStack, type Stack } from '../../local/stack.ts';
import { setTimeSource } from '../../functions/lib/time.ts';
import type { Clock } from '../../local/clock.ts';
import type { PromotionResult } from '../../functions/domain/promotion/contract.ts';
import { ENGINE_ARN, exampleSeed } from './rollout-fixture.ts';

export const ENGINE_ID = 'supportPolicies-u1v2w3x4y5';

/** The example config with `policyEngines` (the support engine) as given. */
export function promotionConfig(declaration: Record<string, unknown>, files: Record<string, string> = {}, drift?: Record<string, unknown>): string {
  const doc = parse(readFileSync(path.join(REPO_ROOT, 'autopilot.config.yaml'), 'utf8'));
  doc.policyEngines = [{ arn: ENGINE_ARN, ...declaration }];
  if (drift) doc.drift = { ...doc.drift, ...drift };
  const dir = mkdtempSync(path.join(tmpdir(), 'autopilot-promotion-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  const file = path.join(dir, 'autopilot.config.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

/** The seeded policies of the support engine (example seed) as declarations, all ACTIVE. */
export function seededSupportPolicies(): { name: string; statement: string; mode: 'ACTIVE' }[] {
  const seed = exampleSeed();
  return seed.policies!.filter((p) => p.engine === ENGINE_ID).map((p) => ({ name: p.name, statement: p.statement, mode: 'ACTIVE' as const }));
}

export interface PromotionStack {
  stack: Stack;
  sfn: SFNClient;
  agentCore: BedrockAgentCoreControlClient;
  close(): Promise<void>;
}

export async function promotionStack(configFile: string, mutate?: Parameters<typeof exampleSeed>[0], options: { clock?: Clock } = {}): Promise<PromotionStack> {
  const stack = await startStack({
    configFile,
    clock: options.clock,
    seed: exampleSeed((s) => {
      (s.gateways![0] as any).config.policyEngineConfiguration.mode = 'ENFORCE';
      mutate?.(s);
    }),
  });
  const previous = setTimeSource(() => stack.clock.now());
  const config = { endpoint: stack.url, region: stack.env.AWS_REGION, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
  const sfn = new SFNClient(config);
  const agentCore = new BedrockAgentCoreControlClient(config);
  return {
    stack, sfn, agentCore,
    async close() {
      sfn.destroy();
      agentCore.destroy();
      setTimeSource(previous);
      await stack.close();
    },
  };
}

export async function startPromotion(p: PromotionStack, policyName: string, extra: Record<string, unknown> = {}): Promise<{ status: string; executionArn: string }> {
  return (await p.stack.lambda.invoke('startPromotion', { policyEngineArn: ENGINE_ARN, policyName, ...extra })) as { status: string; executionArn: string };
}

export async function promotionDone(p: PromotionStack, executionArn: string): Promise<{ status: string; output?: PromotionResult; error?: string; cause?: string }> {
  await p.stack.sfn.waitForExecution(executionArn);
  const d = await p.sfn.send(new DescribeExecutionCommand({ executionArn }));
  return {
    status: String(d.status),
    ...(d.output !== undefined && { output: JSON.parse(d.output) as PromotionResult }),
    ...(d.error !== undefined && { error: d.error }),
    ...(d.cause !== undefined && { cause: d.cause }),
  };
}

export async function livePolicies(p: PromotionStack): Promise<Record<string, { enforcementMode?: string; statement?: string; status?: string }>> {
  const out = await p.agentCore.send(new ListPoliciesCommand({ policyEngineId: ENGINE_ID, maxResults: 100 }));
  return Object.fromEntries((out.policies ?? []).map((x) => [x.name!, {
    enforcementMode: x.enforcementMode,
    status: x.status,
    statement: x.definition && 'cedar' in x.definition ? x.definition.cedar?.statement : undefined,
  }]));
}

export function promotionEvents(stack: Stack): { detailType: string; detail: Record<string, any> }[] {
  return stack.events.events
    .filter((e) => e.event['detail-type'].startsWith('Policy Promotion') && e.event['detail-type'] !== 'Policy Promotion Requested')
    .map((e) => ({ detailType: e.event['detail-type'], detail: e.event.detail as Record<string, any> }));
}
