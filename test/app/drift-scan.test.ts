/**
 * The drift scan (functions/app/drift-scan.ts) over real SDK clients against the local stack: the
 * scan order interleaves runtimes and gateways, a cursor resumes where the previous run stopped
 * (also after the config changed), and the plan comes back in config order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../local/stack.ts';
import { createAdapters } from '../../functions/adapters/index.ts';
import { lazyClients } from '../../functions/lib/clients.ts';
import { loadConfig } from '../../functions/lib/config/load.ts';
import { scanDrift, scanOrder } from '../../functions/app/drift-scan.ts';
import type { DriftDeps } from '../../functions/app/drift.ts';
import { buildWorld, Scratch, runtimeId, type WorldGateway, type WorldRuntime } from '../../bench/lib/world.ts';

let stack: Stack | undefined;
let scratch: Scratch | undefined;
afterEach(async () => {
  await stack?.close();
  scratch?.dispose();
  stack = undefined;
});

function world(runtimes: number, gateways: number, drift: Record<string, unknown> = {}) {
  const rts: WorldRuntime[] = Array.from({ length: runtimes }, (_, i) => ({ index: i, spec: { drift: 'report', desired: { description: `declared ${i}` } } }));
  const gws: WorldGateway[] = Array.from({ length: gateways }, (_, i) => ({ index: i, spec: { drift: 'report', desired: { description: `declared gw ${i}` } } }));
  return buildWorld({ runtimes: rts, gateways: gws, drift: { mode: 'report', concurrency: 1, ...drift } });
}

async function setUp(runtimes: number, gateways: number, drift: Record<string, unknown> = {}) {
  const w = world(runtimes, gateways, drift);
  scratch = new Scratch();
  const file = scratch.writeConfig(w.config);
  stack = await startStack({ seed: w.seed, configFile: file });
  const adapters = createAdapters(lazyClients({ endpoint: stack.url, region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } }));
  const deps: DriftDeps = {
    agentCore: adapters.agentCore, ecr: adapters.ecr, sfn: adapters.sfn, home: { account: '123456789012', region: 'us-east-1' },
    now: () => stack!.clock.now(), sleep: async () => {},
  };
  return { deps, config: await loadConfig(file), w };
}

describe('scanOrder', () => {
  it('interleaves runtimes and gateways in proportion, keeping each kind in declaration order', () => {
    const config = { runtimes: Array.from({ length: 6 }, (_, i) => ({ id: `rt${i}` })), gateways: [{ id: 'g0' }, { id: 'g1' }] } as never;
    expect(scanOrder(config).map((it) => `${it.kind[0]}${it.index}`)).toEqual(['r0', 'r1', 'g0', 'r2', 'r3', 'r4', 'g1', 'r5']);
  });
});

describe('scanDrift', () => {
  it('checks resourcesPerRun at a time, resumes from the cursor, and plans in config order', async () => {
    const { deps, config } = await setUp(5, 2, { resourcesPerRun: 4 });
    const first = await scanDrift(deps, config);
    expect(first.range).toEqual({ from: 0, to: 4, total: 7 });
    expect(first.cursor).toMatchObject({ next: 4, total: 7, runs: 1, attempted: 0 });
    // Config order: runtimes first (r0 r1 r2), then the gateway the first four of the scan order hold.
    expect(first.run.plan.resources.map((r) => r.ref)).toEqual([runtimeId(0), runtimeId(1), runtimeId(2), 'benchgw0-0000000000']);
    expect(first.run.plan.counts).toMatchObject({ resources: 4, drifted: 4 });
    const second = await scanDrift(deps, config, { cursor: first.cursor });
    expect(second.range).toEqual({ from: 4, to: 7, total: 7 });
    expect(second.cursor).toBeUndefined();
    const refs = [...first.run.plan.resources, ...second.run.plan.resources].map((r) => r.ref).sort();
    expect(new Set(refs).size).toBe(7);
  });

  it('after a config change, resumes after the last resource it checked (or starts over when that one is gone)', async () => {
    const { deps, config } = await setUp(6, 0, { resourcesPerRun: 3 });
    const first = await scanDrift(deps, config);
    expect(first.cursor?.after).toBe(`runtime:id:${runtimeId(2)}`);
    // A runtime declared at the top since: the pass goes on with runtime 3, not with runtime 2 again.
    const grown = { ...config, runtimes: [config.runtimes[5], ...config.runtimes.slice(0, 5)] };
    const resumed = await scanDrift(deps, grown, { cursor: first.cursor });
    expect(resumed.run.plan.resources.map((r) => r.ref)).toEqual([runtimeId(3), runtimeId(4)]);
    const gone = { ...config, runtimes: config.runtimes.filter((r) => r.id !== runtimeId(2)) };
    const restarted = await scanDrift(deps, gone, { cursor: first.cursor });
    expect(restarted.range.from).toBe(0);
  });

  it('always checks one slice per run, and starts no further slice without the time for it', async () => {
    const { deps, config } = await setUp(8, 0);
    const result = await scanDrift(deps, config, { remainingMs: () => 0 });
    expect(result.slices).toBe(1);
    expect(result.range).toEqual({ from: 0, to: 2, total: 8 }); // a slice is 2 x concurrency
    expect(result.cursor).toMatchObject({ next: 2 });
  });
});
