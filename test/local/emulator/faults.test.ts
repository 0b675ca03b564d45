import { afterEach, describe, expect, it } from 'vitest';
import {
  ConflictException, GetAgentRuntimeCommand, InternalServerException, ListAgentRuntimesCommand, ThrottlingException,
  UpdateAgentRuntimeCommand,
} from '@aws-sdk/client-bedrock-agentcore-control';
import { fileURLToPath } from 'node:url';
import { FaultInjector, parseFaultPlan, type FaultPlan } from '../../../local/emulator/faults.ts';
import { ROLE, artifact, caught, harness, type Harness } from './helpers.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/emulator/${name}`, import.meta.url));
const RUNTIME = 'seeded-abcdefghij';
const seed = {
  runtimes: [{ id: RUNTIME, config: { agentRuntimeArtifact: artifact('v1'), roleArn: ROLE } }],
  settings: { delays: { runtimeUpdate: 1_000 } },
};

const open: Harness[] = [];
async function start(faults?: FaultPlan | string, maxAttempts = 1): Promise<Harness> {
  const h = await harness({ seed, faults, maxAttempts });
  open.push(h);
  return h;
}
afterEach(async () => { while (open.length) await open.pop()!.close(); });

/** Outcome of `n` GetAgentRuntime calls: '.' success, 'E' InternalServerException. */
async function pattern(h: Harness, n: number): Promise<string> {
  let out = '';
  for (let i = 0; i < n; i++) {
    try {
      await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: RUNTIME }));
      out += '.';
    } catch (err) {
      expect(err).toBeInstanceOf(InternalServerException);
      out += 'E';
    }
  }
  return out;
}

describe('fault plan', () => {
  it('throttles beyond the requests-per-second quota with ThrottlingException "Rate exceeded"', async () => {
    // 0.2 rps: the bucket gains one token per 5 s of real time, so a refill cannot blur the result.
    const h = await start({ rules: [{ operation: 'GetAgentRuntime', rps: 0.2, burst: 3 }] });
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      try {
        await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: RUNTIME }));
        outcomes.push('ok');
      } catch (err) {
        expect(err).toBeInstanceOf(ThrottlingException);
        expect((err as Error).message).toBe('Rate exceeded');
        outcomes.push('429');
      }
    }
    expect(outcomes).toEqual(['ok', 'ok', 'ok', '429', '429', '429', '429', '429']);
    // Other operations have their own quota (none here).
    await h.client.send(new ListAgentRuntimesCommand({}));
    expect(h.emu.faults.injected.throttled).toBe(5);
  });

  it('refills the token bucket with real time, not with the virtual clock', async () => {
    let now = 0;
    const faults = new FaultInjector({ rules: [{ operation: 'Get*', rps: 2, burst: 2 }] }, { now: () => now });
    const call = async () => (await faults.before('svc', 'GetThing'))?.type ?? 'ok';
    expect([await call(), await call(), await call()]).toEqual(['ok', 'ok', 'ThrottlingException']);
    now += 499;
    expect(await call()).toBe('ThrottlingException');
    now += 1;
    expect(await call()).toBe('ok');
    now += 10_000;
    expect([await call(), await call(), await call()]).toEqual(['ok', 'ok', 'ThrottlingException']);
    expect(await faults.before('svc', 'ListThings')).toBeUndefined();
  });

  it('lets the default SDK retry policy (3 attempts) retry injected 500s, counting every attempt', async () => {
    const h = await start({ rules: [{ operation: 'GetAgentRuntime', error: { type: 'InternalServerException', count: 2 } }] }, 3);
    const got = await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: RUNTIME }));
    expect(got.status).toBe('READY');
    expect(h.emu.count('GetAgentRuntime')).toBe(3);
  });

  it('injects InternalServerExceptions at the planned rate, reproducibly for a given seed', async () => {
    const plan = (s: number): FaultPlan => ({ seed: s, rules: [{ operation: 'GetAgentRuntime', errorRate: 0.3 }] });
    const a = await pattern(await start(plan(7)), 40);
    const b = await pattern(await start(plan(7)), 40);
    const c = await pattern(await start(plan(8)), 40);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    const failures = [...a].filter((x) => x === 'E').length;
    expect(failures).toBeGreaterThan(4);
    expect(failures).toBeLessThan(24);
  });

  it('keeps one operation\'s fault sequence independent of calls to other operations', async () => {
    const plan: FaultPlan = { seed: 3, rules: [{ operation: '*', errorRate: 0.5 }] };
    const h1 = await start(plan);
    const h2 = await start(plan);
    for (let i = 0; i < 5; i++) await h2.client.send(new ListAgentRuntimesCommand({})).catch(() => undefined);
    expect(await pattern(h2, 20)).toBe(await pattern(h1, 20));
  });

  it('forces ConflictException on the next N UpdateAgentRuntime calls (from a YAML plan)', async () => {
    const h = await start(fixture('faults.yaml'));
    const update = () => h.client.send(new UpdateAgentRuntimeCommand({ agentRuntimeId: RUNTIME, agentRuntimeArtifact: artifact('v2'), roleArn: ROLE }));
    expect(await caught(update())).toBeInstanceOf(ConflictException);
    expect(await caught(update())).toBeInstanceOf(ConflictException);
    expect((await update()).agentRuntimeVersion).toBe('2');
    expect(h.emu.state.getRuntime(RUNTIME).versions).toHaveLength(2);

    h.emu.faults.forceConflicts('UpdateAgentRuntime', 1);
    await h.clock.advance(1_000);
    expect(await caught(update())).toBeInstanceOf(ConflictException);
  });

  it('adds fixed latency and latency spikes in real time', async () => {
    const h = await start({ rules: [{ operation: 'ListAgentRuntimes', latencyMs: 120, spike: { probability: 1, ms: 80 } }] });
    const t0 = performance.now();
    await h.client.send(new ListAgentRuntimesCommand({}));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(195);
    await h.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: RUNTIME }));
    // Only the matching call was delayed; virtual time did not move.
    expect(h.emu.faults.injected.latency).toBe(1);
    expect(h.emu.clock.now()).toBe(Date.UTC(2026, 0, 1));
  });

  it('loads latency from the YAML plan too', async () => {
    const h = await start(fixture('faults.yaml'));
    const t0 = performance.now();
    await h.client.send(new ListAgentRuntimesCommand({}));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(115);
  });

  it('rejects an invalid plan with a readable message', () => {
    expect(() => parseFaultPlan({ rules: [{ operation: 'Get*', errorRate: 2, bogus: true }] })).toThrow(/rules\.0\.errorRate|rules\.0/);
    expect(() => new FaultInjector({ rules: [{ error: { type: 'AccessDeniedException' } }] } as FaultPlan)).toThrow(/set rate or count/);
  });
});

