/**
 * The stack watches itself (serverless.yml + resources/monitoring.yml): every function's errors and
 * throttles, both state machines' failed/timed-out/aborted executions, the dead-letter queue, a
 * missed drift run and a failed rollback are alarmed on, every alarm notifies the alarm topic, and
 * functions and state machines are traced and logged.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/lib/config/index.ts';
import { parseSchedule, nextFiring } from '../../local/emulator/eventbridge/schedule.ts';
import { loadServerlessConfig } from '../../local/lambda/serverless-config.ts';
import { stackAlarms } from '../../local/monitoring.ts';
import { REPO_ROOT } from '../../local/stack.ts';

const config = loadServerlessConfig(path.join(REPO_ROOT, 'serverless.yml'), { stage: 'prod', env: {} });
const alarms = stackAlarms(config);
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:agentcore-autopilot-prod-alarms';

type Stat = { Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] } };
/** `namespace/metric/dimension value` of every metric an alarm reads. */
function watched(): Set<string> {
  const out = new Set<string>();
  for (const a of alarms) {
    const stats: Stat[] = a.Metrics
      ? a.Metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat as unknown as Stat] : []))
      : [{ Metric: { Namespace: a.Namespace!, MetricName: a.MetricName!, Dimensions: (a.Dimensions ?? []) as Stat['Metric']['Dimensions'] } }];
    for (const s of stats) for (const d of s.Metric.Dimensions) out.add(`${s.Metric.Namespace}/${s.Metric.MetricName}/${d.Value}`);
  }
  return out;
}

describe('the stack alarms on its own health', () => {
  it('covers every function (errors and throttles), every state machine, the DLQ, missed drift runs and failed rollbacks', () => {
    const w = watched();
    for (const f of Object.values(config.functions)) {
      expect(w.has(`AWS/Lambda/Errors/${f.name}`), `${f.key} errors`).toBe(true);
      expect(w.has(`AWS/Lambda/Throttles/${f.name}`), `${f.key} throttles`).toBe(true);
    }
    for (const m of Object.values(config.stateMachines)) {
      for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) expect(w.has(`AWS/States/${metric}/${m.arn}`), `${m.key} ${metric}`).toBe(true);
    }
    expect(w.has('AWS/SQS/ApproximateNumberOfMessagesVisible/agentcore-autopilot-prod-events-dlq')).toBe(true);
    expect(w.has(`AWS/Lambda/Invocations/${config.functions.correctDrift.name}`)).toBe(true);
    expect(w.has(`AWS/Lambda/Errors/${config.functions.promotionRollback.name}`) && w.has(`AWS/Lambda/Errors/${config.functions.rolloutRestore.name}`)).toBe(true);
    for (const a of alarms) {
      expect(a.AlarmActions, a.AlarmName).toEqual([TOPIC]);
      expect(a.Metrics?.filter((m) => m.MetricStat).length ?? 1, a.AlarmName).toBeLessThanOrEqual(10);
    }
  });

  it('the missed-drift-run window spans at least one period of drift.schedule', async () => {
    const drift = await loadConfig(path.join(REPO_ROOT, 'autopilot.config.yaml'));
    const schedule = parseSchedule(drift.drift.schedule);
    const t0 = Date.UTC(2026, 0, 5);
    const first = nextFiring(schedule, t0, t0)!;
    const gap = (nextFiring(schedule, first, t0)! - first) / 1000;
    const missed = alarms.find((a) => a.AlarmName?.endsWith('drift-run-missed'))!;
    expect(missed).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Invocations', ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching' });
    expect(missed.Period! % 60).toBe(0);
    expect(missed.Period!).toBeGreaterThanOrEqual(gap);
  });

  it('traces and logs functions and state machines', () => {
    const provider = config.provider as Record<string, any>;
    expect(provider.tracing).toEqual({ lambda: true });
    expect(provider.logs.lambda).toMatchObject({ logFormat: 'JSON' });
    const machines = ((config.resolved.stepFunctions as any).stateMachines) as Record<string, any>;
    for (const [key, m] of Object.entries(machines)) {
      expect(m.tracingConfig, key).toEqual({ enabled: true });
      expect(m.loggingConfig, key).toMatchObject({ level: 'ALL', includeExecutionData: false });
    }
  });
});
