/**
 * Benchmarks 1 and 3, both through the real path: `stack.pushImage()` emits ECR Image Action
 * events onto the local bus, the serverless.yml rule delivers them to the onImagePush handler.
 *
 * 1. API calls per redeployed runtime: AgentCore Control calls made for one push, divided by the
 *    minimum (one GetAgentRuntime + one UpdateAgentRuntime per runtime redeployed). Runtimes that
 *    track the repository under a tag rule the push does not match are in the world too: any call
 *    spent on them counts against the ratio.
 * 3. Fan-out: wall time of one push tracked by 50 runtimes divided by the wall time of one push
 *    tracked by a single runtime, with 40 ms added to every AgentCore call.
 */
import type { VirtualClock } from '../local/clock.ts';
import { startStack, type Stack } from '../local/stack.ts';
import { agentcoreClient, countCalls } from './lib/stack.ts';
import { GetAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { buildWorld, runtimeId, Scratch, TRACKED_REPOSITORIES, type WorldRuntime } from './lib/world.ts';
import { median, round, type BenchContext, type BenchResult } from './lib/report.ts';

const REPO = TRACKED_REPOSITORIES[0];
/** Handler logs off: the benchmark prints figures, not 50 runtimes' log lines. */
export const QUIET = { POWERTOOLS_LOG_LEVEL: 'SILENT' };

async function imageOf(stack: Stack, id: string): Promise<string> {
  const rt = await agentcoreClient(stack).send(new GetAgentRuntimeCommand({ agentRuntimeId: id }));
  return rt.agentRuntimeArtifact?.containerConfiguration?.containerUri ?? '';
}

async function handlerFailures(stack: Stack, fromDelivery: number): Promise<string[]> {
  return stack.events.deliveries.slice(fromDelivery).filter((d) => d.outcome !== 'delivered').map((d) => `${d.rule}: ${d.outcome} ${d.errors.at(-1) ?? ''}`);
}

export async function redeployCalls(ctx: BenchContext): Promise<BenchResult> {
  const tracking = ctx.quick ? 3 : 10;
  const bystanders = 2;
  const runtimes: WorldRuntime[] = [
    ...Array.from({ length: tracking }, (_, i) => ({ index: i, spec: { track: { repository: REPO, tagPolicy: { glob: 'v*' } } } })),
    ...Array.from({ length: bystanders }, (_, i) => ({ index: tracking + i, spec: { track: { repository: REPO, tagPolicy: { exact: 'never-pushed' } } } })),
  ];
  const world = buildWorld({ runtimes });
  const scratch = new Scratch();
  const stack = await startStack({ seed: world.seed, configFile: scratch.writeConfig(world.config), env: QUIET });
  try {
    const fromReq = stack.emulator.requests.length;
    const fromDelivery = stack.events.deliveries.length;
    const pushed = stack.pushImage({ repository: REPO, tags: ['v2.0.0'] });
    await stack.settle();
    const calls = countCalls(stack, fromReq);
    const failures = await handlerFailures(stack, fromDelivery);
    let redeployed = 0;
    for (let i = 0; i < tracking; i++) if ((await imageOf(stack, runtimeId(i))).endsWith(pushed.image.imageDigest)) redeployed++;
    const minimum = 2 * redeployed;
    ctx.log(`  pushed ${REPO}:v2.0.0 -> ${redeployed}/${tracking} tracking runtimes redeployed, ${calls.agentcore} AgentCore calls (${JSON.stringify(calls.byOperation)})`);
    if (failures.length) ctx.log(`  delivery failures: ${failures.join('; ')}`);
    return {
      name: 'API calls per redeployed runtime',
      figures: [{
        key: 'redeploy.callsPerRuntime',
        label: `AgentCore calls / (1 Get + 1 Update) x ${redeployed} runtimes redeployed`,
        ratio: minimum === 0 ? NaN : calls.agentcore / minimum,
        expected: { op: '==', value: 1 },
        raw: { tracking, bystanders, redeployed, agentcoreCalls: calls.agentcore, byOperation: calls.byOperation, eventsPublished: calls.events, deliveryFailures: failures },
      }],
      notes: redeployed < tracking ? [`only ${redeployed} of ${tracking} runtimes were redeployed`] : [],
    };
  } finally {
    await stack.close();
    scratch.dispose();
  }
}

export async function fanOut(ctx: BenchContext): Promise<BenchResult> {
  const fan = ctx.quick ? 10 : 50;
  const runs = ctx.quick ? 1 : 3;
  const runtimes: WorldRuntime[] = [
    { index: 0, spec: { track: { repository: REPO, tagPolicy: { glob: 'solo-*' } } } },
    ...Array.from({ length: fan }, (_, i) => ({ index: i + 1, spec: { track: { repository: REPO, tagPolicy: { glob: 'fan-*' } } } })),
  ];
  const world = buildWorld({ runtimes });
  const scratch = new Scratch();
  const stack = await startStack({
    seed: world.seed,
    configFile: scratch.writeConfig(world.config),
    env: QUIET,
    faults: { seed: 9, rules: [{ service: 'bedrock-agentcore-control', operation: '*', latencyMs: 40 }] },
  });
  const timePush = async (tag: string, expectIds: string[]): Promise<number> => {
    // Let the previous update settle (the emulator's runtimeUpdate delay, on the virtual clock).
    await (stack.clock as VirtualClock).advance(120_000);
    const t0 = performance.now();
    const pushed = stack.pushImage({ repository: REPO, tags: [tag] });
    await stack.settle();
    const ms = performance.now() - t0;
    let ok = 0;
    for (const id of expectIds) if ((await imageOf(stack, id)).endsWith(pushed.image.imageDigest)) ok++;
    if (ok !== expectIds.length) throw new Error(`push ${tag}: only ${ok}/${expectIds.length} runtimes redeployed`);
    return ms;
  };
  try {
    const soloIds = [runtimeId(0)];
    const fanIds = Array.from({ length: fan }, (_, i) => runtimeId(i + 1));
    await timePush('solo-warmup', soloIds); // loads the handler module once
    const solo: number[] = [];
    const many: number[] = [];
    for (let r = 0; r < runs; r++) {
      solo.push(await timePush(`solo-${r}`, soloIds));
      many.push(await timePush(`fan-${r}`, fanIds));
    }
    const soloMs = median(solo);
    const fanMs = median(many);
    const concurrency = 4;
    ctx.log(`  1 runtime: ${round(soloMs, 1)} ms, ${fan} runtimes: ${round(fanMs, 1)} ms (median of ${runs}; 40 ms per AgentCore call)`);
    return {
      name: `fan-out (one push, ${fan} runtimes)`,
      figures: [{
        key: 'fanOut.wallTimeRatio',
        label: `wall time for ${fan} tracking runtimes / for 1 (sequential would be ~${fan}, ideal at concurrency ${concurrency} ~${Math.ceil(fan / concurrency)})`,
        ratio: fanMs / soloMs,
        expected: { op: '<=', value: fan },
        raw: { fan, soloMs: solo.map((v) => round(v, 1)), fanMs: many.map((v) => round(v, 1)), redeployConcurrency: concurrency, addedLatencyMs: 40 },
      }],
    };
  } finally {
    await stack.close();
    scratch.dispose();
  }
}
