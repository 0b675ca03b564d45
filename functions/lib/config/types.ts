/**
 * The desired-state configuration as the jobs see it: parsed, validated and with every default
 * applied. Past the loader these types are trusted.
 */
import type { UpdateAgentRuntimeRequest, UpdateGatewayRequest } from '@aws-sdk/client-bedrock-agentcore-control';

/** What drift does with a difference: report it, or correct it (correction is opt-in). */
export type DriftMode = 'report' | 'correct';
/** Per-resource drift mode; `ignore` leaves the resource out of drift entirely. */
export type ResourceDriftMode = DriftMode | 'ignore';
export type Weekday = 'Mon' | 'Tue' | 'Wed' | 'Thu' | 'Fri' | 'Sat' | 'Sun';
export type PolicyEngineMode = 'ENFORCE' | 'LOG_ONLY';
/** What drift does when a gateway's engine mode was relaxed behind its back. */
export type TamperResponse = 'rollout' | 'restore';
export type MetricComparison =
  | 'GreaterThanOrEqualToThreshold'
  | 'GreaterThanThreshold'
  | 'LessThanThreshold'
  | 'LessThanOrEqualToThreshold';

/** Any subset of the UpdateAgentRuntime input, minus the identifier and the idempotency token. */
export type RuntimeDesired = Partial<Omit<UpdateAgentRuntimeRequest, 'agentRuntimeId' | 'clientToken'>>;
/** Any subset of the UpdateGateway input, minus the identifier, the (immutable) name and the policy engine. */
export type GatewayDesired = Partial<Omit<UpdateGatewayRequest, 'gatewayIdentifier' | 'name' | 'policyEngineConfiguration'>>;

/** Exactly one of `id` or `name` (a name is resolved through the List operation). */
export type ResourceRef = { id: string; name?: undefined } | { id?: undefined; name: string };

/** Which pushed tags a runtime follows; `kind` names the one key that was set. */
export type TagPolicy =
  /** One tag, e.g. latest (at most 128 characters). */
  | { kind: 'exact'; exact: string }
  /** A semver range (npm semver syntax), e.g. ^1.2.0; matched against semver tags (1.2.3, v1.2.3). */
  | { kind: 'semver'; semver: string }
  /** Whole-tag glob: `*` any run, `?` one character, `[a-z]` / `[!a-z]` classes, `\x` a literal x. */
  | { kind: 'glob'; glob: string }
  /** A JavaScript regular expression matched against the whole tag (`^(?:...)$`, flag `u`). */
  | { kind: 'regex'; regex: string };

/** Registries whose pushes may redeploy. An empty list means: the account (or region) autopilot runs in. */
export interface RegistryScope {
  accounts: string[];
  regions: string[];
}

export interface PromoteSettings {
  /** Named endpoints moved to the new version once it is READY (never DEFAULT, which moves by itself). */
  endpoints: string[];
  /** CloudWatch alarms that must be OK before promoting. */
  alarms: string[];
  /** Roll the runtime artifact back to the previous image when promotion fails. */
  rollbackOnFailure: boolean;
  timeoutMinutes: number;
}

export interface TrackRule {
  /** ECR repository name (without registry host). */
  repository: string;
  tagPolicy: TagPolicy;
  registry: RegistryScope;
  /** Keep the tag in the pinned containerUri (`repo:tag@sha256:...`) instead of `repo@sha256:...`. */
  keepTag: boolean;
  promote?: PromoteSettings;
}

export type RuntimeSpec = ResourceRef & {
  /** Effective drift mode: the resource's override, else `drift.mode`. */
  drift: ResourceDriftMode;
  /** JSON pointers into `desired` that drift does not compare (in addition to `drift.ignore`). */
  ignore: string[];
  desired: RuntimeDesired;
  track?: TrackRule;
};

/** A user-defined CloudWatch gate evaluated during a policy rollout. */
export interface MetricGate {
  /** GetMetricData query id: starts with a lowercase letter. Unique within its rollout. */
  id: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  /** Statistic or extended statistic: Average, Sum, Minimum, Maximum, SampleCount, IQM, p99, tm90, ... */
  stat: string;
  threshold: number;
  /** The gate passes when `value <comparison> threshold` holds. */
  comparison: MetricComparison;
  periodSeconds: number;
}

