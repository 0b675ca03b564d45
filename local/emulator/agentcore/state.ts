/**
 * The in-memory AgentCore Control store and its semantics: runtimes with immutable versions,
 * DEFAULT and named endpoints, gateways, policy engines, tags and idempotency tokens.
 *
 * Statuses are computed lazily from the injected clock (no timers): a change records when it
 * settles, and reads compare that with clock.now(). A VirtualClock therefore controls every
 * lifecycle. Choices where real AgentCore behaviour is undocumented (kept safe and consistent):
 * - An update replaces the whole configuration; omitted optional members are reset (absent),
 *   except lifecycleConfiguration whose API defaults (idle 900 s, maxLifetime 28800 s) are filled.
 * - A runtime update always creates version N+1, even when it later fails: the failed version is
 *   the latest one (Get returns it with UPDATE_FAILED), and the next update creates N+2.
 * - DEFAULT follows the latest version: targetVersion = latest, liveVersion = the newest version
 *   that reached READY. Named endpoints move only through UpdateAgentRuntimeEndpoint; a move to a
 *   failed version ends UPDATE_FAILED with liveVersion unchanged. DEFAULT cannot be updated.
 * - A gateway update that fails ends UPDATE_UNSUCCESSFUL with statusReasons; Get shows the
 *   requested configuration, so a caller must revert it explicitly.
 * - UpdateGateway/CreateGateway with a policyEngineConfiguration.arn that is not an existing
 *   ACTIVE engine of this account/region is a ValidationException (FieldValidationFailed, field
 *   `policyEngineConfiguration.arn`), not a ResourceNotFoundException, so callers never confuse it
 *   with a missing gateway.
 * - An image is failing when it was marked failing before its version settled.
 */
import type { Clock } from '../../clock.ts';
import type { FieldIssue } from '../../../functions/lib/model/validate.ts';
import { clone, compact, errors, globToRegExp, iso, prng, stableStringify } from './util.ts';
import { PolicyStore } from './policies.ts';
import { GatewayTraffic } from './traffic.ts';
import type { GatewayTarget } from './gateway-tools.ts';

export interface Delays {
  runtimeCreate: number;
  runtimeUpdate: number;
  runtimeDelete: number;
  endpointCreate: number;
  endpointUpdate: number;
  endpointDelete: number;
  gatewayCreate: number;
  gatewayUpdate: number;
  gatewayDelete: number;
  policyEngineCreate: number;
  policyCreate: number;
  policyUpdate: number;
  policyDelete: number;
}

export interface Limits {
  runtimes: number;
  versionsPerRuntime: number;
  endpointsPerRuntime: number;
  gateways: number;
  policyEngines: number;
  /** Policies per policy engine (bedrock-agentcore-limits: 1,000). */
  policiesPerEngine: number;
}

export interface AgentCoreSettings {
  account: string;
  region: string;
  delays: Delays;
  limits: Limits;
  /** Seed for generated ids (deterministic runs). */
  idSeed: number;
  /** Page size when a List call sends no maxResults. */
  defaultPageSize: number;
}

export const DEFAULT_DELAYS: Delays = {
  runtimeCreate: 30_000,
  runtimeUpdate: 30_000,
  runtimeDelete: 10_000,
  endpointCreate: 20_000,
  endpointUpdate: 20_000,
  endpointDelete: 10_000,
  gatewayCreate: 20_000,
  gatewayUpdate: 15_000,
  gatewayDelete: 10_000,
  policyEngineCreate: 10_000,
  // "Changes apply within a few seconds" (policy-test-a-policy); the PolicyActive waiter polls every 5 s.
  policyCreate: 3_000,
  policyUpdate: 3_000,
  policyDelete: 3_000,
};

export const DEFAULT_LIMITS: Limits = {
  runtimes: 1000, versionsPerRuntime: 1000, endpointsPerRuntime: 10, gateways: 1000, policyEngines: 1000, policiesPerEngine: 1000,
};

export const DEFAULT_SETTINGS: AgentCoreSettings = {
  account: '123456789012',
  region: 'us-east-1',
  delays: DEFAULT_DELAYS,
  limits: DEFAULT_LIMITS,
  idSeed: 0x5eed,
  defaultPageSize: 10,
};

/** Idempotency tokens are remembered this long (clock time). */
export const IDEMPOTENCY_TTL_MS = 8 * 3600 * 1000;

/** API defaults filled when lifecycleConfiguration (or one of its members) is absent. */
export const LIFECYCLE_DEFAULTS = { idleRuntimeSessionTimeout: 900, maxLifetime: 28800 } as const;

/** The configurable members of a runtime (UpdateAgentRuntime input minus id and token). */
export const RUNTIME_CONFIG_KEYS = [
  'agentRuntimeArtifact', 'roleArn', 'networkConfiguration', 'description', 'authorizerConfiguration',
  'requestHeaderConfiguration', 'protocolConfiguration', 'lifecycleConfiguration', 'metadataConfiguration',
  'environmentVariables', 'filesystemConfigurations', 'capacityProviderConfiguration', 'platformVersion',
] as const;

/** The configurable members of a gateway (UpdateGateway input minus identifier and name). */
export const GATEWAY_CONFIG_KEYS = [
  'description', 'roleArn', 'protocolType', 'protocolConfiguration', 'authorizerType', 'authorizerConfiguration',
  'kmsKeyArn', 'customTransformConfiguration', 'interceptorConfigurations', 'policyEngineConfiguration',
  'exceptionLevel', 'wafConfiguration',
] as const;

export type RuntimeConfig = Partial<Record<(typeof RUNTIME_CONFIG_KEYS)[number], unknown>> & {
  agentRuntimeArtifact: unknown;
  roleArn: string;
};
export type GatewayConfig = Partial<Record<(typeof GATEWAY_CONFIG_KEYS)[number], unknown>> & {
  roleArn?: string;
  authorizerType: string;
  policyEngineConfiguration?: { arn: string; mode: string };
};

