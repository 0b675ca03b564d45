/**
 * The runtime tags a redeploy reads and writes: the rejected digests (tag autopilot:rejected-digests).
 */
import { ListTagsForResourceCommand, TagResourceCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import type { AgentCoreAdapter } from '../adapters/index.ts';
import { callAws } from '../adapters/aws-errors.ts';
import type { LiveRuntime } from '../domain/runtime-update.ts';
import { decodeRejected, encodeRejected, REJECTED_DIGESTS_TAG } from '../domain/redeploy/rejected.ts';
import { describeError } from '../domain/redeploy/outcome-events.ts';

import { isRetryableAwsError, rejected, type RedeployContext } from './redeploy.ts';

const AGENTCORE_SERVICE = 'bedrock-agentcore-control';

/** ListTagsForResource of a runtime (by its ARN). */
export async function runtimeTags(agentCore: AgentCoreAdapter, arn: string): Promise<Record<string, string>> {
  const out = await callAws({ service: AGENTCORE_SERVICE, operation: 'ListTagsForResource', resource: arn }, () =>
    agentCore.client.send(new ListTagsForResourceCommand({ resourceArn: arn })),
  );
  return out.tags ?? {};
}

/**
 * Adds `digest` to the runtime's rejected list (tag REJECTED_DIGESTS_TAG): read-merge-write, newest
 * first, at most three. Returns the list as written.
 */
export async function recordRejectedDigest(agentCore: AgentCoreAdapter, arn: string, digest: string): Promise<string[]> {
  const value = encodeRejected(decodeRejected(await runtimeTags(agentCore, arn)), digest);
  await callAws({ service: AGENTCORE_SERVICE, operation: 'TagResource', resource: arn }, () =>
    agentCore.client.send(new TagResourceCommand({ resourceArn: arn, tags: { [REJECTED_DIGESTS_TAG]: value } })),
  );
  return decodeRejected({ [REJECTED_DIGESTS_TAG]: value });
}

/**
 * The runtime's tags for the rejected-digest check. A busy/throttled/unavailable answer is thrown
 * (the update attempt is retried); any other failure (e.g. access denied) is logged and the check
 * is skipped: the promotion still guards a bad image.
 */
export async function tagsForRejectedCheck(ctx: RedeployContext, runtimeId: string, live: LiveRuntime): Promise<Record<string, string> | undefined> {
  const arn = (live as { agentRuntimeArn?: string }).agentRuntimeArn;
  if (typeof arn !== 'string' || arn === '') {
    ctx.log.warn('Rejected digests not checked: the runtime has no ARN', { runtimeId });
    return undefined;
  }
  try {
    return await runtimeTags(ctx.adapters.agentCore, arn);
  } catch (err) {
    if (isRetryableAwsError(err)) throw err;
    ctx.log.error('Rejected digests not checked: ListTagsForResource failed', { runtimeId, error: describeError(err) });
    return undefined;
  }
}

