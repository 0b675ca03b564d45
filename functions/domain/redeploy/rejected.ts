/**
 * Rejected digests: images a promotion rolled back or whose runtime version ended UPDATE_FAILED.
 * They are remembered on the runtime itself, in one tag, so that neither a redelivered push event
 * nor the drift safety net brings them back by themselves. An operator retries such an image by
 * clearing the tag (or by running `autopilot redeploy`, which ignores the list and says so).
 *
 * Tag value: space-separated 64-hex digests WITHOUT the `sha256:` prefix, newest first,
 * deduplicated, at most MAX_REJECTED so it fits AgentCore's 256-character tag value limit
 * (3 x 64 + 2 = 194) and its tag value pattern `[a-zA-Z0-9\s._:/=+@-]*`.
 * Pure: no I/O; inputs never mutated.
 */

export const REJECTED_DIGESTS_TAG = 'autopilot:rejected-digests';

/** How many rejected digests the tag keeps (newest first). */
export const MAX_REJECTED = 3;

const HEX64 = /^[0-9a-f]{64}$/;

/** `sha256:<hex>` or bare `<hex>` (any case) -> the lowercase 64-hex, else undefined. */
function hexOf(value: string): string | undefined {
  const text = value.trim().toLowerCase();
  const hex = text.startsWith('sha256:') ? text.slice('sha256:'.length) : text;
  return HEX64.test(hex) ? hex : undefined;
}

/**
 * The rejected digests recorded in a runtime's tags, as `sha256:<hex>`, newest first.
 * Tolerant: a missing tag, a non-string value or malformed entries yield fewer (or no) digests.
 */
export function decodeRejected(tags: Record<string, string> | undefined): string[] {
  const value: unknown = tags?.[REJECTED_DIGESTS_TAG];
  if (typeof value !== 'string') return [];
  const out: string[] = [];
  for (const entry of value.split(/[\s,]+/)) {
    if (entry === '') continue;
    const hex = hexOf(entry);
    if (hex === undefined) continue;
    const digest = `sha256:${hex}`;
    if (!out.includes(digest)) out.push(digest);
  }
  return out;
}

/**
 * The tag value after rejecting `digest`: it first, then the previous ones (deduplicated, malformed
 * ones dropped), at most MAX_REJECTED. Throws TypeError when `digest` itself is not a sha256 digest.
 */
export function encodeRejected(previous: string[], digest: string): string {
  const newest = hexOf(digest);
  if (newest === undefined) throw new TypeError(`encodeRejected: not a sha256 digest: ${JSON.stringify(digest)}`);
  const hexes = [newest];
  for (const entry of previous) {
    if (typeof entry !== 'string') continue;
    const hex = hexOf(entry);
    if (hex !== undefined && !hexes.includes(hex)) hexes.push(hex);
  }
  return hexes.slice(0, MAX_REJECTED).join(' ');
}

/** True when `digest` (`sha256:<hex>`) is in the runtime's rejected list. */
export function isRejected(tags: Record<string, string> | undefined, digest: string | undefined): boolean {
  if (digest === undefined) return false;
  const hex = hexOf(digest);
  return hex !== undefined && decodeRejected(tags).includes(`sha256:${hex}`);
}
