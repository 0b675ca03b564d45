/**
 * Request scope rules (functions/domain/requests/scope.ts): declared resources only, settings that
 * only tighten. Literal tables: each row one loosening or tightening of a declared setting.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ROLLOUT_SETTINGS, parseRolloutOverrides } from '../../../functions/lib/config/rollout.ts';
import type { Config } from '../../../functions/lib/config/types.ts';
import { looseningOf, undeclaredRolloutTarget, undeclaredRuntime } from '../../../functions/domain/requests/scope.ts';

const ENGINE = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/e-a1b2c3d4e5';
const declared = parseRolloutOverrides({
  alarms: ['gw-5xx'],
  metrics: [{ id: 'latency', namespace: 'N', metricName: 'Latency', stat: 'p99', threshold: 2000, comparison: 'LessThanOrEqualToThreshold' }],
  approval: { required: true, timeoutMinutes: 120 },
}, DEFAULT_ROLLOUT_SETTINGS);
const config = {
  runtimes: [{ id: 'agentA-a1b2c3d4e5' }, { name: 'agentB' }],
  gateways: [{ id: 'gw-a-a1b2c3d4e5', policyEngine: { arn: ENGINE, rollout: declared } }, { id: 'gw-b-a1b2c3d4e5' }],
} as unknown as Config;
const over = (o: Record<string, unknown>) => looseningOf(declared, parseRolloutOverrides(o, declared));

describe('tighten only', () => {
  it.each([
    [{ bakeMinutes: 30 }, 'settings.bakeMinutes may only be raised'],
    [{ enforceBakeMinutes: 1 }, 'settings.enforceBakeMinutes may only be raised'],
    [{ minDecisions: 10 }, 'settings.minDecisions may only be raised'],
    [{ maxDenyRatio: 0.2 }, 'settings.maxDenyRatio may only be lowered'],
    [{ maxSystemErrors: 3 }, 'settings.maxSystemErrors may only be lowered'],
    [{ maxBakeExtensions: 5 }, 'settings.maxBakeExtensions may only be lowered'],
    [{ readyTimeoutMinutes: 60 }, 'settings.readyTimeoutMinutes may only be lowered'],
    [{ alarms: [] }, 'settings.alarms drops the declared alarm gw-5xx'],
    [{ metrics: [] }, 'settings.metrics drops or changes the declared gate latency'],
    [{ metrics: [{ id: 'latency', namespace: 'N', metricName: 'Latency', stat: 'p99', threshold: 5000, comparison: 'LessThanOrEqualToThreshold' }] }, 'threshold may only move to the stricter side'],
    [{ approval: { required: false } }, 'cannot turn off the declared approval'],
    [{ approval: { timeoutMinutes: 600 } }, 'approval.timeoutMinutes may only be shortened'],
  ])('refuses %j', (o, problem) => {
    expect(over(o).join('\n')).toContain(problem);
  });

  it('accepts tightening: longer bakes, lower limits, added alarms and gates, a stricter threshold', () => {
    expect(over({
      bakeMinutes: 120, maxDenyRatio: 0.01, minDecisions: 500, maxBakeExtensions: 0, alarms: ['gw-5xx', 'gw-latency'],
      metrics: [
        { id: 'latency', namespace: 'N', metricName: 'Latency', stat: 'p99', threshold: 1500, comparison: 'LessThanOrEqualToThreshold' },
        { id: 'errors', namespace: 'N', metricName: 'Errors', stat: 'Sum', threshold: 1, comparison: 'LessThanThreshold' },
      ],
      approval: { timeoutMinutes: 30 },
    })).toEqual([]);
  });
});

describe('declared resources only', () => {
  it('names runtimes the way the config declares them', () => {
    expect(undeclaredRuntime(config, { id: 'agentA-a1b2c3d4e5' })).toBeUndefined();
    expect(undeclaredRuntime(config, { name: 'agentB' })).toBeUndefined();
    expect(undeclaredRuntime(config, { name: 'agentA' })?.reason).toBe('undeclared-runtime');
    expect(undeclaredRuntime(config, { id: 'agentZ-a1b2c3d4e5' })?.reason).toBe('undeclared-runtime');
  });

  it('takes rollouts only for declared gateways and their declared engine', () => {
    expect(undeclaredRolloutTarget(config, 'gw-a-a1b2c3d4e5', undefined)).toBeUndefined();
    expect(undeclaredRolloutTarget(config, 'gw-a-a1b2c3d4e5', ENGINE)).toBeUndefined();
    expect(undeclaredRolloutTarget(config, 'gw-a-a1b2c3d4e5', ENGINE.replace('e-a1', 'x-a1'))?.reason).toBe('undeclared-policy-engine');
    expect(undeclaredRolloutTarget(config, 'gw-b-a1b2c3d4e5', undefined)?.reason).toBe('undeclared-policy-engine');
    expect(undeclaredRolloutTarget(config, 'gw-z-a1b2c3d4e5', undefined)?.reason).toBe('undeclared-gateway');
  });
});
