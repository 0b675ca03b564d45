/**
 * The zod schema of the configuration file: types, enums, ranges, patterns, unknown keys and
 * defaults. Checks that span several keys or resources (exactly one of id|name, duplicates, the
 * model validation of `desired`) live in semantics.ts, which runs on the raw document so that they
 * are reported together with these.
 */
import semver from 'semver';
// The namespace import lets esbuild drop what is not used (`import { z }` keeps every locale: ~370 KiB).
import * as z from 'zod';
import { checkIgnorePointer, type ResourceKind } from './desired.ts';
import { alarmName, checkedString, concurrency, minutes, positiveCount, ratio, uniqueList } from './fields.ts';
import {
  checkAccountId, checkEndpointName, checkEventBus, checkEventSource, checkGatewayId, checkGatewayName, checkImageTag,
  checkPolicyEngineArn, checkRegex, checkRegion, checkRepositoryName, checkRuntimeId, checkRuntimeName,
  checkScheduleExpression, checkSemverRange, checkTagGlob, checkTimeZone,
} from './patterns.ts';
import { rolloutSettingsSchema } from './rollout.ts';
import { policyEngineDeclarationSchema } from './policies.ts';
import { HISTORY_BUDGET, maxPromotionTimeoutMinutes, promotionHistoryBound } from '../step-functions-limits.ts';
import { isModeledPath, LIVE_OUTPUT_SHAPES, MEMBER_PATH_PATTERN, type LiveResourceKind } from '../model/unknown-members.ts';
import { serviceModel } from '../model/service-model.ts';

// The field builders are zod/mini schemas (fields.ts): classic zod's functions wrap them.
const ignoreList = (kinds: ResourceKind[]) =>
  z._default(uniqueList(checkedString((p) => checkIgnorePointer(p, kinds)), 'path'), () => []);

const resourceDrift = z.enum(['report', 'correct', 'ignore']).optional();

// ---- runtimes -----------------------------------------------------------------------------

const tagPolicySchema = z.strictObject({
  exact: z.optional(checkedString(checkImageTag)),
  semver: z.optional(checkedString((v) => checkSemverRange(v, semver.validRange))),
  glob: z.optional(checkedString(checkTagGlob)),
  regex: z.optional(checkedString(checkRegex)),
});

const registrySchema = z.strictObject({
  accounts: z.optional(uniqueList(checkedString(checkAccountId), 'account').check(z.minLength(1))),
  regions: z.optional(uniqueList(checkedString(checkRegion), 'region').check(z.minLength(1))),
});

/** Most named endpoints one promotion moves (each adds two wait loops to its Step Functions history). */
const MAX_PROMOTED_ENDPOINTS = 5;
/** Longest wait of one promotion loop, minutes. */
const MAX_PROMOTE_TIMEOUT_MINUTES = 60;

const promoteSchema = z.strictObject({
  endpoints: uniqueList(
    checkedString((v) => (v === 'DEFAULT'
      ? 'must not be DEFAULT: the DEFAULT endpoint moves to every new version by itself; list named endpoints only'
      : checkEndpointName(v))),
    'endpoint',
  ).check(z.minLength(1), z.maxLength(MAX_PROMOTED_ENDPOINTS, { error: `must have at most ${MAX_PROMOTED_ENDPOINTS} items (each endpoint adds wait loops to the promotion's Step Functions execution)` })),
  alarms: z._default(uniqueList(alarmName(), 'alarm').check(z.maxLength(100, { error: 'must have at most 100 items (DescribeAlarms takes 100 names)' })), () => []),
  rollbackOnFailure: z.boolean().default(true),
  timeoutMinutes: z._default(minutes().check(z.lte(MAX_PROMOTE_TIMEOUT_MINUTES, { error: `must be at most ${MAX_PROMOTE_TIMEOUT_MINUTES} (each wait loop polls the runtime; the promotion's Step Functions history is limited to 25,000 events)` })), 30),
}).superRefine((p, ctx) => {
  // One wait for the new version, then one to move and one to restore each endpoint.
  const max = maxPromotionTimeoutMinutes(p.endpoints.length);
  if (p.timeoutMinutes > max) {
    ctx.addIssue({
      code: 'custom', path: ['timeoutMinutes'],
      message: `must be at most ${max} with ${p.endpoints.length} endpoints: the promotion's Step Functions execution history (25,000 events) must stay under ${HISTORY_BUDGET} events at the longest waits (${promotionHistoryBound(p.endpoints.length, p.timeoutMinutes)} here)`,
    });
  }
});

const trackSchema = z.strictObject({
  repository: checkedString(checkRepositoryName),
  tagPolicy: tagPolicySchema,
  registry: registrySchema.optional(),
  keepTag: z.boolean().default(false),
  promote: promoteSchema.optional(),
});

const runtimeSchema = z.strictObject({
  id: z.optional(checkedString(checkRuntimeId)),
  name: z.optional(checkedString(checkRuntimeName)),
  drift: resourceDrift,
  ignore: ignoreList(['runtime']),
  // Shape-checked against the service model in semantics.ts.
  desired: z.record(z.string(), z.unknown()).default(() => ({})),
  track: trackSchema.optional(),
});

// ---- gateways -----------------------------------------------------------------------------

const policyEngineSchema = z.strictObject({
  arn: checkedString(checkPolicyEngineArn),
  mode: z.enum(['ENFORCE', 'LOG_ONLY']),
  tamperResponse: z.enum(['rollout', 'restore']).default('rollout'),
  rollout: z.prefault(rolloutSettingsSchema, {}),
});

