/**
 * onChangeRequest: `Runtime Change Requested` (source agentcore-autopilot) -> the schema-validated
 * partial change (image, environment set/unset, other update fields) is applied losslessly to one
 * runtime (functions/app/redeploy.ts). Environment values may be secret references
 * (`{{resolve:secretsmanager:...}}`, `{{resolve:ssm-secure:...}}`), read only to write them. Refused events are logged with their reason and make no API
 * call; a runtime busy beyond the time budget fails the invocation (rule retry policy, then DLQ).
 */
import type { Context } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { RedeployContext, RedeployResult } from '../app/redeploy.ts';
import { applyChangeRequest } from '../app/redeploy-change.ts';
import { redeployContextFor } from '../app/redeploy-lambda.ts';
import { secretReaderFor } from '../app/secrets.ts';
import { createLogger } from '../lib/logger.ts';
import { withMiddleware } from '../lib/middy.ts';

export interface OnChangeRequestDeps {
  logger: Logger;
  context: (lambda: Context, logger: Logger) => Promise<RedeployContext>;
}

export function createHandler(deps: OnChangeRequestDeps) {
  return withMiddleware<unknown, RedeployResult>(async (event, context) => applyChangeRequest(await deps.context(context, deps.logger), event), {
    logger: deps.logger,
  });
}

const logger = createLogger();
// Change requests may carry secret references: this handler (only) reads them, at apply time.
export const handler = createHandler({ logger, context: async (lambda, log) => ({ ...await redeployContextFor(lambda, log), readSecret: secretReaderFor() }) });