export type RuntimeStatus = 'CREATING' | 'CREATE_FAILED' | 'UPDATING' | 'UPDATE_FAILED' | 'READY' | 'DELETING' | 'DELETE_FAILED';
export type GatewayStatus = 'CREATING' | 'UPDATING' | 'UPDATE_UNSUCCESSFUL' | 'DELETING' | 'READY' | 'FAILED';
export type PolicyEngineStatus = 'CREATING' | 'ACTIVE' | 'UPDATING' | 'DELETING' | 'CREATE_FAILED' | 'UPDATE_FAILED' | 'DELETE_FAILED';

export interface RuntimeVersion {
  version: number;
  config: RuntimeConfig;
  kind: 'create' | 'update';
  /** Clock time of the Create/Update call. */
  createdAt: number;
  /** Clock time when CREATING/UPDATING ends. */
  settlesAt: number;
  /** Decided when first read after settlesAt. */
  outcome?: { ok: true } | { ok: false; reason: string };
}

export interface EndpointMove {
  kind: 'create' | 'update';
  target: number;
  startedAt: number;
  settlesAt: number;
  outcome?: { ok: true } | { ok: false; reason: string };
}

export interface EndpointRecord {
  name: string;
  id: string;
  arn: string;
  createdAt: number;
  description?: string;
  liveVersion?: number;
  move?: EndpointMove;
  deleteAt?: number;
}

export interface RuntimeRecord {
  id: string;
  name: string;
  arn: string;
  createdAt: number;
  workloadIdentityArn: string;
  versions: RuntimeVersion[];
  defaultEndpointId: string;
  endpoints: Map<string, EndpointRecord>;
  deleteAt?: number;
}

export interface GatewayChange {
  kind: 'create' | 'update';
  startedAt: number;
  settlesAt: number;
  /** statusReasons when this change fails (decided when the change is requested). */
  failure?: string[];
}

export interface GatewayRecord {
  id: string;
  name: string;
  arn: string;
  url: string;
  createdAt: number;
  workloadIdentityArn: string;
  webAclArn?: string;
  config: GatewayConfig;
  change: GatewayChange;
  deleteAt?: number;
  /** Emulator-only: the tools its targets serve (real gateways learn them from their targets). */
  targets?: GatewayTarget[];
  /** The policy engine configuration in force over time (appended when an update settles successfully). */
  enforcement: { at: number; config: { arn: string; mode: string } | null }[];
}

/**
 * The gateway execution role actions Policy needs (policy-permissions): without any of them the
 * gateway cannot authorize: attaching an engine fails with InternalServerException and every tool
 * call is denied.
 */
export const GATEWAY_POLICY_ROLE_ACTIONS = ['AuthorizeAction', 'PartiallyAuthorizeActions', 'GetPolicyEngine'] as const;
export type GatewayPolicyRoleAction = (typeof GATEWAY_POLICY_ROLE_ACTIONS)[number];

export interface PolicyEngineRecord {
  id: string;
  name: string;
  arn: string;
  description?: string;
  encryptionKeyArn?: string;
  createdAt: number;
  settlesAt: number;
}

/** Decides whether an UpdateGateway fails: true or a list of statusReasons means it fails. */
export type GatewayFailPredicate = (config: GatewayConfig, gatewayId: string) => boolean | string[];

interface GatewayFailRule { gateway: RegExp; predicate?: GatewayFailPredicate; remaining?: number; reasons?: string[] }

interface IdempotencyEntry { hash: string; response: unknown; expiresAt: number }

type Json = Record<string, unknown>;

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

export class AgentCoreState {
  readonly settings: AgentCoreSettings;
  readonly runtimes = new Map<string, RuntimeRecord>();
  readonly gateways = new Map<string, GatewayRecord>();
  readonly policyEngines = new Map<string, PolicyEngineRecord>();
  /** Tags by resource ARN. */
  readonly tags = new Map<string, Record<string, string>>();
  /** Failing container images (exact URI or glob) and the clock time they were marked. */
  readonly failingImages = new Map<string, number>();
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly gatewayFailRules: GatewayFailRule[] = [];
  private readonly idempotency = new Map<string, IdempotencyEntry>();
  /** Cedar policies of the policy engines (policies.ts). */
  readonly policies: PolicyStore;
  /** Scripted tool calls the gateways receive, decided with Cedar (traffic.ts). */
  readonly traffic: GatewayTraffic;
  /** Gateway execution roles (by ARN) and the Policy actions their IAM policies lack. */
  readonly rolesMissingPolicyActions = new Map<string, Set<GatewayPolicyRoleAction>>();

  constructor(clock: Clock, settings: Partial<AgentCoreSettings> = {}) {
    this.clock = clock;
    this.settings = {
      ...DEFAULT_SETTINGS,
      ...settings,
      delays: { ...DEFAULT_DELAYS, ...settings.delays },
      limits: { ...DEFAULT_LIMITS, ...settings.limits },
    };
    this.random = prng(this.settings.idSeed);
    this.policies = new PolicyStore({
      now: () => this.now(),
      delays: this.settings.delays,
      limits: this.settings.limits,
      policyEngineArn: (id) => this.policyEngineArn(id),
      randomSuffix: () => this.randomString(10, LOWER_ALNUM),
      wakeAt: (at) => this.wakeAt(at),
      engine: (id) => {
        const pe = this.policyEngines.get(id);
        return pe && { id: pe.id, arn: pe.arn, active: this.policyEngineStatus(pe) === 'ACTIVE' };
      },
      gatewayTargetsFor: (arn) =>
        this.listGateways().filter((g) => g.config.policyEngineConfiguration?.arn === arn).map((g) => g.targets ?? []),
    });
    this.traffic = new GatewayTraffic(this);
  }

  /** The emulator's current time (epoch ms). */
  clockNow(): number {
    return this.now();
  }

  private now(): number {
    return this.clock.now();
  }

  /**
   * Statuses are computed from the clock when read; this also leaves a wake-up on the clock at
   * the moment one settles, so an auto-advancing clock moves there when everything else is idle
   * (a handler backing off on a ConflictException sees the runtime READY, as it would in AWS).
   */
  private wakeAt(at: number): void {
    const ms = at - this.now();
    if (ms > 0) this.clock.sleep(ms).catch(() => undefined);
  }

