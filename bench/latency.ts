/**
 * Benchmark 6: redeploy latency. One runtime tracks a repository with `promote: {endpoints: [prod]}`;
 * an image is pushed (an `ECR Image Action` event on the bus, as ECR sends it) and the real
 * onImagePush handler and runtime-promotion state machine take it to `prod`.
 *
 * Latency is measured on the stack's clock (the emulator's statuses follow it) from the ECR event
 * to the moment `prod` serves the new version (its move settles). The service's own time is what
 * the emulator takes to make the version READY (UpdateAgentRuntime -> READY) plus what it takes to
 * move the endpoint (UpdateAgentRuntimeEndpoint -> READY). What is left is autopilot's overhead:
 * waiting on polls (clock time) plus its processing (real time of the whole push, an upper bound:
 * the auto clock does not move while a handler runs). The emulator's delays are set to 37 s and
 * 23 s, multiples of no poll interval, so a poll schedule cannot land on them by luck.
 *
 * Figures: overhead per promotion in seconds (expected <= 5), state transitions per promotion
 * (counted from GetExecutionHistory), and the median latency over the service time.
 */
import type { VirtualClock } from '../local/clock.ts';
import { startStack } from '../local/stack.ts';
import { QUIET } from './redeploy.ts';
import { executionHistory, stateTransitions } from './lib/stack.ts';
import { buildWorld, runtimeId, Scratch, TRACKED_REPOSITORIES } from './lib/world.ts';
import { median, round, type BenchContext, type BenchResult } from './lib/report.ts';

const REPO = TRACKED_REPOSITORIES[0];
/** The emulator's time to make a new version READY and to move an endpoint (ms). */
export const VERSION_READY_MS = 37_000;
export const ENDPOINT_MOVE_MS = 23_000;

export async function redeployLatency(ctx: BenchContext): Promise<BenchResult> {
  const pushes = ctx.quick ? 1 : 3;
  const world = buildWorld({
    runtimes: [{
      index: 0,
      endpoints: [{ name: 'prod', liveVersion: 1 }],
      spec: { track: { repository: REPO, tagPolicy: { glob: 'v*' }, promote: { endpoints: ['prod'], rollbackOnFailure: true, timeoutMinutes: 30 } } },
    }],
    settings: { delays: { runtimeUpdate: VERSION_READY_MS, endpointUpdate: ENDPOINT_MOVE_MS } },
  });
  const scratch = new Scratch();
  const stack = await startStack({ seed: world.seed, configFile: scratch.writeConfig(world.config), env: QUIET });
  try {
    const id = runtimeId(0);
    const runs: { latencyMs: number; serviceMs: number; waitOverheadMs: number; processingMs: number; transitions: number; outcome?: string }[] = [];
    for (let i = 0; i < pushes; i++) {
      // Start from a quiet stack: the previous promotion and every move settled.
      await (stack.clock as VirtualClock).advance(120_000);
      const t0 = stack.clock.now();
      const real0 = performance.now();
      stack.pushImage({ repository: REPO, tags: [`v1.${i + 1}.0`] });
      await stack.settle();
      const processingMs = performance.now() - real0;
      const rt = stack.agentcore.findRuntime(id)!;
      const version = stack.agentcore.latest(rt);
      const prod = rt.endpoints.get('prod') ?? [...rt.endpoints.values()].find((e) => e.name === 'prod');
      const move = prod?.move;
      if (!move || move.target !== version.version || version.kind !== 'update') throw new Error(`push ${i + 1}: prod was not moved to the new version (${JSON.stringify({ target: move?.target, version: version.version })})`);
      const serviceMs = (version.settlesAt - version.createdAt) + (move.settlesAt - move.startedAt);
      const latencyMs = move.settlesAt - t0;
      const execution = stack.sfn.listExecutions().filter((e) => e.stateMachineArn === stack.stateMachineArn('runtimePromotion')).at(-1)!;
      const transitions = stateTransitions(await executionHistory(stack, execution.executionArn));
      const outcome = (JSON.parse(execution.output ?? '{}') as { outcome?: string }).outcome;
      runs.push({ latencyMs, serviceMs, waitOverheadMs: latencyMs - serviceMs, processingMs, transitions, outcome });
    }
    const overheadMs = median(runs.map((r) => r.waitOverheadMs + r.processingMs));
    const transitions = median(runs.map((r) => r.transitions));
    ctx.log(`  ${pushes} push(es) to prod: latency ${runs.map((r) => `${round(r.latencyMs / 1000, 1)} s`).join(', ')} for ${round(runs[0].serviceMs / 1000, 1)} s of service time; waiting overhead ${runs.map((r) => `${round(r.waitOverheadMs / 1000, 1)} s`).join(', ')}, processing ${runs.map((r) => `${round(r.processingMs / 1000, 2)} s`).join(', ')}; ${runs.map((r) => r.transitions).join(', ')} state transitions; ${runs.map((r) => r.outcome).join(', ')}`);
    return {
      name: 'redeploy latency (ECR event -> prod serving the new version)',
      figures: [
        {
          key: 'redeploy.latencyOverheadSeconds',
          label: `seconds from the ECR event to prod serving, beyond the service's own ${round(VERSION_READY_MS / 1000)} s + ${round(ENDPOINT_MOVE_MS / 1000)} s (polling waits + processing; median of ${pushes})`,
          ratio: overheadMs / 1000,
          expected: { op: '<=', value: 5 },
          raw: { runs: runs.map((r) => ({ ...r, latencyMs: round(r.latencyMs, 0), processingMs: round(r.processingMs, 0) })) },
        },
        {
          key: 'redeploy.promotionTransitions',
          label: `state transitions per promotion (runtime-promotion, one endpoint; median of ${pushes})`,
          ratio: transitions,
          raw: { transitions: runs.map((r) => r.transitions) },
        },
        {
          key: 'redeploy.latencyOverServiceTime',
          label: 'ECR event -> prod serving / the service\'s own time (version READY + endpoint move)',
          ratio: median(runs.map((r) => (r.latencyMs + r.processingMs) / r.serviceMs)),
          raw: {},
        },
      ],
      notes: runs.some((r) => r.outcome !== 'PROMOTED') ? [`outcomes: ${runs.map((r) => r.outcome).join(', ')}`] : [],
    };
  } finally {
    await stack.close();
    scratch.dispose();
  }
}
