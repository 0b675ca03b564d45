/**
 * `correctDrift`: the scheduled drift job (EventBridge schedule, `{trigger: schedule}`) and its
 * on-demand twin (custom event `Drift Check Requested`; `detail.reportOnly: true` only reports).
 * Thin wrapper over runCorrectDrift (functions/app/drift.ts): reads every declared runtime and
 * gateway, plans, applies what the config allows, publishes the drift events with the redacted
 * diff and logs one summary line. Environment variable values never reach a log line or an event.
 * A fleet that does not fit in one invocation goes on in the drift-scan state machine, which
 * invokes this handler with `{trigger, scan: {cursor, reportOnly}}` until the pass is done.
 */
// The namespace import lets esbuild drop what is not used (`import { z }` keeps every locale: ~370 KiB).
import * as z from 'zod';
import { compactResult, correctDriftDepsFor, runCorrectDrift, type CompactDriftResult, type CorrectDriftDeps, type CorrectDriftResult } from '../app/drift.ts';
import { createLogger } from '../lib/logger.ts';
import { withMiddleware } from '../lib/middy.ts';

export type { CompactDriftResult, CorrectDriftDeps, CorrectDriftResult };

const count = () => z.number().int().min(0).max(10_000_000);

/** The cursor the drift-scan state machine carries from one run of a pass to the next. */
const cursorSchema = z.strictObject({
  pass: z.string().min(1).max(40),
  next: count(),
  total: count(),
  order: z.string().regex(/^[0-9a-f]{16}$/),
  after: z.string().max(300).optional(),
  attempted: count(),
  failed: count(),
  stopped: z.enum(['max-corrections', 'error-ratio']).optional(),
  runs: z.number().int().min(1).max(1000),
});

const eventSchema = z.object({
  trigger: z.string().max(64).optional(),
  source: z.string().optional(),
  'detail-type': z.string().optional(),
  detail: z.object({ reportOnly: z.boolean().optional() }).passthrough().optional(),
  // Only the drift-scan state machine sends this (a top-level field no EventBridge event can carry).
  scan: z.strictObject({ cursor: cursorSchema, reportOnly: z.boolean().optional() }).optional(),
}).passthrough();
type DriftEventInput = z.infer<typeof eventSchema>;

const logger = createLogger();

/** The handler over `deps` (default: AWS clients and settings from the environment, read per invocation). */
export function createHandler(deps?: CorrectDriftDeps) {
  const log = deps?.logger ?? logger;
  return withMiddleware<DriftEventInput, CorrectDriftResult | CompactDriftResult>(async (event, context) => {
    const result = await runCorrectDrift(deps ?? correctDriftDepsFor(context, log), event);
    // A pass's later runs answer the state machine, whose state must stay small: the summary and the cursor.
    return event.scan ? compactResult(result) : result;
  }, {
    logger: log,
    schema: eventSchema,
  });
}

export const handler = createHandler();
