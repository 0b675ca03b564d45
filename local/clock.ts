/**
 * Clocks for the local stack. Everything time-dependent in local/ (status lifecycles, Wait states,
 * schedules, metric windows, endpoint moves) reads one injected Clock, so tests and `npm start`
 * can compress hours of bake time into seconds.
 */

export interface Clock {
  /** Current time, epoch milliseconds. */
  now(): number;
  /** Resolves once the clock has moved `ms` forward (rejects with the signal's reason when aborted). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * Wall-clock time running `scale` times faster: 1 s of real time reads as `scale` seconds and a
 * sleep of `ms` lasts ms / scale. The benchmarks' compressed real time (API quotas, latency,
 * Lambda timeouts), so a fleet that needs an hour of quota is measured in minutes.
 */
export class ScaledClock implements Clock {
  readonly scale: number;
  private readonly origin = Date.now();
  constructor(scale: number) {
    if (!(scale > 0)) throw new RangeError('ScaledClock: scale must be > 0');
    this.scale = scale;
  }
  now(): number {
    return this.origin + (Date.now() - this.origin) * this.scale;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new SystemClock().sleep(ms / this.scale, signal);
  }
}

/** Wall-clock time. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, Math.max(0, ms));
      const onAbort = () => { clearTimeout(t); reject(signal!.reason); };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

interface Sleeper { wakeAt: number; seq: number; resolve: () => void; reject: (e: unknown) => void }

export interface VirtualClockOptions {
  /** Start time, epoch ms (default: 2026-01-01T00:00:00Z, so runs are reproducible). */
  start?: number;
  /**
   * 'manual': time moves only through advance()/set().
   * 'auto': when sleepers are pending and `idleMs` of real time passes with no new sleeper, time
   * jumps to the earliest wake-up (fake timers with auto-advance: waits cost ~idleMs of real time).
   */
  mode?: ClockMode;
  idleMs?: number;
}

/**
 * 'manual': time moves only through advance()/set(). 'auto': it jumps to the next wake-up when
 * idle. 'realtime': it flows with the wall clock from where it is (times `speed`), as for a stack
 * left running for people to use by hand.
 */
export type ClockMode = 'manual' | 'auto' | 'realtime';

/** Controllable time for tests, benchmarks and the local demo. */
export class VirtualClock implements Clock {
  private current: number;
  private readonly sleepers: Sleeper[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private mode: ClockMode;
  private readonly idleMs: number;
  private holds = 0;
  /** Realtime mode: wall-clock ms at which `current` was the time, and the speed factor. */
  private realAnchor = 0;
  private speed = 1;

  constructor(opts: VirtualClockOptions = {}) {
    this.current = opts.start ?? Date.UTC(2026, 0, 1);
    this.realAnchor = Date.now();
    this.mode = opts.mode ?? 'manual';
    this.idleMs = opts.idleMs ?? 2;
  }

  now(): number {
    if (this.mode === 'realtime') return this.current + Math.floor((Date.now() - this.realAnchor) * this.speed);
    return this.current;
  }

  /** Number of pending sleepers (useful to wait until a workflow is parked on a Wait). */
  pending(): number {
    return this.sleepers.length;
  }

  /**
   * Keeps an auto clock from jumping until the returned release is called (idempotent). The local
   * stack holds it while a Lambda handler runs: real code awaiting real I/O must not see hours pass
   * between two lines. Waits inside the handler release the hold while they sleep.
   */
  hold(): () => void {
    this.holds++;
    if (this.timer && this.mode === 'auto') {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.schedule();
    };
  }

  /** Whether something holds the clock (see hold()). */
  held(): boolean {
    return this.holds > 0;
  }

  /** Switches mode; 'realtime' flows from the current time at `speed` × wall-clock speed (default 1). */
  setMode(mode: ClockMode, opts: { speed?: number } = {}): void {
    this.current = this.now();
    this.realAnchor = Date.now();
    this.speed = opts.speed ?? 1;
    this.mode = mode;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.schedule();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = { wakeAt: this.now() + ms, seq: this.seq++, resolve, reject };
      const onAbort = () => {
        const i = this.sleepers.indexOf(sleeper);
        if (i >= 0) this.sleepers.splice(i, 1);
        reject(signal!.reason);
      };
      sleeper.resolve = () => { signal?.removeEventListener('abort', onAbort); resolve(); };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(sleeper);
      this.sleepers.sort((a, b) => a.wakeAt - b.wakeAt || a.seq - b.seq);
      this.schedule();
    });
  }

  /** Moves time forward by `ms`, waking every sleeper due on the way, in order. */
  async advance(ms: number): Promise<void> {
    await this.set(this.now() + ms);
  }

  /** Moves time to `t` (never backwards), waking sleepers in wake-time order. */
  async set(t: number): Promise<void> {
    while (this.sleepers.length > 0 && this.sleepers[0].wakeAt <= t) {
      const s = this.sleepers.shift()!;
      this.moveTo(s.wakeAt);
      s.resolve();
      // Let the woken code run (and maybe sleep again) before moving on.
      await new Promise((r) => setImmediate(r));
    }
    this.moveTo(t);
  }

  private moveTo(t: number): void {
    // In realtime mode time keeps flowing from the new point.
    if (t > this.now()) this.current += t - this.now();
  }

  private schedule(): void {
    if (this.mode === 'realtime') {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      const next = this.sleepers[0];
      if (!next) return;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.set(this.now()).then(() => this.schedule());
      }, Math.max(0, Math.ceil((next.wakeAt - this.now()) / this.speed)));
      return;
    }
    if (this.mode !== 'auto') return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.sleepers.length === 0 || this.holds > 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const next = this.sleepers[0];
      if (!next || this.holds > 0) return;
      void this.set(next.wakeAt).then(() => this.schedule());
    }, this.idleMs);
  }
}
