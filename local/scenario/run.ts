/**
 * Plays the `npm start` scenario on a local stack: starts the stack (local/seed/scenario.yaml +
 * local/scenario/autopilot.config.yaml, auto-advancing virtual clock), runs the five steps while a
 * watcher turns the stack's event log and executions into a timeline, checks every outcome, and
 * gathers the gate metrics for the report. Used by local/start.ts and test/e2e/start.test.ts.
 */
import { DEFAULT_PROJECTIONS, describeStream, resolveProjection } from '../../functions/domain/rollout/projections.ts';
import path from 'node:path';
import { BedrockAgentCoreControlClient } from '@aws-sdk/client-bedrock-agentcore-control';
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { REPO_ROOT, startStack, type Stack } from '../stack.ts';
import type { Check } from './expect.ts';
import { ENGINES, IDS, invariantChecks, STEPS, type ScenarioContext } from './steps.ts';
import { StackWatcher, Timeline, type TimelineEntry } from './timeline.ts';

export const SCENARIO_SEED = path.join(REPO_ROOT, 'local/seed/scenario.yaml');
export const SCENARIO_CONFIG = path.join(REPO_ROOT, 'local/scenario/autopilot.config.yaml');

export interface StepResult {
  n: number;
  title: string;
  ok: boolean;
  checks: Check[];
  from: number;
  to: number;
}

export interface ChartSeries {
  name: string;
  /** [epoch ms, value] */
  points: [number, number][];
}

export interface ChartMarker {
  at: number;
  value: number;
  label: string;
  ok: boolean;
}

export interface Chart {
  id: string;
  title: string;
  unit: string;
  series: ChartSeries[];
  thresholds: { label: string; value: number }[];
  markers: ChartMarker[];
}

export interface ScenarioResult {
  ok: boolean;
  startedAt: number;
  endedAt: number;
  /** Real milliseconds the run took. */
  wallMs: number;
  steps: StepResult[];
  invariants: Check[];
  timeline: TimelineEntry[];
  charts: Chart[];
}

export interface ScenarioOptions {
  /** Receives every printed line (timeline and step results); omit for a silent run. */
  print?: (line: string) => void;
  color?: boolean;
  /** Keep the stack open after the run (the caller closes it). */
  keepStack?: boolean;
  /** Show the handlers' own logs (Powertools), default silent. */
  handlerLogs?: boolean;
  /** Per-step settle budget in real ms (default 45 s). */
  settleMs?: number;
  /** Emulator port (default any free port). */
  port?: number;
  /** Run only these steps (default all; for debugging a step). */
  only?: number[];
}

