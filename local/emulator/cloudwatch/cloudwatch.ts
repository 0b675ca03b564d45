/**
 * Amazon CloudWatch stand-in. The SDK (@aws-sdk/client-cloudwatch 3.11xx) speaks awsJson1_0 in
 * query-compatible mode: `X-Amz-Target: GraniteServiceVersion20100801.<Op>`, content type
 * `application/x-amz-json-1.0`, header `x-amzn-query-mode: true`, PascalCase members, epoch-second
 * timestamps; errors carry `x-amzn-query-error: <QueryCode>;Sender` which the SDK maps back to the
 * typed exception (e.g. `InvalidParameterValue` -> InvalidParameterValueException).
 *
 * Operations: PutMetricData, GetMetricData (MetricStat + metric math, ScanBy, MaxDatapoints /
 * NextToken), ListMetrics, PutMetricAlarm, DescribeAlarms, SetAlarmState, DeleteAlarms.
 * Scripting: scriptSeries() (datapoints over a time range, revealed as the clock passes them),
 * scriptAlarm() (alarm states over time), seed() (cloudWatchSeedSchema).
 * Alarms created by PutMetricAlarm (or seeded with a metric but no state) are evaluated lazily
 * against the stored metrics at the latest whole minute when read; scripted alarms follow their
 * timeline only.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AwsError, type EmulatorRequest, type EmulatorResponse, type ResolvedOperation, type ServiceStandIn } from '../types.ts';
import type { Clock } from '../../clock.ts';
import {
  decodeToken, encodeToken, parseTimeSpec, readTimestamp, renderJsonError, resolveJsonTarget, toEpochSeconds,
  type QueryErrorCode,
} from '../json-protocol.ts';
import { aggregate, isSupportedStat, MetricStore, type Datapoint, type Dimensions, type MetricId } from './metric-store.ts';
import { evaluate, MetricMathError, parseExpression, referencedIds, type MathNode, type MathValue } from './math.ts';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
const ALARM_STATES: AlarmState[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA'];

export interface AlarmStep {
  /** Epoch ms, or a time spec relative to clock.now() (`+10m`, `-1h`) / ISO string. */
  at: number | string;
  state: AlarmState;
  reason?: string;
  reasonData?: string;
}

interface TimelineEntry { at: number; state: AlarmState; reason: string; reasonData?: string }

interface AlarmRecord {
  name: string;
  arn: string;
  /** PutMetricAlarm fields, already in DescribeAlarms output form. */
  config: Record<string, unknown>;
  configUpdatedAt: number;
  createdAt: number;
  timeline: TimelineEntry[];
  /** Scripted alarms follow their timeline only; the others are evaluated against their metric. */
  scripted: boolean;
}

export interface ScriptSeriesOptions {
  namespace: string;
  metricName: string;
  dimensions?: Dimensions;
  /** Epoch ms, or a time spec relative to clock.now() (`-3600s`, `+1d`) / ISO string. */
  from: number | string;
  to: number | string;
  /** Spacing of datapoints (default 60: one per minute). */
  periodSeconds?: number;
  /** Value per datapoint; a function of the datapoint time (epoch ms) may return undefined for a gap. */
  value: number | ((t: number) => number | undefined);
  unit?: string;
}

export interface CloudWatchOptions {
  clock: Clock;
  account?: string;
  region?: string;
}

const QUERY_CODES: Record<string, QueryErrorCode> = {
  InvalidParameterValueException: { code: 'InvalidParameterValue' },
  MissingRequiredParameterException: { code: 'MissingParameter' },
  InvalidParameterCombinationException: { code: 'InvalidParameterCombination' },
  InvalidNextToken: { code: 'InvalidNextToken' },
  ResourceNotFound: { code: 'ResourceNotFound' },
  ValidationException: { code: 'ValidationError' },
  InvalidFormatFault: { code: 'InvalidFormat' },
  LimitExceededFault: { code: 'LimitExceeded' },
  InternalServiceFault: { code: 'InternalServiceError', fault: 'Receiver' },
  ThrottlingException: { code: 'Throttling' },
};

const COMPARISON_OPERATORS = [
  'GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold',
  'LessThanLowerOrGreaterThanUpperThreshold', 'LessThanLowerThreshold', 'GreaterThanUpperThreshold',
];
const ALARM_FIELDS = [
  'AlarmDescription', 'ActionsEnabled', 'OKActions', 'AlarmActions', 'InsufficientDataActions', 'MetricName', 'Namespace',
  'Statistic', 'ExtendedStatistic', 'Dimensions', 'Period', 'Unit', 'EvaluationPeriods', 'DatapointsToAlarm', 'Threshold',
  'ComparisonOperator', 'TreatMissingData', 'EvaluateLowSampleCountPercentile', 'Metrics', 'ThresholdMetricId',
];

