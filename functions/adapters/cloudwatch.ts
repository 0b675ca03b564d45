/**
 * CloudWatch: metric windows for verify stages (GetMetricData, all pages merged per query id),
 * which streams exist (ListMetrics), and alarm states for gates (DescribeAlarms, metric and
 * composite alarms).
 */
import { paginateDescribeAlarms, paginateGetMetricData, paginateListMetrics } from '@aws-sdk/client-cloudwatch';
import type {
  CloudWatchClient,
  DescribeAlarmsCommandOutput,
  GetMetricDataCommandOutput,
  ListMetricsCommandOutput,
  MetricDataQuery,
  StateValue,
  StatusCode,
} from '@aws-sdk/client-cloudwatch';
import { callAws, translateAwsError } from './aws-errors.ts';

const SERVICE = 'cloudwatch';
/** DescribeAlarms accepts at most 100 AlarmNames per request. */
const MAX_ALARM_NAMES = 100;

export interface MetricWindow {
  queries: MetricDataQuery[];
  start: Date;
  end: Date;
}

export interface MetricSeries {
  id: string;
  label: string | undefined;
  /** `Complete` once every page is in; `PartialData` if CloudWatch still reported more. */
  statusCode: StatusCode | undefined;
  /** Oldest first. */
  points: { timestamp: Date; value: number }[];
}

export interface AlarmStatus {
  name: string;
  /** `MISSING` when no alarm has this name (a gate should not treat that as OK). */
  state: StateValue | 'MISSING';
  reason?: string;
  updatedAt?: Date;
}

/** Typed CloudWatch calls over an injected client. */
export class CloudWatchAdapter {
  readonly client: CloudWatchClient;

  constructor(client: CloudWatchClient) {
    this.client = client;
  }

  /** GetMetricData over [start, end), every page, one series per query id with points oldest first. */
  async getMetricData(window: MetricWindow): Promise<MetricSeries[]> {
    const byId = new Map<string, MetricSeries>();
    for (const q of window.queries) {
      if (q.Id) byId.set(q.Id, { id: q.Id, label: q.Label, statusCode: undefined, points: [] });
    }
    const pages = paginateGetMetricData(
      { client: this.client },
      { MetricDataQueries: window.queries, StartTime: window.start, EndTime: window.end, ScanBy: 'TimestampAscending' },
    );
    try {
      for await (const page of pages as AsyncIterable<GetMetricDataCommandOutput>) {
        for (const result of page.MetricDataResults ?? []) {
          const id = result.Id ?? '';
          const series = byId.get(id) ?? { id, label: result.Label, statusCode: undefined, points: [] };
          byId.set(id, series);
          series.label = result.Label ?? series.label;
          series.statusCode = result.StatusCode;
          const timestamps = result.Timestamps ?? [];
          const values = result.Values ?? [];
          for (let i = 0; i < Math.min(timestamps.length, values.length); i++) {
            series.points.push({ timestamp: new Date(timestamps[i]), value: values[i] });
          }
        }
      }
    } catch (err) {
      throw translateAwsError(err, { service: SERVICE, operation: 'GetMetricData' });
    }
    for (const series of byId.values()) series.points.sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime());
    return [...byId.values()];
  }

  /**
   * Every published stream (of `metricName`, or of any metric) that has at least `dimensions`
   * (ListMetrics, every page). Lists only streams with data in the past two weeks, and a new one
   * only after up to fifteen minutes (CloudWatch API reference, ListMetrics).
   */
  async listMetrics(query: { namespace: string; metricName?: string; dimensions: Record<string, string> }): Promise<{ metricName: string; dimensions: Record<string, string> }[]> {
    const out: { metricName: string; dimensions: Record<string, string> }[] = [];
    await callAws({ service: SERVICE, operation: 'ListMetrics' }, async () => {
      const pages = paginateListMetrics(
        { client: this.client },
        {
          Namespace: query.namespace,
          ...(query.metricName !== undefined && { MetricName: query.metricName }),
          Dimensions: Object.entries(query.dimensions).map(([Name, Value]) => ({ Name, Value })),
        },
      );
      for await (const page of pages as AsyncIterable<ListMetricsCommandOutput>) {
        for (const metric of page.Metrics ?? []) {
          out.push({ metricName: metric.MetricName ?? '', dimensions: Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? ''])) });
        }
      }
    });
    return out;
  }

  /** The state of each named alarm (metric or composite), in the order asked. */
  async describeAlarms(names: string[]): Promise<AlarmStatus[]> {
    const found = new Map<string, AlarmStatus>();
    const unique = [...new Set(names)];
    for (let i = 0; i < unique.length; i += MAX_ALARM_NAMES) {
      const chunk = unique.slice(i, i + MAX_ALARM_NAMES);
      await callAws({ service: SERVICE, operation: 'DescribeAlarms' }, async () => {
        const pages = paginateDescribeAlarms(
          { client: this.client },
          { AlarmNames: chunk, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] },
        );
        for await (const page of pages as AsyncIterable<DescribeAlarmsCommandOutput>) {
          for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
            if (!alarm.AlarmName || !alarm.StateValue) continue;
            found.set(alarm.AlarmName, {
              name: alarm.AlarmName,
              state: alarm.StateValue,
              ...(alarm.StateReason !== undefined && { reason: alarm.StateReason }),
              ...(alarm.StateUpdatedTimestamp !== undefined && { updatedAt: alarm.StateUpdatedTimestamp }),
            });
          }
        }
      });
    }
    return names.map((name) => found.get(name) ?? { name, state: 'MISSING' });
  }
}
