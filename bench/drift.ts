/**
 * Benchmark 2: a drift run at scale. 1,000 runtimes and 200 gateways (100 + 20 with --quick), each
 * declared in the config with one drifted field (its description), drift mode `correct` with no
 * practical cap, against an emulator that adds 40 ms to every AgentCore call and allows each
 * operation 25 requests per second (beyond it: ThrottlingException).
 *
 * Figures:
 * - wall time / (AgentCore calls served / quota): 1.0 would mean the run went exactly as fast as one
 *   shared 25 req/s quota allows. The per-operation bound (max over operations of calls / quota,
 *   a stricter lower bound when operations run in parallel) is in the raw figures.
 * - surfaced throttling errors: throttling that reached a result, an event or the invocation's
 *   error instead of being absorbed by retries (expected 0); injected throttles are reported too.
 * - peak memory: peak RSS of this process (emulator, bus and handler all in-process) during the
 *   run divided by the RSS before it, with peak heap used in the raw figures.
 */
import { QUIET } from './redeploy.ts';
import { startStack } from '../local/stack.ts';
import { autopilotEvents, countCalls } from './lib/stack.ts';
import { buildWorld, gatewayId, runtimeId, Scratch, type WorldGateway, type WorldRuntime } from './lib/world.ts';
import { mib, round, sampleMemory, type BenchContext, type BenchResult } from './lib/report.ts';
import { AGENTCORE_SERVICE } from './lib/stack.ts';

export const QUOTA_RPS = 25;
export const LATENCY_MS = 40;