const timeSpec = z.union([z.string(), z.number()]);
const dimensionsSchema = z.record(z.string(), z.string()).default({});
export const cloudWatchSeedSchema = z.object({
  metrics: z.array(z.object({
    namespace: z.string().min(1),
    metricName: z.string().min(1),
    dimensions: dimensionsSchema,
    /** Value of each per-minute datapoint (shorthand for value + periodSeconds: 60). */
    everyMinute: z.number().optional(),
    value: z.number().optional(),
    periodSeconds: z.number().int().positive().optional(),
    from: timeSpec.default('-3600s'),
    to: timeSpec.default('+86400s'),
    unit: z.string().optional(),
  }).strict().refine((m) => (m.everyMinute === undefined) !== (m.value === undefined), {
    message: 'give exactly one of everyMinute or value',
  })).default([]),
  /**
   * An alarm with `state` and/or `timeline` is scripted; one with neither is evaluated against its
   * metric (namespace, metricName, statistic, period, threshold, comparisonOperator required).
   */
  alarms: z.array(z.object({
    name: z.string().min(1),
    /** State from now on (shorthand for a one-step timeline at 0s). */
    state: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']).optional(),
    reason: z.string().optional(),
    timeline: z.array(z.object({
      at: timeSpec,
      state: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
      reason: z.string().optional(),
    }).strict()).optional(),
    description: z.string().optional(),
    namespace: z.string().optional(),
    metricName: z.string().optional(),
    dimensions: dimensionsSchema,
    statistic: z.enum(['Sum', 'Average', 'Minimum', 'Maximum', 'SampleCount']).optional(),
    period: z.number().int().positive().optional(),
    evaluationPeriods: z.number().int().positive().optional(),
    threshold: z.number().optional(),
    comparisonOperator: z.enum(COMPARISON_OPERATORS as [string, ...string[]]).optional(),
  }).strict()).default([]),
}).strict();
export type CloudWatchSeed = z.input<typeof cloudWatchSeedSchema>;

interface Query {
  Id: string;
  MetricStat?: { Metric: MetricId; Period: number; Stat: string };
  Expression?: MathNode;
  ExpressionText?: string;
  Label?: string;
  ReturnData: boolean;
  Period?: number;
}

function invalid(message: string): AwsError {
  return new AwsError('InvalidParameterValueException', 400, message);
}
function missing(name: string): AwsError {
  return new AwsError('MissingRequiredParameterException', 400, `The parameter ${name} is required.`);
}
function validationError(message: string): AwsError {
  return new AwsError('ValidationException', 400, message);
}

function isValidPeriod(p: unknown): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p > 0 && ([1, 5, 10, 30].includes(p) || p % 60 === 0);
}

function dimsFromWire(v: unknown, field: string): Dimensions {
  if (v === undefined) return {};
  if (!Array.isArray(v)) throw invalid(`The parameter ${field} must be a list.`);
  const out: Dimensions = {};
  for (const d of v as { Name?: unknown; Value?: unknown }[]) {
    if (typeof d?.Name !== 'string' || typeof d?.Value !== 'string') throw missing(`${field}.member.Name/Value`);
    if (Object.hasOwn(out, d.Name)) throw new AwsError('InvalidParameterCombinationException', 400, `The collection ${field} must not have a duplicate dimension ${d.Name}.`);
    out[d.Name] = d.Value;
  }
  if (Object.keys(out).length > 30) throw invalid(`The collection ${field} must not have more than 30 members.`);
  return out;
}

function dimsToWire(d: Dimensions): { Name: string; Value: string }[] {
  return Object.keys(d).map((Name) => ({ Name, Value: d[Name] }));
}

/** "After you create a metric, allow up to fifteen minutes for the metric to appear" in ListMetrics. */
export const LIST_METRICS_LAG_MS = 15 * 60_000;

export class CloudWatchStandIn implements ServiceStandIn {
  readonly name = 'monitoring';
  readonly account: string;
  readonly region: string;
  readonly metrics = new MetricStore();
  private readonly clock: Clock;
  private readonly alarms = new Map<string, AlarmRecord>();
  /** Producers of vended metrics (e.g. gateway traffic) asked to catch up before any read. */
  private readonly sources: ((now: number) => void)[] = [];

  constructor(opts: CloudWatchOptions) {
    this.clock = opts.clock;
    this.account = opts.account ?? '123456789012';
    this.region = opts.region ?? 'us-east-1';
  }

  // ---------------------------------------------------------------- vended metrics

  /**
   * Registers a producer of AWS-published (vended) metrics. It is asked to publish everything due
   * by now before every read (GetMetricData, ListMetrics, DescribeAlarms), so its datapoints
   * appear as time passes, as the service's would.
   */
  addSource(catchUp: (now: number) => void): void {
    this.sources.push(catchUp);
  }

  private catchUp(): void {
    const now = this.clock.now();
    for (const source of this.sources) source(now);
  }

  /** One datapoint of a vended metric (`AWS/` namespaces are the services' own), published at `arrivedAt`. */
  publish(point: { namespace: string; metricName: string; dimensions: Dimensions; t: number; value: number; arrivedAt?: number }): void {
    const v = point.value;
    this.metrics.put(
      { namespace: point.namespace, metricName: point.metricName, dimensions: point.dimensions },
      { t: point.t, sum: v, count: 1, min: v, max: v, values: [{ v, n: 1 }], unit: 'Count', arrivedAt: point.arrivedAt },
    );
  }

  // ---------------------------------------------------------------- scripting

