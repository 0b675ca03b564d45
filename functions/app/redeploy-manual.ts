/**
 * `autopilot redeploy`: an image deployed to one runtime by hand, with the checks of a push.
 */
import { containerUriOf } from '../domain/runtime-update.ts';
import { rejectedRefusal } from '../domain/redeploy/guards.ts';
import { DIGEST_PATTERN, parseImageUri, pinnedUri, sameImage } from '../domain/redeploy/image-ref.ts';
import { REJECTED_DIGESTS_TAG } from '../domain/redeploy/rejected.ts';
import type { Config, TrackRule } from '../lib/config/index.ts';
import { AutopilotError, ResourceNotFoundError } from '../lib/errors.ts';

import { applyRuntimeUpdate, specFor, type ChangeDecision, type RedeployContext, type RuntimeOutcome } from './redeploy.ts';
import { tagsForRejectedCheck } from './redeploy-tags.ts';
import { checkRequestedImage } from './redeploy-images.ts';
import { requestedImageRefusal, type HomeRegistry } from '../domain/redeploy/plan.ts';

/** Bad input to a manual redeploy (image URI, unknown tag...). */
export class InvalidRedeployRequestError extends AutopilotError {}

/** A fully pinned image: where it lives and its digest. */
export interface ResolvedImage {
  uri: string;
  account: string;
  region: string;
  repository: string;
  digest: string;
  tag?: string;
}

/** ECR could not be asked about the image (lookup failed): nothing was changed; trying again may work. */
export class ImageLookupFailedError extends AutopilotError {}

/**
 * Resolves and checks `--image` the way a push is checked, before anything is written: a private
 * ECR URI with a tag and/or digest, inside the runtime's tracking rule's registry scope (the home
 * account and region when it names none; the home is where the runtime lives), existing in its
 * own region's registry (a tag is resolved to the digest it points to now; with both, the tag must
 * point to the digest), and a deployable container image (an index with linux/arm64). Returns the
 * pinned URI (`repo@sha256:...`, or `repo:tag@sha256:...` with keepTag). Throws
 * InvalidRedeployRequestError (refused) or ImageLookupFailedError (ECR could not be asked).
 */
export async function resolveImage(ctx: RedeployContext, runtimeId: string, image: string): Promise<ResolvedImage> {
  const ref = parseImageUri(image);
  if (!ref) throw new InvalidRedeployRequestError('--image is not an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag][@sha256:<64 hex>])');
  if (ref.isPublic || ref.account === undefined || ref.region === undefined) {
    throw new InvalidRedeployRequestError('--image must be a private ECR image (public.ecr.aws is not supported)');
  }
  if (ref.tag === undefined && ref.digest === undefined) throw new InvalidRedeployRequestError('--image needs a tag or a digest');
  const rule = trackRuleOf(ctx.config, runtimeId);
  const scope = requestedImageRefusal(image, rule?.registry, await homeOfRuntime(ctx, runtimeId));
  if (scope !== undefined) throw new InvalidRedeployRequestError(scope);
  const checked = await checkRequestedImage(ctx, { account: ref.account, region: ref.region, repository: ref.repository, tag: ref.tag, digest: ref.digest });
  if (!checked.ok) {
    throw 'lookupFailed' in checked ? new ImageLookupFailedError(checked.reason) : new InvalidRedeployRequestError(checked.reason);
  }
  const digest = checked.digest;
  if (!DIGEST_PATTERN.test(digest)) throw new InvalidRedeployRequestError('the image digest is not sha256:<64 hex>');
  const uri = pinnedUri({ account: ref.account, region: ref.region, repository: ref.repository, digest, tag: ref.tag, keepTag: rule?.keepTag ?? false });
  return { uri, account: ref.account, region: ref.region, repository: ref.repository, digest, ...(ref.tag !== undefined && { tag: ref.tag }) };
}

/**
 * The home account and region (what an empty registry list allows): the context's, completed from
 * the runtime's own ARN (`arn:<partition>:bedrock-agentcore:<region>:<account>:runtime/<id>`).
 */
