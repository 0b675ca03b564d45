/**
 * Gateway traffic for the local stack: scripted MCP tool calls (and tools/list requests) that the
 * emulator decides with the real Cedar engine under AgentCore's semantics, and publishes as the
 * policy decision metrics AWS publishes (policy-metrics.ts), per minute, with the gateway's policy
 * engine mode of that moment.
 *
 * Decision semantics (policy-test-a-policy, policy-enforcement-modes, use-gateway-with-policy):
 * - Only tool calls are authorized (AuthorizeAction), against the ACTIVE policies only: Cedar's
 *   default deny (a matching permit is needed) and forbid-wins. LOG_ONLY policies never take part.
 * - Each LOG_ONLY policy P is evaluated alone with the ACTIVE set; it flips when
 *   D(ACTIVE + P) differs from D(ACTIVE); it matches when P alone is satisfied.
 * - Engine mode LOG_ONLY: every call is served whatever the decision, which is still recorded
 *   (Mode=LOG_ONLY). ENFORCE: denied calls are refused.
 * - A policy whose evaluation fails (missing attribute, type mismatch) is skipped, as Cedar
 *   specifies: an erroring permit grants nothing. Requests with such failures count as mismatches.
 * - tools/list is filtered per tool (PartiallyAuthorizeActions): a tool is listed when some call to
 *   it could be permitted. Here: Cedar partial evaluation with `context.input` unknown; a tool is
 *   listed unless that is a definite deny (our approximation of an undocumented algorithm).
 * - The gateway execution role needs AuthorizeAction, PartiallyAuthorizeActions and
 *   GetPolicyEngine (policy-permissions): without them every tool call is denied. Live accounts saw
 *   a role without GetPolicyEngine look fine in LOG_ONLY and fail once enforced
 *   (agentcore-policy.md section 3): here such a role decides normally in LOG_ONLY, and in
 *   ENFORCE refuses every call and publishes no decision (nothing was evaluated).
 *
 * Timing: a call is decided with the gateway configuration and policies in force at the start of
 * its minute (changes take effect when they settle); a minute's datapoints appear once the minute
 * is over plus the publish lag (60 s grid, publish lag p90 11.5 s on live accounts: 15 s here).
 */
import { z } from 'zod';
import { authorize, cedarLib, type CedarDecision, type CedarRequest } from '../../../functions/lib/cedar.ts';
import { parseTimeSpec } from '../json-protocol.ts';
import { actionId, type GatewayTarget, type ToolInputSchema } from './gateway-tools.ts';
import type { EffectivePolicy } from './policies.ts';
import { policyMetricPoints, type DecidedRequest, type MetricPoint } from './policy-metrics.ts';
import type { AgentCoreState, GatewayRecord } from './state.ts';

const timeSpec = z.union([z.string(), z.number()]);
const inputSchemaSchema: z.ZodType<ToolInputSchema> = z.lazy(() => z.object({
  type: z.enum(['object', 'string', 'integer', 'number', 'boolean', 'array']).optional(),
  properties: z.record(z.string(), inputSchemaSchema).optional(),
  required: z.array(z.string()).optional(),
  items: inputSchemaSchema.optional(),
}).strict());

/** Seed shape of a gateway target and its tools (emulator-only). */
export const gatewayTargetSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a target name (letters, digits, _ and -)'),
  tools: z.array(z.object({ name: z.string().min(1), inputSchema: inputSchemaSchema.optional() }).strict()).min(1),
}).strict();

const principalSchema = z.union([
  z.object({ oauthUser: z.string().min(1), claims: z.record(z.string(), z.string()).optional() }).strict(),
  z.object({ iamEntity: z.string().min(1) }).strict(),
]);

/** One traffic script: `perMinute` identical requests a minute over [from, to]. */
export const trafficScriptSchema = z.object({
  gateway: z.string().min(1),
  /** A label for reports. */
  name: z.string().optional(),
  /** `call` (tools/call of `tool`, the default) or `list` (tools/list). */
  kind: z.enum(['call', 'list']).default('call'),
  /** `<Target>___<tool>` (required for calls). */
  tool: z.string().optional(),
  input: z.record(z.string(), z.unknown()).default(() => ({})),
  principal: principalSchema,
  /** Requests per minute; a fraction spreads them evenly (0.5: one every other minute). */
  perMinute: z.number().min(0).max(1_000_000),
  from: timeSpec.default('-1h'),
  to: timeSpec.default('+30d'),
}).strict().refine((s) => s.kind === 'list' || (typeof s.tool === 'string' && s.tool.includes('___')), {
  message: 'a call needs `tool` as <Target>___<tool>',
});

