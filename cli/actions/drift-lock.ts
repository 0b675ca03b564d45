/**
 * `autopilot apply`'s side of the drift lock (functions/app/drift-lock.ts): the same lock as the
 * scheduled correctDrift, in the stack's table (--lock-table, else $AUTOPILOT_LOCK_TABLE, else
 * agentcore-autopilot-<stage>-drift-lock). Taken before the live resources are read, waited for up
 * to --lock-timeout (default: not at all), released when the apply is done.
 */
import os from 'node:os';
import { LockAdapter } from '../../functions/adapters/lock.ts';
import { CLI_LEASE_MS, describeHolder, DriftLock, type LockRecord } from '../../functions/app/drift-lock.ts';
import { AccessDeniedError, ResourceNotFoundError } from '../../functions/lib/errors.ts';
import { createDynamoDbClient } from '../../functions/lib/clients/dynamodb.ts';
import { now } from '../../functions/lib/time.ts';
import { clientOptions } from '../aws.ts';
import { CliError, refused } from '../errors.ts';
import { EXIT } from '../exit-codes.ts';
import type { ActionContext } from '../types.ts';
import { formatDuration, parseDuration } from '../wait.ts';

/** How often a held lock is tried again while --lock-timeout allows. */
const POLL_MS = 2000;

export function lockTableOf(ctx: Pick<ActionContext, 'io' | 'opts'>): string {
  const stage = (ctx.opts.stage as string | undefined) || ctx.io.env.AUTOPILOT_STAGE || 'dev';
  return (ctx.opts.lockTable as string | undefined) || ctx.io.env.AUTOPILOT_LOCK_TABLE || `agentcore-autopilot-${stage}-drift-lock`;
}

function holderName(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch { /* no passwd entry (a container): keep "unknown" */ }
  return `autopilot apply by ${user}@${os.hostname()} (pid ${process.pid})`;
}

/**
 * Takes the drift lock for this apply, or refuses (exit 3) naming its holder once --lock-timeout
 * has passed. A table that does not exist or cannot be written is an error that says what to fix;
 * nothing is read or applied without the lock.
 */
export async function takeApplyLock(ctx: Pick<ActionContext, 'io' | 'opts'>): Promise<DriftLock> {
  const table = lockTableOf(ctx);
  const timeoutText = ctx.opts.lockTimeout as string | undefined;
  const timeoutMs = timeoutText === undefined ? 0 : parseDuration(timeoutText, '--lock-timeout');
  const lock = new DriftLock(new LockAdapter(createDynamoDbClient(clientOptions(ctx)), table), holderName(), CLI_LEASE_MS, () => now().getTime());
  const deadline = Date.now() + timeoutMs;
  let told: string | undefined;
  for (;;) {
    let current: LockRecord | undefined;
    try {
      const result = await lock.tryAcquire();
      if (result.acquired) return lock;
      current = result.current;
    } catch (err) {
      if (err instanceof ResourceNotFoundError) {
        throw new CliError('LockTableNotFound', `the drift lock table ${table} does not exist: is the stack deployed to this region and stage? Give --stage, --lock-table or $AUTOPILOT_LOCK_TABLE. Nothing was applied`, EXIT.ERROR);
      }
      if (err instanceof AccessDeniedError) {
        throw new CliError('LockAccessDenied', `not allowed to take the drift lock in ${table} (dynamodb:PutItem, UpdateItem, DeleteItem): attach the stack's DriftLockPolicy (output DriftLockPolicyArn). Nothing was applied`, EXIT.ERROR);
      }
      throw err;
    }
    const left = deadline - Date.now();
    const who = describeHolder(current);
    if (left <= 0) {
      throw refused(`the drift lock is held by ${who}; nothing was applied. Try again when it is released${timeoutMs === 0 ? ', or wait for it with --lock-timeout 15m' : ` (waited ${formatDuration(timeoutMs)})`}`);
    }
    if (told !== who) {
      ctx.io.stderr(`Waiting up to ${formatDuration(left)} for the drift lock, held by ${who}...`);
      told = who;
    }
    await new Promise((r) => setTimeout(r, Math.min(POLL_MS, left)));
  }
}
