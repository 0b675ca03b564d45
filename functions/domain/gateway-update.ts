/**
 * Lossless UpdateGateway requests. UpdateGateway replaces the gateway configuration: an optional
 * member left out may be reset (the docs say so for exceptionLevel). Every update is therefore
 * read-merge-write from the live GetGateway output (agentcore-api.md §5).
 *
 * Not carried: `webAclArn`. GetGateway returns it but UpdateGateway has no such member, so it is
 * not settable here and is never sent; a change naming it is refused. UpdateGateway also has no
 * clientToken.
 */
import type {
  GatewayPolicyEngineMode,
  GetGatewayCommandOutput,
  UpdateGatewayCommandInput,
} from '@aws-sdk/client-bedrock-agentcore-control';
import { validateShape } from '../lib/model/validate.ts';
import { deepCopy, isPlainObject } from './json.ts';
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
  InvalidChangeError,
  InvalidUpdateRequestError,
  LiveFieldMissingError,
  LiveRoleArnMissingError,
  describeIssues,
} from './update-errors.ts';

export * from './update-errors.ts';

const REQUEST_SHAPE = 'UpdateGatewayRequest';
const LIVE_SHAPE = 'GetGatewayResponse';

/**
 * Every UpdateGateway body field, carried from GetGateway unless the change sets or unsets it.
 * With `gatewayIdentifier` (the URI label, from the live gatewayId) this is the model's whole
 * UpdateGatewayRequest; a test keeps it so.
 */
export const GATEWAY_UPDATE_FIELDS = [
  'name',
  'description',
  'roleArn',
  'protocolType',
  'protocolConfiguration',
  'authorizerType',
  'authorizerConfiguration',
  'kmsKeyArn',
  'customTransformConfiguration',
  'interceptorConfigurations',
  'policyEngineConfiguration',
  'exceptionLevel',
  'wafConfiguration',
] as const;
export type GatewayUpdateField = (typeof GATEWAY_UPDATE_FIELDS)[number];

/** Fields UpdateGateway requires: never cleared (`name` cannot even change). */
export const GATEWAY_REQUIRED_FIELDS = ['name', 'roleArn', 'authorizerType'] as const;
export type GatewayOptionalField = Exclude<GatewayUpdateField, (typeof GATEWAY_REQUIRED_FIELDS)[number]>;
export const GATEWAY_OPTIONAL_FIELDS: readonly GatewayOptionalField[] = GATEWAY_UPDATE_FIELDS.filter(
  (f): f is GatewayOptionalField => !(GATEWAY_REQUIRED_FIELDS as readonly string[]).includes(f),
);

/**
 * GetGateway fields that are read-only. `webAclArn` is among them: it cannot be set through
 * UpdateGateway and is never sent.
 */
export const GATEWAY_GET_ONLY_FIELDS = [
  'gatewayArn',
  'gatewayUrl',
  'createdAt',
  'updatedAt',
  'status',
  'statusReasons',
  'workloadIdentityDetails',
  'webAclArn',
] as const;

/** GetGateway's gatewayId becomes UpdateGateway's gatewayIdentifier (the URI label). */
export const GATEWAY_IDENTITY_FIELD = 'gatewayIdentifier';
const LIVE_IDENTITY_FIELD = 'gatewayId';

/** Values a change may give to carried fields (the SDK's own request types); `name` is immutable. */
export type GatewayFields = Omit<Pick<UpdateGatewayCommandInput, GatewayUpdateField>, 'name'>;

/** A GetGateway output, or any object with its fields. */
export type LiveGateway = Partial<GetGatewayCommandOutput>;

/**
 * Policy engine change: `{mode}` keeps the attached engine and switches its mode, `{arn, mode}`
 * attaches (or replaces) an engine, `{detach: true}` removes it.
 */
export type GatewayPolicyEngineChange =
  | { mode: GatewayPolicyEngineMode; arn?: undefined; detach?: undefined }
  | { arn: string; mode: GatewayPolicyEngineMode; detach?: undefined }
  | { detach: true; arn?: undefined; mode?: undefined };

/** What to change on a gateway; everything not named here is carried from the live gateway. */
export interface GatewayChange {
  /** Replaces each given top-level field wholesale. */
  set?: Partial<GatewayFields>;
  /** Clears optional fields. */
  unset?: GatewayOptionalField[];
  /** Switches mode, attaches or detaches the policy engine. */
  policyEngine?: GatewayPolicyEngineChange;
}

const CHANGE_KEYS = ['set', 'unset', 'policyEngine'] as const;

function notSettableReason(field: string): string {
  if (field === 'webAclArn') return 'is Get-only: UpdateGateway has no webAclArn member, so it cannot be set here';
  if (field === GATEWAY_IDENTITY_FIELD || field === LIVE_IDENTITY_FIELD) return 'is the gateway identity, taken from the live gateway';
  if ((GATEWAY_GET_ONLY_FIELDS as readonly string[]).includes(field)) return 'is read-only (Get-only)';
  return 'is not an UpdateGateway field';
}

type ParsedPolicyEngine = { kind: 'mode'; mode: string } | { kind: 'attach'; value: { arn: string; mode: string } } | { kind: 'detach' };

