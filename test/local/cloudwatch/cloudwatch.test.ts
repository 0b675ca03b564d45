import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CloudWatchClient, DeleteAlarmsCommand, InternalServiceFault, DescribeAlarmsCommand, GetMetricDataCommand, InvalidNextToken,
  InvalidParameterCombinationException, InvalidParameterValueException, ListMetricsCommand,
  MissingRequiredParameterException, PutMetricAlarmCommand, PutMetricDataCommand, ResourceNotFound,
  SetAlarmStateCommand, ValidationException, type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import { parse as parseYaml } from 'yaml';
import { VirtualClock } from '../../../local/clock.ts';
import { AwsError } from '../../../local/emulator/types.ts';
import { startHttpCore, type HttpCore } from '../../../local/emulator/server.ts';
import { CloudWatchStandIn, cloudWatchSeedSchema } from '../../../local/emulator/cloudwatch/cloudwatch.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const NS = 'AWS/Bedrock-AgentCore';
const DIMS = { OperationName: 'AuthorizeAction' };
const MIN = 60_000;

let clock: VirtualClock;
let cw: CloudWatchStandIn;
let core: HttpCore;
let client: CloudWatchClient;

beforeEach(async () => {
  clock = new VirtualClock({ start: T0 });
  cw = new CloudWatchStandIn({ clock });
  core = await startHttpCore({ services: [cw], clock });
  client = new CloudWatchClient({
    endpoint: core.url, region: 'us-east-1', maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
  });
});

afterEach(async () => {
  client.destroy();
  await core.close();
});

function decisionQueries(period = 60): MetricDataQuery[] {
  const stat = (id: string, metricName: string): MetricDataQuery => ({
    Id: id,
    MetricStat: { Metric: { Namespace: NS, MetricName: metricName, Dimensions: [{ Name: 'OperationName', Value: 'AuthorizeAction' }] }, Period: period, Stat: 'Sum' },
    ReturnData: false,
  });
  return [
    stat('allow', 'AllowDecisions'),
    stat('deny', 'DenyDecisions'),
    { Id: 'denyRate', Expression: 'deny / (allow + deny)', Label: 'DenyRate' },
  ];
}

