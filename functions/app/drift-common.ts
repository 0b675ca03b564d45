/**
 * What the drift steps share (functions/app/drift.ts describes the whole job): the dependencies,
 * the run value, the retry policy of one call and the autopilot tags drift reads and writes.
 */
import type { SecretReader } from '../domain/secrets/refs.ts';
import { ListTagsForResourceCommand, TagResourceCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import type { ImageDetail } from '@aws-sdk/client-ecr';
import type { AgentCoreAdapter } from '../adapters/agentcore.ts';
import type { EcrAdapter } from '../adapters/ecr.ts';
import type { EventsAdapter } from '../adapters/events.ts';
import type { SfnAdapter } from '../adapters/sfn.ts';
import { callAws } from '../adapters/aws-errors.ts';
import type { Config, DeclaredPolicy, GatewaySpec, PolicyEngineDeclaration, RuntimeSpec, DriftSettings } from '../lib/config/types.ts';
import { AmbiguousResourceError, AwsServiceError, ThrottledError } from '../lib/errors.ts';
import { retryWithBackoff } from '../lib/retry.ts';
import { monotonicNow, sleep } from '../lib/time.ts';
import type { CorrectionHistory, DriftPlan } from '../domain/drift/plan.ts';
import { encodeHistory, HISTORY_TAG } from '../domain/drift/history.ts';
import { DRIFT_ROLLOUT_TAG } from '../domain/drift/tamper-guard.ts';


export const SERVICE = 'bedrock-agentcore-control';

export interface DriftDeps {
  agentCore: AgentCoreAdapter;
  ecr: EcrAdapter;
  sfn: SfnAdapter;
  /** Where a run by hand (`autopilot apply`) publishes its events; the Lambda publishes its own. */
  events?: Pick<EventsAdapter, 'publish'>;
  /** The policy-rollout state machine (ROLLOUT_STATE_MACHINE_ARN). */
  rolloutStateMachineArn?: string;
  /** The runtime-promotion state machine (PROMOTION_STATE_MACHINE_ARN), for safety-net redeploys with `promote`. */
  promotionStateMachineArn?: string;
  /** The policy-promotion state machine (POLICY_PROMOTION_STATE_MACHINE_ARN), for declared Cedar policies. */
  policyPromotionStateMachineArn?: string;
  /** The account and region autopilot runs in (ECR registry of tracking rules without `registry`). */
  home: { account?: string; region?: string };
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random?: () => number;
  /** Elapsed wall time allowed for retrying one call (ms, default 120 000). */
  retryBudgetMs?: number;
  /** Milliseconds the invocation may still spend (the Lambda's time left minus a margin): no retry waits past it. */
  remainingMs?: () => number;
  /** First backoff step of a resource that keeps drifting back (ms, default 1 hour). */
  backoffBaseMs?: number;
  /** Reads what a secret reference in a declared environment names (resolved in memory only). */
  readSecret?: SecretReader;
}

/** The unredacted facts behind one resource of the plan (same index as plan.resources). Never serialised. */
/** A declared (or undeclared live) Cedar policy of a declared engine. */
export interface PolicyTargetSpec {
  engine: PolicyEngineDeclaration;
  name: string;
  declared?: DeclaredPolicy;
  /** The live policy (when it exists). */
  policyId?: string;
  id?: undefined;
  ignore: string[];
}

export interface Target {
  kind: 'runtime' | 'gateway' | 'policy';
  spec: RuntimeSpec | GatewaySpec | PolicyTargetSpec;
  live?: Record<string, unknown>;
  arn?: string;
  history?: CorrectionHistory;
  /** The resource's tags, when they were read. */
  tags?: Record<string, string>;
  /** DRIFT_ROLLOUT_TAG value apply records for a `needs-human` tampering (ties the failed rollout to this declaration). */
  rolloutRecord?: string;
}

export interface DriftRun {
  plan: DriftPlan;
  /** Non-fatal problems met while reading (no secret values): ECR lookups, tags, rollouts. */
  notes: string[];
  readonly settings: DriftSettings;
  readonly config?: Config;
  /** Internal: unredacted live state; not enumerable, so JSON.stringify(run) never shows it. */
  readonly targets: Target[];
}

export interface ReadOptions {
  /** Force report-only for every resource (on-demand checks, `autopilot plan`). */
  reportOnly?: boolean;
  /**
   * Reads shared by the readDrift calls of one scan (functions/app/drift-scan.ts reads the fleet in
   * slices): the runtime and gateway lists, the running rollouts, the tracked repositories' images.
   */
  cache?: ReadCache;
}

/** Reads made once per invocation, whatever the number of slices. */
export interface ReadCache {
  runtimeList?: Promise<{ id?: string; name?: string }[]>;
  gatewayList?: Promise<{ id?: string; name?: string }[]>;
  runningRollouts?: Promise<Awaited<ReturnType<SfnAdapter['listExecutions']>>>;
  images?: Map<string, Promise<ImageDetail[]>>;
}

export const strip = (o: object): Record<string, unknown> => {
  const { $metadata: _m, ...rest } = o as Record<string, unknown>;
  void _m;
  return rest;
};

export const errorText = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

export function isRetryable(err: unknown): boolean {
  return err instanceof AwsServiceError && err.retryable;
}

export function retrying<T>(deps: DriftDeps, fn: () => Promise<T>): Promise<T> {
  // The budget is elapsed wall time (the invocation's own clock), not deps.now(): that is the
  // business clock (backoff history, change windows), which a local stack may move in jumps.
  const started = monotonicNow();
  const budget = deps.retryBudgetMs ?? 120_000;
  // Throttling is waited out (a large scan saturates per-operation quotas; that is expected);
  // outages and conflicts get a few retries only, so a failing service fails the run quickly.
  let otherFailures = 0;
  return retryWithBackoff(fn, {
    isRetryable: (err) => isRetryable(err) && (err instanceof ThrottledError || ++otherFailures <= MAX_OTHER_RETRIES),
    baseMs: 250, maxMs: 10_000, sleep: deps.sleep, random: deps.random,
    deadline: () => Math.min(budget - (monotonicNow() - started), deps.remainingMs?.() ?? Infinity), maxAttempts: 20,
  });
}

/** Retries of one call after 5xx or conflicts (throttling has its own, larger allowance). */
export const MAX_OTHER_RETRIES = 4;

/** Resolves a declared ref to an id: the id itself, or the unique match of the name in `list`. */
export async function resolveId(
  spec: { id?: string; name?: string },
  list: () => Promise<{ id?: string; name?: string }[]>,
  kind: string,
): Promise<string | undefined> {
  if (spec.id !== undefined) return spec.id;
  const matches = (await list()).filter((x) => x.name === spec.name);
  if (matches.length > 1) {
    throw new AmbiguousResourceError(`${matches.length} ${kind}s are named "${spec.name}"`, { details: { kind, name: spec.name } });
  }
  return matches[0]?.id;
}

export async function readTags(deps: DriftDeps, arn: string): Promise<Record<string, string>> {
  const out = await retrying(deps, () => callAws({ service: SERVICE, operation: 'ListTagsForResource', resource: arn }, () =>
    deps.agentCore.client.send(new ListTagsForResourceCommand({ resourceArn: arn }))));
  return out.tags ?? {};
}

export async function writeTag(deps: DriftDeps, arn: string, key: string, value: string): Promise<void> {
  await retrying(deps, () => callAws({ service: SERVICE, operation: 'TagResource', resource: arn }, () =>
    deps.agentCore.client.send(new TagResourceCommand({ resourceArn: arn, tags: { [key]: value } }))));
}

export async function writeHistory(deps: DriftDeps, arn: string, history: CorrectionHistory): Promise<void> {
  await writeTag(deps, arn, HISTORY_TAG, encodeHistory(history));
}

/** The digest a container URI is pinned to (`...@sha256:<hex>`), if any. */
export const digestOf = (uri: string | undefined): string | undefined => /@(sha256:[0-9a-fA-F]{64})$/.exec(uri ?? '')?.[1]?.toLowerCase();

