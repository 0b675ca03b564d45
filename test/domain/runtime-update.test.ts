import * as sdk from '@aws-sdk/client-bedrock-agentcore-control';
import { describe, expect, it } from 'vitest';
import { AutopilotError } from '../../functions/lib/errors.ts';
import { agentCoreModel, validateShape } from '../../functions/lib/model/validate.ts';
import { runtimeClientToken } from '../../functions/domain/client-token.ts';
import {
  ArtifactKindMismatchError,
  InvalidChangeError,
  InvalidUpdateRequestError,
  LiveArtifactMissingError,
  LiveFieldMissingError,
  LiveRoleArnMissingError,
  RUNTIME_GET_ONLY_FIELDS,
  RUNTIME_IDENTITY_FIELD,
  RUNTIME_OPTIONAL_FIELDS,
  RUNTIME_REQUIRED_FIELDS,
  RUNTIME_UPDATE_FIELDS,
  UnknownUnionMemberError,
  UnmappedLiveFieldError,
  buildRuntimeUpdate,
  type RuntimeChange,
  type RuntimeOptionalField,
} from '../../functions/domain/runtime-update.ts';
import { RUNTIME_ID, RUNTIME_NEW_VALUES, SECRET, liveRuntime } from './fixtures.ts';

const json = (v: unknown) => JSON.stringify(v);
const sorted = (xs: Iterable<string>) => [...xs].sort();
const modelMembers = (shape: string) => Object.keys(agentCoreModel.shapes[shape].members ?? {});

/** Member names of an SDK static schema (`[3, namespace, name, traits, memberNames, memberSchemas]`). */
function sdkSchemaMembers(schema: unknown): string[] {
  if (!Array.isArray(schema) || schema[0] !== 3 || !Array.isArray(schema[4])) throw new Error('unexpected SDK schema layout; update this test helper');
  return schema[4] as string[];
}

function expectRefusal(fn: () => unknown, errorClass: new (...a: never[]) => Error, field?: string): AutopilotError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(errorClass);
  expect(thrown).toBeInstanceOf(AutopilotError);
  const err = thrown as AutopilotError;
  expect(err.name).toBe(errorClass.name);
  expect(err.name).toMatch(/Error$/);
  if (field) expect(err.message).toContain(field);
  // Never a secret: environment variable values and description text carry the SECRET marker.
  expect(err.message).not.toContain(SECRET);
  expect(json(err.details)).not.toContain(SECRET);
  return err;
}

describe('RUNTIME_UPDATE_FIELDS', () => {
  it('covers every UpdateAgentRuntimeRequest member of the model', () => {
    expect(sorted([RUNTIME_IDENTITY_FIELD, 'clientToken', ...RUNTIME_UPDATE_FIELDS])).toEqual(sorted(modelMembers('UpdateAgentRuntimeRequest')));
    expect(new Set(RUNTIME_UPDATE_FIELDS).size).toBe(RUNTIME_UPDATE_FIELDS.length);
  });

  it('covers every UpdateAgentRuntimeRequest member of the installed SDK', () => {
    const members = sdkSchemaMembers((sdk as Record<string, unknown>)['UpdateAgentRuntimeRequest$']);
    expect(sorted([RUNTIME_IDENTITY_FIELD, 'clientToken', ...RUNTIME_UPDATE_FIELDS])).toEqual(sorted(members));
  });

  it('marks exactly the model-required members as required', () => {
    expect(sorted([RUNTIME_IDENTITY_FIELD, ...RUNTIME_REQUIRED_FIELDS])).toEqual(sorted(agentCoreModel.shapes.UpdateAgentRuntimeRequest.required!));
    expect(sorted([...RUNTIME_REQUIRED_FIELDS, ...RUNTIME_OPTIONAL_FIELDS])).toEqual(sorted(RUNTIME_UPDATE_FIELDS));
  });

  it('accounts for every GetAgentRuntime member: carried, identity or Get-only', () => {
    const get = modelMembers('GetAgentRuntimeResponse');
    expect(sorted(get)).toEqual(sorted([RUNTIME_IDENTITY_FIELD, ...RUNTIME_UPDATE_FIELDS, ...RUNTIME_GET_ONLY_FIELDS]));
    for (const f of RUNTIME_GET_ONLY_FIELDS) expect(modelMembers('UpdateAgentRuntimeRequest')).not.toContain(f);
  });
});

