import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../local/clock.ts';

describe('VirtualClock', () => {
  it('wakes sleepers in wake-time order when advanced manually', async () => {
    const clock = new VirtualClock({ start: 0 });
    const woke: string[] = [];
    void clock.sleep(300).then(() => woke.push(`b@${clock.now()}`));
    void clock.sleep(100).then(() => woke.push(`a@${clock.now()}`));
    await clock.advance(200);
    expect(woke).toEqual(['a@100']);
    await clock.advance(200);
    expect(woke).toEqual(['a@100', 'b@300']);
    expect(clock.now()).toBe(400);
  });

  it('jumps to the next wake-up by itself in auto mode', async () => {
    const clock = new VirtualClock({ start: 0, mode: 'auto' });
    const started = Date.now();
    await clock.sleep(24 * 3600 * 1000);
    expect(clock.now()).toBe(24 * 3600 * 1000);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('rejects an aborted sleep and forgets it', async () => {
    const clock = new VirtualClock({ start: 0 });
    const ac = new AbortController();
    const p = clock.sleep(1000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(clock.pending()).toBe(0);
  });

  it('does not auto-advance while held, and resumes when every hold is released', async () => {
    const clock = new VirtualClock({ start: 0, mode: 'auto' });
    const a = clock.hold();
    const b = clock.hold();
    let woke = false;
    void clock.sleep(5_000).then(() => { woke = true; });
    await new Promise((r) => setTimeout(r, 30));
    expect(woke).toBe(false);
    expect(clock.now()).toBe(0);
    a();
    a(); // releasing twice is a no-op: b still holds
    await new Promise((r) => setTimeout(r, 30));
    expect(woke).toBe(false);
    expect(clock.held()).toBe(true);
    b();
    await new Promise((r) => setTimeout(r, 30));
    expect(woke).toBe(true);
    expect(clock.now()).toBe(5_000);
    expect(clock.held()).toBe(false);
  });

  it('flows with the wall clock in realtime mode, from where it was, waking sleepers on time', async () => {
    const clock = new VirtualClock({ start: 1_000_000, mode: 'auto' });
    await clock.sleep(3_600_000); // an hour passes at once in auto mode
    expect(clock.now()).toBe(4_600_000);
    clock.setMode('realtime', { speed: 10 });
    const t0 = clock.now();
    const started = Date.now();
    await clock.sleep(500); // 500 ms of clock time at 10x: about 50 ms of wall time
    const wall = Date.now() - started;
    expect(clock.now() - t0).toBeGreaterThanOrEqual(500);
    expect(wall).toBeGreaterThanOrEqual(40);
    expect(wall).toBeLessThan(2_000);
    // Time keeps moving without anyone sleeping (lazily computed statuses progress).
    const before = clock.now();
    await new Promise((r) => setTimeout(r, 30));
    expect(clock.now()).toBeGreaterThan(before);
    // advance() still jumps ahead.
    const jumped = clock.now();
    await clock.advance(60_000);
    expect(clock.now()).toBeGreaterThanOrEqual(jumped + 60_000);
  });
});
