/**
 * Benchmarks 1 and 3, both through the real path: `stack.pushImage()` emits ECR Image Action
 * events onto the local bus, the serverless.yml rule delivers them to the onImagePush handler.
 *
 * 1. API calls per redeployed runtime: the onImagePush handler's own AgentCore Control calls for
 *    one push, divided by the minimum per runtime redeployed: one GetAgentRuntime (the live
 *    runtime), one ListTagsForResource (its rejected digests: a rolled-back or failed image must
 *    not come back by itself) and one UpdateAgentRuntime. Runtimes that track the repository under
 *    a tag rule the push does not match are in the world too: any call spent on them counts
 *    against the ratio. Every redeploy also starts the runtime-promotion state machine, whose
 *    tasks poll the new version (GetAgentRuntime of that version) and the endpoints: those
 *    follow-up calls are a separate figure (per runtime redeployed, no expectation), since they
 *    grow with how long a version takes to become READY, not with the handler's work.
 * 3. Fan-out: one push tracked by 50 runtimes, with 40 ms added to every AgentCore call and 25
 *    requests per second per operation (the config declares the same quota, which the pacer uses):
 *    the time until onImagePush returned (every runtime updated) over its own per-operation quota
 *    bound (the busiest operation's calls served meanwhile / 25 req/s; the bound is in the label),
 *    and over the time of a push tracked by a single runtime.
 */
import type { VirtualClock } from '../local/clock.ts';
import { startStack, type Stack } from '../local/stack.ts';
import { AGENTCORE_SERVICE, agentcoreClient, countCalls } from './lib/stack.ts';
import type { RequestLogEntry } from '../local/emulator/types.ts';
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

/** The runtime id an AgentCore request is about (`/runtimes/<id>/...`, or a runtime ARN in `/tags/<arn>`). */
function runtimeOf(r: RequestLogEntry): string | undefined {
  return /runtimes?\/([A-Za-z][A-Za-z0-9_]*-[A-Za-z0-9]{10})/.exec(decodeURIComponent(r.path))?.[1];
}

/**
 * Splits the AgentCore requests into the onImagePush handler's and the promotion's (follow-up):
 * a runtime's requests up to and including its first successful UpdateAgentRuntime are the
 * handler's (read, tags, update; retries of a busy runtime included); every later request on that
 * runtime, and every endpoint call, is the promotion following the new version. The emulator's
 * request log does not say which Lambda made a call, but the handler never touches a runtime
 * again after its update is accepted.
 */
