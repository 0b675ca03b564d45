/**
 * Lossless UpdateAgentRuntime requests. UpdateAgentRuntime replaces the whole runtime
 * configuration (each update is a new, self-contained version), so an optional field left out of
 * the request may be reset. Every update is therefore read-merge-write: start from the live
 * GetAgentRuntime output, carry every mapped field over (agentcore-api.md §4), apply the change.
 */
import type {
  GetAgentRuntimeCommandOutput,
  UpdateAgentRuntimeCommandInput,
} from '@aws-sdk/client-bedrock-agentcore-control';
import { validateShape } from '../lib/model/validate.ts';
import { runtimeClientToken } from './client-token.ts';
import { isPlainObject, isPresent } from './json.ts';
import { assertNoUnknownUnions } from './unknown-unions.ts';
import {
  assertAllLiveFieldsMapped,
  assertChangeKeys,
  assertNoUnknownLiveMembers,
  assertValidRequest,
  carryFields,
  liveValue,
  parseSetUnset,
} from './update-common.ts';
import {
  ArtifactKindMismatchError,
  InvalidChangeError,
  LiveArtifactMissingError,
  LiveFieldMissingError,
  LiveRoleArnMissingError,
  describeIssues,
} from './update-errors.ts';

export * from './update-errors.ts';

const REQUEST_SHAPE = 'UpdateAgentRuntimeRequest';
const LIVE_SHAPE = 'GetAgentRuntimeResponse';

/**
 * Every UpdateAgentRuntime body field, carried from GetAgentRuntime unless the change sets or
 * unsets it. With `agentRuntimeId` (the URI label, from the live id) and `clientToken` (minted by
 * runtimeClientToken) this is the model's whole UpdateAgentRuntimeRequest; a test keeps it so.
 */
export const RUNTIME_UPDATE_FIELDS = [
  'agentRuntimeArtifact',
  'roleArn',
  'networkConfiguration',
  'description',
  'authorizerConfiguration',
  'requestHeaderConfiguration',
  'protocolConfiguration',
  'lifecycleConfiguration',
  'metadataConfiguration',
  'environmentVariables',
  'filesystemConfigurations',
  'capacityProviderConfiguration',
  'platformVersion',
] as const;
export type RuntimeUpdateField = (typeof RUNTIME_UPDATE_FIELDS)[number];

/** Fields UpdateAgentRuntime requires: they can be replaced but never cleared. */
export const RUNTIME_REQUIRED_FIELDS = ['agentRuntimeArtifact', 'roleArn'] as const;
export type RuntimeOptionalField = Exclude<RuntimeUpdateField, (typeof RUNTIME_REQUIRED_FIELDS)[number]>;
export const RUNTIME_OPTIONAL_FIELDS: readonly RuntimeOptionalField[] = RUNTIME_UPDATE_FIELDS.filter(
  (f): f is RuntimeOptionalField => !(RUNTIME_REQUIRED_FIELDS as readonly string[]).includes(f),
);

/** GetAgentRuntime fields that are read-only (never sent). The name is immutable. */
export const RUNTIME_GET_ONLY_FIELDS = [
  'agentRuntimeArn',
  'agentRuntimeName',
  'agentRuntimeVersion',
  'createdAt',
  'lastUpdatedAt',
  'status',
  'failureReason',
  'workloadIdentityDetails',
] as const;

/** The URI label, carried from GetAgentRuntime's agentRuntimeId. */
export const RUNTIME_IDENTITY_FIELD = 'agentRuntimeId';

/** Values a change may give to carried fields (the SDK's own request types). */
export type RuntimeFields = Pick<UpdateAgentRuntimeCommandInput, RuntimeUpdateField>;

/** A GetAgentRuntime output, or any object with its fields (e.g. without `$metadata`). */
export type LiveRuntime = Partial<GetAgentRuntimeCommandOutput>;

/** Patch of the environment map: keys in `set` are added or replaced, keys in `unset` removed. */
export interface EnvironmentVariablesPatch {
  set?: Record<string, string>;
  unset?: string[];
}

/** What to change on a runtime; everything not named here is carried from the live runtime. */
export interface RuntimeChange {
  /** Replaces only agentRuntimeArtifact.containerConfiguration.containerUri (refused for a code artifact). */
  containerUri?: string;
  /** Patches the environment map; the other variables are kept. */
  environmentVariables?: EnvironmentVariablesPatch;
  /** Replaces each given top-level field wholesale. */
  set?: Partial<RuntimeFields>;
  /** Clears optional fields. */
  unset?: RuntimeOptionalField[];
}

