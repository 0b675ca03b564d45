/**
 * `correctDrift`: the scheduled drift job (EventBridge schedule, `{trigger: schedule}`) and its
 * on-demand twin (custom event `Drift Check Requested`; `detail.reportOnly: true` only reports).
 * Thin wrapper over runCorrectDrift (functions/app/drift.ts): reads every declared runtime and
 * gateway, plans, applies what the config allows, publishes the drift events with the redacted
 * diff and logs one summary line. Environment variable values never reach a log line or an event.
 * A fleet that does not fit in one invocation goes on in the drift-scan state machine, which
 * invokes this handler with `{trigger, scan: {cursor, reportOnly}}` until the pass is done.
 */
// zod/mini with zod's English messages (functions/lib/zod-mini.ts): classic zod's API would add
// about 100 KiB to the bundle. The namespace import lets esbuild drop what is not used.
import * as z from '../lib/zod-mini.ts';
import { compactResult, correctDriftDepsFor, runCorrectDrift, type CompactDriftResult, type CorrectDriftDeps, type CorrectDriftResult } from '../app/drift.ts';
import { createLogger } from '../lib/logger.ts';
import { withMiddleware } from '../lib/middy.ts';

export type { CompactDriftResult, CorrectDriftDeps, CorrectDriftResult };

const count = () => z.number().check(z.int(), z.minimum(0), z.maximum(10_000_000));

/** The cursor the drift-scan state machine carries from one run of a pass to the next. */
const cursorSchema = z.strictObject({
  pass: z.string().check(z.minLength(1), z.maxLength(40)),
  next: count(),
  total: count(),
  order: z.string().check(z.regex(/^[0-9a-f]{16}$/)),
  after: z.optional(z.string().check(z.maxLength(300))),
  attempted: count(),
  failed: count(),
  stopped: z.optional(z.enum(['max-corrections', 'error-ratio'])),
  runs: z.number().check(z.int(), z.minimum(1), z.maximum(1000)),
});

const eventSchema = z.looseObject({
  trigger: z.optional(z.string().check(z.maxLength(64))),
  source: z.optional(z.string()),
  'detail-type': z.optional(z.string()),
  detail: z.optional(z.looseObject({ reportOnly: z.optional(z.boolean()) })),
  // Only the drift-scan state machine sends this (a top-level field no EventBridge event can carry).
  scan: z.optional(z.strictObject({ cursor: cursorSchema, reportOnly: z.optional(z.boolean()) })),
});
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
