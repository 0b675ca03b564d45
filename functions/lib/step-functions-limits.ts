/**
 * Step Functions quotas the two state machines must stay well inside, and the worst-case history
 * of each for given settings. Sources: Step Functions developer guide, "Step Functions service
 * quotas" (execution history: 25,000 events, hard; state input/output: 256 KiB; a standard
 * execution runs at most one year) and "Error handling" (States.DataLimitExceeded is terminal).
 *
 * The event counts per loop iteration are read off the ASL (each Task state: entered, scheduled,
 * started, succeeded, exited; each Pass, Choice or Wait: entered, exited) with room to spare;
 * test/statemachines/limits-at-maximum.test.ts runs both state machines at the configuration
 * maximum on the Step Functions stand-in (which enforces the quotas) and checks that the real
 * history stays under these bounds, and the bounds under HISTORY_BUDGET.
 */

/** Execution history quota of a standard workflow (hard). */
export const HISTORY_EVENTS_QUOTA = 25_000;
/** What the configuration may use of it: half, so retries and slow polls keep plenty of room. */
export const HISTORY_BUDGET = HISTORY_EVENTS_QUOTA / 2;
/** State input/output quota, bytes. */
export const PAYLOAD_QUOTA_BYTES = 256 * 1024;
/** Longest run of a standard execution, minutes (one year). */
export const MAX_EXECUTION_MINUTES = 365 * 24 * 60;

// --- runtime-promotion ---------------------------------------------------------------------

/** Events of one poll of a wait loop: Check task (5), readiness Choice (2), Wait (2), counter Pass (2), plus one spare. */
const PROMOTION_EVENTS_PER_POLL = 12;
/** Polls a loop makes before its first `pollSeconds` wait (quick first polls: a few seconds each). */
const PROMOTION_EXTRA_POLLS = 5;
/** Fixed events: start, READY choice, alarms, recording endpoint versions, rollback, report, end. */
const PROMOTION_FIXED_EVENTS = 80;
/** Per endpoint and loop besides the polls: Map iteration, move/restore task, bookkeeping passes. */
const PROMOTION_EVENTS_PER_ENDPOINT = 40;
/** Shortest interval between two promotion polls once past the quick first ones. */
export const PROMOTION_STEADY_POLL_SECONDS = 15;

/**
 * Upper bound of one runtime-promotion execution's history: one wait loop for the new version,
 * then per endpoint one loop to move it and, when a later one fails, one loop to restore it; each
 * loop polls for at most `timeoutMinutes`.
 */
export function promotionHistoryBound(endpointCount: number, timeoutMinutes: number): number {
  const pollsPerLoop = Math.ceil((timeoutMinutes * 60) / PROMOTION_STEADY_POLL_SECONDS) + PROMOTION_EXTRA_POLLS;
  const loops = 1 + 2 * endpointCount;
  return PROMOTION_FIXED_EVENTS + loops * pollsPerLoop * PROMOTION_EVENTS_PER_POLL + endpointCount * 2 * PROMOTION_EVENTS_PER_ENDPOINT;
}

/** The longest `promote.timeoutMinutes` that keeps the promotion of `endpointCount` endpoints within HISTORY_BUDGET. */
export function maxPromotionTimeoutMinutes(endpointCount: number): number {
  let minutes = 0;
  while (promotionHistoryBound(endpointCount, minutes + 1) <= HISTORY_BUDGET) minutes++;
  return minutes;
}

// --- policy-rollout ------------------------------------------------------------------------

/** Seconds between two gateway readiness polls of the rollout (functions/domain/rollout/settings.ts). */
const ROLLOUT_READY_POLL_SECONDS = 15;
/** Events of one readiness poll: Check task (5), Choice (2), Wait (2), plus one spare. */
const ROLLOUT_EVENTS_PER_POLL = 10;
/** Events of one bake: Wait (2), Verify task (5), Choice (2), plus one spare. */
const ROLLOUT_EVENTS_PER_BAKE = 10;
/** Fixed events: preflight, the mode switches, publish tasks, approval, report. */
const ROLLOUT_FIXED_EVENTS = 200;

/**
 * Upper bound of one policy-rollout execution's history: three readiness waits (LOG_ONLY, ENFORCE
 * and the restore), each at most ceil(readyTimeout / 15 s) + 1 polls, and two bakes each extended
 * at most maxBakeExtensions times.
 */
export function rolloutHistoryBound(readyTimeoutMinutes: number, maxBakeExtensions: number): number {
  const polls = Math.ceil((readyTimeoutMinutes * 60) / ROLLOUT_READY_POLL_SECONDS) + 1;
  return ROLLOUT_FIXED_EVENTS + 3 * polls * ROLLOUT_EVENTS_PER_POLL + 2 * (maxBakeExtensions + 1) * ROLLOUT_EVENTS_PER_BAKE;
}

/** The longest a rollout can run, minutes: both bakes with every extension, the approval, three readiness waits. */
export function rolloutDurationBound(s: {
  bakeMinutes: number; enforceBakeMinutes: number; maxBakeExtensions: number; readyTimeoutMinutes: number;
  approval: { required: boolean; timeoutMinutes: number };
}): number {
  return (s.bakeMinutes + s.enforceBakeMinutes) * (s.maxBakeExtensions + 1)
    + (s.approval.required ? s.approval.timeoutMinutes : 0) + 3 * s.readyTimeoutMinutes;
}
