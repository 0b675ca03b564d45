/**
 * Step Functions quotas the three state machines (runtime promotion, policy rollout, policy
 * promotion) must stay well inside, and the worst-case history and run of each for given
 * settings. Sources: Step Functions developer guide, "Step Functions service quotas"
 * (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html: execution history
 * 25,000 events, hard; input or output of a task, state or execution 262,144 bytes of UTF-8; a
 * standard execution runs at most one year) and "Error handling" (States.DataLimitExceeded is
 * terminal).
 *
 * The event counts per loop iteration are read off the ASL (each Task state: entered, scheduled,
 * started, succeeded, exited; each Pass, Choice or Wait: entered, exited) with room to spare;
 * test/statemachines/limits-at-maximum.test.ts runs each state machine at the configuration
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

// --- policy-promotion ----------------------------------------------------------------------

/** Seconds between two policy readiness polls (plan.pollSeconds, functions/domain/promotion/preflight.ts). */
export const POLICY_PROMOTION_POLL_SECONDS = 5;
/** Events of one readiness poll: Check task (5), readiness Choice (2), Wait (2), plus one spare. */
const POLICY_PROMOTION_EVENTS_PER_POLL = 10;
/** Events of one bake: Wait (2), Verify task (5), route Choice (2), plus one spare. */
const POLICY_PROMOTION_EVENTS_PER_BAKE = 10;
/**
 * Fixed events: start and end, preflight, path Choice, the stage/promote/restore writes, five
 * publish tasks, the approval (a Parallel around a task-token task: 10), the Pass states and the
 * report: about 75 on the longest path; the rest is room.
 */
const POLICY_PROMOTION_FIXED_EVENTS = 200;
/** Task states of the longest path outside its loops: preflight, stage, promote, restore, five publishes. */
const POLICY_PROMOTION_FIXED_TASKS = 9;
/**
 * The longest one task state of the policy promotion can run, seconds, with every retry: at most
 * 13 attempts (1 + MaxAttempts of its retriers) of at most 120 s (TimeoutSeconds) and about 5.5
 * minutes of retry intervals. test/statemachines/limits-at-maximum.test.ts derives it from the ASL.
 */
export const POLICY_PROMOTION_TASK_MAX_SECONDS = 32 * 60;

/** plan.maxPolls of a policy promotion: the polls of one readiness loop. */
export function policyPromotionMaxPolls(readyTimeoutMinutes: number): number {
  return Math.ceil((readyTimeoutMinutes * 60) / POLICY_PROMOTION_POLL_SECONDS) + 1;
}

/**
 * Upper bound of one policy-promotion execution's history (statemachines/policy-promotion.asl.yaml):
 * three readiness loops (the LOG_ONLY stage, ACTIVE, the restore), each ending at its last poll
 * (plan.maxPolls), and two bakes (LOG_ONLY, ACTIVE) each extended maxBakeExtensions times.
 */
export function policyPromotionHistoryBound(readyTimeoutMinutes: number, maxBakeExtensions: number): number {
  const polls = policyPromotionMaxPolls(readyTimeoutMinutes);
  return POLICY_PROMOTION_FIXED_EVENTS + 3 * polls * POLICY_PROMOTION_EVENTS_PER_POLL + 2 * (maxBakeExtensions + 1) * POLICY_PROMOTION_EVENTS_PER_BAKE;
}

/**
 * The longest a policy promotion can run, minutes: both bakes with every extension, the approval,
 * three readiness loops polled to the end, and every task state at its longest with every retry
 * (the one-year limit leaves no spare half to absorb retries, as the history budget does).
 */
export function policyPromotionDurationBound(s: {
  bakeMinutes: number; activeBakeMinutes: number; maxBakeExtensions: number; readyTimeoutMinutes: number;
  approval: { required: boolean; timeoutMinutes: number };
}): number {
  const polls = 3 * policyPromotionMaxPolls(s.readyTimeoutMinutes);
  const tasks = POLICY_PROMOTION_FIXED_TASKS + 2 * (s.maxBakeExtensions + 1) + polls;
  return (s.bakeMinutes + s.activeBakeMinutes) * (s.maxBakeExtensions + 1)
    + (s.approval.required ? s.approval.timeoutMinutes : 0)
    + Math.ceil((polls * POLICY_PROMOTION_POLL_SECONDS + tasks * POLICY_PROMOTION_TASK_MAX_SECONDS) / 60);
}
