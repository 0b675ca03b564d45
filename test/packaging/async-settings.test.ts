/**
 * Every function EventBridge invokes (asynchronously) keeps what fails: bounded retries and event
 * age, and the stack's dead-letter queue as on-failure destination. correctDrift never piles up:
 * no retries, an event waits at most one period of drift.schedule, and a run ends before the next
 * one is due (Lambda Developer Guide, "Configuring error handling for asynchronous invocation").
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/lib/config/index.ts';
import { nextFiring, parseSchedule } from '../../local/emulator/eventbridge/schedule.ts';
import { loadServerlessConfig } from '../../local/lambda/serverless-config.ts';
import { REPO_ROOT } from '../../local/stack.ts';

const sls = (stage: string) => loadServerlessConfig(path.join(REPO_ROOT, 'serverless.yml'), { stage, env: {} });

/** The shortest gap between two firings of a schedule expression over a week of firings. */
function shortestPeriodMs(expression: string): number {
  const schedule = parseSchedule(expression);
  let t = Date.UTC(2026, 0, 5);
  let shortest = Number.POSITIVE_INFINITY;
  let previous = nextFiring(schedule, t, t)!;
  for (let i = 0; i < 2000 && previous < Date.UTC(2026, 0, 12); i++) {
    const next = nextFiring(schedule, previous, Date.UTC(2026, 0, 5))!;
    shortest = Math.min(shortest, next - previous);
    previous = next;
  }
  return shortest;
}

describe('asynchronous invocation settings (serverless.yml)', () => {
  for (const stage of ['dev', 'prod']) {
    it(`${stage}: every function a rule invokes has bounded retries, event age and the DLQ as on-failure destination`, () => {
      const config = sls(stage);
      const queue = `arn:aws:sqs:us-east-1:123456789012:agentcore-autopilot-${stage}-events-dlq`;
      const invoked = new Set(config.eventRules.map((r) => r.functionKey));
      expect(invoked.size).toBeGreaterThanOrEqual(4);
      for (const key of invoked) {
        const f = config.functions[key];
        expect(f.async, key).toMatchObject({ onFailure: queue });
        expect(f.async.maximumRetryAttempts, key).toBeLessThanOrEqual(2);
        expect(f.async.maximumEventAge, key).toBeLessThanOrEqual(3600);
      }
    });

    it(`${stage}: correctDrift has no retries, an event age of at most one period, a timeout below the period`, async () => {
      const config = sls(stage);
      const drift = (await loadConfig(path.join(REPO_ROOT, 'autopilot.config.yaml'))).drift;
      const periodS = shortestPeriodMs(drift.schedule) / 1000;
      const f = config.functions.correctDrift;
      expect(f.async.maximumRetryAttempts).toBe(0);
      expect(f.async.maximumEventAge).toBeLessThanOrEqual(periodS);
      expect(f.timeout).toBeLessThan(periodS);
      expect(f.reservedConcurrency).toBe(1);
    });
  }

  it('the period helper reads rate and cron expressions', () => {
    expect(shortestPeriodMs('rate(15 minutes)')).toBe(900_000);
    expect(shortestPeriodMs('cron(0 9,17 ? * MON-FRI *)')).toBe(8 * 3_600_000);
  });
});