describe('CloudWatch stand-in over the real SDK (awsJson1_0, query-compatible)', () => {
  it('starts periods at StartTime (whole minute) and counts only datapoints inside the window', async () => {
    // One datapoint a minute for the last 4 hours.
    cw.scriptSeries({ namespace: NS, metricName: 'AllowDecisions', dimensions: DIMS, from: '-4h', to: '0s', value: 1 });
    // A 120-minute window that starts off any 2-hour boundary, read as one 7200 s period.
    const start = new Date(T0 - 161 * MIN + 15_000); // rounded down to T0 - 161 min
    const end = new Date(T0 - 41 * MIN);
    const out = await client.send(new GetMetricDataCommand({
      StartTime: start, EndTime: end,
      MetricDataQueries: [{ Id: 'allow', MetricStat: { Metric: { Namespace: NS, MetricName: 'AllowDecisions', Dimensions: [{ Name: 'OperationName', Value: 'AuthorizeAction' }] }, Period: 7200, Stat: 'Sum' } }],
    }));
    const r = out.MetricDataResults![0];
    expect(r.Timestamps).toEqual([new Date(T0 - 161 * MIN)]);
    expect(r.Values).toEqual([120]);
  });

  it('sends GraniteServiceVersion20100801 targets with the JSON 1.0 content type', async () => {
    cw.scriptSeries({ namespace: NS, metricName: 'AllowDecisions', dimensions: DIMS, from: '-5m', to: '0s', value: 1 });
    const seen: Record<string, string | string[] | undefined>[] = [];
    core.server.prependListener('request', (req) => seen.push(req.headers));
    await client.send(new ListMetricsCommand({ Namespace: NS }));
    expect(seen[0]['x-amz-target']).toBe('GraniteServiceVersion20100801.ListMetrics');
    expect(seen[0]['content-type']).toBe('application/x-amz-json-1.0');
    expect(seen[0]['x-amzn-query-mode']).toBe('true');
  });

  it('answers GetMetricData with a deny-rate math expression, descending timestamps aligned to the period', async () => {
    cw.scriptSeries({ namespace: NS, metricName: 'AllowDecisions', dimensions: DIMS, from: '-3600s', to: '+86400s', value: 120 });
    cw.scriptSeries({
      namespace: NS, metricName: 'DenyDecisions', dimensions: DIMS, from: '-3600s', to: '+86400s',
      // 0 denies before T0, then 30 denies per minute from T0+5m
      value: (t) => (t >= T0 + 5 * MIN ? 30 : 0),
    });
    await clock.advance(10 * MIN);

    const out = await client.send(new GetMetricDataCommand({
      MetricDataQueries: decisionQueries(),
      StartTime: new Date(T0), EndTime: new Date(T0 + 10 * MIN),
    }));
    expect(out.MetricDataResults).toHaveLength(1);
    const r = out.MetricDataResults![0];
    expect(r.Id).toBe('denyRate');
    expect(r.Label).toBe('DenyRate');
    expect(r.StatusCode).toBe('Complete');
    expect(r.Timestamps!.map((d) => d.getTime())).toEqual(
      Array.from({ length: 10 }, (_, i) => T0 + (9 - i) * MIN),
    );
    expect(r.Values).toEqual([0.2, 0.2, 0.2, 0.2, 0.2, 0, 0, 0, 0, 0]);
    expect(out.NextToken).toBeUndefined();
  });

  it('hides scripted datapoints that lie in the future of the clock', async () => {
    cw.scriptSeries({ namespace: NS, metricName: 'AllowDecisions', dimensions: DIMS, from: 0 + T0, to: T0 + 60 * MIN, value: 5 });
    const query = (): Promise<number[]> => client.send(new GetMetricDataCommand({
      MetricDataQueries: [{ Id: 'm', MetricStat: { Metric: { Namespace: NS, MetricName: 'AllowDecisions', Dimensions: [{ Name: 'OperationName', Value: 'AuthorizeAction' }] }, Period: 300, Stat: 'Sum' } }],
      StartTime: new Date(T0), EndTime: new Date(T0 + 60 * MIN), ScanBy: 'TimestampAscending',
    })).then((o) => o.MetricDataResults![0].Values!);
    expect(await query()).toEqual([5]); // only the T0 datapoint exists "now"
    await clock.advance(12 * MIN);
    expect(await query()).toEqual([25, 25, 15]);
  });

  it('aggregates PutMetricData values and statistic sets per bucket for every statistic', async () => {
    const dims = [{ Name: 'Service', Value: 'svc' }];
    await client.send(new PutMetricDataCommand({
      Namespace: 'Autopilot',
      MetricData: [
        { MetricName: 'Latency', Dimensions: dims, Timestamp: new Date(T0 - 50_000), Value: 10 },
        { MetricName: 'Latency', Dimensions: dims, Timestamp: new Date(T0 - 40_000), Values: [20, 30, 40], Counts: [1, 1, 2] },
        { MetricName: 'Latency', Dimensions: dims, Timestamp: new Date(T0 - 30_000), StatisticValues: { SampleCount: 4, Sum: 100, Minimum: 1, Maximum: 70 } },
        { MetricName: 'Latency', Dimensions: [{ Name: 'Service', Value: 'other' }], Timestamp: new Date(T0 - 30_000), Value: 999 },
      ],
    }));
    const stats = ['Sum', 'SampleCount', 'Average', 'Minimum', 'Maximum', 'p50', 'p99'];
    const out = await client.send(new GetMetricDataCommand({
      MetricDataQueries: stats.map((s, i) => ({
        Id: `q${i}`, MetricStat: { Metric: { Namespace: 'Autopilot', MetricName: 'Latency', Dimensions: dims }, Period: 60, Stat: s },
      })),
      StartTime: new Date(T0 - 60_000), EndTime: new Date(T0),
    }));
    const byStat = Object.fromEntries(out.MetricDataResults!.map((r, i) => [stats[i], r.Values![0]]));
    // values: 10 | 20, 30, 40, 40 | statistic set (4 samples, sum 100, min 1, max 70, no raw values)
    expect(byStat).toEqual({ Sum: 240, SampleCount: 9, Average: 240 / 9, Minimum: 1, Maximum: 70, p50: 30, p99: 40 });
  });

  it('evaluates FILL, SUM([...]), IF and scalar arithmetic in expressions', async () => {
    const id = (m: string) => ({ Namespace: NS, MetricName: m, Dimensions: [{ Name: 'OperationName', Value: 'AuthorizeAction' }] });
    cw.scriptSeries({ namespace: NS, metricName: 'AllowDecisions', dimensions: DIMS, from: T0, to: T0 + 4 * MIN, value: 10 });
    // denies only at minutes 1 and 3: FILL must provide 0 elsewhere
    cw.scriptSeries({ namespace: NS, metricName: 'DenyDecisions', dimensions: DIMS, from: T0, to: T0 + 4 * MIN, value: (t) => ((t - T0) / MIN) % 2 === 1 ? 10 : undefined });
    await clock.advance(5 * MIN);
    const out = await client.send(new GetMetricDataCommand({
      MetricDataQueries: [
        { Id: 'a', MetricStat: { Metric: id('AllowDecisions'), Period: 60, Stat: 'Sum' }, ReturnData: false },
        { Id: 'd', MetricStat: { Metric: id('DenyDecisions'), Period: 60, Stat: 'Sum' }, ReturnData: false },
        { Id: 'raw', Expression: 'd / (a + d)' },
        { Id: 'filled', Expression: '100 * FILL(d, 0) / SUM([a, FILL(d, 0)])' },
        { Id: 'flag', Expression: 'IF(FILL(d, 0) > 5, 1, 0)' },
      ],
      StartTime: new Date(T0), EndTime: new Date(T0 + 5 * MIN), ScanBy: 'TimestampAscending',
    }));
    const [raw, filled, flag] = out.MetricDataResults!;
    expect(raw.Values).toEqual([0.5, 0.5]);
    expect(raw.Timestamps!.map((d) => d.getTime())).toEqual([T0 + MIN, T0 + 3 * MIN]);
    expect(filled.Values).toEqual([0, 50, 0, 50, 0]);
    expect(flag.Values).toEqual([0, 1, 0, 1, 0]);
  });

  it('paginates by MaxDatapoints with NextToken and PartialData', async () => {
    cw.scriptSeries({ namespace: NS, metricName: 'AllowDecisions', dimensions: DIMS, from: T0 - 9 * MIN, to: T0, value: (t) => (t - (T0 - 9 * MIN)) / MIN });
    const input = {
      MetricDataQueries: [{ Id: 'm', MetricStat: { Metric: { Namespace: NS, MetricName: 'AllowDecisions', Dimensions: [{ Name: 'OperationName', Value: 'AuthorizeAction' }] }, Period: 60, Stat: 'Sum' } }],
      StartTime: new Date(T0 - 10 * MIN), EndTime: new Date(T0 + MIN), MaxDatapoints: 4,
    };
    const values: number[] = [];
    let token: string | undefined;
    const statuses: string[] = [];
    do {
      const page = await client.send(new GetMetricDataCommand({ ...input, NextToken: token }));
      values.push(...page.MetricDataResults![0].Values!);
      statuses.push(page.MetricDataResults![0].StatusCode!);
      token = page.NextToken;
    } while (token);
    expect(values).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(statuses).toEqual(['PartialData', 'PartialData', 'Complete']);

    const first = await client.send(new GetMetricDataCommand(input));
    await expect(client.send(new GetMetricDataCommand({ ...input, ScanBy: 'TimestampAscending', NextToken: first.NextToken })))
      .rejects.toBeInstanceOf(InvalidNextToken);
  });

  it('maps errors to the typed exception classes through x-amzn-query-error', async () => {
    const base = { StartTime: new Date(T0 - MIN), EndTime: new Date(T0) };
    const stat = { Metric: { Namespace: NS, MetricName: 'X' }, Period: 60, Stat: 'Sum' };

    const e1 = await client.send(new GetMetricDataCommand({ ...base, MetricDataQueries: [{ Id: 'm', MetricStat: { ...stat, Stat: 'Median' } }] })).catch((e) => e);
    expect(e1).toBeInstanceOf(InvalidParameterValueException);
    expect(e1.name).toBe('InvalidParameterValueException');
    expect(e1.message).toMatch(/Median/);
    expect(e1.$metadata.httpStatusCode).toBe(400);

    const e2 = await client.send(new GetMetricDataCommand({ ...base, MetricDataQueries: [{ Id: 'e', Expression: 'm1 +' }] })).catch((e) => e);
    expect(e2).toBeInstanceOf(ValidationException);

    const e3 = await client.send(new GetMetricDataCommand({ ...base, MetricDataQueries: [{ Id: 'e', Expression: 'nope * 2' }] })).catch((e) => e);
    expect(e3).toBeInstanceOf(ValidationException);
    expect(e3.message).toMatch(/nope/);

    await expect(client.send(new GetMetricDataCommand({ StartTime: base.StartTime, EndTime: base.EndTime } as never)))
      .rejects.toBeInstanceOf(MissingRequiredParameterException);
    await expect(client.send(new GetMetricDataCommand({ StartTime: base.EndTime, EndTime: base.StartTime, MetricDataQueries: [{ Id: 'm', MetricStat: stat }] })))
      .rejects.toBeInstanceOf(InvalidParameterValueException);
    await expect(client.send(new PutMetricDataCommand({ Namespace: 'AWS/Bedrock-AgentCore', MetricData: [{ MetricName: 'X', Value: 1 }] })))
      .rejects.toBeInstanceOf(InvalidParameterValueException);
    await expect(client.send(new PutMetricDataCommand({ Namespace: 'Mine', MetricData: [{ MetricName: 'X', Value: 1, StatisticValues: { SampleCount: 1, Sum: 1, Minimum: 1, Maximum: 1 } }] })))
      .rejects.toBeInstanceOf(InvalidParameterCombinationException);

    const e4 = await client.send(new SetAlarmStateCommand({ AlarmName: 'ghost', StateValue: 'ALARM', StateReason: 'x' })).catch((e) => e);
    expect(e4).toBeInstanceOf(ResourceNotFound);
    expect(e4.$metadata.httpStatusCode).toBe(404);
    expect(e4.Error?.Code).toBe('ResourceNotFound');
  });
});