export async function runScenario(opts: ScenarioOptions = {}): Promise<{ result: ScenarioResult; stack?: Stack }> {
  const wall0 = Date.now();
  // Handler modules build their Powertools logger at import time, from the process environment.
  const savedLogLevel = process.env.POWERTOOLS_LOG_LEVEL;
  if (!opts.handlerLogs) process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const printed: string[] = [];
  const print = (line: string) => {
    printed.push(line);
    opts.print?.(line);
  };
  const stack = await startStack({
    seed: SCENARIO_SEED,
    configFile: SCENARIO_CONFIG,
    port: opts.port,
    env: opts.handlerLogs ? {} : { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  });
  const start = stack.clock.now();
  const timeline = new Timeline({ start, print, color: opts.color });
  const watcher = new StackWatcher(stack, timeline);
  const clientConfig = {
    endpoint: stack.url,
    region: stack.env.AWS_REGION,
    credentials: { accessKeyId: stack.env.AWS_ACCESS_KEY_ID, secretAccessKey: stack.env.AWS_SECRET_ACCESS_KEY },
    maxAttempts: 3,
  };
  const ctx: ScenarioContext = {
    stack,
    timeline,
    agentcore: new BedrockAgentCoreControlClient(clientConfig),
    eventBridge: new EventBridgeClient(clientConfig),
    settleMs: opts.settleMs ?? 45_000,
    facts: { stepSpans: [] },
  };
  const steps: StepResult[] = [];
  let invariants: Check[] = [];
  let charts: Chart[] = [];
  try {
    timeline.add({ at: start, kind: 'step', what: 'Local stack up', subject: '', why: `${stack.url}; ${new Date(start).toISOString()} on a compressed clock` });
    watcher.start();
    for (const step of STEPS.filter((s) => !opts.only || opts.only.includes(s.n))) {
      timeline.step = step.n;
      const from = stack.clock.now();
      timeline.add({ at: from, kind: 'step', what: `Step ${step.n}: ${step.title}`, subject: '', why: '' });
      let checks: Check[];
      try {
        checks = await step.run(ctx);
      } catch (err) {
        checks = [{ name: 'the step ran to the end', ok: false, detail: `${(err as Error).name}: ${(err as Error).message}` }];
      }
      watcher.poll();
      const to = stack.clock.now();
      for (const c of checks) timeline.add({ at: to, kind: 'check', what: c.name, subject: '', why: c.detail, ok: c.ok });
      steps.push({ n: step.n, title: step.title, ok: checks.length > 0 && checks.every((c) => c.ok), checks, from, to });
    }
    watcher.poll();
    timeline.step = 5;
    timeline.add({ at: stack.clock.now(), kind: 'step', what: 'Whole run', subject: '', why: 'secrets, dead letters, executions' });
    invariants = invariantChecks(ctx, printed);
    for (const c of invariants) timeline.add({ at: stack.clock.now(), kind: 'check', what: c.name, subject: '', why: c.detail, ok: c.ok });
    charts = await gatherCharts(stack, start, stack.clock.now());
  } finally {
    watcher.stop();
    ctx.agentcore.destroy();
    ctx.eventBridge.destroy();
    if (!opts.keepStack) await stack.close();
    if (savedLogLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = savedLogLevel;
  }
  const ok = steps.length === (opts.only?.length ?? STEPS.length) && steps.every((s) => s.ok) && invariants.every((c) => c.ok);
  const result: ScenarioResult = {
    ok, startedAt: start, endedAt: stack.clock.now(), wallMs: Date.now() - wall0, steps, invariants, timeline: timeline.entries, charts,
  };
  return { result, stack: opts.keepStack ? stack : undefined };
}

// ---------------------------------------------------------------- charts

const MODES = ['LOG_ONLY', 'ENFORCE'] as const;

/** The decisions stream the rollout gates read for a gateway in a mode (the default projection). */
function decisionStream(gatewayId: string, mode: (typeof MODES)[number]): Record<string, string> {
  return resolveProjection(DEFAULT_PROJECTIONS.decisions, { gatewayId, gatewayArn: '', policyEngineArn: '', mode });
}

const GATEWAYS = [
  { id: IDS.gwSupport, engine: ENGINES.support, maxDenyRatio: 0.05, label: 'gw-support (drift re-enforce)' },
  { id: IDS.gwBilling, engine: ENGINES.billing, maxDenyRatio: 0.05, label: 'gw-billing (rollout to ENFORCE)' },
  { id: IDS.gwOrders, engine: ENGINES.orders, maxDenyRatio: 0.05, label: 'gw-orders (halted in LOG_ONLY)' },
];

/** The gate metrics, read back through CloudWatch GetMetricData, with the verifications marked. */
async function gatherCharts(stack: Stack, from: number, to: number): Promise<Chart[]> {
  const cw = new CloudWatchClient({
    endpoint: stack.url, region: stack.env.AWS_REGION,
    credentials: { accessKeyId: stack.env.AWS_ACCESS_KEY_ID, secretAccessKey: stack.env.AWS_SECRET_ACCESS_KEY },
  });
  const start = new Date(Math.floor(from / 300_000) * 300_000 - 300_000);
  const end = new Date(Math.ceil(to / 300_000) * 300_000 + 300_000);
  const period = Math.max(300, Math.ceil((end.getTime() - start.getTime()) / 1000 / 400 / 300) * 300);
  try {
    const queries: MetricDataQuery[] = [];
    // The gates' own projection (functions/domain/rollout/projections.ts): one exact dimension set per mode.
    GATEWAYS.forEach((g, i) => {
      for (const mode of MODES) {
        for (const [k, name] of [['a', 'AllowDecisions'], ['d', 'DenyDecisions']] as const) {
          queries.push({
            Id: `${k}${i}_${mode.toLowerCase()}`, ReturnData: true,
            MetricStat: { Metric: { Namespace: 'AWS/Bedrock-AgentCore', MetricName: name, Dimensions: Object.entries(decisionStream(g.id, mode)).map(([Name, Value]) => ({ Name, Value })) }, Period: period, Stat: 'Sum' },
          });
        }
      }
    });
    queries.push({ Id: 'err', ReturnData: true, MetricStat: { Metric: { Namespace: 'SupportAgent', MetricName: 'Errors', Dimensions: [{ Name: 'Runtime', Value: IDS.supportAgent }] }, Period: period, Stat: 'Maximum' } });
    const values = new Map<string, Map<number, number>>();
    let token: string | undefined;
    do {
      const out = await cw.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: start, EndTime: end, ScanBy: 'TimestampAscending', NextToken: token }));
      for (const r of out.MetricDataResults ?? []) {
        const m = values.get(r.Id!) ?? new Map<number, number>();
        (r.Timestamps ?? []).forEach((t, i) => m.set(t.getTime(), r.Values![i]));
        values.set(r.Id!, m);
      }
      token = out.NextToken;
    } while (token);

    const charts: Chart[] = GATEWAYS.map((g, i) => {
      const series = MODES.map((mode) => {
        const allow = values.get(`a${i}_${mode.toLowerCase()}`) ?? new Map();
        const deny = values.get(`d${i}_${mode.toLowerCase()}`) ?? new Map();
        const points: [number, number][] = [...new Set([...allow.keys(), ...deny.keys()])].sort((a, b) => a - b).map((t) => {
          const a = allow.get(t) ?? 0;
          const d = deny.get(t) ?? 0;
          return [t, a + d === 0 ? 0 : d / (a + d)];
        });
        return { name: `${describeStream('DenyDecisions', decisionStream(g.id, mode))} / decisions (${period / 60}-minute sums)`, points };
      }).filter((s) => s.points.length > 0);
      return {
        id: `deny-${g.id}`,
        title: `${g.label}: deny ratio per engine mode vs. gate`,
        unit: 'ratio',
        series,
        thresholds: [{ label: `maxDenyRatio ${g.maxDenyRatio}`, value: g.maxDenyRatio }],
        markers: verifyMarkers(stack, g.id),
      };
    });
    const errPoints: [number, number][] = [...(values.get('err') ?? new Map()).entries()].sort((a, b) => a[0] - b[0]);
    charts.push({
      id: 'errors-supportAgent',
      title: `${IDS.supportAgent}: errors per minute vs. the ${IDS.errorsAlarm} alarm`,
      unit: 'errors/min',
      series: [{ name: `SupportAgent/Errors (max per ${period / 60} min)`, points: errPoints }],
      thresholds: [{ label: 'alarm threshold 5', value: 5 }],
      markers: promotionMarkers(stack).map((m) => ({ ...m, value: nearest(errPoints, m.at) })),
    });
    return charts;
  } finally {
    cw.destroy();
  }
}

