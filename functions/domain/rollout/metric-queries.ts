/**
 * What a rollout verification asks CloudWatch, and how the answers become window figures:
 * - streamProbes: the ListMetrics requests that tell whether each gate's stream is published at
 *   all (an absent stream is not a zero) and which tools the tool-list projection has;
 * - metricQueries: one GetMetricData MetricStat per gate figure on its exact projection
 *   (projections.ts), per tool for the tool-list report, and per custom metric gate;
 * - windowFigures: the sums over the window, with the stream each figure came from.
 *
 * Pure: the app layer calls ListMetrics / GetMetricData / DescribeAlarms and hands the answers in.
 */
import type { RolloutSettings } from './settings.ts';
import { describeStream, sameDimensions, type Dimensions, type PolicyProjections } from './projections.ts';

export const POLICY_METRICS_NAMESPACE = 'AWS/Bedrock-AgentCore';

/** Gate figure -> its metric and the projection it reads. */
export const POLICY_FIGURES = {
  allow: { metricName: 'AllowDecisions', projection: 'decisions' },
  deny: { metricName: 'DenyDecisions', projection: 'decisions' },
  noDeterminingPolicies: { metricName: 'NoDeterminingPolicies', projection: 'decisions' },
  systemErrors: { metricName: 'SystemErrors', projection: 'decisions' },
  mismatchErrors: { metricName: 'MismatchErrors', projection: 'mismatch' },
} as const satisfies Record<string, { metricName: string; projection: keyof PolicyProjections }>;
export type PolicyFigure = keyof typeof POLICY_FIGURES;
const FIGURES = Object.keys(POLICY_FIGURES) as PolicyFigure[];

/** At most this many tools are read for the tool-list report (two queries each). */
export const MAX_REPORTED_TOOLS = 50;

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** One stream a figure was read from, as every report shows it. */
export interface StreamFigure {
  /** `DenyDecisions{Mode=LOG_ONLY,OperationName=AuthorizeAction,TargetResource=gw-...}`. */
  stream: string;
  /** Whether CloudWatch lists the stream (or it had datapoints in the window). */
  published: boolean;
}

/** tools/list filtering (PartiallyAuthorizeActions): per tool listing, never mixed into per-call gates. */
export interface ToolListFigures {
  unit: 'tool listings (tools/list requests x tools)';
  stream: string;
  allow: number;
  deny: number;
  /** Per tool, most denied first (at most MAX_REPORTED_TOOLS). */
  tools: { tool: string; allow: number; deny: number }[];
}

/** Sums over one verification window. */
export interface WindowFigures {
  allow: number;
  deny: number;
  mismatchErrors: number;
  noDeterminingPolicies: number;
  systemErrors: number;
  /** The stream of each built-in figure; a decision stream not known to be published means no evidence. */
  streams?: Partial<Record<PolicyFigure, StreamFigure>>;
  toolList?: ToolListFigures | null;
  /** Custom metric gate id -> value over the window; null when CloudWatch returned no data. */
  metrics: Record<string, number | null>;
  /** Alarm name -> state; a configured alarm missing here was not found. */
  alarms: Record<string, AlarmState>;
}

// --- windows ------------------------------------------------------------------------------------

/** A verification window, whole minutes, ISO-8601 UTC. */
export interface MetricWindow {
  start: string;
  end: string;
}

const MINUTE_MS = 60_000;

/**
 * The window a verification reads: from the bake start (or, without one, `lookbackSeconds` back)
 * to now, both floored to the minute (CloudWatch's one-minute batches), at least one minute long.
 */
export function verifyWindow(args: { now: Date; startedAt?: string | null; lookbackSeconds: number }): MetricWindow {
  const end = Math.floor(args.now.getTime() / MINUTE_MS) * MINUTE_MS;
  const from = args.startedAt ? Date.parse(args.startedAt) : end - Math.ceil(args.lookbackSeconds / 60) * MINUTE_MS;
  const start = Math.min(Math.floor(from / MINUTE_MS) * MINUTE_MS, end - MINUTE_MS);
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString() };
}

/** The window length rounded up to a whole minute (CloudWatch periods are multiples of 60 s). */
export function windowPeriodSeconds(window: MetricWindow): number {
  const seconds = (Date.parse(window.end) - Date.parse(window.start)) / 1000;
  return Math.max(60, Math.ceil(seconds / 60) * 60);
}

