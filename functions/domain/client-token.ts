/**
 * Deterministic idempotency token for UpdateAgentRuntime. A retried apply (Lambda retry, Step
 * Functions Retry, operator re-run) of the same change against the same live version sends the
 * same token, so the service deduplicates it instead of minting a second version; any other
 * request, runtime or base version gets a different token.
 *
 * The API pattern is `[a-zA-Z0-9](-*[a-zA-Z0-9]){0,256}`, 33-256 characters. Runtime ids may
 * contain `_` and versions are free text to us, so nothing is embedded verbatim: the token is a
 * fixed prefix plus the SHA-256 (hex) of the canonical JSON of [runtimeId, liveVersion, request
 * without clientToken]. The JSON array framing keeps the three parts from running into each other.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, isPlainObject } from './json.ts';

/** Prefix of every token we mint: shows in CloudTrail that autopilot sent the update. */
export const CLIENT_TOKEN_PREFIX = 'autopilot';

/** The model's ClientToken constraints, duplicated here so callers can check a token cheaply. */
export const CLIENT_TOKEN_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,256}$/;
export const CLIENT_TOKEN_MIN_LENGTH = 33;
export const CLIENT_TOKEN_MAX_LENGTH = 256;

/** Canonical (key-sorted) JSON of an update request, without its clientToken. */
export function canonicalRequestJson(request: unknown): string {
  let body: unknown = request;
  if (isPlainObject(request) && Object.prototype.hasOwnProperty.call(request, 'clientToken')) {
    const { clientToken: _ignored, ...rest } = request;
    body = rest;
  }
  return canonicalJson(body) ?? 'null';
}

/** `autopilot-<sha256 hex>` (74 chars) from the runtime id, its live version and the request minus its token. */
export function runtimeClientToken(runtimeId: string, liveVersion: string, request: object): string {
  const material = `[${JSON.stringify(String(runtimeId))},${JSON.stringify(String(liveVersion))},${canonicalRequestJson(request)}]`;
  const digest = createHash('sha256').update(material, 'utf8').digest('hex');
  return `${CLIENT_TOKEN_PREFIX}-${digest}`;
}
