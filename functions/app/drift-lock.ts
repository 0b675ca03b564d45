/**
 * The drift lock: `autopilot apply` and the scheduled drift job (correctDrift, one run at a time by
 * its reserved concurrency) never act on the fleet at once. Each writer takes one lease-based lock
 * in the stack's DynamoDB table (functions/adapters/lock.ts) before it reads what it will correct,
 * confirms the lease before every write, and releases it when done:
 *
 * - Taken with a conditional put: only when nobody holds it, or the holder's lease ran out (a
 *   crashed CLI or a timed-out function does not block anyone longer than its lease).
 * - Confirmed before each write (`guard`): while more than half of the lease is left nothing is
 *   called; otherwise the lease is extended, conditional on still being the owner. A lock that is
 *   no longer ours (taken over after the lease ran out) or that cannot be confirmed stops the
 *   writes at once: the rest is skipped and said so (fail closed).
 * - The scheduled run that finds the lock held reports only (reads are not acting); the CLI waits
 *   up to --lock-timeout, then refuses (exit 3) naming the holder.
 *
 * Leases are compared with the writer's own clock; a skew of seconds between the CLI's machine and
 * AWS is small against leases of minutes. DynamoDB's time to live only tidies stale items.
 */
import { randomUUID } from 'node:crypto';
import { AutopilotError } from '../lib/errors.ts';
import type { AcquireResult, LockAdapter, LockRecord } from '../adapters/lock.ts';

export type { LockRecord };

/** The one lock every drift writer of a stack takes (the whole declared fleet). */
export const DRIFT_LOCK_ID = 'drift';

/** The CLI's lease: extended before writes once half of it has passed. */
export const CLI_LEASE_MS = 10 * 60_000;

/** The lock was taken over (or could not be confirmed) while its holder was still writing. */
export class LockLostError extends AutopilotError {}

/** The lock is held by another writer. */
export class LockHeldError extends AutopilotError {
  readonly current: LockRecord | undefined;
  constructor(current: LockRecord | undefined, message: string) {
    super(message);
    this.current = current;
  }
}

export type LockPort = Pick<LockAdapter, 'acquire' | 'renew' | 'release' | 'tableName'>;

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** "autopilot apply by alice@laptop (pid 4242), since 2026-12-06T09:00:00Z, lease until 09:10:00Z". */
export function describeHolder(current: LockRecord | undefined): string {
  if (!current) return 'another writer (the lock item could not be read back)';
  return `${current.holder}, since ${iso(current.acquiredAt)}, lease until ${iso(current.expiresAt)}`;
}

export class DriftLock {
  readonly owner = randomUUID();
  private expiresAt = 0;
  private held = false;

  private readonly port: LockPort;
  private readonly holder: string;
  private readonly leaseMs: number;
  private readonly now: () => number;
  readonly lockId: string;

  constructor(port: LockPort, holder: string, leaseMs: number, now: () => number, lockId: string = DRIFT_LOCK_ID) {
    this.port = port;
    this.holder = holder;
    this.leaseMs = leaseMs;
    this.now = now;
    this.lockId = lockId;
  }

  get table(): string {
    return this.port.tableName;
  }

  get isHeld(): boolean {
    return this.held;
  }

  /** One attempt to take the lock. */
  async tryAcquire(): Promise<AcquireResult> {
    const at = this.now();
    const expiresAt = at + this.leaseMs;
    const result = await this.port.acquire({ lockId: this.lockId, owner: this.owner, holder: this.holder, acquiredAt: at, expiresAt });
    if (result.acquired) {
      this.held = true;
      this.expiresAt = expiresAt;
    }
    return result;
  }

  /** Before a write: confirms the lease (extending it once half has passed). Throws LockLostError. */
  async guard(): Promise<void> {
    if (!this.held) throw new LockLostError(`the drift lock (table ${this.table}) is not held`);
    const at = this.now();
    if (this.expiresAt - at > this.leaseMs / 2) return;
    const expiresAt = at + this.leaseMs;
    let renewed: boolean;
    try {
      renewed = await this.port.renew(this.lockId, this.owner, expiresAt);
    } catch (err) {
      throw new LockLostError(`the drift lock (table ${this.table}) could not be confirmed (${err instanceof Error ? `${err.name}: ${err.message}` : String(err)})`, { cause: err });
    }
    if (!renewed) {
      this.held = false;
      throw new LockLostError(`the drift lock (table ${this.table}) was taken over by another writer after this one's lease ran out`);
    }
    this.expiresAt = expiresAt;
  }

  /** Releases the lock if it is still ours; false when it was not (taken over, or already gone). */
  async release(): Promise<boolean> {
    if (!this.held) return false;
    this.held = false;
    return this.port.release(this.lockId, this.owner);
  }
}
