/**
 * Client tokens for redeploys. The lossless builder's token covers the whole request, including
 * the containerUri text; with keepTag two events for the same digest may carry different tags in
 * that text. The redeploy token is therefore computed over the request with the URI reduced to
 * `<registry>/<repo>@<digest>`: same runtime + same live version + same digest = same token,
 * whichever tag arrived first (see plan.ts).
 */
import { runtimeClientToken } from '../client-token.ts';
import { ValidationRejectedError } from '../../lib/errors.ts';
import { deepCopy, isPlainObject } from '../json.ts';
import { digestOnlyUri } from './image-ref.ts';

/** The request with its containerUri reduced to the digest-only form (a copy; input untouched). */
export function tokenRequest<T extends object>(request: T): T {
  const copy = deepCopy(request) as Record<string, unknown>;
  const artifact = copy.agentRuntimeArtifact;
  const container = isPlainObject(artifact) ? artifact.containerConfiguration : undefined;
  if (isPlainObject(container) && typeof container.containerUri === 'string') {
    const pinned = digestOnlyUri(container.containerUri);
    if (pinned !== undefined) container.containerUri = pinned;
  }
  return copy as T;
}

/** Deterministic token of a redeploy: independent of the tag kept in the URI. */
export function redeployClientToken(runtimeId: string, liveVersion: string, request: object): string {
  return runtimeClientToken(runtimeId, liveVersion, tokenRequest(request));
}

/** The request (from buildRuntimeUpdate) with its clientToken replaced by the redeploy token. */
export function withRedeployClientToken<T extends { agentRuntimeId?: string; clientToken?: string }>(request: T, liveVersion: string): T {
  if (typeof request.agentRuntimeId !== 'string') throw new TypeError('withRedeployClientToken: request has no agentRuntimeId');
  return { ...request, clientToken: redeployClientToken(request.agentRuntimeId, liveVersion, request) };
}

/**
 * True when the service refused an update because another request with the same token but other
 * parameters was already accepted: the same digest is being deployed under another tag.
 */
export function isDuplicateRedeploy(err: unknown): boolean {
  return err instanceof ValidationRejectedError && err.reason === 'IdempotentParameterMismatchException';
}
