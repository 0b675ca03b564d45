/**
 * `autopilot redeploy`: an image deployed to one runtime by hand, with the checks of a push.
 */
import { containerUriOf } from '../domain/runtime-update.ts';
import { rejectedRefusal } from '../domain/redeploy/guards.ts';
import { DIGEST_PATTERN, parseImageUri, pinnedUri, sameImage } from '../domain/redeploy/image-ref.ts';
import { REJECTED_DIGESTS_TAG } from '../domain/redeploy/rejected.ts';
import type { Config, TrackRule } from '../lib/config/index.ts';
import { AutopilotError, ResourceNotFoundError } from '../lib/errors.ts';

import { applyRuntimeUpdate, rejected, specFor, type ChangeDecision, type RedeployContext, type RuntimeOutcome } from './redeploy.ts';
import { tagsForRejectedCheck } from './redeploy-tags.ts';

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

/**
 * Resolves `--image`: a private ECR URI with a tag and/or digest. A tag-only URI is resolved to the
 * digest the tag points to now (DescribeImages). Returns the pinned URI (`repo@sha256:...`, or
 * `repo:tag@sha256:...` with keepTag).
 */
export async function resolveImage(ctx: RedeployContext, image: string, keepTag: boolean): Promise<ResolvedImage> {
  const ref = parseImageUri(image);
  if (!ref) throw new InvalidRedeployRequestError('--image is not an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag][@sha256:<64 hex>])');
  if (ref.isPublic || ref.account === undefined || ref.region === undefined) {
    throw new InvalidRedeployRequestError('--image must be a private ECR image (public.ecr.aws is not supported)');
  }
  let digest = ref.digest;
  if (digest === undefined) {
    if (ref.tag === undefined) throw new InvalidRedeployRequestError('--image needs a tag or a digest');
    try {
      digest = await ctx.adapters.ecr.getImageDigest(ref.repository, ref.tag, { registryId: ref.account });
    } catch (err) {
      if (err instanceof ResourceNotFoundError) {
        throw new InvalidRedeployRequestError(`no image tagged ${ref.tag} in ECR repository ${ref.repository}`, { cause: err });
      }
      throw err;
    }
  }
  if (!DIGEST_PATTERN.test(digest)) throw new InvalidRedeployRequestError('the image digest is not sha256:<64 hex>');
  const uri = pinnedUri({ account: ref.account, region: ref.region, repository: ref.repository, digest, tag: ref.tag, keepTag });
  return { uri, account: ref.account, region: ref.region, repository: ref.repository, digest, ...(ref.tag !== undefined && { tag: ref.tag }) };
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
