/**
 * The per-operation pacer (functions/lib/pacing.ts) on a fake clock, and its SDK middleware on a
 * real AgentCore client whose HTTP handler answers locally (every attempt, retries included, waits
 * for a slot; a 429 lowers the operation's rate).
 */
import { GetAgentRuntimeCommand, GetGatewayCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createAgentCoreControlClient } from '../../functions/lib/clients.ts';
import { Pacer, isThrottle } from '../../functions/lib/pacing.ts';

/** A fake monotonic clock: sleep(ms) moves it forward at once. */
function fakeTime() {
  let t = 1_000;
  return { now: () => t, sleep: async (ms: number) => { t += ms; }, advance: (ms: number) => { t += ms; } };
}

describe('Pacer', () => {
  it('lets a half-second burst through, then one call per slot of quota x share', async () => {
    const time = fakeTime();
    const pacer = new Pacer({ quotas: { default: 20 }, share: 1, now: time.now, sleep: time.sleep });
    const starts: number[] = [];
    for (let i = 0; i < 30; i++) {
      await pacer.acquire('GetAgentRuntime');
      starts.push(time.now() - 1_000);
    }
    // Burst of 10 (half a second at 20/s) at once, then every 50 ms.
    expect(starts.slice(0, 10)).toEqual(new Array(10).fill(0));
    expect(starts[10]).toBe(50);
    expect(starts[29]).toBe(20 * 50);
    expect(pacer.stats().GetAgentRuntime).toMatchObject({ rate: 20, calls: 30, throttled: 0, waitedMs: expect.any(Number) });
  });

  it('paces each operation on its own quota, and leaves operations without a quota unpaced', async () => {
    const time = fakeTime();
    const pacer = new Pacer({ quotas: { operations: { GetGateway: 4, GetAgentRuntime: 100 } }, share: 0.5, now: time.now, sleep: time.sleep });
    expect(pacer.rateOf('GetGateway')).toBe(2);
    expect(pacer.rateOf('ListGateways')).toBe(Infinity);
    for (let i = 0; i < 5; i++) await pacer.acquire('GetGateway');
    expect(time.now() - 1_000).toBe(4 * 500);
    const before = time.now();
    for (let i = 0; i < 20; i++) await pacer.acquire('GetAgentRuntime');
    expect(time.now() - before).toBe(0); // its own bucket (burst 25) is untouched by GetGateway's
    for (let i = 0; i < 100; i++) expect(await pacer.acquire('ListGateways')).toBe(0);
    expect(pacer.stats().ListGateways).toMatchObject({ rate: Infinity, calls: 100 });
  });

  it('queues concurrent callers first come first served', async () => {
    const time = fakeTime();
    const pacer = new Pacer({ quotas: { default: 2 }, share: 1, now: time.now, sleep: async () => {} });
    const waits = await Promise.all(Array.from({ length: 4 }, () => pacer.acquire('UpdateAgentRuntime')));
    expect(waits).toEqual([0, 500, 1000, 1500]);
  });

  it('slows a throttled operation to 70 % (once a second at most), pauses it, and climbs back to the configured rate', async () => {
    const time = fakeTime();
    const pacer = new Pacer({ quotas: { default: 10 }, share: 1, recoverMs: 100_000, now: time.now, sleep: time.sleep });
    await pacer.acquire('GetGateway');
    pacer.throttled('GetGateway');
    expect(pacer.stats().GetGateway).toMatchObject({ currentRate: 7, throttled: 1 });
    // Refusals of calls already in flight within the same second do not compound.
    pacer.throttled('GetGateway');
    pacer.throttled('GetGateway');
    expect(pacer.stats().GetGateway).toMatchObject({ currentRate: 7, throttled: 3 });
    // The next call waits out the pause (one slot at the lowered rate).
    expect(await pacer.acquire('GetGateway')).toBeGreaterThan(100);
    // Never below 5 % of the configured rate.
    for (let i = 0; i < 20; i++) {
      time.advance(1_000);
      pacer.throttled('GetGateway');
    }
    expect(pacer.stats().GetGateway.currentRate).toBe(0.5);
  });

  it('climbs back linearly to the configured rate without throttles', async () => {
    const time = fakeTime();
    const pacer = new Pacer({ quotas: { default: 10 }, share: 1, recoverMs: 1_000, now: time.now, sleep: time.sleep });
    await pacer.acquire('GetGateway');
    pacer.throttled('GetGateway');
    expect(pacer.stats().GetGateway.currentRate).toBe(7);
    time.advance(200);
    await pacer.acquire('GetGateway');
    expect(pacer.stats().GetGateway.currentRate).toBeCloseTo(9, 5);
    time.advance(2_000);
    await pacer.acquire('GetGateway');
    expect(pacer.stats().GetGateway.currentRate).toBe(10);
  });

  it('never paces an operation without a quota, throttled or not (the retries handle it)', async () => {
    const time = fakeTime();
    const pacer = new Pacer({ share: 1, now: time.now, sleep: time.sleep });
    for (let i = 0; i < 20; i++) expect(await pacer.acquire('GetAgentRuntime')).toBe(0);
    pacer.throttled('GetAgentRuntime');
    for (let i = 0; i < 20; i++) expect(await pacer.acquire('GetAgentRuntime')).toBe(0);
    expect(pacer.stats().GetAgentRuntime).toMatchObject({ rate: Infinity, calls: 40, throttled: 1 });
  });

  it('restarts from the new quotas when reconfigured', async () => {
    const time = fakeTime();
    const pacer = new Pacer({ quotas: { default: 1 }, share: 1, now: time.now, sleep: time.sleep });
    await pacer.acquire('GetGateway');
    await pacer.acquire('GetGateway');
    expect(time.now() - 1_000).toBe(1_000);
    pacer.configure({ default: 1000 }, 1);
    const before = time.now();
    for (let i = 0; i < 100; i++) await pacer.acquire('GetGateway');
    expect(time.now() - before).toBe(0);
  });
});