  // --- scenario helpers ------------------------------------------------------------------------

  /** Versions that use this container image (exact URI, or a glob with `*`) fail when they settle. */
  markImageFailing(uri: string): void {
    // Keep the first mark: re-marking must not turn already-settled failures into successes.
    if (!this.failingImages.has(uri)) this.failingImages.set(uri, this.now());
  }

  clearImageFailing(uri: string): void {
    this.failingImages.delete(uri);
  }

  /**
   * Makes UpdateGateway calls on `gatewayId` (a glob; `*` = all) end UPDATE_UNSUCCESSFUL: either
   * the next `count` updates, or every update whose requested configuration the predicate flags.
   */
  failGatewayUpdates(gatewayId: string, predicateOrCount: GatewayFailPredicate | number, reasons?: string[]): void {
    const rule: GatewayFailRule = { gateway: globToRegExp(gatewayId), reasons };
    if (typeof predicateOrCount === 'number') rule.remaining = predicateOrCount;
    else rule.predicate = predicateOrCount;
    this.gatewayFailRules.push(rule);
  }

  /** Every UpdateGateway that attaches `policyEngineArn` (optionally in `mode`) fails. */
  failGatewayUpdatesWithPolicyEngine(policyEngineArn: string, mode?: string): void {
    this.failGatewayUpdates('*', (c) => {
      const pe = c.policyEngineConfiguration;
      if (!pe || pe.arn !== policyEngineArn || (mode && pe.mode !== mode)) return false;
      return [`Policy engine ${policyEngineArn} could not be attached in mode ${pe.mode}`];
    });
  }

  clearGatewayFailures(): void {
    this.gatewayFailRules.length = 0;
  }

  /** The gateway execution role `roleArn` lacks these Policy actions (see GATEWAY_POLICY_ROLE_ACTIONS). */
  denyRoleActions(roleArn: string, actions: readonly GatewayPolicyRoleAction[]): void {
    this.rolesMissingPolicyActions.set(roleArn, new Set(actions));
  }

  /** The Policy actions the gateway's role lacks (empty when it has them all). */
  missingPolicyActions(gw: GatewayRecord): GatewayPolicyRoleAction[] {
    return [...(this.rolesMissingPolicyActions.get(String(gw.config.roleArn)) ?? [])];
  }

  /** The policy engine configuration of the gateway in force at `t` (null: none attached). */
  enforcementAt(gw: GatewayRecord, t: number): { arn: string; mode: string } | null {
    let current: { arn: string; mode: string } | null = null;
    for (const e of gw.enforcement) if (e.at <= t) current = e.config;
    return current;
  }

  // --- ids and ARNs ----------------------------------------------------------------------------