const CHANGE_KEYS = ['containerUri', 'environmentVariables', 'set', 'unset'] as const;

function notSettableReason(field: string): string {
  if (field === RUNTIME_IDENTITY_FIELD) return 'is the runtime identity, taken from the live runtime';
  if (field === 'clientToken') return 'is minted by the builder';
  if (field === 'agentRuntimeName') return 'is immutable (Get-only)';
  if ((RUNTIME_GET_ONLY_FIELDS as readonly string[]).includes(field)) return 'is read-only (Get-only)';
  return 'is not an UpdateAgentRuntime field';
}

interface ParsedRuntimeChange {
  set: Map<string, unknown>;
  unset: Set<string>;
  containerUri?: string;
  env?: { set: [string, string][]; unset: string[] };
}

function parseRuntimeChange(change: unknown): ParsedRuntimeChange {
  assertChangeKeys(change, CHANGE_KEYS);
  const { set, unset } = parseSetUnset(change.set, change.unset, {
    requestShape: REQUEST_SHAPE,
    settable: RUNTIME_UPDATE_FIELDS,
    unsettable: RUNTIME_OPTIONAL_FIELDS,
    notSettableReason,
  });
  const parsed: ParsedRuntimeChange = { set, unset };

  if (change.containerUri !== undefined) {
    const uri = change.containerUri;
    const issues = validateShape('RuntimeContainerUri', uri, 'containerUri');
    if (issues.length > 0) {
      throw new InvalidChangeError(`change.containerUri is invalid: ${describeIssues(issues)}`, { details: { field: 'containerUri', issues } });
    }
    if (set.has('agentRuntimeArtifact')) {
      throw new InvalidChangeError('change sets both containerUri and agentRuntimeArtifact', { details: { field: 'containerUri' } });
    }
    parsed.containerUri = uri as string;
  }

  if (change.environmentVariables !== undefined) {
    parsed.env = parseEnvPatch(change.environmentVariables);
    if (set.has('environmentVariables') || unset.has('environmentVariables')) {
      throw new InvalidChangeError('change both patches and replaces environmentVariables', { details: { field: 'environmentVariables' } });
    }
  }
  return parsed;
}

function parseEnvPatch(patch: unknown): { set: [string, string][]; unset: string[] } {
  const field = 'environmentVariables';
  if (!isPlainObject(patch)) throw new InvalidChangeError('change.environmentVariables must be {set?, unset?}', { details: { field } });
  for (const k of Object.keys(patch)) {
    if (patch[k] !== undefined && k !== 'set' && k !== 'unset') {
      throw new InvalidChangeError(`change.environmentVariables has unknown key ${k} (allowed: set, unset)`, { details: { field } });
    }
  }
  const setEntries: [string, string][] = [];
  if (patch.set !== undefined) {
    if (!isPlainObject(patch.set)) throw new InvalidChangeError('change.environmentVariables.set must be a map', { details: { field } });
    for (const [key, value] of Object.entries(patch.set)) {
      const issues = [
        ...validateShape('EnvironmentVariableKey', key, `${field} key`),
        ...validateShape('EnvironmentVariableValue', value, `${field}.${key}`),
      ];
      if (issues.length > 0) {
        throw new InvalidChangeError(`change.environmentVariables.set is invalid: ${describeIssues(issues)}`, { details: { field, issues } });
      }
      setEntries.push([key, value as string]);
    }
  }
  const unsetKeys: string[] = [];
  if (patch.unset !== undefined) {
    if (!Array.isArray(patch.unset) || patch.unset.some((k) => typeof k !== 'string')) {
      throw new InvalidChangeError('change.environmentVariables.unset must be a list of variable names', { details: { field } });
    }
    for (const key of patch.unset as string[]) {
      if (setEntries.some(([k]) => k === key)) {
        throw new InvalidChangeError(`change both sets and unsets environment variable ${key}`, { details: { field, key } });
      }
      unsetKeys.push(key);
    }
  }
  return { set: setEntries, unset: unsetKeys };
}

/** The container image URI of a runtime (a GetAgentRuntime output or an update request), if it runs a container. */
export function containerUriOf(runtime: { agentRuntimeArtifact?: unknown } | undefined): string | undefined {
  const uri = (runtime?.agentRuntimeArtifact as { containerConfiguration?: { containerUri?: unknown } } | undefined)?.containerConfiguration?.containerUri;
  return typeof uri === 'string' ? uri : undefined;
}

const LIVE_KNOWN_FIELDS: readonly string[] = [RUNTIME_IDENTITY_FIELD, ...RUNTIME_UPDATE_FIELDS, ...RUNTIME_GET_ONLY_FIELDS];