export type TrafficScriptInput = z.input<typeof trafficScriptSchema>;
type TrafficScript = z.output<typeof trafficScriptSchema>;

interface ScheduledScript {
  script: TrafficScript;
  from: number;
  to: number;
  /** The next minute (epoch ms) not yet evaluated. */
  next: number;
  /** The script's first minute (the origin of its rate spreading). */
  first: number;
}

/** Where published datapoints go (the CloudWatch stand-in's metric store). */
export type MetricSink = (point: MetricPoint) => void;

const MINUTE = 60_000;
/** Datapoints of a minute appear this long after the minute ends. */
export const PUBLISH_LAG_MS = 15_000;

function cedarValue(v: unknown): unknown {
  if (typeof v === 'number') return Number.isInteger(v) ? v : { __extn: { fn: 'decimal', arg: v.toFixed(4) } };
  if (Array.isArray(v)) return v.map(cedarValue);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null && x !== undefined).map(([k, x]) => [k, cedarValue(x)]));
  }
  return v;
}

function principalOf(script: TrafficScript): { uid: { type: string; id: string }; tags: Record<string, string> } {
  const p = script.principal;
  return 'oauthUser' in p
    ? { uid: { type: 'AgentCore::OAuthUser', id: p.oauthUser }, tags: { ...p.claims } }
    : { uid: { type: 'AgentCore::IamEntity', id: p.iamEntity }, tags: {} };
}

function requestFor(script: TrafficScript, gatewayArn: string, tool: string): CedarRequest {
  const principal = principalOf(script);
  const target = tool.slice(0, tool.indexOf('___'));
  return {
    principal: principal.uid,
    action: { type: 'AgentCore::Action', id: tool },
    resource: { type: 'AgentCore::Gateway', id: gatewayArn },
    context: { input: cedarValue(script.input) as never },
    entities: [
      { uid: principal.uid, attrs: {}, parents: [], ...(principal.uid.type === 'AgentCore::OAuthUser' ? { tags: principal.tags } : {}) },
      { uid: { type: 'AgentCore::Action', id: tool }, attrs: {}, parents: [{ type: 'AgentCore::Action', id: target }] },
      { uid: { type: 'AgentCore::Gateway', id: gatewayArn }, attrs: {}, parents: [] },
    ],
  };
}

function statements(policies: EffectivePolicy[]): Record<string, string> {
  return Object.fromEntries(policies.map((p) => [p.id, p.statement]));
}

/** AgentCore's decision for one tool call (see the header), LOG_ONLY policies included. */
export function decideCall(policies: EffectivePolicy[], request: CedarRequest): Omit<DecidedRequest, 'tool' | 'operation'> {
  const active = policies.filter((p) => p.enforcementMode === 'ACTIVE');
  const base: CedarDecision = authorize(statements(active), request);
  const logOnly = policies.filter((p) => p.enforcementMode === 'LOG_ONLY').map((p) => {
    const alone = authorize({ [p.id]: p.statement }, request);
    const withP = authorize(statements([...active, p]), request);
    return { id: p.id, matched: alone.determining.includes(p.id), flipped: withP.decision !== base.decision, errored: alone.errored.includes(p.id) };
  });
  return { decision: base.decision, determining: base.determining, errored: base.errored, logOnly };
}

/** Whether tools/list shows `tool` to the script's principal (partial evaluation, input unknown). */
function listsTool(policies: EffectivePolicy[], script: TrafficScript, gatewayArn: string, tool: string): boolean {
  const active = policies.filter((p) => p.enforcementMode === 'ACTIVE');
  const request = requestFor(script, gatewayArn, tool);
  const answer = cedarLib().isAuthorizedPartial({
    ...request,
    context: { input: { __extn: { fn: 'unknown', arg: 'input' } } },
    policies: { staticPolicies: statements(active) },
  });
  if (answer.type === 'failure') return false;
  return answer.response.decision !== 'deny';
}

function toolsOf(targets: GatewayTarget[] | undefined): string[] {
  return (targets ?? []).flatMap((t) => t.tools.map((tool) => actionId(t.name, tool.name)));
}

/** The scripted traffic of every gateway of one AgentCore state. */
export class GatewayTraffic {
  private readonly scripts: ScheduledScript[] = [];
  private readonly cache = new Map<string, DecidedRequest[]>();
  private sink: MetricSink | undefined;
  private readonly state: AgentCoreState;

  constructor(state: AgentCoreState) {
    this.state = state;
  }

  /** Where datapoints go; without a sink nothing is evaluated (the AgentCore-only emulator). */
  setSink(sink: MetricSink | undefined): void {
    this.sink = sink;
  }