function parsePolicyEngine(pe: unknown): ParsedPolicyEngine {
  const field = 'policyEngineConfiguration';
  if (!isPlainObject(pe)) throw new InvalidChangeError('change.policyEngine must be {mode}, {arn, mode} or {detach: true}', { details: { field } });
  const keys = Object.keys(pe).filter((k) => pe[k] !== undefined);
  if (keys.some((k) => k !== 'arn' && k !== 'mode' && k !== 'detach')) {
    throw new InvalidChangeError('change.policyEngine must be {mode}, {arn, mode} or {detach: true}', { details: { field } });
  }
  if (keys.includes('detach')) {
    if (pe.detach !== true || keys.length !== 1) {
      throw new InvalidChangeError('change.policyEngine.detach must be true and alone', { details: { field } });
    }
    return { kind: 'detach' };
  }
  if (keys.includes('arn')) {
    const value = { arn: pe.arn, mode: pe.mode };
    const issues = validateShape('GatewayPolicyEngineConfiguration', value, field);
    if (issues.length > 0) throw new InvalidChangeError(`change.policyEngine is invalid: ${describeIssues(issues)}`, { details: { field, issues } });
    return { kind: 'attach', value: value as { arn: string; mode: string } };
  }
  const issues = validateShape('GatewayPolicyEngineMode', pe.mode, `${field}.mode`);
  if (issues.length > 0) throw new InvalidChangeError(`change.policyEngine is invalid: ${describeIssues(issues)}`, { details: { field, issues } });
  return { kind: 'mode', mode: pe.mode as string };
}

const LIVE_KNOWN_FIELDS: readonly string[] = [LIVE_IDENTITY_FIELD, ...GATEWAY_UPDATE_FIELDS, ...GATEWAY_GET_ONLY_FIELDS];

/**
 * Builds the complete UpdateGateway request from the live gateway and a change: every field of
 * GATEWAY_UPDATE_FIELDS is carried over (deep copy, JSON-equal) unless the change sets or unsets
 * it; gatewayIdentifier comes from gatewayId; Get-only fields (webAclArn included) and
 * `$metadata` are never sent. Throws (building nothing) UnknownLiveMemberError, LiveRoleArnMissingError,
 * LiveFieldMissingError, UnknownUnionMemberError, UnmappedLiveFieldError, InvalidChangeError or
 * InvalidUpdateRequestError. Neither input is mutated.
 */
export function buildGatewayUpdate(live: LiveGateway, change: GatewayChange): UpdateGatewayCommandInput {
  assertChangeKeys(change, CHANGE_KEYS);
  const { set, unset } = parseSetUnset(change.set, change.unset, {
    requestShape: REQUEST_SHAPE,
    settable: GATEWAY_UPDATE_FIELDS,
    unsettable: GATEWAY_OPTIONAL_FIELDS,
    notSettableReason,
  });
  let policyEngine: ParsedPolicyEngine | undefined;
  if (change.policyEngine !== undefined) {
    policyEngine = parsePolicyEngine(change.policyEngine);
    if (set.has('policyEngineConfiguration') || unset.has('policyEngineConfiguration')) {
      throw new InvalidChangeError('change both uses policyEngine and sets or unsets policyEngineConfiguration', {
        details: { field: 'policyEngineConfiguration' },
      });
    }
  }

  if (!isPlainObject(live)) throw new LiveFieldMissingError('live gateway must be an object', { details: { field: 'live' } });
  const liveRecord = live as Record<string, unknown>;
  const gatewayId = liveValue(liveRecord, LIVE_IDENTITY_FIELD);
  assertNoUnknownLiveMembers(liveRecord, 'gateway', gatewayId);
  if (typeof gatewayId !== 'string') throw new LiveFieldMissingError('live gateway has no gatewayId', { details: { field: LIVE_IDENTITY_FIELD } });
  const liveName = liveValue(liveRecord, 'name');
  if (typeof liveName !== 'string') throw new LiveFieldMissingError('live gateway has no name', { details: { field: 'name' } });
  assertAllLiveFieldsMapped(liveRecord, LIVE_KNOWN_FIELDS, 'gateway');
  assertNoUnknownUnions(LIVE_SHAPE, liveRecord, '', 'live');

  if (set.has('name') && set.get('name') !== liveName) {
    throw new InvalidChangeError('change.set.name differs from the live name; a gateway name cannot change', { details: { field: 'name' } });
  }
  if (liveValue(liveRecord, 'roleArn') === undefined && !set.has('roleArn')) {
    throw new LiveRoleArnMissingError('live gateway has no roleArn and the change does not set one', { details: { field: 'roleArn' } });
  }
  if (liveValue(liveRecord, 'authorizerType') === undefined && !set.has('authorizerType')) {
    throw new LiveFieldMissingError('live gateway has no authorizerType and the change does not set one', { details: { field: 'authorizerType' } });
  }
  if (policyEngine?.kind === 'mode' && liveValue(liveRecord, 'policyEngineConfiguration') === undefined) {
    throw new InvalidChangeError('change.policyEngine sets a mode but the live gateway has no policyEngineConfiguration (no engine attached); give {arn, mode}', {
      details: { field: 'policyEngineConfiguration' },
    });
  }

  const request: Record<string, unknown> = { [GATEWAY_IDENTITY_FIELD]: gatewayId, ...carryFields(liveRecord, GATEWAY_UPDATE_FIELDS, { set, unset }) };

  if (policyEngine?.kind === 'detach') delete request.policyEngineConfiguration;
  else if (policyEngine?.kind === 'attach') request.policyEngineConfiguration = deepCopy(policyEngine.value);
  else if (policyEngine?.kind === 'mode') {
    request.policyEngineConfiguration = { ...(request.policyEngineConfiguration as Record<string, unknown>), mode: policyEngine.mode };
  }

  assertValidRequest(REQUEST_SHAPE, request);
  // The one cross-field rule the API documents: a CUSTOM_JWT gateway needs its authorizer.
  if (request.authorizerType === 'CUSTOM_JWT' && request.authorizerConfiguration === undefined) {
    throw new InvalidUpdateRequestError('authorizerConfiguration is required when authorizerType is CUSTOM_JWT', {
      details: { fields: ['authorizerConfiguration'] },
    });
  }
  return request as unknown as UpdateGatewayCommandInput;
}