  randomString(n: number, alphabet: string = ALNUM): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.random() * alphabet.length)];
    return s;
  }

  private arnPrefix(): string {
    return `arn:aws:bedrock-agentcore:${this.settings.region}:${this.settings.account}`;
  }
  runtimeArn(id: string): string { return `${this.arnPrefix()}:runtime/${id}`; }
  endpointArn(runtimeId: string, name: string): string { return `${this.runtimeArn(runtimeId)}/runtime-endpoint/${name}`; }
  gatewayArn(id: string): string { return `${this.arnPrefix()}:gateway/${id}`; }
  policyEngineArn(id: string): string { return `${this.arnPrefix()}:policy-engine/${id}`; }
  workloadIdentityArn(name: string): string {
    return `${this.arnPrefix()}:workload-identity-directory/default/workload-identity/${name}`;
  }
  gatewayUrl(id: string): string {
    return `https://${id}.gateway.bedrock-agentcore.${this.settings.region}.amazonaws.com/mcp`;
  }

  // --- idempotency -----------------------------------------------------------------------------

  /**
   * Runs `fn` once per (scope, clientToken): the same token with the same request returns the
   * first response again; with a different request it is a ValidationException.
   */
  idempotent<T>(scope: string, token: string | undefined, request: unknown, fn: () => T): T {
    if (!token) return fn();
    const key = `${scope}\u0000${token}`;
    const now = this.now();
    const hash = stableStringify(request);
    const seen = this.idempotency.get(key);
    if (seen && seen.expiresAt > now) {
      if (seen.hash !== hash) {
        throw errors.validation(
          'The request uses the same client token as a previous, but non-identical request',
          'IdempotentParameterMismatchException',
        );
      }
      return clone(seen.response) as T;
    }
    const response = fn();
    this.idempotency.set(key, { hash, response: clone(response), expiresAt: now + IDEMPOTENCY_TTL_MS });
    // The SDK sends a fresh token with every call, so forget expired ones now and then.
    if (this.idempotency.size % 512 === 0) {
      for (const [k, e] of this.idempotency) if (e.expiresAt <= now) this.idempotency.delete(k);
    }
    return response;
  }

  // --- runtimes: lookups and lazy status -------------------------------------------------------

  private isGone(deleteAt: number | undefined): boolean {
    return deleteAt !== undefined && this.now() >= deleteAt;
  }

  /** The runtime, unless it never existed or its deletion has completed. */
  findRuntime(id: string): RuntimeRecord | undefined {
    const rt = this.runtimes.get(id);
    if (!rt) return undefined;
    if (this.isGone(rt.deleteAt)) { this.runtimes.delete(id); this.tags.delete(rt.arn); return undefined; }
    return rt;
  }

  getRuntime(id: string): RuntimeRecord {
    const rt = this.findRuntime(id);
    if (!rt) throw errors.notFound(`Runtime ${id} not found`);
    return rt;
  }

  latest(rt: RuntimeRecord): RuntimeVersion {
    return rt.versions[rt.versions.length - 1];
  }

  private imageFailing(config: RuntimeConfig, settlesAt: number): string | undefined {
    const artifact = config.agentRuntimeArtifact as { containerConfiguration?: { containerUri?: string } } | undefined;
    const uri = artifact?.containerConfiguration?.containerUri;
    if (!uri) return undefined;
    for (const [pattern, markedAt] of this.failingImages) {
      if (markedAt > settlesAt) continue;
      if (pattern === uri || (pattern.includes('*') && globToRegExp(pattern).test(uri))) {
        return `Container image failed health checks: ${uri}`;
      }
    }
    return undefined;
  }

  versionStatus(v: RuntimeVersion): RuntimeStatus {
    if (this.now() < v.settlesAt) return v.kind === 'create' ? 'CREATING' : 'UPDATING';
    if (!v.outcome) {
      const reason = this.imageFailing(v.config, v.settlesAt);
      v.outcome = reason ? { ok: false, reason } : { ok: true };
    }
    if (v.outcome.ok) return 'READY';
    return v.kind === 'create' ? 'CREATE_FAILED' : 'UPDATE_FAILED';
  }

  runtimeStatus(rt: RuntimeRecord): RuntimeStatus {
    if (rt.deleteAt !== undefined) return 'DELETING';
    return this.versionStatus(this.latest(rt));
  }

  private failureReason(v: RuntimeVersion): string | undefined {
    this.versionStatus(v);
    return v.outcome && !v.outcome.ok ? v.outcome.reason : undefined;
  }

  private settledAt(v: RuntimeVersion): number {
    return this.now() >= v.settlesAt ? v.settlesAt : v.createdAt;
  }

  /** GetAgentRuntime output for the latest version or `version`. */
  runtimeView(rt: RuntimeRecord, version?: number): Json {
    const v = version === undefined ? this.latest(rt) : rt.versions.find((x) => x.version === version);
    if (!v) throw errors.notFound(`Version ${version} of runtime ${rt.id} not found`);
    const status = rt.deleteAt !== undefined ? 'DELETING' : this.versionStatus(v);
    return compact({
      agentRuntimeArn: rt.arn,
      agentRuntimeName: rt.name,
      agentRuntimeId: rt.id,
      agentRuntimeVersion: String(v.version),
      createdAt: iso(rt.createdAt),
      lastUpdatedAt: iso(this.settledAt(v)),
      ...clone(v.config),
      status,
      failureReason: this.failureReason(v),
      workloadIdentityDetails: { workloadIdentityArn: rt.workloadIdentityArn },
    });
  }

  /** One AgentRuntime list item. */
  runtimeSummary(rt: RuntimeRecord, v: RuntimeVersion = this.latest(rt)): Json {
    return compact({
      agentRuntimeArn: rt.arn,
      agentRuntimeId: rt.id,
      agentRuntimeVersion: String(v.version),
      agentRuntimeName: rt.name,
      description: v.config.description as string | undefined,
      lastUpdatedAt: iso(this.settledAt(v)),
      status: rt.deleteAt !== undefined ? 'DELETING' : this.versionStatus(v),
    });
  }

  listRuntimes(): RuntimeRecord[] {
    return [...this.runtimes.keys()].map((id) => this.findRuntime(id)).filter((r): r is RuntimeRecord => !!r);
  }

  // --- runtimes: writes ------------------------------------------------------------------------

  /** Normalises a runtime configuration as the service stores it (full replacement + defaults). */
  static runtimeConfig(input: Json): RuntimeConfig {
    const config: Json = {};
    for (const k of RUNTIME_CONFIG_KEYS) if (input[k] !== undefined) config[k] = clone(input[k]);
    const lc = (config.lifecycleConfiguration ?? {}) as Json;
    config.lifecycleConfiguration = { ...LIFECYCLE_DEFAULTS, ...compact({ ...lc }) };
    return config as RuntimeConfig;
  }

  private checkLifecycle(config: RuntimeConfig): void {
    const lc = config.lifecycleConfiguration as { idleRuntimeSessionTimeout: number; maxLifetime: number };
    if (lc.idleRuntimeSessionTimeout > lc.maxLifetime) {
      throw errors.fields([{ name: 'lifecycleConfiguration.idleRuntimeSessionTimeout', message: 'must not be greater than maxLifetime' }]);
    }
  }

  createRuntime(input: Json): Json {
    const name = input.agentRuntimeName as string;
    if (this.listRuntimes().some((r) => r.name === name)) throw errors.conflict(`A runtime named ${name} already exists`);
    if (this.listRuntimes().length >= this.settings.limits.runtimes) throw errors.quota('Maximum number of agent runtimes reached');
    const config = AgentCoreState.runtimeConfig(input);
    this.checkLifecycle(config);
    const now = this.now();
    const rt = this.addRuntime({ name, config, createdAt: now, settlesAt: now + this.settings.delays.runtimeCreate });
    this.wakeAt(now + this.settings.delays.runtimeCreate);
    if (input.tags) this.tags.set(rt.arn, { ...(input.tags as Record<string, string>) });
    const v = this.latest(rt);
    return compact({
      agentRuntimeArn: rt.arn,
      agentRuntimeId: rt.id,
      agentRuntimeVersion: String(v.version),
      createdAt: iso(rt.createdAt),
      status: this.versionStatus(v),
      workloadIdentityDetails: { workloadIdentityArn: rt.workloadIdentityArn },
    });
  }

  /** Inserts a runtime (create or seed). Seeds pass explicit ids and several versions. */
  addRuntime(opts: {
    name: string; id?: string; config: RuntimeConfig; createdAt: number; settlesAt: number;
    extraVersions?: RuntimeConfig[];
  }): RuntimeRecord {
    const id = opts.id ?? `${opts.name}-${this.randomString(10)}`;
    if (this.runtimes.has(id)) throw errors.conflict(`Runtime ${id} already exists`);
    const rt: RuntimeRecord = {
      id,
      name: opts.name,
      arn: this.runtimeArn(id),
      createdAt: opts.createdAt,
      workloadIdentityArn: this.workloadIdentityArn(opts.name),
      versions: [{ version: 1, config: opts.config, kind: 'create', createdAt: opts.createdAt, settlesAt: opts.settlesAt }],
      defaultEndpointId: `DEFAULT-${this.randomString(10)}`,
      endpoints: new Map(),
    };
    for (const config of opts.extraVersions ?? []) {
      rt.versions.push({ version: rt.versions.length + 1, config, kind: 'update', createdAt: opts.createdAt, settlesAt: opts.settlesAt });
    }
    this.runtimes.set(id, rt);
    return rt;
  }

  private assertSettled(rt: RuntimeRecord): void {
    const status = this.runtimeStatus(rt);
    if (status === 'CREATING' || status === 'UPDATING' || status === 'DELETING') {
      throw errors.conflict(`Runtime ${rt.id} is ${status}; wait until it settles before changing it`);
    }
  }

  updateRuntime(id: string, input: Json): Json {
    const rt = this.getRuntime(id);
    this.assertSettled(rt);
    if (rt.versions.length >= this.settings.limits.versionsPerRuntime) throw errors.quota(`Maximum number of versions reached for runtime ${id}`);
    const config = AgentCoreState.runtimeConfig(input);
    this.checkLifecycle(config);
    const now = this.now();
    const v: RuntimeVersion = {
      version: this.latest(rt).version + 1, config, kind: 'update', createdAt: now, settlesAt: now + this.settings.delays.runtimeUpdate,
    };
    rt.versions.push(v);
    this.wakeAt(v.settlesAt);
    return compact({
      agentRuntimeArn: rt.arn,
      agentRuntimeId: rt.id,
      agentRuntimeVersion: String(v.version),
      createdAt: iso(rt.createdAt),
      lastUpdatedAt: iso(now),
      status: this.versionStatus(v),
      workloadIdentityDetails: { workloadIdentityArn: rt.workloadIdentityArn },
    });
  }

  deleteRuntime(id: string, version?: number): Json {
    const rt = this.getRuntime(id);
    if (rt.deleteAt !== undefined) throw errors.conflict(`Runtime ${id} is already being deleted`);
    if (version !== undefined) {
      const i = rt.versions.findIndex((v) => v.version === version);
      if (i < 0) throw errors.notFound(`Version ${version} of runtime ${id} not found`);
      if (i === rt.versions.length - 1) throw errors.conflict(`Version ${version} is the latest version of runtime ${id}`);
      for (const ep of this.liveEndpoints(rt)) {
        const view = this.endpointState(rt, ep);
        if (view.liveVersion === version || view.targetVersion === version) {
          throw errors.conflict(`Version ${version} is referenced by endpoint ${ep.name}`);
        }
      }
      rt.versions.splice(i, 1);
      return { status: this.runtimeStatus(rt), agentRuntimeId: rt.id, agentRuntimeVersion: String(version) };
    }
    const status = this.runtimeStatus(rt);
    if (status === 'CREATING' || status === 'UPDATING') throw errors.conflict(`Runtime ${id} is ${status}`);
    rt.deleteAt = this.now() + this.settings.delays.runtimeDelete;
    this.wakeAt(rt.deleteAt);
    return { status: 'DELETING', agentRuntimeId: rt.id };
  }

  // --- endpoints -------------------------------------------------------------------------------

  private liveEndpoints(rt: RuntimeRecord): EndpointRecord[] {
    const out: EndpointRecord[] = [];
    for (const [name, ep] of rt.endpoints) {
      if (this.isGone(ep.deleteAt)) { rt.endpoints.delete(name); this.tags.delete(ep.arn); continue; }
      out.push(ep);
    }
    return out;
  }

  findEndpoint(rt: RuntimeRecord, name: string): EndpointRecord | undefined {
    return this.liveEndpoints(rt).find((e) => e.name === name);
  }

  /** Status, live and target versions of a named endpoint (settles a finished move). */
  private endpointState(rt: RuntimeRecord, ep: EndpointRecord): {
    status: RuntimeStatus; liveVersion?: number; targetVersion?: number; failureReason?: string; lastUpdatedAt: number;
  } {
    if (ep.deleteAt !== undefined) return { status: 'DELETING', liveVersion: ep.liveVersion, targetVersion: ep.liveVersion, lastUpdatedAt: ep.createdAt };
    const move = ep.move;
    if (!move) return { status: 'READY', liveVersion: ep.liveVersion, targetVersion: ep.liveVersion, lastUpdatedAt: ep.createdAt };
    if (this.now() < move.settlesAt) {
      return { status: move.kind === 'create' ? 'CREATING' : 'UPDATING', liveVersion: ep.liveVersion, targetVersion: move.target, lastUpdatedAt: move.startedAt };
    }
    if (!move.outcome) {
      const target = rt.versions.find((v) => v.version === move.target);
      const vs = target ? this.versionStatus(target) : 'DELETED';
      if (vs === 'READY') {
        move.outcome = { ok: true };
        ep.liveVersion = move.target;
      } else {
        const why = target ? this.failureReason(target) ?? vs : 'version deleted';
        move.outcome = { ok: false, reason: `Version ${move.target} could not be deployed: ${why}` };
      }
    }
    if (move.outcome.ok) return { status: 'READY', liveVersion: ep.liveVersion, targetVersion: ep.liveVersion, lastUpdatedAt: move.settlesAt };
    return {
      status: move.kind === 'create' ? 'CREATE_FAILED' : 'UPDATE_FAILED',
      liveVersion: ep.liveVersion,
      targetVersion: move.target,
      failureReason: move.outcome.reason,
      lastUpdatedAt: move.settlesAt,
    };
  }

  /** The DEFAULT endpoint, derived from the runtime's versions. */
  private defaultEndpointState(rt: RuntimeRecord): ReturnType<AgentCoreState['endpointState']> {
    const latest = this.latest(rt);
    const status = rt.deleteAt !== undefined ? 'DELETING' : this.versionStatus(latest);
    let live: RuntimeVersion | undefined;
    for (let i = rt.versions.length - 1; i >= 0; i--) {
      if (this.versionStatus(rt.versions[i]) === 'READY') { live = rt.versions[i]; break; }
    }
    return {
      status,
      liveVersion: live?.version,
      targetVersion: latest.version,
      failureReason: this.failureReason(latest),
      lastUpdatedAt: this.settledAt(latest),
    };
  }

  endpointView(rt: RuntimeRecord, name: string): Json {
    let s: ReturnType<AgentCoreState['endpointState']>;
    let base: { id: string; arn: string; createdAt: number; description?: string };
    if (name === 'DEFAULT') {
      s = this.defaultEndpointState(rt);
      base = { id: rt.defaultEndpointId, arn: this.endpointArn(rt.id, 'DEFAULT'), createdAt: rt.createdAt };
    } else {
      const ep = this.findEndpoint(rt, name);
      if (!ep) throw errors.notFound(`Endpoint ${name} of runtime ${rt.id} not found`);
      s = this.endpointState(rt, ep);
      base = ep;
    }
    return compact({
      name,
      liveVersion: s.liveVersion === undefined ? undefined : String(s.liveVersion),
      targetVersion: s.targetVersion === undefined ? undefined : String(s.targetVersion),
      agentRuntimeEndpointArn: base.arn,
      agentRuntimeArn: rt.arn,
      description: base.description,
      status: s.status,
      id: base.id,
      createdAt: iso(base.createdAt),
      lastUpdatedAt: iso(s.lastUpdatedAt),
      failureReason: s.failureReason,
    });
  }

  endpointNames(rt: RuntimeRecord): string[] {
    return ['DEFAULT', ...this.liveEndpoints(rt).map((e) => e.name)];
  }

  private resolveVersion(rt: RuntimeRecord, version: string | undefined): RuntimeVersion {
    if (version === undefined) return this.latest(rt);
    const v = rt.versions.find((x) => x.version === Number(version));
    if (!v) throw errors.notFound(`Version ${version} of runtime ${rt.id} not found`);
    return v;
  }

  createEndpoint(runtimeId: string, input: Json): Json {
    const rt = this.getRuntime(runtimeId);
    const name = input.name as string;
    if (name === 'DEFAULT' || this.findEndpoint(rt, name)) throw errors.conflict(`Endpoint ${name} already exists on runtime ${rt.id}`);
    if (rt.deleteAt !== undefined) throw errors.conflict(`Runtime ${rt.id} is being deleted`);
    if (this.liveEndpoints(rt).length >= this.settings.limits.endpointsPerRuntime) throw errors.quota(`Maximum number of endpoints reached for runtime ${rt.id}`);
    const v = this.resolveVersion(rt, input.agentRuntimeVersion as string | undefined);
    const now = this.now();
    const ep = this.addEndpoint(rt, { name, description: input.description as string | undefined, createdAt: now });
    ep.move = { kind: 'create', target: v.version, startedAt: now, settlesAt: Math.max(now + this.settings.delays.endpointCreate, v.settlesAt) };
    this.wakeAt(ep.move.settlesAt);
    if (input.tags) this.tags.set(ep.arn, { ...(input.tags as Record<string, string>) });
    const s = this.endpointState(rt, ep);
    return compact({
      targetVersion: String(v.version),
      agentRuntimeEndpointArn: ep.arn,
      agentRuntimeArn: rt.arn,
      agentRuntimeId: rt.id,
      endpointName: name,
      status: s.status,
      createdAt: iso(now),
    });
  }

  /** Inserts a named endpoint (create or seed). */
  addEndpoint(rt: RuntimeRecord, opts: { name: string; description?: string; createdAt: number; liveVersion?: number }): EndpointRecord {
    const ep: EndpointRecord = {
      name: opts.name,
      id: `${opts.name}-${this.randomString(10)}`,
      arn: this.endpointArn(rt.id, opts.name),
      createdAt: opts.createdAt,
      description: opts.description,
      liveVersion: opts.liveVersion,
    };
    rt.endpoints.set(opts.name, ep);
    return ep;
  }

  updateEndpoint(runtimeId: string, name: string, input: Json): Json {
    const rt = this.getRuntime(runtimeId);
    if (name === 'DEFAULT') {
      throw errors.validation('The DEFAULT endpoint always follows the latest version and cannot be updated', 'FieldValidationFailed', [
        { name: 'endpointName', message: 'DEFAULT cannot be updated' },
      ]);
    }
    const ep = this.findEndpoint(rt, name);
    if (!ep) throw errors.notFound(`Endpoint ${name} of runtime ${rt.id} not found`);
    const s = this.endpointState(rt, ep);
    if (s.status === 'CREATING' || s.status === 'UPDATING' || s.status === 'DELETING') {
      throw errors.conflict(`Endpoint ${name} of runtime ${rt.id} is ${s.status}`);
    }
    // An omitted agentRuntimeVersion keeps the endpoint on its current version (or retries the
    // failed target); the description is replaced like every other update.
    const targetVersion = (input.agentRuntimeVersion as string | undefined) ?? String(s.liveVersion ?? s.targetVersion);
    const v = this.resolveVersion(rt, targetVersion);
    const now = this.now();
    ep.description = input.description as string | undefined;
    ep.move = { kind: 'update', target: v.version, startedAt: now, settlesAt: Math.max(now + this.settings.delays.endpointUpdate, v.settlesAt) };
    this.wakeAt(ep.move.settlesAt);
    const after = this.endpointState(rt, ep);
    return compact({
      liveVersion: after.liveVersion === undefined ? undefined : String(after.liveVersion),
      targetVersion: String(v.version),
      agentRuntimeEndpointArn: ep.arn,
      agentRuntimeArn: rt.arn,
      status: after.status,
      createdAt: iso(ep.createdAt),
      lastUpdatedAt: iso(now),
    });
  }

  deleteEndpoint(runtimeId: string, name: string): Json {
    const rt = this.getRuntime(runtimeId);
    if (name === 'DEFAULT') throw errors.validation('The DEFAULT endpoint cannot be deleted', 'FieldValidationFailed', [{ name: 'endpointName', message: 'DEFAULT cannot be deleted' }]);
    const ep = this.findEndpoint(rt, name);
    if (!ep) throw errors.notFound(`Endpoint ${name} of runtime ${rt.id} not found`);
    const s = this.endpointState(rt, ep);
    if (s.status === 'CREATING' || s.status === 'UPDATING' || s.status === 'DELETING') throw errors.conflict(`Endpoint ${name} is ${s.status}`);
    ep.deleteAt = this.now() + this.settings.delays.endpointDelete;
    this.wakeAt(ep.deleteAt);
    return { status: 'DELETING', agentRuntimeId: rt.id, endpointName: name };
  }

  // --- policy engines --------------------------------------------------------------------------

  policyEngineStatus(pe: PolicyEngineRecord): PolicyEngineStatus {
    return this.now() < pe.settlesAt ? 'CREATING' : 'ACTIVE';
  }

  policyEngineView(pe: PolicyEngineRecord): Json {
    const status = this.policyEngineStatus(pe);
    return compact({
      policyEngineId: pe.id,
      name: pe.name,
      createdAt: iso(pe.createdAt),
      updatedAt: iso(status === 'ACTIVE' ? pe.settlesAt : pe.createdAt),
      policyEngineArn: pe.arn,
      status,
      encryptionKeyArn: pe.encryptionKeyArn,
      description: pe.description,
      statusReasons: [],
    });
  }

  getPolicyEngine(id: string): PolicyEngineRecord {
    const pe = this.policyEngines.get(id);
    if (!pe) throw errors.notFound(`Policy engine ${id} not found`);
    return pe;
  }

  addPolicyEngine(opts: { name: string; id?: string; description?: string; encryptionKeyArn?: string; createdAt: number; settlesAt: number }): PolicyEngineRecord {
    const id = opts.id ?? `${opts.name}-${this.randomString(10, LOWER_ALNUM)}`;
    if (this.policyEngines.has(id)) throw errors.conflict(`Policy engine ${id} already exists`);
    const pe: PolicyEngineRecord = {
      id, name: opts.name, arn: this.policyEngineArn(id), description: opts.description,
      encryptionKeyArn: opts.encryptionKeyArn, createdAt: opts.createdAt, settlesAt: opts.settlesAt,
    };
    this.policyEngines.set(id, pe);
    return pe;
  }

  createPolicyEngine(input: Json): Json {
    const name = input.name as string;
    if ([...this.policyEngines.values()].some((p) => p.name === name)) throw errors.conflict(`A policy engine named ${name} already exists`);
    if (this.policyEngines.size >= this.settings.limits.policyEngines) throw errors.quota('Maximum number of policy engines reached');
    const now = this.now();
    const pe = this.addPolicyEngine({
      name, description: input.description as string | undefined, encryptionKeyArn: input.encryptionKeyArn as string | undefined,
      createdAt: now, settlesAt: now + this.settings.delays.policyEngineCreate,
    });
    this.wakeAt(pe.settlesAt);
    if (input.tags) this.tags.set(pe.arn, { ...(input.tags as Record<string, string>) });
    return this.policyEngineView(pe);
  }

  // --- gateways --------------------------------------------------------------------------------

  findGateway(id: string): GatewayRecord | undefined {
    const gw = this.gateways.get(id);
    if (!gw) return undefined;
    if (this.isGone(gw.deleteAt)) { this.gateways.delete(id); this.tags.delete(gw.arn); return undefined; }
    return gw;
  }

  getGateway(id: string): GatewayRecord {
    const gw = this.findGateway(id);
    if (!gw) throw errors.notFound(`Gateway ${id} not found`);
    return gw;
  }

  listGateways(): GatewayRecord[] {
    return [...this.gateways.keys()].map((id) => this.findGateway(id)).filter((g): g is GatewayRecord => !!g);
  }

  gatewayStatus(gw: GatewayRecord): GatewayStatus {
    if (gw.deleteAt !== undefined) return 'DELETING';
    const c = gw.change;
    if (this.now() < c.settlesAt) return c.kind === 'create' ? 'CREATING' : 'UPDATING';
    if (c.failure) return c.kind === 'create' ? 'FAILED' : 'UPDATE_UNSUCCESSFUL';
    return 'READY';
  }

  gatewayView(gw: GatewayRecord): Json {
    const status = this.gatewayStatus(gw);
    const settled = status !== 'CREATING' && status !== 'UPDATING';
    return compact({
      gatewayArn: gw.arn,
      gatewayId: gw.id,
      gatewayUrl: gw.url,
      createdAt: iso(gw.createdAt),
      updatedAt: iso(settled ? gw.change.settlesAt : gw.change.startedAt),
      status,
      statusReasons: settled && gw.change.failure ? [...gw.change.failure] : undefined,
      name: gw.name,
      ...clone(gw.config),
      workloadIdentityDetails: { workloadIdentityArn: gw.workloadIdentityArn },
      webAclArn: gw.webAclArn,
    });
  }

  gatewaySummary(gw: GatewayRecord): Json {
    const v = this.gatewayView(gw);
    return compact({
      gatewayId: gw.id, name: gw.name, status: v.status, description: gw.config.description as string | undefined,
      createdAt: v.createdAt, updatedAt: v.updatedAt, authorizerType: gw.config.authorizerType,
      protocolType: gw.config.protocolType as string | undefined,
    });
  }

  static gatewayConfig(input: Json): GatewayConfig {
    const config: Json = {};
    for (const k of GATEWAY_CONFIG_KEYS) if (input[k] !== undefined) config[k] = clone(input[k]);
    return config as GatewayConfig;
  }

  /** Cross-field checks the model cannot express. */
  private checkGatewayConfig(config: GatewayConfig): void {
    const issues: FieldIssue[] = [];
    if (config.authorizerType === 'CUSTOM_JWT' && !config.authorizerConfiguration) {
      issues.push({ name: 'authorizerConfiguration', message: 'is required when authorizerType is CUSTOM_JWT' });
    }
    const pe = config.policyEngineConfiguration;
    if (pe) {
      const engine = [...this.policyEngines.values()].find((p) => p.arn === pe.arn);
      if (!engine) issues.push({ name: 'policyEngineConfiguration.arn', message: 'does not refer to an existing policy engine' });
      else if (this.policyEngineStatus(engine) !== 'ACTIVE') issues.push({ name: 'policyEngineConfiguration.arn', message: 'refers to a policy engine that is not ACTIVE' });
    }
    if (issues.length) throw errors.fields(issues);
  }

  addGateway(opts: {
    name: string; id?: string; config: GatewayConfig; createdAt: number; settlesAt: number; webAclArn?: string; failure?: string[];
  }): GatewayRecord {
    const id = opts.id ?? `${opts.name.toLowerCase()}-${this.randomString(10, LOWER_ALNUM)}`;
    if (this.gateways.has(id)) throw errors.conflict(`Gateway ${id} already exists`);
    const gw: GatewayRecord = {
      id, name: opts.name, arn: this.gatewayArn(id), url: this.gatewayUrl(id), createdAt: opts.createdAt,
      workloadIdentityArn: this.workloadIdentityArn(opts.name), webAclArn: opts.webAclArn, config: opts.config,
      change: { kind: 'create', startedAt: opts.createdAt, settlesAt: opts.settlesAt, failure: opts.failure },
      enforcement: opts.failure ? [] : [{ at: opts.settlesAt, config: clone(opts.config.policyEngineConfiguration) ?? null }],
    };
    this.gateways.set(id, gw);
    return gw;
  }

  createGateway(input: Json): Json {
    const name = input.name as string;
    if (this.listGateways().some((g) => g.name === name)) throw errors.conflict(`A gateway named ${name} already exists`);
    if (this.listGateways().length >= this.settings.limits.gateways) throw errors.quota('Maximum number of gateways reached');
    const config = AgentCoreState.gatewayConfig(input);
    this.checkGatewayConfig(config);
    const now = this.now();
    const gw = this.addGateway({ name, config, createdAt: now, settlesAt: now + this.settings.delays.gatewayCreate });
    this.wakeAt(now + this.settings.delays.gatewayCreate);
    if (input.tags) this.tags.set(gw.arn, { ...(input.tags as Record<string, string>) });
    return this.gatewayView(gw);
  }

  private gatewayFailure(gw: GatewayRecord, config: GatewayConfig): string[] | undefined {
    for (const rule of this.gatewayFailRules) {
      if (!rule.gateway.test(gw.id)) continue;
      if (rule.remaining !== undefined) {
        if (rule.remaining <= 0) continue;
        rule.remaining--;
        return rule.reasons ?? ['The gateway update could not be applied'];
      }
      const verdict = rule.predicate?.(clone(config), gw.id);
      if (verdict) return Array.isArray(verdict) ? verdict : rule.reasons ?? ['The gateway update could not be applied'];
    }
    return undefined;
  }

  updateGateway(id: string, input: Json): Json {
    const gw = this.getGateway(id);
    const status = this.gatewayStatus(gw);
    if (status === 'CREATING' || status === 'UPDATING' || status === 'DELETING') {
      throw errors.conflict(`Gateway ${id} is ${status}; wait until it settles before changing it`);
    }
    if (input.name !== gw.name) {
      throw errors.fields([{ name: 'name', message: 'must be the same as the name the gateway was created with' }]);
    }
    const config = AgentCoreState.gatewayConfig(input);
    this.checkGatewayConfig(config);
    if (config.policyEngineConfiguration) {
      // policy-permissions: "attaching a policy engine to an existing gateway will result in
      // InternalServerException" when the execution role lacks the Policy actions; the message is
      // the one reported from live accounts (agentcore-policy.md section 3).
      const missing = [...(this.rolesMissingPolicyActions.get(String(config.roleArn)) ?? [])];
      if (missing.some((a) => a === 'AuthorizeAction' || a === 'PartiallyAuthorizeActions')) {
        throw errors.internal('Policy evaluation failed');
      }
    }
    const now = this.now();
    gw.config = config;
    gw.change = { kind: 'update', startedAt: now, settlesAt: now + this.settings.delays.gatewayUpdate, failure: this.gatewayFailure(gw, config) };
    // The new engine configuration decides traffic once the update settles (undocumented: a
    // failed update leaves the previous one in force).
    if (!gw.change.failure) gw.enforcement.push({ at: gw.change.settlesAt, config: clone(config.policyEngineConfiguration) ?? null });
    this.wakeAt(gw.change.settlesAt);
    return this.gatewayView(gw);
  }

  deleteGateway(id: string): Json {
    const gw = this.getGateway(id);
    const status = this.gatewayStatus(gw);
    if (status === 'CREATING' || status === 'UPDATING' || status === 'DELETING') throw errors.conflict(`Gateway ${id} is ${status}`);
    gw.deleteAt = this.now() + this.settings.delays.gatewayDelete;
    this.wakeAt(gw.deleteAt);
    return { gatewayId: gw.id, status: 'DELETING' };
  }

  // --- tags ------------------------------------------------------------------------------------

  /** True when `arn` names a live runtime, endpoint, gateway or policy engine of this store. */
  resourceExists(arn: string): boolean {
    const m = /^arn:[^:]*:bedrock-agentcore:([^:]+):([0-9]{12}):(runtime|gateway|policy-engine)\/([^/]+)(?:\/runtime-endpoint\/([^/]+))?$/.exec(arn);
    if (!m || m[1] !== this.settings.region || m[2] !== this.settings.account) return false;
    const [, , , kind, id, endpoint] = m;
    if (kind === 'runtime') {
      const rt = this.findRuntime(id);
      if (!rt) return false;
      return endpoint === undefined || endpoint === 'DEFAULT' || !!this.findEndpoint(rt, endpoint);
    }
    if (endpoint !== undefined) return false;
    if (kind === 'gateway') return !!this.findGateway(id);
    return this.policyEngines.has(id);
  }

  private taggable(arn: string): void {
    if (!this.resourceExists(arn)) throw errors.notFound(`Resource ${arn} not found`);
  }

  tagResource(arn: string, tags: Record<string, string>): void {
    this.taggable(arn);
    const merged = { ...this.tags.get(arn), ...tags };
    if (Object.keys(merged).length > 50) throw errors.fields([{ name: 'tags', message: 'a resource can have at most 50 tags' }]);
    this.tags.set(arn, merged);
  }

  untagResource(arn: string, keys: string[]): void {
    this.taggable(arn);
    const current = { ...this.tags.get(arn) };
    for (const k of keys) delete current[k];
    this.tags.set(arn, current);
  }

  listTags(arn: string): Record<string, string> {
    this.taggable(arn);
    return { ...this.tags.get(arn) };
  }
}