describe('CloudWatch faults', () => {
  it('renders injected throttling so that the SDK retries it', async () => {
    await core.close();
    let injected = 0;
    core = await startHttpCore({
      services: [cw], clock,
      faults: { before: (service, op) => (service === 'monitoring' && op === 'DescribeAlarms' && injected++ === 0 ? new AwsError('ThrottlingException', 400, 'Rate exceeded') : undefined) },
    });
    const retrying = new CloudWatchClient({ endpoint: core.url, region: 'us-east-1', maxAttempts: 2, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const out = await retrying.send(new DescribeAlarmsCommand({}));
    retrying.destroy();
    expect(out.MetricAlarms).toEqual([]);
    expect(out.$metadata.attempts).toBe(2);
    expect(core.requests.map((r) => [r.operation, r.injected ?? false, r.status])).toEqual([['DescribeAlarms', true, 400], ['DescribeAlarms', false, 200]]);
  });
});

describe('CloudWatch server faults', () => {
  it('renders a service-neutral InternalServerException as CloudWatch InternalServiceFault', async () => {
    await core.close();
    core = await startHttpCore({ services: [cw], clock, faults: { before: () => new AwsError('InternalServerException', 500, 'injected') } });
    const c = new CloudWatchClient({ endpoint: core.url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const err = await c.send(new DescribeAlarmsCommand({})).catch((e) => e);
    c.destroy();
    expect(err).toBeInstanceOf(InternalServiceFault);
    expect(err.$fault).toBe('server');
    expect(err.message).toBe('injected');
  });
});

describe('CloudWatch alarms', () => {
  it('answers DescribeAlarms with the scripted state in force at the clock time', async () => {
    cw.scriptAlarm('agent-errors', [
      { at: T0, state: 'OK', reason: 'baseline' },
      { at: T0 + 10 * MIN, state: 'ALARM', reason: 'Threshold Crossed: 3 datapoints were greater than the threshold (5.0)' },
      { at: '+20m', state: 'OK', reason: 'recovered' },
    ], { Namespace: NS, MetricName: 'SystemErrors', Statistic: 'Sum', Period: 60, EvaluationPeriods: 3, Threshold: 5, ComparisonOperator: 'GreaterThanThreshold' });
    cw.scriptAlarm('gateway-latency', [{ at: T0, state: 'OK' }]);

    const describe = (filter: Record<string, unknown> = {}) => client.send(new DescribeAlarmsCommand({ AlarmNames: ['agent-errors'], ...filter }));

    let a = (await describe()).MetricAlarms![0];
    expect(a.StateValue).toBe('OK');
    expect(a.StateReason).toBe('baseline');
    expect(a.Threshold).toBe(5);
    expect(a.AlarmArn).toBe('arn:aws:cloudwatch:us-east-1:123456789012:alarm:agent-errors');

    await clock.advance(12 * MIN);
    a = (await describe()).MetricAlarms![0];
    expect(a.StateValue).toBe('ALARM');
    expect(a.StateReason).toMatch(/Threshold Crossed/);
    expect(a.StateUpdatedTimestamp!.getTime()).toBe(T0 + 10 * MIN);
    expect((await client.send(new DescribeAlarmsCommand({ StateValue: 'ALARM' }))).MetricAlarms!.map((x) => x.AlarmName)).toEqual(['agent-errors']);
    expect((await client.send(new DescribeAlarmsCommand({ StateValue: 'OK' }))).MetricAlarms!.map((x) => x.AlarmName)).toEqual(['gateway-latency']);

    await clock.advance(10 * MIN);
    a = (await describe()).MetricAlarms![0];
    expect(a.StateValue).toBe('OK');
    expect(a.StateReason).toBe('recovered');
  });

  it('creates alarms with PutMetricAlarm, changes them with SetAlarmState, deletes them', async () => {
    await client.send(new PutMetricAlarmCommand({
      AlarmName: 'deny-rate', EvaluationPeriods: 2, ComparisonOperator: 'GreaterThanThreshold', Threshold: 0.1,
      Metrics: decisionQueries(),
    }));
    let [a] = (await client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'deny' }))).MetricAlarms!;
    expect(a.StateValue).toBe('INSUFFICIENT_DATA');
    expect(a.StateReason).toBe('Unchecked: Initial alarm creation');
    expect(a.Metrics!.map((m) => m.Id)).toEqual(['allow', 'deny', 'denyRate']);

    await clock.advance(MIN);
    await client.send(new SetAlarmStateCommand({ AlarmName: 'deny-rate', StateValue: 'ALARM', StateReason: 'manual test', StateReasonData: '{"x":1}' }));
    [a] = (await client.send(new DescribeAlarmsCommand({ AlarmNames: ['deny-rate'] }))).MetricAlarms!;
    expect(a.StateValue).toBe('ALARM');
    expect(a.StateReasonData).toBe('{"x":1}');
    expect(a.StateUpdatedTimestamp!.getTime()).toBe(T0 + MIN);

    await expect(client.send(new PutMetricAlarmCommand({ AlarmName: 'bad', EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanThreshold', Threshold: 1, MetricName: 'X', Namespace: 'Y', Period: 60 })))
      .rejects.toBeInstanceOf(InvalidParameterCombinationException);
    await client.send(new DeleteAlarmsCommand({ AlarmNames: ['deny-rate'] }));
    expect((await client.send(new DescribeAlarmsCommand({}))).MetricAlarms).toEqual([]);
  });

  it('evaluates PutMetricAlarm alarms against their metric every minute; SetAlarmState holds until the next evaluation', async () => {
    cw.scriptSeries({ namespace: NS, metricName: 'DenyDecisions', dimensions: DIMS, from: '-1h', to: '+1h', value: (t) => (t >= T0 + 5 * MIN ? 30 : 0) });
    await client.send(new PutMetricAlarmCommand({
      AlarmName: 'denies', Namespace: NS, MetricName: 'DenyDecisions', Dimensions: [{ Name: 'OperationName', Value: 'AuthorizeAction' }],
      Statistic: 'Sum', Period: 60, EvaluationPeriods: 2, DatapointsToAlarm: 2, Threshold: 10, ComparisonOperator: 'GreaterThanThreshold',
    }));
    const state = async () => (await client.send(new DescribeAlarmsCommand({ AlarmNames: ['denies'] }))).MetricAlarms![0];
    expect((await state()).StateValue).toBe('INSUFFICIENT_DATA');

    await clock.advance(3 * MIN);
    expect((await state()).StateValue).toBe('OK');
    await clock.advance(3 * MIN); // T0+6m: buckets 4m (0) and 5m (30): 1 of 2 breaching
    expect((await state()).StateValue).toBe('OK');
    await clock.advance(MIN); // T0+7m: buckets 5m and 6m both 30
    let a = await state();
    expect(a.StateValue).toBe('ALARM');
    expect(a.StateUpdatedTimestamp!.getTime()).toBe(T0 + 7 * MIN);
    expect(a.StateReason).toMatch(/^Threshold Crossed: 2 out of the last 2 datapoints \[30 .*\] were greater than the threshold \(10\)/);
    expect(JSON.parse(a.StateReasonData!).recentDatapoints).toEqual([30, 30]);

    await clock.advance(30_000);
    await client.send(new SetAlarmStateCommand({ AlarmName: 'denies', StateValue: 'OK', StateReason: 'testing actions' }));
    expect((await state()).StateValue).toBe('OK');
    await clock.advance(30_000);
    a = await state();
    expect(a.StateValue).toBe('ALARM');
    expect(a.StateTransitionedTimestamp!.getTime()).toBe(T0 + 8 * MIN);
  });

  it('evaluates metric-math alarms and missing-data treatments', async () => {
    cw.scriptSeries({ namespace: NS, metricName: 'AllowDecisions', dimensions: DIMS, from: '-1h', to: '+1h', value: 90 });
    cw.scriptSeries({ namespace: NS, metricName: 'DenyDecisions', dimensions: DIMS, from: '-1h', to: '+1h', value: 10 });
    const base = { EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' as const };
    await client.send(new PutMetricAlarmCommand({ ...base, AlarmName: 'rate-high', Threshold: 0.1, Metrics: decisionQueries() }));
    await client.send(new PutMetricAlarmCommand({ ...base, AlarmName: 'rate-very-high', Threshold: 0.5, Metrics: decisionQueries() }));
    const silent = { Namespace: 'Autopilot', MetricName: 'Nothing', Statistic: 'Sum' as const, Period: 60, Threshold: 1 };
    await client.send(new PutMetricAlarmCommand({ ...base, ...silent, AlarmName: 'silent-breaching', TreatMissingData: 'breaching' }));
    await client.send(new PutMetricAlarmCommand({ ...base, ...silent, AlarmName: 'silent-notbreaching', TreatMissingData: 'notBreaching' }));
    await client.send(new PutMetricAlarmCommand({ ...base, ...silent, AlarmName: 'silent-missing' }));
    await clock.advance(MIN);
    const alarms = (await client.send(new DescribeAlarmsCommand({}))).MetricAlarms!;
    expect(Object.fromEntries(alarms.map((x) => [x.AlarmName, x.StateValue]))).toEqual({
      'rate-high': 'ALARM', 'rate-very-high': 'OK', 'silent-breaching': 'ALARM', 'silent-notbreaching': 'OK', 'silent-missing': 'INSUFFICIENT_DATA',
    });
  });

  it('never evaluates scripted alarms', async () => {
    cw.scriptAlarm('scripted', [{ at: T0, state: 'ALARM' }], { Namespace: NS, MetricName: 'Nothing', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching' });
    await clock.advance(10 * MIN);
    expect(cw.alarmState('scripted')).toBe('ALARM');
  });

  it('paginates DescribeAlarms by MaxRecords in name order', async () => {
    for (const n of ['c', 'a', 'b']) cw.scriptAlarm(n, [{ at: T0, state: 'OK' }]);
    const p1 = await client.send(new DescribeAlarmsCommand({ MaxRecords: 2 }));
    expect(p1.MetricAlarms!.map((x) => x.AlarmName)).toEqual(['a', 'b']);
    const p2 = await client.send(new DescribeAlarmsCommand({ MaxRecords: 2, NextToken: p1.NextToken }));
    expect(p2.MetricAlarms!.map((x) => x.AlarmName)).toEqual(['c']);
    expect(p2.NextToken).toBeUndefined();
  });
});

describe('CloudWatch seed', () => {
  it('loads metrics and alarms from a YAML-shaped seed section', async () => {
    cw.seed({
      metrics: [
        { namespace: NS, metricName: 'AllowDecisions', dimensions: DIMS, everyMinute: 120, from: '-3600s', to: '+86400s' },
        { namespace: NS, metricName: 'DenyDecisions', dimensions: DIMS, everyMinute: 40 },
      ],
      alarms: [
        { name: 'deny-alarm', state: 'OK', namespace: NS, dimensions: DIMS, metricName: 'DenyDecisions', statistic: 'Sum', period: 60, evaluationPeriods: 1, threshold: 100, comparisonOperator: 'GreaterThanThreshold' },
        { name: 'flappy', timeline: [{ at: '0s', state: 'OK' }, { at: '+5m', state: 'ALARM', reason: 'spike' }] },
      ],
    });
    await clock.advance(6 * MIN);
    const out = await client.send(new GetMetricDataCommand({
      MetricDataQueries: decisionQueries(300), StartTime: new Date(T0 - 3600_000), EndTime: new Date(T0 + 6 * MIN),
    }));
    const r = out.MetricDataResults![0];
    expect(r.Timestamps).toHaveLength(14); // 12 five-minute buckets before T0, 2 after
    expect(new Set(r.Values)).toEqual(new Set([0.25]));
    const alarms = (await client.send(new DescribeAlarmsCommand({}))).MetricAlarms!;
    expect(alarms.map((a) => [a.AlarmName, a.StateValue])).toEqual([['deny-alarm', 'OK'], ['flappy', 'ALARM']]);
    expect(alarms[0].Dimensions).toEqual([{ Name: 'OperationName', Value: 'AuthorizeAction' }]);
  });

  it('accepts the seed section as written in YAML', async () => {
    cw.seed(parseYaml([
      'metrics:',
      '  - namespace: AWS/Bedrock-AgentCore',
      '    metricName: AllowDecisions',
      '    dimensions: {OperationName: AuthorizeAction}',
      '    everyMinute: 120',
      '    from: -3600s',
      '    to: +86400s',
      'alarms:',
      '  - name: canary',
      '    state: ALARM',
      '    reason: seeded',
      '  - name: allow-low',
      '    namespace: AWS/Bedrock-AgentCore',
      '    metricName: AllowDecisions',
      '    dimensions: {OperationName: AuthorizeAction}',
      '    statistic: Sum',
      '    period: 60',
      '    threshold: 100',
      '    comparisonOperator: LessThanThreshold',
    ].join('\n')));
    const out = await client.send(new GetMetricDataCommand({
      MetricDataQueries: [{ Id: 'm', MetricStat: { Metric: { Namespace: NS, MetricName: 'AllowDecisions', Dimensions: [{ Name: 'OperationName', Value: 'AuthorizeAction' }] }, Period: 3600, Stat: 'Sum' } }],
      StartTime: new Date(T0 - 3600_000), EndTime: new Date(T0 + 3600_000),
    }));
    // the hour before T0 (60 points) and the T0 point itself
    expect(out.MetricDataResults![0].Values).toEqual([120, 7200]);
    expect(cw.alarmState('canary')).toBe('ALARM');
    expect(cw.alarmState('allow-low')).toBe('INSUFFICIENT_DATA'); // evaluated from the next minute on
    await clock.advance(MIN);
    expect(cw.alarmState('allow-low')).toBe('OK');
  });

  it('rejects malformed seeds with a clear schema error', () => {
    expect(() => cloudWatchSeedSchema.parse({ metrics: [{ namespace: NS, metricName: 'X' }] })).toThrow(/everyMinute or value/);
    expect(() => cloudWatchSeedSchema.parse({ alarms: [{ name: 'a', state: 'BROKEN' }] })).toThrow();
  });
});