// --- ListMetrics --------------------------------------------------------------------------------

/**
 * One ListMetrics request (namespace AWS/Bedrock-AgentCore, any metric name): the streams that
 * have at least these dimensions. One per projection, so a verification lists at most three.
 */
export interface StreamProbe {
  id: keyof PolicyProjections;
  dimensions: Dimensions;
}

/** A stream ListMetrics returned. */
export interface ListedStream {
  metricName: string;
  dimensions: Dimensions;
}

/** Probe id -> the streams ListMetrics returned for it. */
export type StreamListing = Partial<Record<keyof PolicyProjections, ListedStream[]>>;

/** The ListMetrics requests of one verification (projections with the same dimensions share one). */
export function streamProbes(projections: PolicyProjections): StreamProbe[] {
  const probes: StreamProbe[] = [];
  for (const id of ['decisions', 'mismatch', 'toolList'] as const) {
    if (!probes.some((p) => sameDimensions(p.dimensions, projections[id]))) probes.push({ id, dimensions: projections[id] });
  }
  return probes;
}

/** Which figure streams exist exactly, and the tools the tool-list projection is published for. */
export function publishedStreams(projections: PolicyProjections, listing: StreamListing): { published: Record<PolicyFigure, boolean>; tools: string[] } {
  const all = Object.values(listing).flat() as ListedStream[];
  const published = Object.fromEntries(
    FIGURES.map((figure) => {
      const { metricName, projection } = POLICY_FIGURES[figure];
      return [figure, all.some((s) => s.metricName === metricName && sameDimensions(s.dimensions, projections[projection]))];
    }),
  ) as Record<PolicyFigure, boolean>;
  const tools = new Set<string>();
  for (const s of all) {
    if (s.metricName !== 'AllowDecisions' && s.metricName !== 'DenyDecisions') continue;
    const { ToolName, ...rest } = s.dimensions;
    if (ToolName !== undefined && sameDimensions(rest, projections.toolList)) tools.add(ToolName);
  }
  return { published, tools: [...tools].sort().slice(0, MAX_REPORTED_TOOLS) };
}

// --- GetMetricData ------------------------------------------------------------------------------

/** GetMetricData `MetricDataQueries` member (SDK shape, declared here to keep the domain SDK-free). */
export interface MetricDataQuery {
  Id: string;
  MetricStat: {
    Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] };
    Period: number;
    Stat: string;
  };
  ReturnData: true;
}

export type QuerySource =
  | { kind: 'policy'; figure: PolicyFigure; stream: string }
  | { kind: 'tool'; tool: string; decision: 'allow' | 'deny' }
  | { kind: 'custom'; id: string; stat: string };

export interface MetricQueryPlan {
  queries: MetricDataQuery[];
  /** Query id -> what it measures. */
  sources: Record<string, QuerySource>;
  startTime: string;
  endTime: string;
  periodSeconds: number;
  projections: PolicyProjections;
  /** Tools read for the tool-list report. */
  tools: string[];
}

function dims(record: Dimensions | undefined): { Name: string; Value: string }[] {
  return Object.entries(record ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([Name, Value]) => ({ Name, Value }));
}

/** One Sum MetricStat over `period` seconds on an exact dimension set. */
export function sumQuery(id: string, metricName: string, dimensions: Dimensions, period: number): MetricDataQuery {
  return {
    Id: id,
    MetricStat: { Metric: { Namespace: POLICY_METRICS_NAMESPACE, MetricName: metricName, Dimensions: dims(dimensions) }, Period: period, Stat: 'Sum' },
    ReturnData: true,
  };
}

/**
 * GetMetricData queries for one window, each with Period = the whole window (one datapoint): a Sum
 * per built-in figure on its one projection, Allow/Deny per listed tool, one MetricStat per custom
 * metric gate.
 */
