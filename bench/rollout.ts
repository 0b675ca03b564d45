/**
 * Benchmark 5: state transitions of a default, successful policy rollout (LOG_ONLY -> ENFORCE) for
 * a 10-minute, a 1-hour and a 24-hour shadow bake, counted from GetExecutionHistory (one billed
 * transition per state entered). The figure: transitions for each bake / transitions for the
 * 10-minute bake; a bake is one Wait state, so it should stay 1.0.
 *
 * Each execution is started through the SFN client on the policyRollout state machine of
 * serverless.yml (real ASL, real task handlers), against its own gateway, with healthy traffic
 * that the emulator decides with Cedar and publishes as the policy metrics. The virtual clock makes a 24-hour bake take
 * milliseconds.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { QUIET } from './redeploy.ts';
import { startStack, type Stack } from '../local/stack.ts';
import { executionHistory, sfnClient, stateTransitions } from './lib/stack.ts';
import { buildWorld, gatewayId, policyEngineArn, scriptGatewayTraffic, Scratch } from './lib/world.ts';
import type { BenchContext, BenchResult, Figure } from './lib/report.ts';

export const BAKES_MINUTES = [10, 60, 1440];

/** Healthy traffic on a gateway over [-1 d, +4 d]: 1,000 permitted calls and 1 forbidden call a minute, decided by Cedar. */
export function scriptHealthyPolicyMetrics(stack: Stack, gwId: string, opts: { denyPerMinute?: number; allowPerMinute?: number } = {}): void {
  scriptGatewayTraffic(stack, gwId, opts);
}

/** A world of `n` gateways, each with its own policy engine attached in LOG_ONLY and declared ENFORCE. */
export function rolloutWorld(n: number, rollout: Record<string, unknown> = {}) {
  const indexes = Array.from({ length: n }, (_, i) => i);
  return buildWorld({
    policyEngines: indexes,
    gateways: indexes.map((i) => ({
      index: i,
      options: { policyEngine: { index: i, mode: 'LOG_ONLY' as const } },
      spec: { policyEngine: { arn: policyEngineArn(i), mode: 'ENFORCE', rollout } },
    })),
  });
}

export async function rolloutCost(ctx: BenchContext): Promise<BenchResult> {
  const world = rolloutWorld(BAKES_MINUTES.length);
  const scratch = new Scratch();
  const stack = await startStack({ seed: world.seed, configFile: scratch.writeConfig(world.config), env: QUIET });
  try {
    const sfn = sfnClient(stack);
    const counts: { bakeMinutes: number; transitions: number; status: string; output?: unknown; events: number }[] = [];
    for (const [i, bakeMinutes] of BAKES_MINUTES.entries()) {
      scriptHealthyPolicyMetrics(stack, gatewayId(i));
      const started = await sfn.send(new StartExecutionCommand({
        stateMachineArn: stack.stateMachineArn('policyRollout'),
        name: `bench-bake-${bakeMinutes}m`,
        input: JSON.stringify({ gatewayId: gatewayId(i), policyEngineArn: policyEngineArn(i), settings: { bakeMinutes } }),
      }));
      await stack.settle();
      const snapshot = stack.sfn.getExecution(started.executionArn!);
      const history = await executionHistory(stack, started.executionArn!);
      const transitions = stateTransitions(history);
      counts.push({ bakeMinutes, transitions, status: snapshot?.status ?? 'UNKNOWN', output: snapshot?.output, events: history.length });
      ctx.log(`  bake ${bakeMinutes} min: ${snapshot?.status}, ${transitions} state transitions (${history.length} history events)`);
    }
    const base = counts[0];
    const figures: Figure[] = counts.map((c) => ({
      key: `rollout.transitions.${c.bakeMinutes}m`,
      label: `state transitions, ${c.bakeMinutes}-minute bake / 10-minute bake (${c.transitions} / ${base.transitions}; ${c.status})`,
      ratio: c.transitions / base.transitions,
      expected: { op: '==' as const, value: 1 },
      raw: c,
    }));
    const notes = counts.filter((c) => c.status !== 'SUCCEEDED').map((c) => `bake ${c.bakeMinutes} min ended ${c.status}: ${JSON.stringify(c.output ?? null).slice(0, 300)}`);
    return { name: 'rollout cost (state transitions vs bake length)', figures, notes };
  } finally {
    await stack.close();
    scratch.dispose();
  }
}
