/**
 * The two events that start a redeploy, parsed at the edge. Anything that is not exactly one of
 * them is refused with a specific reason and must cause no API call.
 *
 * - `ECR Image Action` (source `aws.ecr`, agentcore-api.md §11): only a successful PUSH with a
 *   sha256 digest is a push. `image-tag` is absent on untagged pushes (every per-platform manifest
 *   of a multi-platform push is one); `manifest-media-type` / `artifact-media-type` are kept when
 *   present (they tell images from signatures, SBOMs, charts: artifact.ts); other extra detail
 *   members (whatever AWS adds later) are ignored.
 * - `ECR Replication Action` (source `aws.ecr`, ECR user guide "Amazon ECR events and
 *   EventBridge"): a successful REPLICATE into this region counts as a push of the replica, with
 *   `source-account` / `source-region` naming the registry it was pushed to.
 * - `Runtime Change Requested` (source `agentcore-autopilot.requests`): our own contract, so it is strict:
 *   unknown keys, oversized strings and non-objects are refused.
 *
 * Reasons name fields and constraints, never values of environment variables (nor any other
 * value from the change: only enum-like values such as action-type and result are echoed, and
 * only when they look like one).
 */
// zod/mini with zod's English messages (functions/lib/zod-mini.ts): classic zod's API would add
// about 100 KiB to the bundles. The namespace import lets esbuild drop what is not used.
import * as z from '../../lib/zod-mini.ts';
import { REQUEST_SOURCE } from '../requests/source.ts';
import { validateShape } from '../../lib/model/validate.ts';
import { RUNTIME_OPTIONAL_FIELDS, RUNTIME_UPDATE_FIELDS, type RuntimeChange } from '../runtime-update.ts';
import { memberShape } from '../update-common.ts';
import { describeIssues } from '../update-errors.ts';
import { ACCOUNT_PATTERN, DIGEST_PATTERN, REGION_PATTERN, REPOSITORY_PATTERN, TAG_PATTERN, parseImageUri } from './image-ref.ts';

export type ParseResult<T> = { ok: true } & T | { ok: false; reason: string };

export const ECR_SOURCE = 'aws.ecr';
export const ECR_DETAIL_TYPE = 'ECR Image Action';
export const ECR_REPLICATION_DETAIL_TYPE = 'ECR Replication Action';
/** Change requests arrive with the request source (functions/domain/requests/source.ts). */
export const AUTOPILOT_SOURCE = REQUEST_SOURCE;
export const CHANGE_REQUEST_DETAIL_TYPE = 'Runtime Change Requested';

/** EventBridge's own limit for one entry; a larger detail cannot be a real event. */
export const MAX_EVENT_BYTES = 256 * 1024;

/** A successful image push. */
export interface ImagePush {
  /** Registry account (the event's account: ECR events are emitted where the repository lives). */
  account: string;
  region: string;
  repository: string;
  /** `sha256:<64 hex>`. */
  digest: string;
  /** Absent on a digest-only push. */
  tag?: string;
  /** Event time (ISO-8601). */
  time: string;
  /** EventBridge event id; the same delivery retried carries the same id. */
  eventId: string;
  /** The event's `manifest-media-type`, when ECR sent one. */
  manifestMediaType?: string;
  /** The event's `artifact-media-type`, when ECR sent one. */
  artifactMediaType?: string;
  /** A replication into this registry (`ECR Replication Action`): the registry the image was pushed to. */
  replicatedFrom?: { account: string; region: string };
}

const ENUM_LIKE = /^[A-Za-z_]{1,32}$/;
const echo = (v: unknown) => (typeof v === 'string' && ENUM_LIKE.test(v) ? v : '<invalid>');

const str = (name: string, max: number) =>
  z.string({ error: (iss) => (iss.input === undefined ? `missing ${name}` : `${name} is not a string`) }).check(z.maxLength(max, {
    error: `${name} is longer than ${max} characters`,
  }));

const envelopeFields = {
  id: str('id', 128).check(z.minLength(1, { error: 'missing id' })),
  time: z.pipe(str('time', 64), z.iso.datetime({ offset: true, error: 'time is not an ISO-8601 timestamp' })),
};