function verifyMarkers(stack: Stack, gatewayId: string): ChartMarker[] {
  const out: ChartMarker[] = [];
  const seen = new Set<string>();
  for (const { event } of stack.events.events) {
    if (event.source !== 'agentcore-autopilot' || !event['detail-type'].startsWith('Policy Rollout') || event.detail.gatewayId !== gatewayId) continue;
    for (const key of ['shadow', 'enforce'] as const) {
      const v = event.detail[key] as { stage?: string; verdict?: string; window?: { end?: string }; report?: { denyRatio?: number } } | null | undefined;
      if (!v?.window?.end || typeof v.report?.denyRatio !== 'number') continue;
      const id = `${key}@${v.window.end}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push({ at: Date.parse(v.window.end), value: v.report.denyRatio, label: `${v.stage ?? key} verify: ${v.verdict ?? '?'}`, ok: v.verdict === 'PASS' });
    }
  }
  return out;
}

function nearest(points: [number, number][], at: number): number {
  let best: [number, number] | undefined;
  for (const p of points) if (!best || Math.abs(p[0] - at) < Math.abs(best[0] - at)) best = p;
  return best?.[1] ?? 0;
}

function promotionMarkers(stack: Stack): ChartMarker[] {
  const out: ChartMarker[] = [];
  for (const { at, event } of stack.events.events) {
    if (event.detail.runtimeId !== IDS.supportAgent) continue;
    if (event['detail-type'] === 'Runtime Redeploy Promoted') out.push({ at, value: 0, label: `promoted v${String(event.detail.toVersion ?? '?')}`, ok: true });
    if (event['detail-type'] === 'Runtime Redeploy Rolled Back') out.push({ at, value: 0, label: 'rolled back (alarm)', ok: false });
  }
  return out;
}