function splitCalls(requests: RequestLogEntry[]): { handler: RequestLogEntry[]; promotion: RequestLogEntry[] } {
  const updated = new Set<string>();
  const handler: RequestLogEntry[] = [];
  const promotion: RequestLogEntry[] = [];
  for (const r of requests) {
    const id = runtimeOf(r);
    if (/Endpoint/.test(r.operation) || (id !== undefined && updated.has(id))) {
      promotion.push(r);
      continue;
    }
    handler.push(r);
    if (r.operation === 'UpdateAgentRuntime' && r.status < 300 && id !== undefined) updated.add(id);
  }
  return { handler, promotion };
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
    const agentcore = stack.emulator.requests.slice(fromReq).filter((r) => r.service === AGENTCORE_SERVICE);
    const { handler: handlerCalls, promotion: promotionCalls } = splitCalls(agentcore);
    const byOp = (rs: RequestLogEntry[]) => rs.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.operation]: (acc[r.operation] ?? 0) + 1 }), {});
    const failures = await handlerFailures(stack, fromDelivery);
    let redeployed = 0;
    for (let i = 0; i < tracking; i++) if ((await imageOf(stack, runtimeId(i))).endsWith(pushed.image.imageDigest)) redeployed++;
    const minimum = 3 * redeployed;
    ctx.log(`  pushed ${REPO}:v2.0.0 -> ${redeployed}/${tracking} tracking runtimes redeployed; onImagePush: ${handlerCalls.length} AgentCore calls ${JSON.stringify(byOp(handlerCalls))}; promotion: ${promotionCalls.length} ${JSON.stringify(byOp(promotionCalls))}`);
    if (failures.length) ctx.log(`  delivery failures: ${failures.join('; ')}`);
    return {
      name: 'API calls per redeployed runtime',
      figures: [
        {
          key: 'redeploy.callsPerRuntime',
          label: `onImagePush AgentCore calls / (1 Get + 1 ListTags + 1 Update) x ${redeployed} runtimes redeployed`,
          ratio: minimum === 0 ? NaN : handlerCalls.length / minimum,
          expected: { op: '==', value: 1 },
          raw: {
            tracking, bystanders, redeployed, handlerAgentcoreCalls: handlerCalls.length, handlerByOperation: byOp(handlerCalls),
            allByOperation: calls.byOperation, eventsPublished: calls.events, deliveryFailures: failures,
          },
        },
        {
          // The minimum (one Get, one Update), stated as is: the extra call per runtime is
          // the ListTagsForResource of the rejected-digest guard (1.5 when nothing else is spent).
          key: 'redeploy.callsPerRuntimeVsGetUpdate',
          label: `onImagePush AgentCore calls / (1 Get + 1 Update) x ${redeployed} runtimes redeployed (includes the rejected-digest ListTags)`,
          ratio: redeployed === 0 ? NaN : handlerCalls.length / (2 * redeployed),
          expected: { op: '==', value: 1.5 },
          raw: { redeployed, handlerAgentcoreCalls: handlerCalls.length },
        },
        {
          key: 'redeploy.promotionCallsPerRuntime',
          label: 'runtime-promotion AgentCore calls (new version READY polls, endpoint calls) per runtime redeployed',
          ratio: redeployed === 0 ? NaN : promotionCalls.length / redeployed,
          raw: { redeployed, promotionAgentcoreCalls: promotionCalls.length, promotionByOperation: byOp(promotionCalls), executions: stack.sfn.listExecutions().length },
        },
      ],
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
  const concurrency = 16;
  const runtimes: WorldRuntime[] = [
    { index: 0, spec: { track: { repository: REPO, tagPolicy: { glob: 'solo-*' } } } },
    ...Array.from({ length: fan }, (_, i) => ({ index: i + 1, spec: { track: { repository: REPO, tagPolicy: { glob: 'fan-*' } } } })),
  ];
  const world = buildWorld({ runtimes, redeploy: { concurrency }, quotas: { agentcore: { default: FANOUT_QUOTA_RPS } } });
  const scratch = new Scratch();
  const stack = await startStack({
    seed: world.seed,
    configFile: scratch.writeConfig(world.config),
    env: QUIET,
    faults: { seed: 9, rules: [{ service: 'bedrock-agentcore-control', operation: '*', latencyMs: 40, rps: FANOUT_QUOTA_RPS }] },
  });
  /** One push: time until onImagePush returned (every runtime redeployed), the AgentCore calls served meanwhile, and time until settled. */
  const timePush = async (tag: string, expectIds: string[]) => {
    // Let the previous update settle (the emulator's runtimeUpdate delay, on the virtual clock).
    await (stack.clock as VirtualClock).advance(120_000);
    const fromReq = stack.emulator.requests.length;
    const fromInv = stack.lambda.invocations.length;
    const t0 = Date.now();
    const pushed = stack.pushImage({ repository: REPO, tags: [tag] });
    let handlerEnd: number | undefined;
    let served: RequestLogEntry[] = [];
    const watch = (async () => {
      for (;;) {
        const inv = stack.lambda.invocations.slice(fromInv).find((i) => i.functionKey === 'onImagePush' && i.endedAt !== undefined);
        if (inv) {
          handlerEnd = inv.endedAt!;
          served = stack.emulator.requests.slice(fromReq).filter((r) => r.service === AGENTCORE_SERVICE && !(r.injected && r.error === 'ThrottlingException'));
          return;
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await stack.settle();
    await watch;
    const settledMs = Date.now() - t0;
    let ok = 0;
    for (const id of expectIds) if ((await imageOf(stack, id)).endsWith(pushed.image.imageDigest)) ok++;
    if (ok !== expectIds.length) throw new Error(`push ${tag}: only ${ok}/${expectIds.length} runtimes redeployed`);
    const byOp: Record<string, number> = {};
    for (const r of served) byOp[r.operation] = (byOp[r.operation] ?? 0) + 1;
    const throttled = stack.emulator.requests.slice(fromReq).filter((r) => r.injected && r.error === 'ThrottlingException').length;
    return { handlerMs: handlerEnd! - t0, settledMs, byOp, boundMs: Math.max(...Object.values(byOp)) / FANOUT_QUOTA_RPS * 1000, throttled };
  };
  try {
    const soloIds = [runtimeId(0)];
    const fanIds = Array.from({ length: fan }, (_, i) => runtimeId(i + 1));
    await timePush('solo-warmup', soloIds); // loads the handler module once
    const solo: Awaited<ReturnType<typeof timePush>>[] = [];
    const many: Awaited<ReturnType<typeof timePush>>[] = [];
    for (let r = 0; r < runs; r++) {
      solo.push(await timePush(`solo-${r}`, soloIds));
      many.push(await timePush(`fan-${r}`, fanIds));
    }
    const soloMs = median(solo.map((p) => p.handlerMs));
    const fanMs = median(many.map((p) => p.handlerMs));
    const overBound = median(many.map((p) => p.handlerMs / p.boundMs));
    const boundMs = median(many.map((p) => p.boundMs));
    const busiest = Object.entries(many[0].byOp).sort((a, b) => b[1] - a[1])[0];
    ctx.log(`  1 runtime: ${round(soloMs, 1)} ms, ${fan} runtimes: ${round(fanMs, 1)} ms until onImagePush returned (median of ${runs}; 40 ms per AgentCore call, ${FANOUT_QUOTA_RPS} req/s per operation, concurrency ${concurrency}); calls meanwhile ${JSON.stringify(many[0].byOp)}, ${many.map((p) => p.throttled).join('/')} throttled; settled after ${many.map((p) => round(p.settledMs / 1000, 2)).join('/')} s`);
    return {
      name: `fan-out (one push, ${fan} runtimes)`,
      figures: [
        {
          key: 'fanOut.wallTimeOverPerOpBound',
          label: `time until onImagePush returned / its per-operation quota bound (${round(fanMs)} ms / ${round(boundMs)} ms = ${busiest[1]} ${busiest[0]} served meanwhile, its ${fan} and the first polls of its promotions, / ${FANOUT_QUOTA_RPS} req/s)`,
          ratio: overBound,
          expected: { op: '<=', value: 1.3 },
          raw: { fan, boundMs: round(boundMs, 0), handlerMs: many.map((p) => round(p.handlerMs, 0)), byOperation: many.map((p) => p.byOp), throttled: many.map((p) => p.throttled), quotaRps: FANOUT_QUOTA_RPS, redeployConcurrency: concurrency },
        },
        {
          key: 'fanOut.wallTimeRatio',
          label: `time until onImagePush returned, ${fan} tracking runtimes / 1 (sequential would be ~${fan})`,
          ratio: fanMs / soloMs,
          expected: { op: '<=', value: fan },
          raw: { fan, soloMs: solo.map((p) => round(p.handlerMs, 1)), fanMs: many.map((p) => round(p.handlerMs, 1)), settledMs: many.map((p) => round(p.settledMs, 0)), redeployConcurrency: concurrency, addedLatencyMs: 40 },
        },
      ],
    };
  } finally {
    await stack.close();
    scratch.dispose();
  }
}

/** AgentCore quota per operation in the fan-out world (emulator and config alike). */
export const FANOUT_QUOTA_RPS = 25;