/** RFC 6838 type/subtype (with the +suffix and dotted trees registries use). */
const MEDIA_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
const mediaType = (name: string) => z.optional(str(name, 255).check(z.regex(MEDIA_TYPE_PATTERN, { error: `${name} is not a media type` })));

const EcrPushSchema = z.object({
  ...envelopeFields,
  account: str('account', 12).check(z.regex(ACCOUNT_PATTERN, { error: 'account is not 12 digits' })),
  region: str('region', 32).check(z.regex(REGION_PATTERN, { error: 'region is not an AWS region name' })),
  detail: z.object({
    'repository-name': str('repository-name', 256).check(z.regex(REPOSITORY_PATTERN, { error: 'repository-name is not a valid ECR repository name' })),
    'image-digest': str('image-digest', 71).check(z.regex(DIGEST_PATTERN, { error: 'digest is not sha256:<64 hex>' })),
    'image-tag': z.optional(str('image-tag', 128).check(z.regex(TAG_PATTERN, { error: 'image-tag is not a valid image tag' }))),
    'manifest-media-type': mediaType('manifest-media-type'),
    'artifact-media-type': mediaType('artifact-media-type'),
    'source-account': z.optional(str('source-account', 12).check(z.regex(ACCOUNT_PATTERN, { error: 'source-account is not 12 digits' }))),
    'source-region': z.optional(str('source-region', 32).check(z.regex(REGION_PATTERN, { error: 'source-region is not an AWS region name' }))),
  }),
});

/** Parses an `ECR Image Action` push or an `ECR Replication Action` into a push, or says why it is not one. */
export function parseEcrImageAction(event: unknown): ParseResult<{ push: ImagePush }> {
  const size = sizeReason(event);
  if (size) return { ok: false, reason: size };
  if (!isObject(event)) return { ok: false, reason: 'event is not an object' };
  if (event.source !== ECR_SOURCE) return { ok: false, reason: `source is not ${ECR_SOURCE}` };
  const replication = event['detail-type'] === ECR_REPLICATION_DETAIL_TYPE;
  if (event['detail-type'] !== ECR_DETAIL_TYPE && !replication) return { ok: false, reason: `detail-type is not ${ECR_DETAIL_TYPE} or ${ECR_REPLICATION_DETAIL_TYPE}` };
  const detail = event.detail;
  if (detail === undefined) return { ok: false, reason: 'missing detail' };
  if (!isObject(detail)) return { ok: false, reason: 'detail is not an object' };
  // Checked before the other members: a DELETE or a failed push is refused for what it is.
  if (detail['action-type'] === undefined) return { ok: false, reason: 'missing action-type' };
  const action = replication ? 'REPLICATE' : 'PUSH';
  if (detail['action-type'] !== action) return { ok: false, reason: `action-type ${echo(detail['action-type'])} is not a ${replication ? 'replication' : 'push'}` };
  if (detail.result === undefined) return { ok: false, reason: 'missing result' };
  if (detail.result !== 'SUCCESS') return { ok: false, reason: `result ${echo(detail.result)}` };
  if (replication && (detail['source-account'] === undefined || detail['source-region'] === undefined)) {
    return { ok: false, reason: 'a replication without source-account and source-region' };
  }

  const parsed = EcrPushSchema.safeParse(event);
  if (!parsed.success) return { ok: false, reason: firstReason(parsed.error) };
  const { id, time, account, region, detail: d } = parsed.data;
  const push: ImagePush = { account, region, repository: d['repository-name'], digest: d['image-digest'], time, eventId: id };
  if (d['image-tag'] !== undefined) push.tag = d['image-tag'];
  if (d['manifest-media-type'] !== undefined) push.manifestMediaType = d['manifest-media-type'];
  if (d['artifact-media-type'] !== undefined) push.artifactMediaType = d['artifact-media-type'];
  if (replication) push.replicatedFrom = { account: d['source-account']!, region: d['source-region']! };
  return { ok: true, push };
}

// ---- Runtime Change Requested --------------------------------------------------------------