  /** Adds a script (validated); `from`/`to` relative to `now`. Returns a handle to stop it. */
  add(input: TrafficScriptInput, now: number): { stop(at?: number): void } {
    const script = trafficScriptSchema.parse(input);
    const from = typeof script.from === 'number' ? script.from : parseTimeSpec(script.from, now);
    const to = typeof script.to === 'number' ? script.to : parseTimeSpec(script.to, now);
    const first = Math.ceil(from / MINUTE) * MINUTE;
    const scheduled: ScheduledScript = { script, from, to, next: first, first };
    this.scripts.push(scheduled);
    return {
      stop: (at = this.state.clockNow()) => {
        scheduled.to = Math.min(scheduled.to, at - 1);
      },
    };
  }

  /** Stops every script (from `at`, default now). */
  stopAll(at = this.state.clockNow()): void {
    for (const s of this.scripts) s.to = Math.min(s.to, at - 1);
  }

  /** Evaluates and publishes every whole minute that has ended (plus the publish lag) by `now`. */
  flush(now: number): void {
    if (!this.sink) return;
    const last = Math.floor((now - PUBLISH_LAG_MS) / MINUTE) * MINUTE - MINUTE; // the last minute that is complete and published
    // CloudWatch keeps no datapoint older than two weeks (PutMetricData refuses them): skip those.
    const oldest = Math.floor((now - 14 * 86_400_000) / MINUTE) * MINUTE;
    for (const s of this.scripts) {
      s.next = Math.max(s.next, oldest);
      for (; s.next <= last && s.next <= s.to; s.next += MINUTE) {
        if (s.next < s.from) continue;
        // Deterministic spreading of fractional rates: minute i carries floor((i+1)r) - floor(ir).
        const i = (s.next - s.first) / MINUTE;
        const count = Math.floor((i + 1) * s.script.perMinute + 1e-9) - Math.floor(i * s.script.perMinute + 1e-9);
        if (count === 0) continue;
        for (const point of this.evaluateMinute(s.script, s.next, count)) this.sink(point);
      }
    }
  }

  private evaluateMinute(script: TrafficScript, minute: number, count: number): MetricPoint[] {
    const gw = this.state.findGateway(script.gateway);
    if (!gw) return [];
    const config = this.state.enforcementAt(gw, minute);
    if (!config) return []; // no policy engine: nothing is authorized, nothing published
    const engine = [...this.state.policyEngines.values()].find((p) => p.arn === config.arn);
    if (!engine) return [];
    const missing = this.state.missingPolicyActions(gw);
    if (missing.includes('AuthorizeAction') || (config.mode === 'ENFORCE' && missing.length > 0)) return [];
    const policies = this.state.policies.effectiveAt(engine.id, minute);
    const decided = this.decided(script, gw, engine.id, policies);
    return policyMetricPoints({
      requests: decided,
      count,
      gatewayId: gw.id,
      policyEngineId: engine.id,
      mode: config.mode,
      minute,
    });
  }

  private decided(script: TrafficScript, gw: GatewayRecord, engineId: string, policies: EffectivePolicy[]): DecidedRequest[] {
    const key = JSON.stringify([this.scripts.findIndex((s) => s.script === script), gw.id, engineId, policies.map((p) => [p.id, p.enforcementMode, p.statement])]);
    const cached = this.cache.get(key);
    if (cached) return cached;
    let decided: DecidedRequest[];
    if (script.kind === 'list') {
      decided = toolsOf(gw.targets).map((tool) => ({
        operation: 'PartiallyAuthorizeActions',
        tool,
        decision: listsTool(policies, script, gw.arn, tool) ? 'allow' : 'deny',
        determining: [],
        errored: [],
        logOnly: [],
      }));
    } else {
      const tool = script.tool!;
      decided = [{ operation: 'AuthorizeAction', tool, ...decideCall(policies, requestFor(script, gw.arn, tool)) }];
    }
    this.cache.set(key, decided);
    return decided;
  }
}

/** What wiring the traffic to CloudWatch needs (the CloudWatch stand-in satisfies it). */
export interface VendedMetricsTarget {
  publish(point: MetricPoint & { arrivedAt?: number }): void;
  addSource(catchUp: (now: number) => void): void;
}

/**
 * Publishes a state's gateway traffic to a CloudWatch stand-in: each minute once it is over (plus
 * the publish lag), caught up before every CloudWatch read.
 */
export function connectTraffic(traffic: GatewayTraffic, cloudwatch: VendedMetricsTarget): void {
  traffic.setSink((p) => cloudwatch.publish({ ...p, arrivedAt: p.t + MINUTE + PUBLISH_LAG_MS }));
  cloudwatch.addSource((now) => traffic.flush(now));
}
