/**
 * Benchmark 2b: a fleet larger than one invocation. 10,000 runtimes and 2,000 gateways (40 + 10
 * with --quick, cut into runs of 20 by `drift.resourcesPerRun` so that the quick run still goes
 * through the state machine), every one drifted, 40 ms per AgentCore call and 25 requests per
 * second per operation, as in benchmark 2. The pass checks (reads, compares, reads the drifted
 * ones' history tags) and reports: corrections, with the promotion each one starts, are benchmark
 * 2's subject and would make this one a CPU benchmark of the in-process stand-ins. When the pass
 * needs more than one Lambda's 15 minutes, the scheduled run goes on in the drift-scan state
 * machine with its cursor.
 *
 * Real time is compressed (`startStack({ timeScale })`): the emulator's quotas and latency, the
 * Lambda timeout (900 s) and the handlers' waits all run TIME_SCALE times faster, so an hour of
 * quota takes minutes. Every figure is in compressed time, measured in this run.
 *
 * Figures: runs needed (correctDrift invocations) against the least possible (the per-operation
 * bound over one invocation's budget, rounded up); coverage (resources read at least once / declared,
 * expected 1: none starved); wall time over the per-operation quota bound; throttled / served.
 */
import { QUIET } from './redeploy.ts';
import { startStack } from '../local/stack.ts';
import { SAFETY_MARGIN_MS } from '../functions/app/lambda-env.ts';
import { buildWorld, Scratch, type WorldGateway, type WorldRuntime } from './lib/world.ts';
import { AGENTCORE_SERVICE } from './lib/stack.ts';
import { round, type BenchContext, type BenchResult } from './lib/report.ts';
import { LATENCY_MS, QUOTA_RPS } from './drift.ts';

/** --quick: resources per run (drift.resourcesPerRun), so the small fleet still takes several runs. */
const QUICK_RUN = 20;

/** How much faster than real time the fleet run goes (quota, latency, Lambda timeout). */
export const TIME_SCALE = 5;

