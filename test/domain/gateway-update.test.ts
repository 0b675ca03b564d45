import * as sdk from '@aws-sdk/client-bedrock-agentcore-control';
import { describe, expect, it } from 'vitest';
import { AutopilotError } from '../../functions/lib/errors.ts';
import { agentCoreModel, validateShape } from '../../functions/lib/model/validate.ts';
import {
  GATEWAY_GET_ONLY_FIELDS,
  GATEWAY_IDENTITY_FIELD,
  GATEWAY_OPTIONAL_FIELDS,
  GATEWAY_REQUIRED_FIELDS,
  GATEWAY_UPDATE_FIELDS,
  InvalidChangeError,
  InvalidUpdateRequestError,
  LiveFieldMissingError,
  LiveRoleArnMissingError,
  UnknownUnionMemberError,
  UnmappedLiveFieldError,
  buildGatewayUpdate,
  type GatewayChange,
  type GatewayOptionalField,
} from '../../functions/domain/gateway-update.ts';
import { GATEWAY_ID, GATEWAY_NEW_VALUES, SECRET, liveGateway } from './fixtures.ts';

const json = (v: unknown) => JSON.stringify(v);
const sorted = (xs: Iterable<string>) => [...xs].sort();
const modelMembers = (shape: string) => Object.keys(agentCoreModel.shapes[shape].members ?? {});

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
  if (field) expect(err.message).toContain(field);
  expect(err.message).not.toContain(SECRET);
  expect(json(err.details)).not.toContain(SECRET);
  return err;
}