describe('shipped example fault plan', () => {
  it('parses', async () => {
    const { loadFaultPlan } = await import('../../../local/emulator/faults.ts');
    const plan = loadFaultPlan(fileURLToPath(new URL('../../../local/seed/faults.example.yaml', import.meta.url)));
    expect(plan.seed).toBe(20261123);
    expect(plan.rules.map((r) => r.operation)).toEqual(['*', 'Get*', 'List*', 'UpdateAgentRuntime', 'UpdateGateway', 'GetAgentRuntime']);
    expect(plan.rules.at(-1)!.addMembers).toEqual({ sessionAffinity: { mode: 'STICKY' }, 'protocolConfiguration.streamingMode': 'BIDI' });
  });

  it('addMembers: a successful matching response carries the extra members (a newer AWS)', async () => {
    const { FaultInjector } = await import('../../../local/emulator/faults.ts');
    const f = new FaultInjector({ rules: [{ operation: 'GetGateway', addMembers: { newField: { a: 1 }, 'protocolConfiguration.mcp.extra': 'x' } }] });
    const body: Record<string, any> = { gatewayId: 'g', protocolConfiguration: { mcp: { searchType: 'SEMANTIC' } } };
    f.after('bedrock-agentcore-control', 'GetGateway', body);
    expect(body).toEqual({ gatewayId: 'g', newField: { a: 1 }, protocolConfiguration: { mcp: { searchType: 'SEMANTIC', extra: 'x' } } });
    const other: Record<string, any> = { gatewayId: 'g' };
    f.after('bedrock-agentcore-control', 'UpdateGateway', other);
    expect(other).toEqual({ gatewayId: 'g' });
    expect(f.injected.members).toBe(1);
  });
});