export async function driftFleet(ctx: BenchContext, size: { runtimes?: number; gateways?: number; scale?: number } = {}): Promise<BenchResult> {
  const nRuntimes = size.runtimes ?? (ctx.quick ? 40 : 10_000);
  const nGateways = size.gateways ?? (ctx.quick ? 10 : 2_000);
  const scale = size.scale ?? (ctx.quick ? 20 : TIME_SCALE);
  const runtimes: WorldRuntime[] = Array.from({ length: nRuntimes }, (_, i) => ({ index: i, spec: { desired: { description: `Fleet agent ${i} (declared)` } } }));
  const gateways: WorldGateway[] = Array.from({ length: nGateways }, (_, i) => ({ index: i, spec: { desired: { description: `Fleet tools ${i} (declared)` } } }));
  const world = buildWorld({
    runtimes,
    gateways,
    settings: { limits: { runtimes: nRuntimes, gateways: nGateways, versionsPerRuntime: 1000, endpointsPerRuntime: 10, policyEngines: 1000 } },
    drift: {
      mode: 'report', concurrency: 16,
      ...(ctx.quick && { resourcesPerRun: QUICK_RUN }),
    },
    quotas: { agentcore: { default: QUOTA_RPS } },
  });
  const scratch = new Scratch();
  const stack = await startStack({
    seed: world.seed,
    configFile: scratch.writeConfig(world.config), env: QUIET, timeScale: scale,
    faults: { seed: 3, rules: [{ service: AGENTCORE_SERVICE, operation: '*', latencyMs: LATENCY_MS, rps: QUOTA_RPS }] },
  });
  try {
    const fromReq = stack.emulator.requests.length;
    const fromInv = stack.lambda.invocations.length;
    const t0 = performance.now();
    let invocationError: string | undefined;
    try {
      await stack.lambda.invoke('correctDrift', { trigger: 'schedule' });
      await stack.settle({ timeoutMs: 3_600_000 });
    } catch (err) {
      invocationError = `${(err as Error).name}: ${(err as Error).message}`;
    }
    const wallMs = (performance.now() - t0) * scale;

    const byOp: Record<string, number> = {};
    let served = 0;
    let refused = 0;
    const read = new Set<string>();
    for (const r of stack.emulator.requests.slice(fromReq)) {
      if (r.service !== AGENTCORE_SERVICE) continue;
      if (r.injected && r.error === 'ThrottlingException') { refused++; continue; }
      served++;
      byOp[r.operation] = (byOp[r.operation] ?? 0) + 1;
      if (r.operation === 'GetAgentRuntime' || r.operation === 'GetGateway') read.add(decodeURIComponent(r.path).split('/')[2] ?? '');
    }
    const runs = stack.lambda.invocations.slice(fromInv).filter((i) => i.functionKey === 'correctDrift');
    const failedRuns = runs.filter((i) => i.outcome !== 'succeeded').length;
    const perOpBoundMs = Math.max(0, ...Object.values(byOp).map((n) => (n / QUOTA_RPS) * 1000));
    const busiest = Object.entries(byOp).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'none';
    const lambdaBudgetMs = stack.serverless.functions.correctDrift.timeout * 1000 - SAFETY_MARGIN_MS;
    const leastRuns = ctx.quick ? Math.ceil((nRuntimes + nGateways) / QUICK_RUN) : Math.max(1, Math.ceil(perOpBoundMs / lambdaBudgetMs));
    const total = nRuntimes + nGateways;
    const execution = stack.sfn.listExecutions().find((e) => e.stateMachineArn === stack.stateMachineArn('driftScan'));
    ctx.log(`  ${nRuntimes} runtimes + ${nGateways} gateways at x${scale} time: ${runs.length} runs (${failedRuns} failed), ${round(wallMs / 1000, 1)} s (${round(wallMs / scale / 1000, 1)} s real), ${served} calls served ${JSON.stringify(byOp)} + ${refused} refused, ${read.size}/${total} read${execution ? `, drift-scan ${execution.status}` : ''}${invocationError ? `, failed: ${invocationError}` : ''}`);
    return {
      name: `drift pass over a fleet larger than one run (${nRuntimes} runtimes + ${nGateways} gateways, ${QUOTA_RPS} req/s per operation, time x${scale})`,
      figures: [
        {
          key: 'driftFleet.runsNeeded',
          label: `correctDrift runs for the pass / least possible (${runs.length} / ${leastRuns}; one run may spend ${round(lambdaBudgetMs / 1000)} s)`,
          ratio: runs.length / leastRuns,
          expected: { op: '<=', value: 2 },
          raw: { runs: runs.length, failedRuns, leastRuns, lambdaBudgetMs, scanExecution: execution?.status, invocationError },
        },
        {
          key: 'driftFleet.coverage',
          label: `resources read in the pass / declared (${read.size} / ${total})`,
          ratio: read.size / total,
          expected: { op: '==', value: 1 },
          raw: { read: read.size, declared: total },
        },
        {
          key: 'driftFleet.wallTimeOverPerOpBound',
          label: `pass wall time / max over operations (calls / ${QUOTA_RPS} req/s) = ${round(wallMs / 1000, 1)} s / ${round(perOpBoundMs / 1000, 1)} s (${busiest})`,
          ratio: wallMs / perOpBoundMs,
          raw: { wallMs: round(wallMs, 0), realMs: round(wallMs / scale, 0), timeScale: scale, perOperationBoundMs: round(perOpBoundMs, 0), byOperation: byOp },
        },
        {
          key: 'driftFleet.throttledOverServed',
          label: `throttled attempts / AgentCore calls served (${refused} / ${served})`,
          ratio: refused / Math.max(1, served),
          raw: { throttledAttempts: refused, agentcoreCallsServed: served },
        },
      ],
    };
  } finally {
    await stack.close();
    scratch.dispose();
  }
}