/**
 * Builds the complete UpdateAgentRuntime request from the live runtime and a change: every field
 * of RUNTIME_UPDATE_FIELDS is carried over (deep copy, JSON-equal) unless the change sets or
 * unsets it, Get-only fields and `$metadata` are dropped, and `clientToken` is the deterministic
 * runtimeClientToken of the live id, live version and the request. Throws (building nothing)
 * UnknownLiveMemberError, LiveArtifactMissingError, LiveRoleArnMissingError, LiveFieldMissingError,
 * UnknownUnionMemberError, UnmappedLiveFieldError, ArtifactKindMismatchError, InvalidChangeError
 * or InvalidUpdateRequestError. Neither input is mutated.
 */
export function buildRuntimeUpdate(live: LiveRuntime, change: RuntimeChange): UpdateAgentRuntimeCommandInput {
  const parsed = parseRuntimeChange(change);

  if (!isPlainObject(live)) throw new LiveFieldMissingError('live runtime must be an object', { details: { field: 'live' } });
  const liveRecord = live as Record<string, unknown>;
  const runtimeId = liveValue(liveRecord, RUNTIME_IDENTITY_FIELD);
  assertNoUnknownLiveMembers(liveRecord, 'runtime', runtimeId);
  if (typeof runtimeId !== 'string') {
    throw new LiveFieldMissingError('live runtime has no agentRuntimeId', { details: { field: RUNTIME_IDENTITY_FIELD } });
  }
  const liveVersion = liveValue(liveRecord, 'agentRuntimeVersion');
  if (typeof liveVersion !== 'string') {
    throw new LiveFieldMissingError('live runtime has no agentRuntimeVersion (needed for the client token)', {
      details: { field: 'agentRuntimeVersion' },
    });
  }
  assertAllLiveFieldsMapped(liveRecord, LIVE_KNOWN_FIELDS, 'runtime');
  assertNoUnknownUnions(LIVE_SHAPE, liveRecord, '', 'live');

  const liveArtifact = liveValue(liveRecord, 'agentRuntimeArtifact');
  if (liveArtifact === undefined) {
    throw new LiveArtifactMissingError('live runtime has no agentRuntimeArtifact; refusing to build an update', {
      details: { field: 'agentRuntimeArtifact' },
    });
  }
  if (liveValue(liveRecord, 'roleArn') === undefined && !parsed.set.has('roleArn')) {
    throw new LiveRoleArnMissingError('live runtime has no roleArn and the change does not set one', { details: { field: 'roleArn' } });
  }

  const request: Record<string, unknown> = { [RUNTIME_IDENTITY_FIELD]: runtimeId, ...carryFields(liveRecord, RUNTIME_UPDATE_FIELDS, parsed) };

  if (parsed.containerUri !== undefined) {
    const artifact = request.agentRuntimeArtifact as Record<string, unknown>;
    const container = isPlainObject(artifact) ? artifact.containerConfiguration : undefined;
    if (!isPlainObject(container)) {
      const kind = isPlainObject(artifact) ? Object.keys(artifact).filter((k) => isPresent(artifact[k])).join(', ') : typeof artifact;
      throw new ArtifactKindMismatchError(
        `change sets containerUri but the live artifact is not a containerConfiguration (it is ${kind || 'empty'})`,
        { details: { field: 'containerUri', liveArtifactKind: kind } },
      );
    }
    // Keep any other container member; only the URI moves.
    request.agentRuntimeArtifact = { containerConfiguration: { ...container, containerUri: parsed.containerUri } };
  }

  if (parsed.env) {
    const liveEnv = request.environmentVariables;
    const entries: [string, unknown][] = isPlainObject(liveEnv) ? Object.entries(liveEnv) : [];
    const removed = new Set(parsed.env.unset);
    const added = new Map(parsed.env.set);
    const merged: [string, unknown][] = [];
    for (const [k, v] of entries) {
      if (removed.has(k)) continue;
      if (added.has(k)) {
        merged.push([k, added.get(k)]);
        added.delete(k);
      } else merged.push([k, v]);
    }
    for (const [k, v] of added) merged.push([k, v]);
    // A runtime without variables stays without the member when the patch leaves nothing.
    if (merged.length > 0 || liveEnv !== undefined) request.environmentVariables = Object.fromEntries(merged);
  }

  assertValidRequest(REQUEST_SHAPE, request);
  request.clientToken = runtimeClientToken(runtimeId, liveVersion, request);
  return request as unknown as UpdateAgentRuntimeCommandInput;
}