/** Which runtime a change request is for. */
export type RuntimeSelector = { id: string } | { name: string };

/** A validated change request. `change` is ready for buildRuntimeUpdate. */
export interface ChangeRequest {
  runtime: RuntimeSelector;
  change: RuntimeChange;
  /** Caller's correlation id, echoed in outcome events. */
  requestId?: string;
  /** Plan only: compute and report the update, send nothing. */
  dryRun: boolean;
  eventId: string;
  time: string;
}

export const MAX_ENV_ENTRIES = 50;
/** Environment variable names: the model allows 1-100 characters; control characters and `=` are refused. */
const ENV_KEY_PATTERN = /^[^\u0000-\u001f\u007f=]{1,100}$/;
const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

const SETTABLE: readonly string[] = RUNTIME_UPDATE_FIELDS;
const UNSETTABLE: readonly string[] = RUNTIME_OPTIONAL_FIELDS;

const RuntimeIdSchema = z.strictObject({
  id: str('runtime.id', 128).check(z.regex(/^[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10}$/, { error: 'runtime.id is not an AgentCore runtime id' })),
});
const RuntimeNameSchema = z.strictObject({
  name: str('runtime.name', 48).check(z.regex(/^[a-zA-Z][a-zA-Z0-9_]{0,47}$/, { error: 'runtime.name is not an AgentCore runtime name' })),
});

function parseRuntimeSelector(value: unknown): ParseResult<{ runtime: RuntimeSelector }> {
  if (!isObject(value)) return { ok: false, reason: 'runtime must be {id} or {name}' };
  const keys = Object.keys(value);
  if (keys.length !== 1 || (keys[0] !== 'id' && keys[0] !== 'name')) return { ok: false, reason: 'runtime must name exactly one of id or name' };
  if (keys[0] === 'id') {
    const r = RuntimeIdSchema.safeParse(value);
    return r.success ? { ok: true, runtime: { id: r.data.id } } : { ok: false, reason: firstReason(r.error) };
  }
  const r = RuntimeNameSchema.safeParse(value);
  return r.success ? { ok: true, runtime: { name: r.data.name } } : { ok: false, reason: firstReason(r.error) };
}

const envKey = z.string().check(z.regex(ENV_KEY_PATTERN, { error: 'environment variable names are 1-100 characters, without control characters or =' }));

const EnvPatchSchema = z.strictObject(
  {
    set: z.optional(z
      .record(envKey, z.string({ error: 'environment variable values must be strings' }).check(z.maxLength(5000, { error: 'environment variable values are at most 5000 characters' })), {
        // Only for a non-object; key and value issues keep their own messages.
        error: (iss) => (iss.code === 'invalid_type' ? 'environmentVariables.set must be an object of name: value' : undefined),
      })
      .check(z.refine((m) => Object.keys(m).length <= MAX_ENV_ENTRIES, { error: `environmentVariables.set has more than ${MAX_ENV_ENTRIES} entries` }))),
    unset: z.optional(z
      .array(envKey, { error: 'environmentVariables.unset must be a list of names' })
      .check(z.maxLength(MAX_ENV_ENTRIES, { error: `environmentVariables.unset has more than ${MAX_ENV_ENTRIES} entries` }))),
  },
  { error: 'environmentVariables must be {set?, unset?}' },
);

const ChangeSchema = z.strictObject(
  {
    containerUri: z.optional(str('containerUri', 1024)),
    environmentVariables: z.optional(EnvPatchSchema),
    set: z.optional(z.record(z.string().check(z.maxLength(64)), z.unknown(), { error: 'set must be an object of update fields' })),
    unset: z.optional(z.array(z.string().check(z.maxLength(64)), { error: 'unset must be a list of field names' }).check(z.maxLength(SETTABLE.length, { error: 'unset names too many fields' }))),
  },
  { error: 'change must be an object' },
);

