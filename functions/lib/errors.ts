/**
 * Named errors. An error's `name` is a contract: the state machines' Retry/Catch `ErrorEquals`
 * match on it, and a test keeps the two in sync. Names end in `Error`; the original error, when
 * there is one, travels as `cause`. Messages never contain secret values.
 */
export class AutopilotError extends Error {
  /** Extra, non-secret, machine-readable facts (field names, ids). */
  readonly details: Record<string, unknown>;
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? {};
  }
}
