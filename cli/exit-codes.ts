/**
 * Exit codes, the same meaning in every command (each command's --help lists the ones it uses,
 * and README's CLI reference is checked against them).
 */
export const EXIT = {
  /** Success: done, in sync, the outcome is the one asked for. */
  OK: 0,
  /** Error: AWS, network, configuration, not found, a failed operation. */
  ERROR: 1,
  /** Usage error: unknown option, missing or invalid value (plan: 2 means drift, its usage errors are 1). */
  USAGE: 2,
  /** Refused or declined: another run in progress, nothing pending, the confirmation was declined. */
  REFUSED: 3,
  /** The outcome is not the one asked for: a rollout HALTED, ROLLED_BACK, ABORTED or FAILED; a promotion rolled back. */
  NOT_SUCCEEDED: 4,
  /** --timeout ran out while waiting; what was waited for goes on. */
  TIMEOUT: 5,
} as const;

/** One line of an `Exit codes:` section. */
export type ExitCodeDoc = readonly [code: number, meaning: string];

/** The `Exit codes:` section of a command's help. */
export function exitCodesHelp(codes: readonly ExitCodeDoc[]): string {
  return ['Exit codes:', ...codes.map(([code, meaning]) => `  ${code}  ${meaning}`)].join('\n');
}

/**
 * Rollout outcomes a pipeline counts as success. Every other outcome is not, including the ones
 * added later (a new outcome fails closed until it is listed here): HALTED_IN_LOG_ONLY,
 * ROLLED_BACK, ABORTED, WOULD_HALT, ROLLBACK_FAILED and the execution states FAILED, TIMED_OUT.
 */
export const SUCCESSFUL_ROLLOUT_OUTCOMES: ReadonlySet<string> = new Set(['ENFORCED', 'WOULD_PROMOTE']);

/** Exit code of a rollout's outcome: null (still running) and success are 0, anything else 4. */
export function rolloutOutcomeExit(outcome: string | null): number {
  return outcome === null || SUCCESSFUL_ROLLOUT_OUTCOMES.has(outcome) ? EXIT.OK : EXIT.NOT_SUCCEEDED;
}
