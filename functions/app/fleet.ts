/**
 * What the fleet looks like, for `autopilot get` and `autopilot describe`: every runtime, gateway
 * and policy engine of the account and region, with what the config declares about it (tracked
 * image and rule, declared engine mode), its drift state (from a drift plan, when the caller has
 * one) and the last promotion or rollout that ran on it. Reads only; environment variable values
 * and descriptions are redacted like everywhere else.
 */
import type { AgentCoreAdapter } from '../adapters/agentcore.ts';
import type { SfnAdapter } from '../adapters/sfn.ts';
import type { Config, GatewaySpec, RuntimeSpec, TagPolicy } from '../lib/config/types.ts';
import { redactForLog } from '../lib/logger.ts';
import type { DriftPlan, ResourcePlan } from '../domain/drift/plan.ts';
import { isRolloutOfGateway } from '../domain/rollout/execution-name.ts';

export interface FleetDeps {
  agentCore: AgentCoreAdapter;
  sfn: SfnAdapter;
  config?: Config;
  /** A drift plan of the same config (`readDrift`); without it the drift state is `unknown`. */
  drift?: DriftPlan;
  rolloutStateMachineArn?: string;
  promotionStateMachineArn?: string;
}

export type DriftState = ResourcePlan['status'] | 'not-declared' | 'unknown';

/** A state machine execution, the last of its kind for a resource. */
export interface LastRun {
  execution: string;
  executionArn: string;
  status: string;
  /** The workflow's outcome (PROMOTED, ROLLED_BACK, ENFORCED, HALTED_IN_LOG_ONLY, ...); null while running. */
  outcome: string | null;
  startedAt?: string;
  stoppedAt?: string;
}

export interface EndpointRow {
  name: string;
  liveVersion?: string;
  targetVersion?: string;
  status?: string;
}

export interface RuntimeRow {
  id: string;
  name: string;
  version?: string;
  status?: string;
  /** The live image (containerUri). */
  image?: string;
  endpoints: EndpointRow[];
  declared: boolean;
  /** The tracking rule: repository, tag rule, endpoints it promotes. */
  track?: { repository: string; rule: string; promotes: string[] };
  drift: DriftState;
  lastPromotion?: LastRun;
}

export interface GatewayRow {
  id: string;
  name: string;
  status?: string;
  policyEngine?: { arn: string; mode: string };
  declared: boolean;
  /** The declared engine and mode, when the config has a policyEngine for this gateway. */
  declaredPolicyEngine?: { arn: string; mode: string };
  drift: DriftState;
  lastRollout?: LastRun;
}

export interface EngineRow {
  id: string;
  name: string;
  arn: string;
  status?: string;
  /** Gateways using this engine, with the mode they use it in. */
  gateways: { id: string; mode: string }[];
  /** Gateways whose declaration names this engine. */
  declaredBy: string[];
}

export function tagRule(policy: TagPolicy): string {
  switch (policy.kind) {
    case 'exact': return `exact ${policy.exact}`;
    case 'semver': return `semver ${policy.semver}`;
    case 'glob': return `glob ${policy.glob}`;
    default: return `regex ${policy.regex}`;
  }
}

const iso = (d: Date | undefined) => (d ? d.toISOString() : undefined);

function specFor<T extends RuntimeSpec | GatewaySpec>(specs: readonly T[] | undefined, id: string, name: string): T | undefined {
  return specs?.find((s) => s.id === id || (s.name !== undefined && s.name === name));
}

function driftOf(deps: FleetDeps, kind: 'runtime' | 'gateway', spec: RuntimeSpec | GatewaySpec | undefined, id: string): DriftState {
  if (!spec) return 'not-declared';
  const plan = deps.drift?.resources.find((r) => r.kind === kind && (r.id === id || r.ref === (spec.id ?? spec.name)));
  return plan?.status ?? 'unknown';
}