async function homeOfRuntime(ctx: RedeployContext, runtimeId: string): Promise<HomeRegistry> {
  if (ctx.home?.account !== undefined && ctx.home.region !== undefined) return ctx.home;
  let arn: string | undefined;
  try {
    arn = (await ctx.adapters.agentCore.getRuntime(runtimeId)).agentRuntimeArn;
  } catch (err) {
    if (err instanceof ResourceNotFoundError) throw new InvalidRedeployRequestError(`no AgentCore runtime ${runtimeId}`, { cause: err });
    throw err;
  }
  const [, , , region, account] = (arn ?? '').split(':');
  return { account: ctx.home?.account ?? (account || undefined), region: ctx.home?.region ?? (region || undefined) };
}

export interface ManualRedeployArgs {
  runtimeId: string;
  image: ResolvedImage;
  dryRun: boolean;
}

/** `autopilot redeploy`: the same update an image push would make, for one runtime, by hand. */
export async function redeployManually(ctx: RedeployContext, args: ManualRedeployArgs): Promise<RuntimeOutcome> {
  const spec = specFor(ctx.config, args.runtimeId);
  const { image } = args;
  return applyRuntimeUpdate(ctx, {
    runtimeId: args.runtimeId,
    subject: { runtimeId: args.runtimeId, trigger: 'manual', image: { repository: image.repository, digest: image.digest, ...(image.tag !== undefined && { tag: image.tag }) } },
    redeployToken: true,
    dryRun: args.dryRun,
    promote: spec?.track?.promote,
    // Like every accepted update, a manual one is followed to READY (or Failed) even without `promote`.
    follow: true,
    decide: async (live) => {
      if (sameImage(containerUriOf(live), image)) return { action: 'skip', reason: 'already-on-digest', message: `already runs ${image.digest}` };
      const decision: ChangeDecision = {
        action: 'update',
        change: { containerUri: image.uri },
        reason: 'manual',
        message: `deploy ${image.repository}${image.tag ? `:${image.tag}` : ''} (${image.digest})`,
      };
      // By hand, the rejected list does not stop the deploy, but the operator is told.
      if (rejectedRefusal(await tagsForRejectedCheck(ctx, args.runtimeId, live), image.digest) !== undefined) {
        decision.note = `${image.digest} is in the runtime's rejected digests (tag ${REJECTED_DIGESTS_TAG}: rolled back or failed before); deploying it anyway because this redeploy was run by hand`;
      }
      return decision;
    },
  });
}

/** The configured tracking rule of a runtime, if any (keepTag and promotion for manual redeploys). */
export function trackRuleOf(config: Config, runtimeId: string): TrackRule | undefined {
  return specFor(config, runtimeId)?.track;
}

/** How a followed version ended: the promotion execution's status and, once it succeeded, its outcome. */
export interface PromotionEnd {
  /** Step Functions status: SUCCEEDED, FAILED, TIMED_OUT, ABORTED (or RUNNING when the wait gave up). */
  status: string;
  /** PROMOTED, ROLLED_BACK or FAILED (the execution's output) when it succeeded. */
  outcome?: string;
  /** The error name of a rolled back or failed promotion, or of a failed execution. */
  error?: string;
}

/**
 * Polls DescribeExecution until the promotion execution stops (or `deadline` passes), calling
 * `onPoll` after each look. Only a SUCCEEDED execution whose output says PROMOTED is a success.
 */
export async function waitForPromotion(
  sfn: Pick<RedeployContext['adapters']['sfn'], 'describeExecution'>,
  executionArn: string,
  opts: { intervalMs: number; sleep: (ms: number) => Promise<void>; deadline?: () => boolean; onPoll?: (status: string) => void },
): Promise<PromotionEnd> {
  for (;;) {
    const d = await sfn.describeExecution(executionArn);
    const status = String(d.status ?? 'UNKNOWN');
    opts.onPoll?.(status);
    if (status !== 'RUNNING' && status !== 'PENDING_REDRIVE') {
      if (status !== 'SUCCEEDED') return { status, ...(d.error !== undefined && { error: d.error }) };
      let output: { outcome?: unknown; error?: unknown } = {};
      try {
        output = JSON.parse(d.output ?? '{}');
      } catch {
        // an unreadable output is no success
      }
      return { status, outcome: typeof output.outcome === 'string' ? output.outcome : 'UNKNOWN', ...(typeof output.error === 'string' && { error: output.error }) };
    }
    if (opts.deadline?.()) return { status };
    await opts.sleep(opts.intervalMs);
  }
}