const gatewaySchema = z.strictObject({
  id: z.optional(checkedString(checkGatewayId)),
  name: z.optional(checkedString(checkGatewayName)),
  drift: resourceDrift,
  ignore: ignoreList(['gateway']),
  desired: z.record(z.string(), z.unknown()).default(() => ({})),
  policyEngine: policyEngineSchema.optional(),
});

// ---- drift, redeploy, events --------------------------------------------------------------

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
const hhmm = (allow24: boolean) =>
  checkedString((v) => (/^([01][0-9]|2[0-3]):[0-5][0-9]$/.test(v) || (allow24 && v === '24:00')
    ? undefined
    : `must be a time HH:MM from 00:00 to ${allow24 ? '24:00' : '23:59'} (quote it in YAML)`));

const changeWindowSchema = z.strictObject({
  days: z._default(uniqueList(z.enum(WEEKDAYS), 'day').check(z.minLength(1)), () => [...WEEKDAYS]),
  start: hhmm(false),
  end: hhmm(true),
  timezone: z._default(checkedString(checkTimeZone), 'UTC'),
}).superRefine((w, ctx) => {
  if (w.start === w.end) {
    ctx.addIssue({ code: 'custom', path: ['end'], message: 'must differ from start (an empty window never opens; omit changeWindow to allow changes at any time)' });
  }
});

const driftSchema = z.strictObject({
  mode: z.enum(['report', 'correct']).default('report'),
  schedule: z._default(checkedString(checkScheduleExpression), 'rate(15 minutes)'),
  ignore: ignoreList(['runtime', 'gateway']),
  exclude: z._default(uniqueList(
    checkedString((v) => ([checkRuntimeId, checkRuntimeName, checkGatewayId, checkGatewayName].some((check) => check(v) === undefined)
      ? undefined
      : 'must be a runtime or gateway id or name')),
    'resource',
  ), () => []),
  maxCorrectionsPerRun: z._default(positiveCount(), 10),
  maxErrorRatio: z._default(ratio(), 0.5),
  concurrency: z._default(concurrency(), 4),
  /**
   * At most this many declared resources checked per invocation; the rest continue in the next
   * one (the drift-scan state machine). Default: as many as the invocation's time allows.
   */
  resourcesPerRun: z.optional(positiveCount()),
  changeWindow: changeWindowSchema.optional(),
});

const eventsSchema = z.strictObject({
  busName: z._default(checkedString(checkEventBus), 'default'),
  source: z._default(checkedString(checkEventSource), 'agentcore-autopilot'),
});

const redeploySchema = z.strictObject({
  concurrency: z._default(concurrency(), 4),
});

// ---- unknown members ----------------------------------------------------------------------

const acknowledgedPaths = (kind: LiveResourceKind) =>
  z._default(uniqueList(checkedString((v) => {
    if (!MEMBER_PATH_PATTERN.test(v)) return 'must be a member path such as newField, someConfiguration.newMember, list[].member or map.*.member';
    if (isModeledPath(LIVE_OUTPUT_SHAPES[kind], v)) return `is a member the bundled model knows (${LIVE_OUTPUT_SHAPES[kind]}): there is nothing to acknowledge`;
    return undefined;
  }), 'path'), () => []);

const unknownMembersSchema = z.strictObject({
  // Live members the bundled AgentCore model does not know, checked by an operator to be
  // read-only: their presence no longer stops a write (README, "Limits and known unknowns").
  acknowledged: z.strictObject({
    runtime: acknowledgedPaths('runtime'),
    gateway: acknowledgedPaths('gateway'),
  }).prefault({}),
});

// ---- quotas (client-side pacing) ------------------------------------------------------------

/** AgentCore Control operations of the service model (the keys a quota may name). */
const AGENTCORE_OPERATIONS = new Set(Object.keys(serviceModel.operations));

// Requests per second: positive, at most what any AWS control plane allows.
const requestsPerSecond = () => z.number().positive().max(10_000);

const quotasSchema = z.strictObject({
  /** Fraction of each quota autopilot uses (room for jitter and for the account's other callers). */
  share: z.number().gt(0).max(1).default(0.95),
  /** AgentCore Control requests per second: `default` and/or per operation (Service Quotas "Rate of <Operation> requests"). */
  agentcore: z.record(z.string(), requestsPerSecond()).superRefine((table, ctx) => {
    for (const key of Object.keys(table)) {
      if (key !== 'default' && !AGENTCORE_OPERATIONS.has(key)) {
        ctx.addIssue({ code: 'custom', path: [key], message: `is not an AgentCore Control operation autopilot calls (have: default, ${[...AGENTCORE_OPERATIONS].sort().join(', ')})` });
      }
    }
  }).default(() => ({})),
});

/** The whole file. Its output still has raw resource refs and tag policies; load.ts finalizes them. */
export const configSchema = z.strictObject({
  version: z.literal(1),
  events: eventsSchema.prefault({}),
  runtimes: z.array(runtimeSchema).default(() => []),
  gateways: z.array(gatewaySchema).default(() => []),
  drift: driftSchema.prefault({}),
  redeploy: redeploySchema.prefault({}),
  unknownMembers: unknownMembersSchema.prefault({}),
  // Cedar policies under declared configuration (policies.ts).
  policyEngines: z.array(policyEngineDeclarationSchema).default(() => []),
  quotas: quotasSchema.prefault({}),
});

export type ParsedConfig = z.output<typeof configSchema>;
export type ParsedRuntime = z.output<typeof runtimeSchema>;
export type ParsedGateway = z.output<typeof gatewaySchema>;
export type ParsedTagPolicy = z.output<typeof tagPolicySchema>;