export interface ApprovalSettings {
  required: boolean;
  timeoutMinutes: number;
}

/** Settings of a staged LOG_ONLY -> ENFORCE policy rollout. */
export interface RolloutSettings {
  /** Shadow (LOG_ONLY) bake before the verify, minutes; also the dry run's look-back window. */
  bakeMinutes: number;
  /** Bake after switching to ENFORCE before the post-enforce verify. */
  enforceBakeMinutes: number;
  /** Highest acceptable ratio of DENY decisions during the shadow bake, in [0, 1]. */
  maxDenyRatio: number;
  maxMismatchErrors: number;
  maxNoDeterminingPolicies: number;
  /** Below this many decisions the verify is INCONCLUSIVE (the bake is extended). */
  minDecisions: number;
  /** How many times an INCONCLUSIVE bake is extended (by one more bake each) before stopping. */
  maxBakeExtensions: number;
  /** The post-enforce deny ratio may be at most this multiple of the shadow baseline (>= 1). */
  maxDenySpikeRatio: number;
  maxSystemErrors: number;
  /** How long a gateway update may take to reach READY. */
  readyTimeoutMinutes: number;
  /** CloudWatch alarm names that must all be in state OK. */
  alarms: string[];
  metrics: MetricGate[];
  approval: ApprovalSettings;
  /**
   * The dimension set each policy gate reads (functions/domain/rollout/projections.ts); only what
   * is set replaces the default. Placeholders: {gatewayId} {gatewayArn} {policyEngineId}
   * {policyEngineArn} {mode}.
   */
  projections: MetricProjections;
}

/** Dimension templates of the policy metrics a rollout reads (any subset; defaults elsewhere). */
export interface MetricProjections {
  decisions?: Record<string, string>;
  mismatch?: Record<string, string>;
  toolList?: Record<string, string>;
}

export interface PolicyEngineSpec {
  arn: string;
  /** Declared target mode of the gateway's policy engine configuration. */
  mode: PolicyEngineMode;
  tamperResponse: TamperResponse;
  rollout: RolloutSettings;
}

export type GatewaySpec = ResourceRef & {
  /** Effective drift mode: the resource's override, else `drift.mode`. */
  drift: ResourceDriftMode;
  ignore: string[];
  desired: GatewayDesired;
  policyEngine?: PolicyEngineSpec;
};

/** Outside this window drift only reports. `end` before `start` spans midnight; `end` may be 24:00. */
export interface ChangeWindow {
  days: Weekday[];
  /** HH:MM */
  start: string;
  /** HH:MM */
  end: string;
  /** IANA time zone name. */
  timezone: string;
}

export interface DriftSettings {
  mode: DriftMode;
  /** EventBridge schedule expression: rate(...) or cron(...). */
  schedule: string;
  /** JSON pointers ignored for every resource. */
  ignore: string[];
  /** Resource ids or names drift never touches. */
  exclude: string[];
  maxCorrectionsPerRun: number;
  /** Stop applying when failures / attempts exceed this ratio, in [0, 1]. */
  maxErrorRatio: number;
  concurrency: number;
  changeWindow?: ChangeWindow;
}

export interface RedeploySettings {
  concurrency: number;
}

/** Where outcome events are published. */
export interface EventsSettings {
  busName: string;
  source: string;
}

/** Live members the bundled AgentCore model does not know that an operator checked to be read-only. */
export interface UnknownMembersSettings {
  acknowledged: { runtime: string[]; gateway: string[] };
}

export interface Config {
  version: 1;
  events: EventsSettings;
  runtimes: RuntimeSpec[];
  gateways: GatewaySpec[];
  drift: DriftSettings;
  redeploy: RedeploySettings;
  unknownMembers: UnknownMembersSettings;
  /** Cedar policies under declared configuration, per policy engine (policies.ts). */
  policyEngines: PolicyEngineDeclaration[];
}

export type { DeclaredPolicy, PolicyEngineDeclaration, PromotionSettings } from './policies.ts';
import type { PolicyEngineDeclaration } from './policies.ts';