describe('pacing middleware on the AgentCore client', () => {
  /** A client whose HTTP handler answers locally: `statuses` in turn (then 200), recording when each attempt was sent. */
  function client(pacer: Pacer, statuses: number[], sent: { operation: string; at: number }[], now: () => number) {
    const handler = {
      handle: async (request: { path: string }) => {
        const status = statuses.shift() ?? 200;
        sent.push({ operation: request.path.startsWith('/gateways') ? 'GetGateway' : 'GetAgentRuntime', at: now() });
        const body = status === 429
          ? JSON.stringify({ message: 'Rate exceeded' })
          : JSON.stringify(request.path.startsWith('/gateways') ? { gatewayId: 'g' } : { agentRuntimeId: 'rt' });
        return {
          response: {
            statusCode: status,
            headers: { 'content-type': 'application/json', ...(status === 429 && { 'x-amzn-errortype': 'ThrottlingException' }) },
            body: Readable.from([Buffer.from(body)]),
          },
        };
      },
    };
    return createAgentCoreControlClient({
      region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 3, pacer,
      // @ts-expect-error a minimal request handler (the SDK only calls handle)
      requestHandler: handler,
    });
  }

  it('makes every attempt wait for its operation slot and lowers the rate after a 429', async () => {
    const time = fakeTime();
    const pacer = new Pacer({ quotas: { default: 2 }, share: 1, now: time.now, sleep: time.sleep });
    const sent: { operation: string; at: number }[] = [];
    const c = client(pacer, [429], sent, time.now);
    // The first attempt is throttled; the SDK retries (after its own backoff) through the pacer again.
    await c.send(new GetAgentRuntimeCommand({ agentRuntimeId: 'rt-0123456789' }));
    expect(sent.map((s) => s.operation)).toEqual(['GetAgentRuntime', 'GetAgentRuntime']);
    expect(pacer.stats().GetAgentRuntime).toMatchObject({ calls: 2, throttled: 1 });
    expect(pacer.stats().GetAgentRuntime.currentRate).toBeLessThan(2);
    // The retry waited for a slot of the lowered rate (0.7 s after the throttled attempt).
    expect(sent[1].at - sent[0].at).toBeGreaterThanOrEqual(700);
    // Another operation is not slowed down.
    await c.send(new GetGatewayCommand({ gatewayIdentifier: 'gw-0123456789' }));
    expect(pacer.stats().GetGateway).toMatchObject({ calls: 1, throttled: 0, currentRate: 2 });
  });

  it('recognises throttling by name or HTTP status', () => {
    expect(isThrottle({ name: 'ThrottlingException' })).toBe(true);
    expect(isThrottle({ name: 'Whatever', $metadata: { httpStatusCode: 429 } })).toBe(true);
    expect(isThrottle({ name: 'ConflictException', $metadata: { httpStatusCode: 409 } })).toBe(false);
  });
});
