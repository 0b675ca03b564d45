/**
 * Correction history of a resource, kept in one resource tag so it survives between scheduled
 * runs (a Lambda keeps no state): `autopilot:drift-corrections = <count>:<lastAt epoch ms>`.
 * `count` is the number of consecutive runs that had to correct the resource; it drives the
 * exponential backoff of planDrift (a resource that keeps drifting back is reported, not fought).
 */
import type { CorrectionHistory } from './plan.ts';

export const HISTORY_TAG = 'autopilot:drift-corrections';

/** The tag value for a history (TagValue pattern: digits and `:` only). */
export function encodeHistory(h: CorrectionHistory): string {
  return `${Math.max(0, Math.trunc(h.count))}:${Math.max(0, Math.trunc(h.lastAt))}`;
}

/** Reads the history tag; undefined when absent or malformed (a hand-edited tag never breaks a run). */
export function decodeHistory(tags: Record<string, string> | undefined): CorrectionHistory | undefined {
  const raw = tags?.[HISTORY_TAG];
  const m = raw === undefined ? null : /^(\d{1,6}):(\d{1,16})$/.exec(raw);
  if (!m) return undefined;
  return { count: Number(m[1]), lastAt: Number(m[2]) };
}

/**
 * A streak ends when the last correction is older than this: a resource corrected once a week is
 * not "fighting back". (A resource seen in sync between two corrections does not end the streak:
 * something reverting it every hour would otherwise never be backed off on a 15-minute schedule.)
 */
export const STREAK_RESET_MS = 24 * 3600 * 1000;

/** History after a successful correction at `now`. */
export function afterCorrection(previous: CorrectionHistory | undefined, now: number): CorrectionHistory {
  const continues = previous !== undefined && previous.count > 0 && now - previous.lastAt < STREAK_RESET_MS;
  return { count: continues ? previous.count + 1 : 1, lastAt: now };
}

/** The backoff key planDrift reads (`runtime:<id>` / `gateway:<id>`). */
export const historyKey = (kind: 'runtime' | 'gateway', id: string): string => `${kind}:${id}`;