const ChangeRequestSchema = z.object({
  ...envelopeFields,
  detail: z.strictObject(
    {
      runtime: z.unknown(),
      change: ChangeSchema,
      requestId: z.optional(str('requestId', 128).check(z.regex(REQUEST_ID_PATTERN, { error: 'requestId must be 1-128 of [A-Za-z0-9._:/-]' }))),
      dryRun: z.optional(z.boolean({ error: 'dryRun must be a boolean' })),
    },
    { error: 'detail is not an object' },
  ),
});

/** Parses a `Runtime Change Requested` event into a change request, or says why it is not one. */
export function parseChangeRequest(event: unknown): ParseResult<{ request: ChangeRequest }> {
  const size = sizeReason(event);
  if (size) return { ok: false, reason: size };
  if (!isObject(event)) return { ok: false, reason: 'event is not an object' };
  if (event.source !== AUTOPILOT_SOURCE) return { ok: false, reason: `source is not ${AUTOPILOT_SOURCE}` };
  if (event['detail-type'] !== CHANGE_REQUEST_DETAIL_TYPE) return { ok: false, reason: `detail-type is not ${CHANGE_REQUEST_DETAIL_TYPE}` };
  if (event.detail === undefined) return { ok: false, reason: 'missing detail' };
  if (isObject(event.detail) && event.detail.runtime === undefined) return { ok: false, reason: 'missing runtime' };
  if (isObject(event.detail) && event.detail.change === undefined) return { ok: false, reason: 'missing change' };

  const parsed = ChangeRequestSchema.safeParse(event);
  if (!parsed.success) return { ok: false, reason: firstReason(parsed.error) };
  const { id, time, detail } = parsed.data;
  const selector = parseRuntimeSelector(detail.runtime);
  if (!selector.ok) return selector;
  const c = detail.change;

  const change: RuntimeChange = {};
  if (c.containerUri !== undefined) {
    // The model's pattern, plus a sha256 digest when a digest is given (the model accepts any text).
    const bad = imageUriReason('change.containerUri', c.containerUri);
    if (bad) return { ok: false, reason: bad };
    change.containerUri = c.containerUri;
  }
  if (c.environmentVariables !== undefined) {
    const { set, unset } = c.environmentVariables;
    if (set === undefined && unset === undefined) return { ok: false, reason: 'change.environmentVariables is empty' };
    const patch: NonNullable<RuntimeChange['environmentVariables']> = {};
    if (set !== undefined) patch.set = Object.fromEntries(Object.entries(set));
    if (unset !== undefined) {
      const both = unset.find((k) => set !== undefined && Object.hasOwn(set, k));
      if (both !== undefined) return { ok: false, reason: `change.environmentVariables both sets and unsets ${clip(both)}` };
      if (new Set(unset).size !== unset.length) return { ok: false, reason: 'change.environmentVariables.unset names a variable twice' };
      patch.unset = [...unset];
    }
    change.environmentVariables = patch;
  }
  if (c.set !== undefined) {
    const set: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(c.set)) {
      if (!SETTABLE.includes(field)) return { ok: false, reason: `change.set.${clip(field)} is not an UpdateAgentRuntime field` };
      if (value === null || value === undefined) return { ok: false, reason: `change.set.${field} is empty; use unset to clear a field` };
      const issues = validateShape(memberShape('UpdateAgentRuntimeRequest', field), value, `set.${field}`);
      if (issues.length > 0) return { ok: false, reason: `change.${describeIssues(issues)}` };
      set[field] = value;
    }
    if (set.agentRuntimeArtifact !== undefined && change.containerUri !== undefined) {
      return { ok: false, reason: 'change sets both containerUri and set.agentRuntimeArtifact' };
    }
    const artifactUri = containerUriIn(set.agentRuntimeArtifact);
    if (artifactUri !== undefined) {
      const bad = imageUriReason('change.set.agentRuntimeArtifact.containerConfiguration.containerUri', artifactUri);
      if (bad) return { ok: false, reason: bad };
    }
    if (set.environmentVariables !== undefined && change.environmentVariables !== undefined) {
      return { ok: false, reason: 'change both patches and replaces environmentVariables' };
    }
    change.set = set as RuntimeChange['set'];
  }
  if (c.unset !== undefined) {
    for (const field of c.unset) {
      if (!SETTABLE.includes(field)) return { ok: false, reason: `change.unset ${clip(field)} is not an UpdateAgentRuntime field` };
      if (!UNSETTABLE.includes(field)) return { ok: false, reason: `change.unset ${field} is required and cannot be cleared` };
      if (change.set !== undefined && Object.hasOwn(change.set, field)) return { ok: false, reason: `change both sets and unsets ${field}` };
      if (field === 'environmentVariables' && change.environmentVariables !== undefined) {
        return { ok: false, reason: 'change both patches and clears environmentVariables' };
      }
    }
    if (new Set(c.unset).size !== c.unset.length) return { ok: false, reason: 'change.unset names a field twice' };
    change.unset = [...c.unset] as RuntimeChange['unset'];
  }
  if (Object.keys(change).length === 0) return { ok: false, reason: 'change is empty' };

  const request: ChangeRequest = { runtime: selector.runtime, change, dryRun: detail.dryRun ?? false, eventId: id, time };
  if (detail.requestId !== undefined) request.requestId = detail.requestId;
  return { ok: true, request };
}

