import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchAdapter } from '../../functions/adapters/cloudwatch.ts';
import { ServiceUnavailableError } from '../../functions/lib/errors.ts';

const cloudWatch = mockClient(CloudWatchClient);
const t = (minute: number) => new Date(Date.UTC(2026, 10, 23, 10, minute));

describe('CloudWatchAdapter', () => {
  let adapter: CloudWatchAdapter;
  beforeEach(() => {
    cloudWatch.reset();
    adapter = new CloudWatchAdapter(new CloudWatchClient({ region: 'us-east-1' }));
  });

  it('getMetricData merges every page per query id, oldest point first', async () => {
    cloudWatch
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'deny', Label: 'DenyDecisions', Timestamps: [t(1), t(0)], Values: [2, 1], StatusCode: 'PartialData' },
          { Id: 'allow', Label: 'AllowDecisions', Timestamps: [t(0)], Values: [10], StatusCode: 'PartialData' },
        ],
        NextToken: 'P2',
      })
      .resolvesOnce({ MetricDataResults: [{ Id: 'deny', Timestamps: [t(2)], Values: [3], StatusCode: 'Complete' }] });

    const series = await adapter.getMetricData({
      queries: [
        { Id: 'deny', MetricStat: { Metric: { Namespace: 'AWS/Bedrock-AgentCore', MetricName: 'DenyDecisions' }, Period: 60, Stat: 'Sum' } },
        { Id: 'allow', MetricStat: { Metric: { Namespace: 'AWS/Bedrock-AgentCore', MetricName: 'AllowDecisions' }, Period: 60, Stat: 'Sum' } },
      ],
      start: t(0),
      end: t(5),
    });

    expect(cloudWatch).toHaveReceivedCommandTimes(GetMetricDataCommand, 2);
    expect(cloudWatch).toHaveReceivedCommandWith(GetMetricDataCommand, { StartTime: t(0), EndTime: t(5) });
    const deny = series.find((s) => s.id === 'deny');
    expect(deny).toEqual({
      id: 'deny',
      label: 'DenyDecisions',
      statusCode: 'Complete',
      points: [{ timestamp: t(0), value: 1 }, { timestamp: t(1), value: 2 }, { timestamp: t(2), value: 3 }],
    });
    expect(series.find((s) => s.id === 'allow')?.points).toEqual([{ timestamp: t(0), value: 10 }]);
  });

  it('getMetricData returns an empty series for a query with no data', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });

    const series = await adapter.getMetricData({ queries: [{ Id: 'q', Expression: 'SUM(x)', Period: 60 }], start: t(0), end: t(1) });

    expect(series).toEqual([{ id: 'q', label: undefined, statusCode: undefined, points: [] }]);
  });

  it('getMetricData translates failures', async () => {
    cloudWatch.on(GetMetricDataCommand).rejects(Object.assign(new Error('x'), { name: 'InternalServiceFault', $metadata: { httpStatusCode: 500 } }));

    await expect(adapter.getMetricData({ queries: [], start: t(0), end: t(1) })).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('describeAlarms returns metric and composite alarm states in the order asked, MISSING for unknown names', async () => {
    cloudWatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [{ AlarmName: 'errors', StateValue: 'ALARM', StateReason: 'threshold crossed', StateUpdatedTimestamp: t(3) }],
      CompositeAlarms: [{ AlarmName: 'health', StateValue: 'OK' }],
    });

    const states = await adapter.describeAlarms(['health', 'errors', 'ghost']);

    expect(states).toEqual([
      { name: 'health', state: 'OK' },
      { name: 'errors', state: 'ALARM', reason: 'threshold crossed', updatedAt: t(3) },
      { name: 'ghost', state: 'MISSING' },
    ]);
    expect(cloudWatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, {
      AlarmNames: ['health', 'errors', 'ghost'],
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
    });
  });

  it('describeAlarms asks for at most 100 names per request', async () => {
    cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    const names = Array.from({ length: 150 }, (_, i) => `alarm-${i}`);

    await adapter.describeAlarms(names);

    const sent = cloudWatch.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input.AlarmNames?.length);
    expect(sent).toEqual([100, 50]);
  });
});