/** One ListExecutions per state machine and fleet read, however many resources ask. */
const listed = new WeakMap<FleetDeps, Map<string, ReturnType<SfnAdapter['listExecutions']>>>();

function executionsOf(deps: FleetDeps, stateMachineArn: string): ReturnType<SfnAdapter['listExecutions']> {
  let byArn = listed.get(deps);
  if (!byArn) listed.set(deps, (byArn = new Map()));
  let runs = byArn.get(stateMachineArn);
  if (!runs) byArn.set(stateMachineArn, (runs = deps.sfn.listExecutions(stateMachineArn)));
  return runs;
}

/** The newest execution of a state machine whose name passes `mine`, with its outcome. */
async function lastRun(deps: FleetDeps, stateMachineArn: string | undefined, mine: (name: string) => boolean): Promise<LastRun | undefined> {
  if (!stateMachineArn) return undefined;
  const runs = (await executionsOf(deps, stateMachineArn))
    .filter((e) => e.name && mine(e.name))
    .sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0));
  const newest = runs[0];
  if (!newest?.executionArn) return undefined;
  return runOf(deps, newest.executionArn);
}

/** One execution with the outcome its output reports (or its status when it has none). */
export async function runOf(deps: Pick<FleetDeps, 'sfn'>, executionArn: string): Promise<LastRun> {
  const d = await deps.sfn.describeExecution(executionArn);
  let outcome: string | null = null;
  if (d.status !== 'RUNNING') {
    try {
      outcome = (d.output ? (JSON.parse(d.output) as { outcome?: string }).outcome : undefined) ?? String(d.status);
    } catch {
      outcome = String(d.status);
    }
  }
  return {
    execution: d.name ?? executionArn.split(':').at(-1)!,
    executionArn,
    status: String(d.status),
    outcome,
    ...(d.startDate && { startedAt: iso(d.startDate) }),
    ...(d.stopDate && { stoppedAt: iso(d.stopDate) }),
  };
}

const promotionPrefix = (runtimeId: string) => `promote-${runtimeId}-v`.replace(/[^A-Za-z0-9_-]/g, '-');

async function runtimeRow(deps: FleetDeps, id: string): Promise<RuntimeRow> {
  const live = await deps.agentCore.getRuntime(id);
  const name = live.agentRuntimeName ?? id;
  const endpoints = await deps.agentCore.listRuntimeEndpoints(id);
  const spec = specFor(deps.config?.runtimes, id, name);
  const artifact = live.agentRuntimeArtifact as { containerConfiguration?: { containerUri?: string } } | undefined;
  const lastPromotion = await lastRun(deps, deps.promotionStateMachineArn, (n) => n.startsWith(promotionPrefix(id)));
  return {
    id,
    name,
    ...(live.agentRuntimeVersion !== undefined && { version: live.agentRuntimeVersion }),
    ...(live.status !== undefined && { status: String(live.status) }),
    ...(artifact?.containerConfiguration?.containerUri !== undefined && { image: artifact.containerConfiguration.containerUri }),
    endpoints: endpoints.map((e) => ({
      name: e.name ?? '?',
      ...(e.liveVersion !== undefined && { liveVersion: e.liveVersion }),
      ...(e.targetVersion !== undefined && { targetVersion: e.targetVersion }),
      ...(e.status !== undefined && { status: String(e.status) }),
    })),
    declared: spec !== undefined,
    ...(spec?.track && { track: { repository: spec.track.repository, rule: tagRule(spec.track.tagPolicy), promotes: spec.track.promote?.endpoints ?? [] } }),
    drift: driftOf(deps, 'runtime', spec, id),
    ...(lastPromotion && { lastPromotion }),
  };
}

/** Every runtime of the account and region, in ListAgentRuntimes order. */
export async function listRuntimeRows(deps: FleetDeps): Promise<RuntimeRow[]> {
  const all = await deps.agentCore.listRuntimes();
  return Promise.all(all.map((r) => runtimeRow(deps, r.agentRuntimeId!)));
}