describe('GATEWAY_UPDATE_FIELDS', () => {
  it('covers every UpdateGatewayRequest member of the model', () => {
    expect(sorted([GATEWAY_IDENTITY_FIELD, ...GATEWAY_UPDATE_FIELDS])).toEqual(sorted(modelMembers('UpdateGatewayRequest')));
    expect(new Set(GATEWAY_UPDATE_FIELDS).size).toBe(GATEWAY_UPDATE_FIELDS.length);
  });

  it('covers every UpdateGatewayRequest member of the installed SDK', () => {
    const members = sdkSchemaMembers((sdk as Record<string, unknown>)['UpdateGatewayRequest$']);
    expect(sorted([GATEWAY_IDENTITY_FIELD, ...GATEWAY_UPDATE_FIELDS])).toEqual(sorted(members));
  });

  it('marks exactly the model-required members as required', () => {
    expect(sorted([GATEWAY_IDENTITY_FIELD, ...GATEWAY_REQUIRED_FIELDS])).toEqual(sorted(agentCoreModel.shapes.UpdateGatewayRequest.required!));
    expect(sorted([...GATEWAY_REQUIRED_FIELDS, ...GATEWAY_OPTIONAL_FIELDS])).toEqual(sorted(GATEWAY_UPDATE_FIELDS));
  });

  it('accounts for every GetGateway member (model and SDK): carried, gatewayId or Get-only', () => {
    const expected = sorted(['gatewayId', ...GATEWAY_UPDATE_FIELDS, ...GATEWAY_GET_ONLY_FIELDS]);
    expect(sorted(modelMembers('GetGatewayResponse'))).toEqual(expected);
    expect(sorted(sdkSchemaMembers((sdk as Record<string, unknown>)['GetGatewayResponse$']))).toEqual(expected);
  });

  it('documents webAclArn as Get-only: returned by GetGateway, absent from UpdateGateway, never sent', () => {
    expect(modelMembers('GetGatewayResponse')).toContain('webAclArn');
    expect(modelMembers('UpdateGatewayRequest')).not.toContain('webAclArn');
    expect(GATEWAY_GET_ONLY_FIELDS).toContain('webAclArn');
    expect(buildGatewayUpdate(liveGateway(), {})).not.toHaveProperty('webAclArn');
    expectRefusal(
      () => buildGatewayUpdate(liveGateway(), { set: { webAclArn: 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/1' } as never }),
      InvalidChangeError,
      'webAclArn',
    );
    expectRefusal(() => buildGatewayUpdate(liveGateway(), { unset: ['webAclArn' as GatewayOptionalField] }), InvalidChangeError, 'webAclArn');
  });
});

describe('buildGatewayUpdate: carry-over table', () => {
  it('carries every mapped field byte for byte when the change is empty', () => {
    const live = liveGateway() as unknown as Record<string, unknown>;
    const req = buildGatewayUpdate(live, {}) as unknown as Record<string, unknown>;
    for (const f of GATEWAY_UPDATE_FIELDS) expect(json(req[f]), f).toBe(json(live[f]));
    expect(req.gatewayIdentifier).toBe(GATEWAY_ID);
    expect(sorted(Object.keys(req))).toEqual(sorted(['gatewayIdentifier', ...GATEWAY_UPDATE_FIELDS]));
    expect(req).not.toHaveProperty('clientToken');
    for (const f of ['$metadata', 'gatewayId', ...GATEWAY_GET_ONLY_FIELDS]) expect(req).not.toHaveProperty(f);
    expect(validateShape('UpdateGatewayRequest', req)).toEqual([]);
  });

  it.each(Object.keys(GATEWAY_NEW_VALUES).map((f) => [f]))('sets %s when changed and carries every other field', (field) => {
    const live = liveGateway() as unknown as Record<string, unknown>;
    const value = GATEWAY_NEW_VALUES[field];
    // Single-value enums (protocolType, exceptionLevel) can only change from absent.
    if (json(value) === json(live[field])) delete live[field];
    const req = buildGatewayUpdate(live, { set: { [field]: value } }) as unknown as Record<string, unknown>;
    expect(req[field]).toEqual(value);
    for (const other of GATEWAY_UPDATE_FIELDS) if (other !== field) expect(json(req[other]), other).toBe(json(live[other]));
  });

  it('has a new-value fixture for every settable field', () => {
    expect(sorted(Object.keys(GATEWAY_NEW_VALUES))).toEqual(sorted(GATEWAY_UPDATE_FIELDS.filter((f) => f !== 'name')));
  });

  it.each(GATEWAY_OPTIONAL_FIELDS.map((f) => [f]))('clears %s when unset and carries every other field', (field) => {
    const live = { ...liveGateway(), authorizerType: 'AWS_IAM' } as Record<string, unknown>;
    const req = buildGatewayUpdate(live, { unset: [field as GatewayOptionalField] }) as unknown as Record<string, unknown>;
    expect(req).not.toHaveProperty(field);
    for (const other of GATEWAY_UPDATE_FIELDS) if (other !== field) expect(json(req[other]), other).toBe(json(live[other]));
  });

  it('accepts the unchanged name', () => {
    expect(buildGatewayUpdate(liveGateway(), { set: { name: 'my-gateway' } as never }).name).toBe('my-gateway');
  });

  it('switches the policy engine mode, keeping the engine', () => {
    const live = liveGateway();
    const req = buildGatewayUpdate(live, { policyEngine: { mode: 'ENFORCE' } });
    expect(req.policyEngineConfiguration).toEqual({ arn: live.policyEngineConfiguration!.arn, mode: 'ENFORCE' });
    for (const f of GATEWAY_UPDATE_FIELDS) if (f !== 'policyEngineConfiguration') expect(json((req as unknown as Record<string, unknown>)[f]), f).toBe(json((live as unknown as Record<string, unknown>)[f]));
  });

  it('attaches a new policy engine and detaches one', () => {
    const next = GATEWAY_NEW_VALUES.policyEngineConfiguration as { arn: string; mode: 'ENFORCE' };
    expect(buildGatewayUpdate(liveGateway(), { policyEngine: { arn: next.arn, mode: next.mode } }).policyEngineConfiguration).toEqual(next);
    const without = liveGateway();
    delete without.policyEngineConfiguration;
    expect(buildGatewayUpdate(without, { policyEngine: { arn: next.arn, mode: 'LOG_ONLY' } }).policyEngineConfiguration).toEqual({ ...next, mode: 'LOG_ONLY' });
    expect(buildGatewayUpdate(liveGateway(), { policyEngine: { detach: true } })).not.toHaveProperty('policyEngineConfiguration');
  });

  it('keeps exceptionLevel (omitting it would reset it to generic errors)', () => {
    expect(buildGatewayUpdate(liveGateway(), { policyEngine: { mode: 'ENFORCE' } }).exceptionLevel).toBe('DEBUG');
  });

  it('shares no object with its inputs and leaves them untouched', () => {
    const live = liveGateway();
    const change: GatewayChange = { set: { interceptorConfigurations: GATEWAY_NEW_VALUES.interceptorConfigurations as never }, policyEngine: { mode: 'ENFORCE' } };
    const before = structuredClone({ live, change });
    const req = buildGatewayUpdate(live, change);
    expect({ live, change }).toEqual(before);
    req.interceptorConfigurations![0].interceptionPoints!.push('REQUEST');
    (req.wafConfiguration as Record<string, unknown>).failureMode = 'FAIL_OPEN';
    (req.authorizerConfiguration as { customJWTAuthorizer: { allowedAudience: string[] } }).customJWTAuthorizer.allowedAudience.push('x');
    expect({ live, change }).toEqual(before);
  });
});

describe('buildGatewayUpdate: refusals', () => {
  const unknownUnion = { $unknown: ['a2a', { secret: SECRET }] };

  it.each([
    ['protocolConfiguration', (l: Record<string, unknown>) => void (l.protocolConfiguration = unknownUnion)],
    ['authorizerConfiguration', (l: Record<string, unknown>) => void (l.authorizerConfiguration = unknownUnion)],
    ['interceptorConfigurations[0].interceptor', (l: Record<string, unknown>) => void ((l.interceptorConfigurations as Record<string, unknown>[])[0].interceptor = unknownUnion)],
    [
      'interceptorConfigurations[0].inputConfiguration.payloadFilter.exclude[0]',
      (l: Record<string, unknown>) => {
        const ic = (l.interceptorConfigurations as { inputConfiguration: { payloadFilter: { exclude: unknown[] } } }[])[0];
        ic.inputConfiguration.payloadFilter.exclude[0] = unknownUnion;
      },
    ],
  ])('refuses a live unknown union member at %s', (path, mutate) => {
    const live = liveGateway() as unknown as Record<string, unknown>;
    mutate(live);
    expectRefusal(() => buildGatewayUpdate(live, {}), UnknownUnionMemberError, path);
  });

  it('refuses an unknown union member in the change', () => {
    expectRefusal(() => buildGatewayUpdate(liveGateway(), { set: { protocolConfiguration: unknownUnion as never } }), UnknownUnionMemberError, 'protocolConfiguration');
  });

  it('refuses a live gateway without roleArn unless the change sets one', () => {
    const live = liveGateway();
    delete live.roleArn;
    expectRefusal(() => buildGatewayUpdate(live, {}), LiveRoleArnMissingError, 'roleArn');
    expect(buildGatewayUpdate(live, { set: { roleArn: GATEWAY_NEW_VALUES.roleArn as string } }).roleArn).toBe(GATEWAY_NEW_VALUES.roleArn);
  });

  it('refuses a live gateway without gatewayId, name or authorizerType', () => {
    for (const field of ['gatewayId', 'name', 'authorizerType'] as const) {
      const live = liveGateway();
      delete live[field];
      expectRefusal(() => buildGatewayUpdate(live, {}), LiveFieldMissingError, field);
    }
  });

  it('refuses a live field it does not know how to carry', () => {
    expectRefusal(() => buildGatewayUpdate({ ...liveGateway(), futureConfiguration: {} } as never, {}), UnmappedLiveFieldError, 'futureConfiguration');
  });

  it('refuses a CUSTOM_JWT gateway without authorizerConfiguration', () => {
    expectRefusal(() => buildGatewayUpdate(liveGateway(), { unset: ['authorizerConfiguration'] }), InvalidUpdateRequestError, 'authorizerConfiguration');
    expect(buildGatewayUpdate(liveGateway(), { set: { authorizerType: 'AWS_IAM' }, unset: ['authorizerConfiguration'] })).not.toHaveProperty('authorizerConfiguration');
  });

  it('refuses a policy engine mode change when no engine is attached', () => {
    const live = liveGateway();
    delete live.policyEngineConfiguration;
    expectRefusal(() => buildGatewayUpdate(live, { policyEngine: { mode: 'ENFORCE' } }), InvalidChangeError, 'policyEngineConfiguration');
  });

  it.each<[string, GatewayChange, string]>([
    ['a name change', { set: { name: 'other-name' } as never }, 'name'],
    ['a name unset', { unset: ['name' as GatewayOptionalField] }, 'name'],
    ['roleArn unset', { unset: ['roleArn' as GatewayOptionalField] }, 'roleArn'],
    ['a policyEngine op and a set of the same field', { policyEngine: { detach: true }, set: { policyEngineConfiguration: GATEWAY_NEW_VALUES.policyEngineConfiguration as never } }, 'policyEngineConfiguration'],
    ['a policyEngine op and an unset of the same field', { policyEngine: { mode: 'ENFORCE' }, unset: ['policyEngineConfiguration'] }, 'policyEngineConfiguration'],
    ['an invalid mode', { policyEngine: { mode: 'AUDIT' as never } }, 'policyEngineConfiguration.mode'],
    ['an invalid engine arn', { policyEngine: { arn: 'arn:aws:iam::123456789012:role/x', mode: 'ENFORCE' } }, 'policyEngineConfiguration.arn'],
    ['detach mixed with a mode', { policyEngine: { detach: true, mode: 'ENFORCE' } as never }, 'policyEngine'],
    ['an invalid description', { set: { description: SECRET.repeat(50) } }, 'description'],
    ['an invalid kmsKeyArn', { set: { kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:alias/x' } }, 'kmsKeyArn'],
    ['three interceptors', { set: { interceptorConfigurations: [1, 2, 3].map(() => (GATEWAY_NEW_VALUES.interceptorConfigurations as unknown[])[0]) as never } }, 'interceptorConfigurations'],
    ['an unknown change key', { policyEngineMode: 'ENFORCE' } as never, 'policyEngineMode'],
    ['the same field set and unset', { set: { kmsKeyArn: GATEWAY_NEW_VALUES.kmsKeyArn as string }, unset: ['kmsKeyArn'] }, 'kmsKeyArn'],
    ['the identity set', { set: { gatewayIdentifier: 'x-abcdefghij' } as never }, 'gatewayIdentifier'],
  ])('refuses a change with %s', (_label, change, field) => {
    expectRefusal(() => buildGatewayUpdate(liveGateway(), change), InvalidChangeError, field);
  });
});