export async function driftScale(ctx: BenchContext): Promise<BenchResult> {
  const nRuntimes = ctx.quick ? 100 : 1000;
  const nGateways = ctx.quick ? 20 : 200;
  const runtimes: WorldRuntime[] = Array.from({ length: nRuntimes }, (_, i) => ({
    index: i,
    spec: { drift: 'correct', desired: { description: `Benchmark agent ${i} (declared)` } },
  }));
  const gateways: WorldGateway[] = Array.from({ length: nGateways }, (_, i) => ({
    index: i,
    spec: { drift: 'correct', desired: { description: `Benchmark tools ${i} (declared)` } },
  }));
  const world = buildWorld({
    runtimes,
    gateways,
    drift: { mode: 'correct', maxCorrectionsPerRun: nRuntimes + nGateways, maxErrorRatio: 0.5, concurrency: 16 },
  });
  const scratch = new Scratch();
  const stack = await startStack({
    seed: world.seed,
    // The scan and its corrections alone: following each corrected version with the
    // runtime-promotion state machine (which polls GetAgentRuntime under the same quota) is what the
    // redeploy benchmark measures, so this one runs without it.
    configFile: scratch.writeConfig(world.config), env: { ...QUIET, PROMOTION_STATE_MACHINE_ARN: '' },
    faults: { seed: 2, rules: [{ service: AGENTCORE_SERVICE, operation: '*', latencyMs: LATENCY_MS, rps: QUOTA_RPS }] },
  });
  try {
    const fromReq = stack.emulator.requests.length;
    const fromEvents = stack.events.events.length;
    const throttledBefore = stack.emulator.faults.injected.throttled;
    const mem = sampleMemory();
    const t0 = performance.now();
    let result: unknown;
    let invocationError: string | undefined;
    try {
      result = await stack.lambda.invoke('correctDrift', { trigger: 'schedule' });
    } catch (err) {
      invocationError = `${(err as Error).name}: ${(err as Error).message}`;
    }
    await stack.settle();
    const wallMs = performance.now() - t0;
    const memory = mem.stop();

    const calls = countCalls(stack, fromReq);
    // Calls the service served (the throttled attempts the quota refused are counted apart).
    const byOp: Record<string, number> = {};
    let served = 0;
    let refused = 0;
    for (const r of stack.emulator.requests.slice(fromReq)) {
      if (r.service !== AGENTCORE_SERVICE) continue;
      if (r.injected && r.error === 'ThrottlingException') { refused++; continue; }
      served++;
      byOp[r.operation] = (byOp[r.operation] ?? 0) + 1;
    }
    const sharedBoundMs = (served / QUOTA_RPS) * 1000;
    const perOpBoundMs = Math.max(0, ...Object.values(byOp).map((n) => (n / QUOTA_RPS) * 1000));
    const events = autopilotEvents(stack, fromEvents);
    const eventText = JSON.stringify(events);
    const resultText = JSON.stringify(result ?? null);
    const surfaced = (eventText.match(/Throttl/gi)?.length ?? 0) + (resultText.match(/Throttl/gi)?.length ?? 0) + (invocationError && /Throttl/i.test(invocationError) ? 1 : 0);
    const injectedThrottles = stack.emulator.faults.injected.throttled - throttledBefore;

    // Convergence: how many resources now carry the declared description.
    let converged = 0;
    for (let i = 0; i < nRuntimes; i++) {
      const rt = stack.agentcore.findRuntime(runtimeId(i));
      if (rt && (stack.agentcore.latest(rt).config as { description?: string }).description === `Benchmark agent ${i} (declared)`) converged++;
    }
    for (let i = 0; i < nGateways; i++) {
      const gw = stack.agentcore.findGateway(gatewayId(i));
      if (gw && (stack.agentcore.gatewayView(gw) as { description?: string }).description === `Benchmark tools ${i} (declared)`) converged++;
    }
    const failedEvents = events.filter((e) => /Failed/.test(e.detailType)).length;
    ctx.log(`  ${nRuntimes} runtimes + ${nGateways} gateways: ${round(wallMs / 1000, 1)} s, ${served} AgentCore calls served ${JSON.stringify(byOp)} + ${refused} refused by the quota, ${converged}/${nRuntimes + nGateways} converged, ${injectedThrottles} throttles injected${invocationError ? `, invocation failed: ${invocationError}` : ''}`);
    return {
      name: `drift at scale (${nRuntimes} runtimes + ${nGateways} gateways, ${LATENCY_MS} ms, ${QUOTA_RPS} req/s per operation)`,
      figures: [
        {
          key: 'drift.wallTimeOverQuotaBound',
          label: `wall time / (AgentCore calls / ${QUOTA_RPS} req/s) = ${round(wallMs / 1000, 1)} s / ${round(sharedBoundMs / 1000, 1)} s`,
          ratio: wallMs / sharedBoundMs,
          raw: { wallMs: round(wallMs, 0), agentcoreCallsServed: served, throttledAttempts: refused, otherCalls: calls.byOperation, byOperation: byOp, sharedQuotaBoundMs: round(sharedBoundMs, 0), perOperationBoundMs: round(perOpBoundMs, 0), wallOverPerOperationBound: round(wallMs / perOpBoundMs, 3) },
        },
        {
          key: 'drift.wallTimeOverPerOpBound',
          label: `wall time / max over operations (calls / ${QUOTA_RPS} req/s) = ${round(wallMs / 1000, 1)} s / ${round(perOpBoundMs / 1000, 1)} s`,
          ratio: wallMs / perOpBoundMs,
          raw: { perOperationBoundMs: round(perOpBoundMs, 0) },
        },
        {
          key: 'drift.surfacedThrottlingErrors',
          label: `throttling errors surfaced / resources (${surfaced} surfaced, ${injectedThrottles} injected and absorbed)`,
          ratio: surfaced / (nRuntimes + nGateways),
          expected: { op: '==', value: 0 },
          raw: { surfaced, injectedThrottles, failedEvents, invocationError },
        },
        {
          key: 'drift.converged',
          label: `resources converged / resources drifted`,
          ratio: converged / (nRuntimes + nGateways),
          expected: { op: '==', value: 1 },
          raw: { converged, resources: nRuntimes + nGateways },
        },
        {
          key: 'drift.peakMemory',
          label: `peak RSS / RSS before the run (${mib(memory.peakRssBytes)} MiB / ${mib(memory.baselineRssBytes)} MiB; heap used peak ${mib(memory.peakHeapUsedBytes)} MiB)`,
          ratio: memory.peakRssBytes / memory.baselineRssBytes,
          raw: { ...memory, peakRssMiB: mib(memory.peakRssBytes), peakHeapUsedMiB: mib(memory.peakHeapUsedBytes) },
        },
      ],
    };
  } finally {
    await stack.close();
    scratch.dispose();
  }
}