async function gatewayRow(deps: FleetDeps, id: string): Promise<GatewayRow> {
  const live = await deps.agentCore.getGateway(id);
  const name = live.name ?? id;
  const spec = specFor(deps.config?.gateways, id, name);
  const engine = live.policyEngineConfiguration as { arn?: string; mode?: string } | undefined;
  const lastRollout = await lastRun(deps, deps.rolloutStateMachineArn, (n) => isRolloutOfGateway(n, id));
  return {
    id,
    name,
    ...(live.status !== undefined && { status: String(live.status) }),
    ...(engine?.arn && { policyEngine: { arn: engine.arn, mode: engine.mode ?? '?' } }),
    declared: spec !== undefined,
    ...(spec?.policyEngine && { declaredPolicyEngine: { arn: spec.policyEngine.arn, mode: spec.policyEngine.mode } }),
    drift: driftOf(deps, 'gateway', spec, id),
    ...(lastRollout && { lastRollout }),
  };
}

/** Every gateway of the account and region. */
export async function listGatewayRows(deps: FleetDeps): Promise<GatewayRow[]> {
  const all = await deps.agentCore.listGateways();
  return Promise.all(all.map((g) => gatewayRow(deps, g.gatewayId!)));
}

/** Every policy engine, with the gateways that use it and those that declare it. */
export async function listEngineRows(deps: FleetDeps): Promise<EngineRow[]> {
  const [engines, gateways] = await Promise.all([deps.agentCore.listPolicyEngines(), deps.agentCore.listGateways()]);
  const live = await Promise.all(gateways.map((g) => deps.agentCore.getGateway(g.gatewayId!)));
  return engines.map((e) => {
    const arn = e.policyEngineArn ?? '';
    return {
      id: e.policyEngineId ?? '?',
      name: e.name ?? '?',
      arn,
      ...(e.status !== undefined && { status: String(e.status) }),
      gateways: live
        .filter((g) => (g.policyEngineConfiguration as { arn?: string } | undefined)?.arn === arn)
        .map((g) => ({ id: g.gatewayId!, mode: String((g.policyEngineConfiguration as { mode?: string }).mode ?? '?') })),
      declaredBy: (deps.config?.gateways ?? []).filter((g) => g.policyEngine?.arn === arn).map((g) => g.id ?? g.name!),
    };
  });
}

/** Live fields without SDK metadata, secrets redacted (environment variable values, descriptions). */
function liveFields(out: object): Record<string, unknown> {
  const { $metadata: _m, ...rest } = out as Record<string, unknown>;
  return redactForLog(rest) as Record<string, unknown>;
}

export interface RuntimeDetail extends RuntimeRow {
  live: Record<string, unknown>;
  /** Field-level drift of a declared runtime (paths and redacted values), from the drift plan. */
  driftFields: ResourcePlan['fields'];
}

/** One runtime in full: the row, its live configuration (redacted) and its drifted fields. */
export async function describeRuntime(deps: FleetDeps, id: string): Promise<RuntimeDetail> {
  const row = await runtimeRow(deps, id);
  const live = liveFields(await deps.agentCore.getRuntime(id));
  const fields = deps.drift?.resources.find((r) => r.kind === 'runtime' && r.id === id)?.fields ?? [];
  return { ...row, live, driftFields: fields };
}

export interface GatewayDetail extends GatewayRow {
  live: Record<string, unknown>;
  driftFields: ResourcePlan['fields'];
}

/** One gateway in full: the row, its live configuration (redacted) and its drifted fields. */
export async function describeGateway(deps: FleetDeps, id: string): Promise<GatewayDetail> {
  const row = await gatewayRow(deps, id);
  const live = liveFields(await deps.agentCore.getGateway(id));
  const fields = deps.drift?.resources.find((r) => r.kind === 'gateway' && r.id === id)?.fields ?? [];
  return { ...row, live, driftFields: fields };
}