/** The image a change request deploys (containerUri, or set.agentRuntimeArtifact's), if any. */
export function requestedImageUri(change: RuntimeChange): string | undefined {
  return change.containerUri ?? containerUriIn(change.set?.agentRuntimeArtifact);
}

// ---- helpers -------------------------------------------------------------------------------

function containerUriIn(artifact: unknown): string | undefined {
  const container = isObject(artifact) ? artifact.containerConfiguration : undefined;
  const uri = isObject(container) ? container.containerUri : undefined;
  return typeof uri === 'string' ? uri : undefined;
}

/**
 * Why a requested image URI is refused (undefined when it is fine): the model's pattern, the
 * parser pushes use (a digest must be sha256:<64 hex>), and the Docker tag grammar pushes follow
 * (the model accepts any text after ':', e.g. `:$(id)`). The URI itself is never echoed.
 */
function imageUriReason(where: string, uri: string): string | undefined {
  const ref = validateShape('RuntimeContainerUri', uri).length > 0 ? undefined : parseImageUri(uri);
  if (ref === undefined) return `${where} is not an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag][@sha256:<64 hex>])`;
  if (ref.tag !== undefined && !TAG_PATTERN.test(ref.tag)) {
    return `${where} has an invalid image tag (1-128 of [A-Za-z0-9_.-], not starting with '.' or '-')`;
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clip(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}...` : s;
}

/** Refuses what cannot be a real EventBridge event (too large, cyclic, not JSON). */
function sizeReason(event: unknown): string | undefined {
  let text: string | undefined;
  try {
    text = JSON.stringify(event);
  } catch {
    return 'event is not JSON';
  }
  if (text === undefined) return 'event is not an object';
  if (Buffer.byteLength(text, 'utf8') > MAX_EVENT_BYTES) return `event is larger than ${MAX_EVENT_BYTES} bytes`;
  return undefined;
}

/**
 * The first zod issue as a reason. Our schemas carry their own messages, which name the field;
 * zod's fallbacks are prefixed with the path. Neither contains the offending value; record keys
 * (variable names, not values) may appear, clipped.
 */
function firstReason(error: { issues: readonly z.core.$ZodIssue[] }): string {
  const issue = error.issues[0];
  const path = issue.path.map((p) => clip(String(p))).join('.');
  if (issue.code === 'invalid_key') return ownMessage(issue.issues[0]?.message ?? '') ?? `${path}: invalid key`;
  if (issue.code === 'unrecognized_keys') {
    return `${path || 'event'} has unknown key(s) ${issue.keys.slice(0, 5).map(clip).join(', ')}`;
  }
  const own = ownMessage(issue.message);
  return own ?? (path ? `${path}: ${issue.message}` : issue.message);
}

// Our messages start with a field name we wrote; zod's defaults start with "Invalid"/"Too"/"Expected".
function ownMessage(message: string): string | undefined {
  return /^(Invalid|Too |Expected|Unrecognized)/.test(message) ? undefined : message;
}