describe('buildRuntimeUpdate: carry-over table', () => {
  it('carries every mapped field byte for byte when the change is empty', () => {
    const live = liveRuntime();
    const req = buildRuntimeUpdate(live, {}) as unknown as Record<string, unknown>;
    for (const f of RUNTIME_UPDATE_FIELDS) expect(json(req[f]), f).toBe(json((live as unknown as Record<string, unknown>)[f]));
    expect(req.agentRuntimeId).toBe(RUNTIME_ID);
    expect(sorted(Object.keys(req))).toEqual(sorted(['agentRuntimeId', 'clientToken', ...RUNTIME_UPDATE_FIELDS]));
    expect(validateShape('UpdateAgentRuntimeRequest', req)).toEqual([]);
  });

  it('never sends $metadata or Get-only fields', () => {
    const req = buildRuntimeUpdate(liveRuntime(), { containerUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/x:v2' });
    for (const f of ['$metadata', ...RUNTIME_GET_ONLY_FIELDS]) expect(req).not.toHaveProperty(f);
  });

  it.each(RUNTIME_UPDATE_FIELDS.map((f) => [f]))('sets %s when changed and carries every other field', (field) => {
    const live = liveRuntime() as unknown as Record<string, unknown>;
    const value = RUNTIME_NEW_VALUES[field];
    expect(json(value)).not.toBe(json(live[field]));
    const req = buildRuntimeUpdate(live, { set: { [field]: value } }) as unknown as Record<string, unknown>;
    expect(req[field]).toEqual(value);
    for (const other of RUNTIME_UPDATE_FIELDS) if (other !== field) expect(json(req[other]), other).toBe(json(live[other]));
  });

  it.each(RUNTIME_UPDATE_FIELDS.map((f) => [f]))('sets %s on a runtime that lacks it', (field) => {
    const live = liveRuntime() as unknown as Record<string, unknown>;
    if ((RUNTIME_REQUIRED_FIELDS as readonly string[]).includes(field)) return; // cannot be absent live
    delete live[field];
    const req = buildRuntimeUpdate(live as never, { set: { [field]: RUNTIME_NEW_VALUES[field] } }) as unknown as Record<string, unknown>;
    expect(req[field]).toEqual(RUNTIME_NEW_VALUES[field]);
  });

  it.each(RUNTIME_OPTIONAL_FIELDS.map((f) => [f]))('clears %s when unset and carries every other field', (field) => {
    const live = liveRuntime() as unknown as Record<string, unknown>;
    const req = buildRuntimeUpdate(live, { unset: [field as RuntimeOptionalField] }) as unknown as Record<string, unknown>;
    expect(req).not.toHaveProperty(field);
    for (const other of RUNTIME_UPDATE_FIELDS) if (other !== field) expect(json(req[other]), other).toBe(json(live[other]));
  });

  it('replaces only the containerUri of a container artifact', () => {
    const live = liveRuntime();
    const uri = `123456789012.dkr.ecr.us-east-1.amazonaws.com/team/my-agent@sha256:${'b'.repeat(64)}`;
    const req = buildRuntimeUpdate(live, { containerUri: uri }) as unknown as Record<string, unknown>;
    expect(req.agentRuntimeArtifact).toEqual({ containerConfiguration: { containerUri: uri } });
    for (const f of RUNTIME_UPDATE_FIELDS) if (f !== 'agentRuntimeArtifact') expect(json(req[f]), f).toBe(json((live as unknown as Record<string, unknown>)[f]));
  });

  it('patches environment variables, keeping the others', () => {
    const live = liveRuntime();
    const req = buildRuntimeUpdate(live, { environmentVariables: { set: { LOG_LEVEL: 'debug', NEW: 'n' }, unset: ['API_KEY', 'NOT_THERE'] } });
    expect(req.environmentVariables).toEqual({ LOG_LEVEL: 'debug', EMPTY: '', NEW: 'n' });
    expect(Object.keys(req.environmentVariables!)).toEqual(['LOG_LEVEL', 'EMPTY', 'NEW']);
  });

  it('leaves a runtime without variables without the member when a patch only unsets', () => {
    const live = liveRuntime();
    delete live.environmentVariables;
    expect(buildRuntimeUpdate(live, { environmentVariables: { unset: ['X'] } })).not.toHaveProperty('environmentVariables');
    expect(buildRuntimeUpdate(live, { environmentVariables: { set: { X: '1' } } }).environmentVariables).toEqual({ X: '1' });
  });

  it('sends an empty map when a patch removes the last variable (the update replaces the map)', () => {
    const live = liveRuntime();
    live.environmentVariables = { ONLY: 'x' };
    expect(buildRuntimeUpdate(live, { environmentVariables: { unset: ['ONLY'] } }).environmentVariables).toEqual({});
  });

  it('treats a "__proto__" variable name as data', () => {
    const live = liveRuntime();
    live.environmentVariables = JSON.parse('{"__proto__":"p","A":"a"}');
    const req = buildRuntimeUpdate(live, { environmentVariables: { set: JSON.parse('{"__proto__":"q"}') } });
    expect(json(req.environmentVariables)).toBe('{"__proto__":"q","A":"a"}');
    expect(Object.getPrototypeOf(req.environmentVariables)).toBe(Object.prototype);
  });

  it('mints the deterministic client token from the id, the live version and the request', () => {
    const live = liveRuntime();
    const req = buildRuntimeUpdate(live, { set: { platformVersion: '2027.1' } });
    const { clientToken, ...rest } = req;
    expect(clientToken).toBe(runtimeClientToken(RUNTIME_ID, '7', rest));
    expect(buildRuntimeUpdate(liveRuntime(), { set: { platformVersion: '2027.1' } }).clientToken).toBe(clientToken);
    expect(buildRuntimeUpdate({ ...liveRuntime(), agentRuntimeVersion: '8' }, { set: { platformVersion: '2027.1' } }).clientToken).not.toBe(clientToken);
    expect(buildRuntimeUpdate(liveRuntime(), { set: { platformVersion: '2027.2' } }).clientToken).not.toBe(clientToken);
  });

  it('shares no object with its inputs and leaves them untouched', () => {
    const live = liveRuntime();
    const change: RuntimeChange = { set: { networkConfiguration: RUNTIME_NEW_VALUES.networkConfiguration as never }, environmentVariables: { set: { A: 'b' } } };
    const before = structuredClone({ live, change });
    const req = buildRuntimeUpdate(live, change);
    expect({ live, change }).toEqual(before);
    (req.networkConfiguration!.networkModeConfig!.subnets as string[]).push('subnet-0ddddddddddddddd');
    (req.lifecycleConfiguration as Record<string, unknown>).maxLifetime = 61;
    expect({ live, change }).toEqual(before);
  });
});

describe('buildRuntimeUpdate: refusals', () => {
  const unknownUnion = { $unknown: ['futureMember', { secret: SECRET }] };
  it.each([
    ['agentRuntimeArtifact', (l: Record<string, unknown>) => void (l.agentRuntimeArtifact = unknownUnion)],
    ['authorizerConfiguration', (l: Record<string, unknown>) => void (l.authorizerConfiguration = unknownUnion)],
    ['requestHeaderConfiguration', (l: Record<string, unknown>) => void (l.requestHeaderConfiguration = unknownUnion)],
    ['filesystemConfigurations[1]', (l: Record<string, unknown>) => void ((l.filesystemConfigurations as unknown[])[1] = unknownUnion)],
    [
      'authorizerConfiguration.customJWTAuthorizer.customClaims[0].authorizingClaimMatchValue.claimMatchValue',
      (l: Record<string, unknown>) => {
        const claims = (l.authorizerConfiguration as { customJWTAuthorizer: { customClaims: { authorizingClaimMatchValue: Record<string, unknown> }[] } })
          .customJWTAuthorizer.customClaims;
        claims[0].authorizingClaimMatchValue.claimMatchValue = unknownUnion;
      },
    ],
    ['agentRuntimeArtifact', (l: Record<string, unknown>) => void (l.agentRuntimeArtifact = { containerConfiguration: { containerUri: 'public.ecr.aws/x/y' }, futureArtifact: {} })],
  ])('refuses a live unknown union member at %s', (path, mutate) => {
    const live = liveRuntime() as unknown as Record<string, unknown>;
    mutate(live);
    const err = expectRefusal(() => buildRuntimeUpdate(live, {}), UnknownUnionMemberError, path);
    expect(err.details.origin).toBe('live');
  });

  it('refuses a live unknown union even when the change replaces the field', () => {
    const live = { ...liveRuntime(), authorizerConfiguration: unknownUnion } as never;
    expectRefusal(() => buildRuntimeUpdate(live, { unset: ['authorizerConfiguration'] }), UnknownUnionMemberError, 'authorizerConfiguration');
  });

  it('refuses an unknown union member in the change', () => {
    expectRefusal(() => buildRuntimeUpdate(liveRuntime(), { set: { requestHeaderConfiguration: unknownUnion as never } }), UnknownUnionMemberError, 'requestHeaderConfiguration');
  });

  it('refuses a live runtime without an artifact', () => {
    const live = liveRuntime();
    delete live.agentRuntimeArtifact;
    expectRefusal(() => buildRuntimeUpdate(live, {}), LiveArtifactMissingError, 'agentRuntimeArtifact');
    expectRefusal(() => buildRuntimeUpdate({ ...live, agentRuntimeArtifact: null } as never, { set: { roleArn: RUNTIME_NEW_VALUES.roleArn as string } }), LiveArtifactMissingError);
  });

  it('refuses a live runtime without roleArn unless the change sets one', () => {
    const live = liveRuntime();
    delete live.roleArn;
    expectRefusal(() => buildRuntimeUpdate(live, {}), LiveRoleArnMissingError, 'roleArn');
    expect(buildRuntimeUpdate(live, { set: { roleArn: RUNTIME_NEW_VALUES.roleArn as string } }).roleArn).toBe(RUNTIME_NEW_VALUES.roleArn);
  });

  it('refuses a live runtime without id or version', () => {
    const noId = liveRuntime();
    delete noId.agentRuntimeId;
    expectRefusal(() => buildRuntimeUpdate(noId, {}), LiveFieldMissingError, 'agentRuntimeId');
    const noVersion = liveRuntime();
    delete noVersion.agentRuntimeVersion;
    expectRefusal(() => buildRuntimeUpdate(noVersion, {}), LiveFieldMissingError, 'agentRuntimeVersion');
  });

  it('refuses a live field it does not know how to carry (a newer SDK)', () => {
    const live = { ...liveRuntime(), futureSetting: { enabled: true } };
    expectRefusal(() => buildRuntimeUpdate(live, {}), UnmappedLiveFieldError, 'futureSetting');
  });

  it.each([
    ['docker.io/library/agent:latest'],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com/Team/Agent:v1'],
    [''],
    [`123456789012.dkr.ecr.us-east-1.amazonaws.com/${'a'.repeat(1100)}`],
  ])('refuses the invalid containerUri %s', (uri) => {
    expectRefusal(() => buildRuntimeUpdate(liveRuntime(), { containerUri: uri }), InvalidChangeError, 'containerUri');
  });

  it('refuses a containerUri change on a code artifact', () => {
    const live = { ...liveRuntime(), agentRuntimeArtifact: RUNTIME_NEW_VALUES.agentRuntimeArtifact } as never;
    const err = expectRefusal(() => buildRuntimeUpdate(live, { containerUri: 'public.ecr.aws/team/agent:v2' }), ArtifactKindMismatchError, 'codeConfiguration');
    expect(err.details.field).toBe('containerUri');
  });

  it('refuses more than 50 environment variables, from the change or after merging', () => {
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`VAR_${i}`, `${SECRET}-${i}`]));
    const live = { ...liveRuntime(), environmentVariables: fifty };
    expect(Object.keys(buildRuntimeUpdate(live, {}).environmentVariables!)).toHaveLength(50);
    expectRefusal(() => buildRuntimeUpdate(live, { environmentVariables: { set: { ONE_MORE: `${SECRET}-x` } } }), InvalidUpdateRequestError, 'environmentVariables');
    expectRefusal(
      () => buildRuntimeUpdate(liveRuntime(), { set: { environmentVariables: { ...fifty, ONE_MORE: `${SECRET}-x` } } }),
      InvalidChangeError,
      'environmentVariables',
    );
  });

  it('refuses invalid values without echoing them', () => {
    expectRefusal(() => buildRuntimeUpdate(liveRuntime(), { environmentVariables: { set: { BIG: SECRET.repeat(1000) } } }), InvalidChangeError, 'environmentVariables.BIG');
    expectRefusal(() => buildRuntimeUpdate(liveRuntime(), { set: { description: SECRET.repeat(700) } }), InvalidChangeError, 'description');
    expectRefusal(() => buildRuntimeUpdate(liveRuntime(), { set: { description: '' } }), InvalidChangeError, 'description');
    expectRefusal(() => buildRuntimeUpdate(liveRuntime(), { set: { lifecycleConfiguration: { maxLifetime: 59 } } }), InvalidChangeError, 'lifecycleConfiguration.maxLifetime');
    expectRefusal(() => buildRuntimeUpdate(liveRuntime(), { set: { protocolConfiguration: { serverProtocol: 'SMTP' as never } } }), InvalidChangeError, 'protocolConfiguration.serverProtocol');
    expectRefusal(
      () => buildRuntimeUpdate(liveRuntime(), { set: { networkConfiguration: { networkMode: 'VPC', networkModeConfig: { securityGroups: [], subnets: ['subnet-0123456789abcdef0'] } } } }),
      InvalidChangeError,
      'networkConfiguration.networkModeConfig.securityGroups',
    );
  });

  it('refuses a live value the model rejects instead of re-sending it', () => {
    const live = { ...liveRuntime(), description: SECRET.repeat(1000) };
    expectRefusal(() => buildRuntimeUpdate(live, {}), InvalidUpdateRequestError, 'description');
  });

  it.each<[string, RuntimeChange, string]>([
    ['the same variable set and unset', { environmentVariables: { set: { API_KEY: `${SECRET}-v` }, unset: ['API_KEY'] } }, 'API_KEY'],
    ['the same field set and unset', { set: { description: `${SECRET}-d` }, unset: ['description'] }, 'description'],
    ['a patch and a replacement of the map', { environmentVariables: { set: { A: 'b' } }, set: { environmentVariables: { A: 'c' } } }, 'environmentVariables'],
    ['a patch and a clear of the map', { environmentVariables: { set: { A: 'b' } }, unset: ['environmentVariables'] }, 'environmentVariables'],
    ['containerUri and a whole artifact', { containerUri: 'public.ecr.aws/a/b', set: { agentRuntimeArtifact: RUNTIME_NEW_VALUES.agentRuntimeArtifact as never } }, 'containerUri'],
    ['a required field unset', { unset: ['roleArn' as RuntimeOptionalField] }, 'roleArn'],
    ['the artifact unset', { unset: ['agentRuntimeArtifact' as RuntimeOptionalField] }, 'agentRuntimeArtifact'],
    ['a Get-only field set', { set: { agentRuntimeName: 'other' } as never }, 'agentRuntimeName'],
    ['the identity set', { set: { agentRuntimeId: 'other-abcdefghij' } as never }, 'agentRuntimeId'],
    ['the client token set', { set: { clientToken: 'x'.repeat(40) } as never }, 'clientToken'],
    ['an unknown change key', { descripton: 'typo' } as never, 'descripton'],
    ['a field set to undefined', { set: { description: undefined } }, 'description'],
    ['a field set to null', { set: { description: null } as never }, 'description'],
    ['an unknown field unset', { unset: ['tags' as RuntimeOptionalField] }, 'tags'],
    ['an invalid variable name', { environmentVariables: { set: { ['']: 'x' } } }, 'environmentVariables'],
  ])('refuses a change with %s', (_label, change, field) => {
    expectRefusal(() => buildRuntimeUpdate(liveRuntime(), change), InvalidChangeError, field);
  });
});