  /** Records one datapoint per `periodSeconds` (default 60) over [from, to]; queries only see points at or before clock.now(). */
  scriptSeries(opts: ScriptSeriesOptions): number {
    const now = this.clock.now();
    const from = typeof opts.from === 'number' ? opts.from : parseTimeSpec(opts.from, now);
    const to = typeof opts.to === 'number' ? opts.to : parseTimeSpec(opts.to, now);
    const step = (opts.periodSeconds ?? 60) * 1000;
    if (!(step > 0)) throw new Error('scriptSeries: periodSeconds must be positive');
    if (to < from) throw new Error('scriptSeries: `to` is before `from`');
    const id: MetricId = { namespace: opts.namespace, metricName: opts.metricName, dimensions: { ...opts.dimensions } };
    let n = 0;
    for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
      const v = typeof opts.value === 'function' ? opts.value(t) : opts.value;
      if (v === undefined || !Number.isFinite(v)) continue;
      this.metrics.put(id, { t, sum: v, count: 1, min: v, max: v, values: [{ v, n: 1 }], unit: opts.unit });
      n++;
    }
    return n;
  }

  /**
   * Scripts an alarm's state over time; DescribeAlarms answers the state in force at clock.now().
   * Creates the alarm (with `config` in PutMetricAlarm form) when it does not exist yet.
   */
  scriptAlarm(name: string, steps: AlarmStep[], config: Record<string, unknown> = {}): void {
    const now = this.clock.now();
    const alarm = this.alarms.get(name) ?? this.createAlarm(name, config, now, false);
    alarm.scripted = true;
    for (const s of steps) {
      if (!ALARM_STATES.includes(s.state)) throw new Error(`scriptAlarm ${name}: invalid state ${s.state}`);
      const at = typeof s.at === 'number' ? s.at : parseTimeSpec(s.at, now);
      insertStep(alarm.timeline, { at, state: s.state, reason: s.reason ?? `Scripted state change to ${s.state}`, reasonData: s.reasonData });
    }
  }

  /** The alarm state in force at `at` (default clock.now()). */
  alarmState(name: string, at = this.clock.now()): AlarmState | undefined {
    const a = this.alarms.get(name);
    if (!a) return undefined;
    this.evaluateAlarm(a, at);
    return stateAt(a, at).state;
  }

  /** Loads a seed section (validated with cloudWatchSeedSchema); relative times are against clock.now(). */
  seed(input: unknown): void {
    const seed = cloudWatchSeedSchema.parse(input);
    for (const m of seed.metrics) {
      this.scriptSeries({
        namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions, from: m.from, to: m.to, unit: m.unit,
        periodSeconds: m.everyMinute !== undefined ? 60 : m.periodSeconds, value: (m.everyMinute ?? m.value)!,
      });
    }
    for (const a of seed.alarms) {
      const config: Record<string, unknown> = {
        AlarmDescription: a.description, Namespace: a.namespace, MetricName: a.metricName,
        Dimensions: a.namespace ? dimsToWire(a.dimensions) : undefined, Statistic: a.statistic, Period: a.period,
        EvaluationPeriods: a.evaluationPeriods, Threshold: a.threshold, ComparisonOperator: a.comparisonOperator,
      };
      const steps: AlarmStep[] = [];
      if (a.state) steps.push({ at: '0s', state: a.state, reason: a.reason });
      for (const s of a.timeline ?? []) steps.push({ at: s.at, state: s.state, reason: s.reason });
      if (steps.length > 0) {
        this.scriptAlarm(a.name, steps, config);
      } else {
        if (!a.namespace || !a.metricName || !a.statistic || !a.period || a.threshold === undefined || !a.comparisonOperator) {
          throw new Error(`seed alarm ${a.name}: give a state/timeline, or a full metric definition (namespace, metricName, statistic, period, threshold, comparisonOperator) to evaluate`);
        }
        this.createAlarm(a.name, { EvaluationPeriods: 1, ...config }, this.clock.now(), true);
      }
    }
  }

  private createAlarm(name: string, config: Record<string, unknown>, now: number, initial: boolean): AlarmRecord {
    const clean: Record<string, unknown> = {};
    for (const k of ALARM_FIELDS) if (config[k] !== undefined) clean[k] = config[k];
    const alarm: AlarmRecord = {
      name,
      arn: `arn:aws:cloudwatch:${this.region}:${this.account}:alarm:${name}`,
      config: clean,
      configUpdatedAt: now,
      createdAt: now,
      timeline: initial ? [{ at: now, state: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation' }] : [],
      scripted: false,
    };
    this.alarms.set(name, alarm);
    return alarm;
  }

  // ---------------------------------------------------------------- wire protocol

  resolve(req: EmulatorRequest): ResolvedOperation | undefined {
    return resolveJsonTarget(req, {
      service: this.name,
      targetPrefix: 'GraniteServiceVersion20100801',
      version: '1.0',
      operations: {
        PutMetricData: (i) => this.putMetricData(i),
        GetMetricData: (i) => this.getMetricData(i),
        ListMetrics: (i) => this.listMetrics(i),
        PutMetricAlarm: (i) => this.putMetricAlarm(i),
        DescribeAlarms: (i) => this.describeAlarms(i),
        SetAlarmState: (i) => this.setAlarmState(i),
        DeleteAlarms: (i) => this.deleteAlarms(i),
      },
    });
  }

  renderError(err: AwsError): EmulatorResponse {
    return renderJsonError(err, { version: '1.0', queryCompat: QUERY_CODES, aliases: { InternalServerException: 'InternalServiceFault' } });
  }

  private putMetricData(input: Record<string, unknown>): unknown {
    const ns = input.Namespace;
    if (typeof ns !== 'string' || ns === '') throw missing('Namespace');
    if (ns.startsWith('AWS/')) throw invalid(`The value ${ns} for parameter Namespace is invalid.`);
    const data = input.MetricData;
    if (!Array.isArray(data) || data.length === 0) throw missing('MetricData');
    if (data.length > 1000) throw invalid('The collection MetricData must not have a size greater than 1000.');
    const now = this.clock.now();
    const staged: [MetricId, Datapoint][] = [];
    data.forEach((raw: Record<string, unknown>, i) => {
      const field = `MetricData.member.${i + 1}`;
      if (typeof raw?.MetricName !== 'string' || raw.MetricName === '') throw missing(`${field}.MetricName`);
      const id: MetricId = { namespace: ns, metricName: raw.MetricName, dimensions: dimsFromWire(raw.Dimensions, `${field}.Dimensions`) };
      const t = raw.Timestamp === undefined ? now : readTimestamp(raw.Timestamp);
      if (t === undefined) throw invalid(`The parameter ${field}.Timestamp is not a valid timestamp.`);
      if (t < now - 14 * 86_400_000 || t > now + 2 * 3_600_000) {
        throw invalid(`The parameter ${field}.Timestamp must specify a time no more than two weeks in the past or two hours in the future.`);
      }
      const unit = typeof raw.Unit === 'string' ? raw.Unit : undefined;
      const given = ['Value', 'StatisticValues', 'Values'].filter((k) => raw[k] !== undefined);
      if (given.length !== 1) {
        throw new AwsError('InvalidParameterCombinationException', 400, `The parameters ${field}.Value, ${field}.StatisticValues and ${field}.Values are mutually exclusive and one of them must be specified.`);
      }
      if (raw.Value !== undefined) {
        const v = raw.Value;
        if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`The value for parameter ${field}.Value is invalid.`);
        staged.push([id, { t, sum: v, count: 1, min: v, max: v, values: [{ v, n: 1 }], unit }]);
      } else if (raw.StatisticValues !== undefined) {
        const s = raw.StatisticValues as Record<string, unknown>;
        for (const k of ['SampleCount', 'Sum', 'Minimum', 'Maximum']) {
          if (typeof s?.[k] !== 'number' || !Number.isFinite(s[k])) throw missing(`${field}.StatisticValues.${k}`);
        }
        if ((s.SampleCount as number) <= 0) throw invalid(`The value for parameter ${field}.StatisticValues.SampleCount must be greater than 0.`);
        staged.push([id, { t, sum: s.Sum as number, count: s.SampleCount as number, min: s.Minimum as number, max: s.Maximum as number, unit }]);
      } else {
        const values = raw.Values as unknown[];
        const counts = raw.Counts as unknown[] | undefined;
        if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
          throw invalid(`The parameter ${field}.Values must be a non-empty list of numbers.`);
        }
        if (counts !== undefined && (!Array.isArray(counts) || counts.length !== values.length)) {
          throw new AwsError('InvalidParameterCombinationException', 400, `The parameters ${field}.Values and ${field}.Counts must be of the same size.`);
        }
        const vs = (values as number[]).map((v, k) => ({ v, n: counts ? Number(counts[k]) : 1 }));
        const count = vs.reduce((n, x) => n + x.n, 0);
        staged.push([id, {
          t, sum: vs.reduce((n, x) => n + x.v * x.n, 0), count, min: Math.min(...vs.map((x) => x.v)), max: Math.max(...vs.map((x) => x.v)), values: vs, unit,
        }]);
      }
    });
    for (const [id, dp] of staged) this.metrics.put(id, { ...dp, arrivedAt: now });
    return {};
  }

  /**
   * ListMetrics (CloudWatch API reference, ListMetrics; user guide "Search for available metrics"):
   * a dimension filter matches metrics that have at least those dimensions; only metrics with
   * datapoints in the past two weeks are listed; a new metric can take up to fifteen minutes to
   * appear (here: always the full fifteen minutes after its first datapoint arrived, the strict
   * reading); `RecentlyActive: PT3H` keeps metrics with datapoints in the past three hours.
   */
  private listMetrics(input: Record<string, unknown>): unknown {
    this.catchUp();
    const ns = typeof input.Namespace === 'string' ? input.Namespace : undefined;
    const name = typeof input.MetricName === 'string' ? input.MetricName : undefined;
    const filters = Array.isArray(input.Dimensions) ? (input.Dimensions as { Name: string; Value?: string }[]) : [];
    if (input.RecentlyActive !== undefined && input.RecentlyActive !== 'PT3H') throw invalid(`The value ${String(input.RecentlyActive)} for parameter RecentlyActive is invalid.`);
    const now = this.clock.now();
    const since = input.RecentlyActive === 'PT3H' ? now - 3 * 3_600_000 : now - 14 * 86_400_000;
    const metrics = this.metrics.list().filter((m) =>
      (!ns || m.namespace === ns) && (!name || m.metricName === name)
      && filters.every((f) => Object.hasOwn(m.dimensions, f.Name) && (f.Value === undefined || m.dimensions[f.Name] === f.Value))
      && this.metrics.range(m, since, now + 1).length > 0
      && this.metrics.firstArrival(m, now) + LIST_METRICS_LAG_MS <= now);
    return { Metrics: metrics.map((m) => ({ Namespace: m.namespace, MetricName: m.metricName, Dimensions: dimsToWire(m.dimensions) })) };
  }

  // ---------------------------------------------------------------- GetMetricData

  private parseQueries(raw: unknown): Query[] {
    if (!Array.isArray(raw) || raw.length === 0) throw missing('MetricDataQueries');
    if (raw.length > 500) throw invalid('The collection MetricDataQueries must not have a size greater than 500.');
    const seen = new Set<string>();
    return raw.map((q: Record<string, unknown>, i): Query => {
      const field = `MetricDataQueries.member.${i + 1}`;
      if (typeof q?.Id !== 'string') throw missing(`${field}.Id`);
      if (!/^[a-z][a-zA-Z0-9_]{0,254}$/.test(q.Id)) throw validationError(`The value ${q.Id} for parameter ${field}.Id is invalid: it must start with a lowercase letter and contain only letters, numbers and underscores.`);
      if (seen.has(q.Id)) throw validationError(`The value ${q.Id} for parameter ${field}.Id is not unique.`);
      seen.add(q.Id);
      const hasStat = q.MetricStat !== undefined;
      const hasExpr = q.Expression !== undefined;
      if (hasStat === hasExpr) throw validationError(`Exactly one element of the MetricStat or the Expression must be set in ${field}.`);
      const query: Query = { Id: q.Id, Label: typeof q.Label === 'string' ? q.Label : undefined, ReturnData: q.ReturnData !== false };
      if (q.Period !== undefined) {
        if (!isValidPeriod(q.Period)) throw invalid(`The parameter ${field}.Period must be 1, 5, 10, 30 or a multiple of 60.`);
        query.Period = q.Period;
      }
      if (hasStat) {
        const ms = q.MetricStat as Record<string, unknown>;
        const m = ms.Metric as Record<string, unknown> | undefined;
        if (typeof m?.Namespace !== 'string') throw missing(`${field}.MetricStat.Metric.Namespace`);
        if (typeof m?.MetricName !== 'string') throw missing(`${field}.MetricStat.Metric.MetricName`);
        if (ms.Period === undefined) throw missing(`${field}.MetricStat.Period`);
        if (!isValidPeriod(ms.Period)) throw invalid(`The parameter ${field}.MetricStat.Period must be 1, 5, 10, 30 or a multiple of 60.`);
        if (typeof ms.Stat !== 'string') throw missing(`${field}.MetricStat.Stat`);
        if (!isSupportedStat(ms.Stat)) throw invalid(`The value ${ms.Stat} for parameter ${field}.MetricStat.Stat is not supported.`);
        query.MetricStat = {
          Metric: { namespace: m.Namespace, metricName: m.MetricName, dimensions: dimsFromWire(m.Dimensions, `${field}.MetricStat.Metric.Dimensions`) },
          Period: ms.Period,
          Stat: ms.Stat,
        };
      } else {
        if (typeof q.Expression !== 'string' || q.Expression.trim() === '') throw invalid(`The parameter ${field}.Expression must not be empty.`);
        try {
          query.Expression = parseExpression(q.Expression);
        } catch (e) {
          throw validationError(`Error in expression ${q.Id} [${q.Expression}]: ${(e as Error).message}`);
        }
        query.ExpressionText = q.Expression;
      }
      return query;
    });
  }

  /** Evaluates every query over [start, end); returns the time series of each id. */
  private evaluateQueries(queries: Query[], start: number, end: number): Map<string, Map<number, number>> {
    const now = this.clock.now();
    const byId = new Map(queries.map((q) => [q.Id, q]));
    const statPeriods = queries.filter((q) => q.MetricStat).map((q) => q.MetricStat!.Period);
    const defaultPeriod = statPeriods.length > 0 ? Math.max(...statPeriods) : 60;
    const values = new Map<string, MathValue>();
    const visiting = new Set<string>();
    // As GetMetricData does: periods start at StartTime (rounded down to the whole minute, the
    // rule for data less than 15 days old), and only datapoints inside [StartTime, EndTime) count.
    const anchor = Math.floor(start / 60_000) * 60_000;
    const gridFor = (periodS: number): number[] => {
      const p = periodS * 1000;
      const out: number[] = [];
      for (let t = anchor; t < end && t <= now; t += p) out.push(t);
      return out;
    };
    const seriesOf = (q: Query): Map<number, number> => {
      const ms = q.MetricStat!;
      const pts = this.metrics.range(ms.Metric, anchor, Math.min(end, now + 1));
      return aggregate(pts, ms.Period * 1000, ms.Stat, anchor);
    };
    const valueOf = (id: string, from?: string): MathValue => {
      const cached = values.get(id);
      if (cached) return cached;
      const q = byId.get(id);
      if (!q) throw validationError(`Error in expression ${from}: the metric or expression '${id}' does not exist in this request.`);
      if (visiting.has(id)) throw validationError(`Error in expression ${from}: circular reference to '${id}'.`);
      let v: MathValue;
      if (q.MetricStat) {
        v = { kind: 'series', points: seriesOf(q) };
      } else {
        visiting.add(id);
        const period = q.Period ?? defaultPeriod;
        try {
          v = evaluate(q.Expression!, {
            resolve: (ref) => valueOf(ref, q.Id),
            allMetrics: (filter) => queries
              .filter((x) => x.MetricStat && (!filter || (x.Label ?? x.MetricStat.Metric.metricName).includes(filter)))
              .map((x) => (valueOf(x.Id, q.Id) as { points: Map<number, number> }).points),
            grid: gridFor(period),
            periodSeconds: period,
          });
        } catch (e) {
          if (e instanceof MetricMathError) throw validationError(`Error in expression ${q.Id} [${q.ExpressionText}]: ${e.message}`);
          throw e;
        } finally {
          visiting.delete(id);
        }
        if (v.kind === 'scalar') {
          const c = v.value;
          v = { kind: 'series', points: new Map(Number.isFinite(c) ? gridFor(period).map((t) => [t, c]) : []) };
        }
      }
      values.set(id, v);
      return v;
    };
    const out = new Map<string, Map<number, number>>();
    for (const q of queries) {
      // References are checked for every expression, returned or not.
      if (q.Expression) for (const ref of referencedIds(q.Expression)) if (!byId.has(ref)) valueOf(ref, q.Id);
      if (!q.ReturnData) continue;
      const v = valueOf(q.Id);
      if (v.kind === 'array') throw validationError(`Error in expression ${q.Id} [${q.ExpressionText}]: the expression returns ${v.items.length} time series; a returned expression must produce a single time series.`);
      const pts = new Map<number, number>();
      if (v.kind === 'series') for (const [t, x] of v.points) if (t < end && t <= now) pts.set(t, x);
      out.set(q.Id, pts);
    }
    return out;
  }

  private getMetricData(input: Record<string, unknown>): unknown {
    this.catchUp();
    const queries = this.parseQueries(input.MetricDataQueries);
    if (input.StartTime === undefined) throw missing('StartTime');
    if (input.EndTime === undefined) throw missing('EndTime');
    const start = readTimestamp(input.StartTime);
    const end = readTimestamp(input.EndTime);
    if (start === undefined) throw invalid('The parameter StartTime is not a valid timestamp.');
    if (end === undefined) throw invalid('The parameter EndTime is not a valid timestamp.');
    if (start >= end) throw invalid('The parameter StartTime must be less than the parameter EndTime.');
    const scanBy = input.ScanBy ?? 'TimestampDescending';
    if (scanBy !== 'TimestampDescending' && scanBy !== 'TimestampAscending') throw validationError(`Value '${String(scanBy)}' at 'scanBy' failed to satisfy constraint: Member must satisfy enum value set: [TimestampDescending, TimestampAscending]`);
    const maxDatapoints = input.MaxDatapoints === undefined ? 100_800 : input.MaxDatapoints;
    if (typeof maxDatapoints !== 'number' || !Number.isInteger(maxDatapoints) || maxDatapoints < 1) throw invalid('The parameter MaxDatapoints must be a positive integer.');

    const { NextToken: _t, MaxDatapoints: _m, ...rest } = input;
    const fingerprint = createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
    let offset = 0;
    if (input.NextToken !== undefined) {
      const tok = typeof input.NextToken === 'string' ? decodeToken(input.NextToken) : undefined;
      if (!tok || tok.op !== 'GetMetricData' || tok.fp !== fingerprint || typeof tok.offset !== 'number') {
        throw new AwsError('InvalidNextToken', 400, 'The service returned an error: the NextToken is invalid or does not match this request.');
      }
      offset = tok.offset;
    }

    const series = this.evaluateQueries(queries, start, end);
    const dir = scanBy === 'TimestampAscending' ? 1 : -1;
    const ordered = queries.filter((q) => q.ReturnData).map((q) => ({
      q, points: [...series.get(q.Id)!].sort((a, b) => dir * (a[0] - b[0])),
    }));
    const total = ordered.reduce((n, r) => n + r.points.length, 0);
    let cursor = 0;
    const pageEnd = offset + maxDatapoints;
    const results = ordered.map(({ q, points }) => {
      const from = Math.max(0, offset - cursor);
      const to = Math.max(0, Math.min(points.length, pageEnd - cursor));
      cursor += points.length;
      const slice = from < to ? points.slice(from, to) : [];
      return {
        Id: q.Id,
        Label: q.Label ?? (q.MetricStat ? q.MetricStat.Metric.metricName : q.Id),
        Timestamps: slice.map(([t]) => toEpochSeconds(t)),
        Values: slice.map(([, v]) => v),
        StatusCode: to < points.length ? 'PartialData' : 'Complete',
        Messages: [],
      };
    });
    return {
      MetricDataResults: results,
      Messages: [],
      ...(pageEnd < total ? { NextToken: encodeToken({ op: 'GetMetricData', offset: pageEnd, fp: fingerprint }) } : {}),
    };
  }

  // ---------------------------------------------------------------- alarms

  private putMetricAlarm(input: Record<string, unknown>): unknown {
    const name = input.AlarmName;
    if (typeof name !== 'string' || name === '') throw missing('AlarmName');
    if (name.length > 255) throw invalid('The parameter AlarmName must be at most 255 characters.');
    if (input.EvaluationPeriods === undefined) throw missing('EvaluationPeriods');
    if (typeof input.EvaluationPeriods !== 'number' || input.EvaluationPeriods < 1) throw invalid('The parameter EvaluationPeriods must be at least 1.');
    if (input.ComparisonOperator === undefined) throw missing('ComparisonOperator');
    if (!COMPARISON_OPERATORS.includes(input.ComparisonOperator as string)) {
      throw validationError(`Value '${String(input.ComparisonOperator)}' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [${COMPARISON_OPERATORS.join(', ')}]`);
    }
    const single = input.MetricName !== undefined || input.Namespace !== undefined;
    if (single && input.Metrics !== undefined) {
      throw new AwsError('InvalidParameterCombinationException', 400, 'The parameters MetricName/Namespace and Metrics are mutually exclusive.');
    }
    if (single) {
      if (typeof input.MetricName !== 'string') throw missing('MetricName');
      if (typeof input.Namespace !== 'string') throw missing('Namespace');
      if (input.Period === undefined) throw missing('Period');
      if (!isValidPeriod(input.Period)) throw invalid('The parameter Period must be 10, 30 or a multiple of 60.');
      if ((input.Statistic === undefined) === (input.ExtendedStatistic === undefined)) {
        throw new AwsError('InvalidParameterCombinationException', 400, 'Exactly one of Statistic or ExtendedStatistic must be specified.');
      }
      dimsFromWire(input.Dimensions, 'Dimensions');
    } else if (input.Metrics === undefined) {
      throw missing('MetricName');
    } else {
      this.parseQueries(input.Metrics);
    }
    if (input.Threshold === undefined && input.ThresholdMetricId === undefined) throw missing('Threshold');
    const now = this.clock.now();
    const existing = this.alarms.get(name);
    if (existing) {
      existing.config = {};
      for (const k of ALARM_FIELDS) if (input[k] !== undefined) existing.config[k] = input[k];
      existing.configUpdatedAt = now;
    } else {
      this.createAlarm(name, input, now, true);
    }
    return {};
  }

  private describeAlarms(input: Record<string, unknown>): unknown {
    this.catchUp();
    const names = Array.isArray(input.AlarmNames) ? (input.AlarmNames as string[]) : undefined;
    const prefix = typeof input.AlarmNamePrefix === 'string' ? input.AlarmNamePrefix : undefined;
    if (names && prefix !== undefined) throw new AwsError('InvalidParameterCombinationException', 400, 'AlarmNames and AlarmNamePrefix cannot be used together.');
    if (names && names.length > 100) throw invalid('The collection AlarmNames must not have a size greater than 100.');
    const stateFilter = input.StateValue;
    if (stateFilter !== undefined && !ALARM_STATES.includes(stateFilter as AlarmState)) {
      throw validationError(`Value '${String(stateFilter)}' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [${ALARM_STATES.join(', ')}]`);
    }
    const actionPrefix = typeof input.ActionPrefix === 'string' ? input.ActionPrefix : undefined;
    const types = Array.isArray(input.AlarmTypes) ? (input.AlarmTypes as string[]) : ['MetricAlarm'];
    const max = input.MaxRecords === undefined ? 50 : Number(input.MaxRecords);
    if (!Number.isInteger(max) || max < 1 || max > 100) throw invalid('The parameter MaxRecords must be between 1 and 100.');
    const now = this.clock.now();

    let list = types.includes('MetricAlarm') ? [...this.alarms.values()] : [];
    if (names) list = list.filter((a) => names.includes(a.name));
    if (prefix !== undefined) list = list.filter((a) => a.name.startsWith(prefix));
    if (actionPrefix !== undefined) {
      list = list.filter((a) => ['AlarmActions', 'OKActions', 'InsufficientDataActions']
        .some((k) => ((a.config[k] as string[] | undefined) ?? []).some((x) => x.startsWith(actionPrefix))));
    }
    const rendered = list
      .filter((a) => a.createdAt <= now)
      .map((a) => {
        this.evaluateAlarm(a, now);
        return { a, st: stateAt(a, now) };
      })
      .filter(({ st }) => stateFilter === undefined || st.state === stateFilter)
      .sort((x, y) => (x.a.name < y.a.name ? -1 : x.a.name > y.a.name ? 1 : 0));

    let offset = 0;
    if (input.NextToken !== undefined) {
      const tok = typeof input.NextToken === 'string' ? decodeToken(input.NextToken) : undefined;
      if (!tok || tok.op !== 'DescribeAlarms' || typeof tok.offset !== 'number') throw new AwsError('InvalidNextToken', 400, 'The NextToken is invalid.');
      offset = tok.offset;
    }
    const page = rendered.slice(offset, offset + max);
    return {
      MetricAlarms: page.map(({ a, st }) => ({
        AlarmName: a.name,
        AlarmArn: a.arn,
        AlarmConfigurationUpdatedTimestamp: toEpochSeconds(a.configUpdatedAt),
        ActionsEnabled: true,
        OKActions: [],
        AlarmActions: [],
        InsufficientDataActions: [],
        Dimensions: [],
        ...a.config,
        StateValue: st.state,
        StateReason: st.reason,
        ...(st.reasonData !== undefined ? { StateReasonData: st.reasonData } : {}),
        StateUpdatedTimestamp: toEpochSeconds(st.at),
        StateTransitionedTimestamp: toEpochSeconds(st.transitionedAt),
      })),
      CompositeAlarms: [],
      ...(offset + max < rendered.length ? { NextToken: encodeToken({ op: 'DescribeAlarms', offset: offset + max }) } : {}),
    };
  }

  private setAlarmState(input: Record<string, unknown>): unknown {
    const name = input.AlarmName;
    if (typeof name !== 'string' || name === '') throw missing('AlarmName');
    if (input.StateValue === undefined) throw missing('StateValue');
    if (!ALARM_STATES.includes(input.StateValue as AlarmState)) {
      throw validationError(`Value '${String(input.StateValue)}' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [${ALARM_STATES.join(', ')}]`);
    }
    if (typeof input.StateReason !== 'string') throw missing('StateReason');
    if (input.StateReasonData !== undefined) {
      try {
        JSON.parse(String(input.StateReasonData));
      } catch {
        throw new AwsError('InvalidFormatFault', 400, 'StateReasonData is not valid JSON.');
      }
    }
    const alarm = this.alarms.get(name);
    if (!alarm || alarm.createdAt > this.clock.now()) throw new AwsError('ResourceNotFound', 404, `Alarm ${name} not found`);
    this.evaluateAlarm(alarm, this.clock.now());
    insertStep(alarm.timeline, {
      at: this.clock.now(), state: input.StateValue as AlarmState, reason: input.StateReason,
      reasonData: input.StateReasonData as string | undefined,
    });
    return {};
  }

  /**
   * Lazy alarm evaluation: CloudWatch evaluates alarms every minute; here the evaluation at the
   * latest whole minute <= `at` runs when the alarm is read, and a state change is recorded at
   * that minute (so SetAlarmState holds until the next evaluation, as on AWS). Intermediate
   * minutes are not replayed. Scripted alarms and alarms on anomaly bands are not evaluated.
   */
  private evaluateAlarm(a: AlarmRecord, at: number): void {
    if (a.scripted) return;
    const tick = Math.floor(at / 60_000) * 60_000;
    if (tick <= a.createdAt) return;
    const last = stateAt(a, at);
    if (a.timeline.length > 0 && last.at >= tick) return;
    const result = this.evaluateAt(a, tick);
    if (!result || result.state === last.state) return;
    insertStep(a.timeline, { at: tick, ...result });
  }

  private evaluateAt(a: AlarmRecord, tick: number): { state: AlarmState; reason: string; reasonData: string } | undefined {
    const c = a.config;
    const op = c.ComparisonOperator as string;
    const threshold = c.Threshold as number;
    const compare: Record<string, (v: number) => boolean> = {
      GreaterThanThreshold: (v) => v > threshold,
      GreaterThanOrEqualToThreshold: (v) => v >= threshold,
      LessThanThreshold: (v) => v < threshold,
      LessThanOrEqualToThreshold: (v) => v <= threshold,
    };
    if (!compare[op] || typeof threshold !== 'number') return undefined;
    const n = (c.EvaluationPeriods as number | undefined) ?? 1;
    const m = (c.DatapointsToAlarm as number | undefined) ?? n;
    let periodS: number;
    let series: Map<number, number>;
    if (Array.isArray(c.Metrics)) {
      const queries = this.parseQueries(c.Metrics);
      const returned = queries.filter((q) => q.ReturnData);
      if (returned.length !== 1) return undefined;
      const statPeriods = queries.filter((q) => q.MetricStat).map((q) => q.MetricStat!.Period);
      periodS = returned[0].MetricStat?.Period ?? returned[0].Period ?? (statPeriods.length > 0 ? Math.max(...statPeriods) : 60);
      const start = Math.floor(tick / (periodS * 1000)) * periodS * 1000 - n * periodS * 1000;
      series = this.evaluateQueries(queries, start, tick).get(returned[0].Id)!;
    } else {
      if (typeof c.Namespace !== 'string' || typeof c.MetricName !== 'string' || typeof c.Period !== 'number') return undefined;
      periodS = c.Period;
      const p = periodS * 1000;
      const stat = (c.Statistic ?? c.ExtendedStatistic) as string;
      const start = Math.floor(tick / p) * p - n * p;
      const id: MetricId = { namespace: c.Namespace, metricName: c.MetricName, dimensions: dimsFromWire(c.Dimensions, 'Dimensions') };
      series = aggregate(this.metrics.range(id, start, tick), p, stat);
    }
    const p = periodS * 1000;
    const lastBucket = Math.floor(tick / p) * p - p;
    const buckets = Array.from({ length: n }, (_, k) => lastBucket - k * p);
    const present = buckets.filter((b) => series.has(b)).map((b) => ({ t: b, v: series.get(b)! }));
    const missingCount = n - present.length;
    const treat = (c.TreatMissingData as string | undefined) ?? 'missing';
    const breaching = present.filter((d) => compare[op](d.v)).length + (treat === 'breaching' ? missingCount : 0);
    const fmt = (d: { t: number; v: number }) => `${d.v} (${new Date(d.t).toISOString().slice(0, 19).replace('T', ' ')})`;
    const words = op.replace('Threshold', '').replace(/([A-Z])/g, ' $1').trim().toLowerCase();
    const reasonData = JSON.stringify({
      version: '1.0', queryDate: new Date(tick).toISOString(), statistic: c.Statistic ?? c.ExtendedStatistic, period: periodS,
      recentDatapoints: present.map((d) => d.v), threshold, evaluatedDatapoints: present.map((d) => ({ timestamp: new Date(d.t).toISOString(), value: d.v })),
    });
    if (breaching >= m) {
      return {
        state: 'ALARM', reasonData,
        reason: `Threshold Crossed: ${breaching} out of the last ${n} datapoints [${present.map(fmt).join(', ')}] ${breaching === 1 ? 'was' : 'were'} ${words} the threshold (${threshold}) (minimum ${m} datapoint${m === 1 ? '' : 's'} for OK -> ALARM transition).`,
      };
    }
    if (present.length === 0 && treat !== 'notBreaching') {
      if (treat === 'ignore') return undefined;
      return { state: 'INSUFFICIENT_DATA', reasonData, reason: `Insufficient Data: ${n} datapoint${n === 1 ? ' was' : 's were'} unknown.` };
    }
    return {
      state: 'OK', reasonData,
      reason: `Threshold Crossed: ${breaching} out of the last ${n} datapoints [${present.map(fmt).join(', ')}] ${breaching === 1 ? 'was' : 'were'} ${words} the threshold (${threshold}) (minimum ${m} datapoint${m === 1 ? '' : 's'} for OK -> ALARM transition).`,
    };
  }

  private deleteAlarms(input: Record<string, unknown>): unknown {
    const names = input.AlarmNames;
    if (!Array.isArray(names)) throw missing('AlarmNames');
    const missingOnes = names.filter((n) => !this.alarms.has(String(n)));
    if (missingOnes.length > 0) throw new AwsError('ResourceNotFound', 404, `Alarm(s) not found: ${missingOnes.join(', ')}`);
    for (const n of names) this.alarms.delete(String(n));
    return {};
  }
}

function insertStep(timeline: TimelineEntry[], step: TimelineEntry): void {
  let i = timeline.length;
  while (i > 0 && timeline[i - 1].at > step.at) i--;
  timeline.splice(i, 0, step);
}

function stateAt(a: AlarmRecord, at: number): TimelineEntry & { transitionedAt: number } {
  let idx = -1;
  for (let i = 0; i < a.timeline.length; i++) if (a.timeline[i].at <= at) idx = i;
  if (idx < 0) {
    return { at: a.createdAt, state: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation', transitionedAt: a.createdAt };
  }
  const cur = a.timeline[idx];
  let transitionedAt = cur.at;
  for (let i = idx - 1; i >= 0 && a.timeline[i].state === cur.state; i--) transitionedAt = a.timeline[i].at;
  return { ...cur, transitionedAt };
}
