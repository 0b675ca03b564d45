/**
 * onImagePush: `ECR Image Action` (PUSH, SUCCESS) or `ECR Replication Action` (REPLICATE, SUCCESS)
 * -> every runtime whose tracking rule follows the pushed tag is updated to the image pinned by
 * digest (functions/app/redeploy-push.ts). Untagged pushes and artifacts that are no container
 * image are skipped quietly; an index without linux/arm64 is refused per runtime. Stale pushes are
 * skipped (`stale-tag`: the tag no longer points to the digest in ECR; `older-than-live`: under an
 * exact/glob/regex rule the live image was pushed later), and so are digests in the runtime's
 * rejected list (`digest-rejected`: tag autopilot:rejected-digests, written when a promotion rolled
 * the digest back or its version ended UPDATE_FAILED; an operator clears the tag to retry). Refused events
 * are logged with their reason and return normally (no retry); a runtime that stayed busy or
 * throttled beyond the time budget fails the invocation, so the rule's retry policy and DLQ apply.
 */
import type { Context } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { RedeployContext, RedeployResult } from '../app/redeploy.ts';
import { redeployImagePush } from '../app/redeploy-push.ts';
import { redeployContextFor } from '../app/redeploy-lambda.ts';
import { createLogger } from '../lib/logger.ts';
import { withMiddleware } from '../lib/middy.ts';

export interface OnImagePushDeps {
  logger: Logger;
  /** The orchestration context of one invocation. */
  context: (lambda: Context, logger: Logger) => Promise<RedeployContext>;
}

export function createHandler(deps: OnImagePushDeps) {
  return withMiddleware<unknown, RedeployResult>(async (event, context) => redeployImagePush(await deps.context(context, deps.logger), event), {
    logger: deps.logger,
  });
}

const logger = createLogger();
export const handler = createHandler({ logger, context: (lambda, log) => redeployContextFor(lambda, log) });
