/**
 * `correctDrift`: the scheduled drift job (EventBridge schedule, `{trigger: schedule}`) and its
 * on-demand twin (custom event `Drift Check Requested`; `detail.reportOnly: true` only reports).
 * Thin wrapper over runCorrectDrift (functions/app/drift.ts): reads every declared runtime and
 * gateway, plans, applies what the config allows, publishes the drift events with the redacted
 * diff and logs one summary line. Environment variable values never reach a log line or an event.
 */
import { z } from 'zod';
import { correctDriftDepsFor, runCorrectDrift, type CorrectDriftDeps, type CorrectDriftResult } from '../app/drift.ts';
import { createLogger } from '../lib/logger.ts';
import { withMiddleware } from '../lib/middy.ts';

export type { CorrectDriftDeps, CorrectDriftResult };

const eventSchema = z.object({
  trigger: z.string().max(64).optional(),
  source: z.string().optional(),
  'detail-type': z.string().optional(),
  detail: z.object({ reportOnly: z.boolean().optional() }).passthrough().optional(),
}).passthrough();
type DriftEventInput = z.infer<typeof eventSchema>;

const logger = createLogger();

/** The handler over `deps` (default: AWS clients and settings from the environment, read per invocation). */
export function createHandler(deps?: CorrectDriftDeps) {
  const log = deps?.logger ?? logger;
  return withMiddleware<DriftEventInput, CorrectDriftResult>((event, context) => runCorrectDrift(deps ?? correctDriftDepsFor(context, log), event), {
    logger: log,
    schema: eventSchema,
  });
}

export const handler = createHandler();