export function metricQueries(
  projections: PolicyProjections,
  settings: Pick<RolloutSettings, 'metrics'>,
  window: MetricWindow,
  tools: string[] = [],
): MetricQueryPlan {
  const periodSeconds = windowPeriodSeconds(window);
  const queries: MetricDataQuery[] = [];
  const sources: Record<string, QuerySource> = {};
  for (const figure of FIGURES) {
    const { metricName, projection } = POLICY_FIGURES[figure];
    const id = `p_${figure}`;
    queries.push(sumQuery(id, metricName, projections[projection], periodSeconds));
    sources[id] = { kind: 'policy', figure, stream: describeStream(metricName, projections[projection]) };
  }
  tools.forEach((tool, index) => {
    for (const [decision, metricName] of [['allow', 'AllowDecisions'], ['deny', 'DenyDecisions']] as const) {
      const id = `t_${decision}_${index}`;
      queries.push(sumQuery(id, metricName, { ...projections.toolList, ToolName: tool }, periodSeconds));
      sources[id] = { kind: 'tool', tool, decision };
    }
  });
  // Operator ids need not match GetMetricData's Id pattern ^[a-z][a-zA-Z0-9_]*$: use positions.
  settings.metrics.forEach((metric, index) => {
    const id = `c_${index}`;
    queries.push({
      Id: id,
      MetricStat: {
        Metric: { Namespace: metric.namespace, MetricName: metric.metricName, Dimensions: dims(metric.dimensions) },
        Period: periodSeconds,
        Stat: metric.stat,
      },
      ReturnData: true,
    });
    sources[id] = { kind: 'custom', id: metric.id, stat: metric.stat };
  });
  return { queries, sources, startTime: window.start, endTime: window.end, periodSeconds, projections, tools };
}

const COUNTING_STATS = new Set(['Sum', 'SampleCount']);

/**
 * Combines the datapoints of one query. Period = window gives one datapoint; should CloudWatch
 * split the window anyway, counts add up, extremes take the extreme, anything else averages.
 * No datapoint means nothing was counted (0) for Sum/SampleCount and no data (null) otherwise.
 */
export function combineDatapoints(stat: string, values: number[]): number | null {
  if (values.length === 0) return COUNTING_STATS.has(stat) ? 0 : null;
  if (COUNTING_STATS.has(stat)) return values.reduce((a, b) => a + b, 0);
  if (stat === 'Maximum') return Math.max(...values);
  if (stat === 'Minimum') return Math.min(...values);
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * GetMetricData results (every page's MetricDataResults) + alarm states + which streams are
 * published -> window figures. A figure with datapoints in the window is published whatever
 * ListMetrics said (it lists new streams only after up to fifteen minutes).
 */
export function windowFigures(
  plan: MetricQueryPlan,
  results: { Id?: string; Values?: number[] }[],
  alarms: Record<string, AlarmState>,
  published: Partial<Record<PolicyFigure, boolean>> = {},
): WindowFigures {
  const valuesById = new Map<string, number[]>();
  for (const result of results) {
    if (!result.Id) continue;
    valuesById.set(result.Id, [...(valuesById.get(result.Id) ?? []), ...(result.Values ?? [])]);
  }
  const figures: WindowFigures = {
    allow: 0,
    deny: 0,
    mismatchErrors: 0,
    noDeterminingPolicies: 0,
    systemErrors: 0,
    streams: {},
    toolList: null,
    metrics: {},
    alarms: { ...alarms },
  };
  const perTool = new Map<string, { tool: string; allow: number; deny: number }>();
  for (const [id, source] of Object.entries(plan.sources)) {
    const values = valuesById.get(id) ?? [];
    if (source.kind === 'policy') {
      figures[source.figure] += combineDatapoints('Sum', values) ?? 0;
      figures.streams![source.figure] = { stream: source.stream, published: published[source.figure] === true || values.length > 0 };
    } else if (source.kind === 'tool') {
      const entry = perTool.get(source.tool) ?? { tool: source.tool, allow: 0, deny: 0 };
      entry[source.decision] += combineDatapoints('Sum', values) ?? 0;
      perTool.set(source.tool, entry);
    } else {
      figures.metrics[source.id] = combineDatapoints(source.stat, values);
    }
  }
  if (perTool.size > 0) {
    const tools = [...perTool.values()].sort((a, b) => b.deny - a.deny || a.tool.localeCompare(b.tool));
    figures.toolList = {
      unit: 'tool listings (tools/list requests x tools)',
      stream: describeStream('AllowDecisions|DenyDecisions', { ...plan.projections.toolList, ToolName: '*' }),
      allow: tools.reduce((n, t) => n + t.allow, 0),
      deny: tools.reduce((n, t) => n + t.deny, 0),
      tools,
    };
  }
  return figures;
}
