/**
 * Synthetic worlds for the benchmarks and the reliability suite: an emulator seed (AgentCore
 * runtimes, gateways and policy engines, plus ECR repositories) and the matching autopilot config,
 * both built in code so that scale (1 or 1,000 runtimes) is a parameter.
 *
 * Every runtime carries every kind of field a lossless update must carry over (environment
 * variables, authorizer, network, protocol, lifecycle, request headers, description), so a
 * before/after snapshot comparison catches any field an update drops.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { StackSeed } from '../../local/stack.ts';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const REGISTRY = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
export const RUNTIME_ROLE = `arn:aws:iam::${ACCOUNT}:role/AgentRuntimeRole`;
export const GATEWAY_ROLE = `arn:aws:iam::${ACCOUNT}:role/GatewayRole`;
/** Repositories the image-push rule of serverless.yml matches (params.trackedRepositories). */
export const TRACKED_REPOSITORIES = ['support-agent', 'billing/agent'] as const;

/** A deterministic sha256 digest (`sha256:` + 64 hex) from any label. */
export function digestOf(label: string): string {
  let h = 0x811c9dc5;
  const parts: string[] = [];
  for (let round = 0; round < 8; round++) {
    for (const ch of `${round}:${label}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    parts.push(h.toString(16).padStart(8, '0'));
  }
  return `sha256:${parts.join('')}`;
}

const pad10 = (i: number) => String(i).padStart(10, '0');
export const runtimeId = (i: number) => `benchRt${i}-${pad10(i)}`;
export const gatewayId = (i: number) => `benchgw${i}-${pad10(i)}`;
export const policyEngineId = (i: number) => `benchPe${i}-${pad10(i)}`;
export const policyEngineArn = (i: number) => `arn:aws:bedrock-agentcore:${REGION}:${ACCOUNT}:policy-engine/${policyEngineId(i)}`;
export const gatewayArn = (id: string) => `arn:aws:bedrock-agentcore:${REGION}:${ACCOUNT}:gateway/${id}`;

export interface RuntimeOptions {
  repository?: string;
  /** Initial image digest (default derived from the index). */
  digest?: string;
  /** Environment variable values (default: harmless values). */
  env?: Record<string, string>;
  description?: string;
}

/** A runtime configuration with every commonly used field set. */
export function runtimeConfig(i: number, o: RuntimeOptions = {}): Record<string, unknown> {
  const repository = o.repository ?? TRACKED_REPOSITORIES[0];
  return {
    agentRuntimeArtifact: { containerConfiguration: { containerUri: `${REGISTRY}/${repository}@${o.digest ?? digestOf(`initial-${i}`)}` } },
    roleArn: RUNTIME_ROLE,
    description: o.description ?? `Benchmark agent ${i}`,
    networkConfiguration: { networkMode: 'PUBLIC' },
    protocolConfiguration: { serverProtocol: i % 2 === 0 ? 'HTTP' : 'MCP' },
    lifecycleConfiguration: { idleRuntimeSessionTimeout: 600 + (i % 5) * 60, maxLifetime: 14400 },
    environmentVariables: o.env ?? { LOG_LEVEL: 'info', SHARD: String(i) },
    authorizerConfiguration: {
      customJWTAuthorizer: {
        discoveryUrl: `https://cognito-idp.${REGION}.amazonaws.com/${REGION}_Bench${i}/.well-known/openid-configuration`,
        allowedClients: [`client-${i}`],
      },
    },
    requestHeaderConfiguration: { requestHeaderAllowlist: ['X-Request-Id', `X-Amzn-Bedrock-AgentCore-Runtime-Custom-Shard${i % 7}`] },
  };
}

/** The tools of every benchmark gateway (emulator-only seed field). */
export const BENCH_TARGETS = [{ name: 'records', tools: [{ name: 'read' }, { name: 'delete' }] }];
const BENCH_PERMIT = 'permit (principal is AgentCore::OAuthUser, action in AgentCore::Action::"records", resource) when { principal.hasTag("role") && principal.getTag("role") == "agent" };';
const BENCH_FORBID = 'forbid (principal, action == AgentCore::Action::"records___delete", resource);';

/**
 * Agent traffic on a benchmark gateway over [from, to]: `allowPerMinute` reads (permitted) and
 * `denyPerMinute` deletes (forbidden), decided by Cedar and published as AWS's policy metrics.
 */
export function scriptGatewayTraffic(
  stack: { clock: { now(): number }; agentcore: { traffic: { add(script: Record<string, unknown> & { gateway: string; perMinute: number; principal: { oauthUser: string; claims?: Record<string, string> } }, now: number): unknown } } },
  gwId: string,
  opts: { allowPerMinute?: number; denyPerMinute?: number; from?: string; to?: string } = {},
): void {
  const principal = { oauthUser: 'bench-agent', claims: { role: 'agent' } };
  const window = { from: opts.from ?? '-1d', to: opts.to ?? '+4d' };
  const now = stack.clock.now();
  stack.agentcore.traffic.add({ gateway: gwId, tool: 'records___read', principal, perMinute: opts.allowPerMinute ?? 1000, ...window }, now);
  const deny = opts.denyPerMinute ?? 1;
  if (deny > 0) stack.agentcore.traffic.add({ gateway: gwId, tool: 'records___delete', principal, perMinute: deny, ...window }, now);
}

