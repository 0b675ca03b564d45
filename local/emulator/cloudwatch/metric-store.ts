/**
 * In-memory metric datapoints keyed by namespace / metric name / exact dimension set, with the
 * statistics CloudWatch computes per period bucket (Sum, Average, Minimum, Maximum, SampleCount,
 * pNN percentiles from raw values).
 */

export type Dimensions = Record<string, string>;

export interface Datapoint {
  /** Epoch ms. */
  t: number;
  sum: number;
  count: number;
  min: number;
  max: number;
  /** Raw values with their counts, when known (needed for percentiles). */
  values?: { v: number; n: number }[];
  unit?: string;
  /** When the datapoint reached CloudWatch (default: its timestamp, as for scripted series). */
  arrivedAt?: number;
}

export interface MetricId {
  namespace: string;
  metricName: string;
  dimensions: Dimensions;
}

export function metricKey(m: MetricId): string {
  const dims = Object.keys(m.dimensions).sort().map((k) => [k, m.dimensions[k]]);
  return JSON.stringify([m.namespace, m.metricName, dims]);
}

interface Series {
  id: MetricId;
  points: Datapoint[]; // sorted by t
}

export class MetricStore {
  private readonly series = new Map<string, Series>();

  put(id: MetricId, dp: Datapoint): void {
    const key = metricKey(id);
    let s = this.series.get(key);
    if (!s) {
      s = { id: { namespace: id.namespace, metricName: id.metricName, dimensions: { ...id.dimensions } }, points: [] };
      this.series.set(key, s);
    }
    const pts = s.points;
    if (pts.length === 0 || pts[pts.length - 1].t <= dp.t) {
      pts.push(dp);
      return;
    }
    pts.splice(lowerBound(pts, dp.t + 1), 0, dp);
  }

  /** Datapoints with start <= t < end (sorted). */
  range(id: MetricId, start: number, end: number): Datapoint[] {
    const s = this.series.get(metricKey(id));
    if (!s) return [];
    return s.points.slice(lowerBound(s.points, start), lowerBound(s.points, end));
  }

  /** When the series' first datapoint visible at `now` arrived (Infinity when none has yet). */
  firstArrival(id: MetricId, now: number): number {
    const s = this.series.get(metricKey(id));
    let first = Number.POSITIVE_INFINITY;
    for (const p of s?.points ?? []) {
      if (p.t > now) break;
      first = Math.min(first, p.arrivedAt ?? p.t);
    }
    return first;
  }

  list(): MetricId[] {
    return [...this.series.values()].map((s) => s.id);
  }
}

function lowerBound(pts: Datapoint[], t: number): number {
  let lo = 0;
  let hi = pts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pts[mid].t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const PERCENTILE_RE = /^p(\d{1,2}(?:\.\d{1,10})?|100)$/;

export function isSupportedStat(stat: string): boolean {
  return ['Sum', 'Average', 'Minimum', 'Maximum', 'SampleCount'].includes(stat) || PERCENTILE_RE.test(stat);
}

/** Aggregates datapoints into `stat` per bucket (bucket start = floor(t / period) * period). */
export function aggregate(points: Datapoint[], periodMs: number, stat: string, anchor = 0): Map<number, number> {
  const buckets = new Map<number, Datapoint[]>();
  for (const p of points) {
    const b = anchor + Math.floor((p.t - anchor) / periodMs) * periodMs;
    (buckets.get(b) ?? buckets.set(b, []).get(b)!).push(p);
  }
  const out = new Map<number, number>();
  for (const [b, pts] of buckets) {
    const v = statistic(pts, stat);
    if (v !== undefined && Number.isFinite(v)) out.set(b, v);
  }
  return out;
}

function statistic(pts: Datapoint[], stat: string): number | undefined {
  const count = pts.reduce((n, p) => n + p.count, 0);
  if (count === 0) return undefined;
  switch (stat) {
    case 'Sum': return pts.reduce((n, p) => n + p.sum, 0);
    case 'SampleCount': return count;
    case 'Average': return pts.reduce((n, p) => n + p.sum, 0) / count;
    case 'Minimum': return Math.min(...pts.map((p) => p.min));
    case 'Maximum': return Math.max(...pts.map((p) => p.max));
  }
  const m = PERCENTILE_RE.exec(stat);
  if (!m) return undefined;
  // Percentiles need raw values; statistic sets without them do not contribute.
  const values = pts.flatMap((p) => p.values ?? []).sort((a, b) => a.v - b.v);
  const total = values.reduce((n, x) => n + x.n, 0);
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil((Number(m[1]) / 100) * total));
  let seen = 0;
  for (const x of values) {
    seen += x.n;
    if (seen >= rank) return x.v;
  }
  return values[values.length - 1].v;
}