export interface GatewayOptions {
  /** Attach this policy engine (index) in this mode. */
  policyEngine?: { index: number; mode: 'LOG_ONLY' | 'ENFORCE' };
  description?: string;
}

export function gatewayConfig(i: number, o: GatewayOptions = {}): Record<string, unknown> {
  return {
    description: o.description ?? `Benchmark tools ${i}`,
    roleArn: GATEWAY_ROLE,
    protocolType: 'MCP',
    protocolConfiguration: { mcp: { supportedVersions: ['2025-06-18'], searchType: 'SEMANTIC' } },
    authorizerType: 'CUSTOM_JWT',
    authorizerConfiguration: {
      customJWTAuthorizer: {
        discoveryUrl: `https://cognito-idp.${REGION}.amazonaws.com/${REGION}_Gw${i}/.well-known/openid-configuration`,
        allowedClients: [`gw-client-${i}`],
      },
    },
    exceptionLevel: 'DEBUG',
    ...(o.policyEngine ? { policyEngineConfiguration: { arn: policyEngineArn(o.policyEngine.index), mode: o.policyEngine.mode } } : {}),
  };
}

export interface WorldRuntime {
  index: number;
  options?: RuntimeOptions;
  /** Seeded endpoints (e.g. `prod` on version 1). */
  endpoints?: { name: string; liveVersion?: number }[];
  /** Config entry (`id` is filled in); omit to leave the runtime unmanaged. */
  spec?: Record<string, unknown>;
}

export interface WorldGateway {
  index: number;
  options?: GatewayOptions;
  spec?: Record<string, unknown>;
}

export interface WorldOptions {
  runtimes?: WorldRuntime[];
  gateways?: WorldGateway[];
  /** Policy engines to seed (indexes). */
  policyEngines?: number[];
  /** Extra emulator settings (delays, failingImages, ...). */
  settings?: NonNullable<StackSeed['settings']>;
  drift?: Record<string, unknown>;
  redeploy?: Record<string, unknown>;
  ecrRepositories?: string[];
}

export interface World {
  seed: StackSeed;
  config: Record<string, unknown>;
}

/** Builds the seed and the config of a world. */
export function buildWorld(o: WorldOptions): World {
  const runtimes = o.runtimes ?? [];
  const gateways = o.gateways ?? [];
  const seed: StackSeed = {
    settings: { account: ACCOUNT, region: REGION, ...o.settings },
    policyEngines: (o.policyEngines ?? []).map((i) => ({ id: policyEngineId(i), description: `Bench policies ${i}` })),
    runtimes: runtimes.map((r) => ({
      id: runtimeId(r.index),
      config: runtimeConfig(r.index, r.options),
      ...(r.endpoints ? { endpoints: r.endpoints } : {}),
      tags: { bench: 'true' },
    })),
    gateways: gateways.map((g) => ({ id: gatewayId(g.index), name: `benchgw${g.index}`, config: gatewayConfig(g.index, g.options), targets: BENCH_TARGETS })),
    // Each engine permits agents to use the tools and forbids deletes (Cedar decides the traffic).
    policies: (o.policyEngines ?? []).flatMap((i) => [
      { engine: policyEngineId(i), name: `agents_${i}`, statement: BENCH_PERMIT },
      { engine: policyEngineId(i), name: `no_deletes_${i}`, statement: BENCH_FORBID },
    ]),
    ecr: { repositories: (o.ecrRepositories ?? [...TRACKED_REPOSITORIES]).map((name) => ({ name })) },
  };
  const config: Record<string, unknown> = {
    version: 1,
    runtimes: runtimes.filter((r) => r.spec).map((r) => ({ id: runtimeId(r.index), ...r.spec })),
    gateways: gateways.filter((g) => g.spec).map((g) => ({ id: gatewayId(g.index), ...g.spec })),
    drift: { mode: 'report', ...o.drift },
    ...(o.redeploy ? { redeploy: o.redeploy } : {}),
  };
  return { seed, config };
}

/** A scratch directory removed by `dispose()`. */
export class Scratch {
  readonly dir: string;
  constructor(prefix = 'autopilot-bench-') {
    this.dir = mkdtempSync(path.join(tmpdir(), prefix));
  }
  /** Writes a config object as YAML and returns its path. */
  writeConfig(config: unknown, name = 'autopilot.config.yaml'): string {
    const file = path.join(this.dir, name);
    writeFileSync(file, stringify(config));
    return file;
  }
  write(name: string, text: string): string {
    const file = path.join(this.dir, name);
    writeFileSync(file, text);
    return file;
  }
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
