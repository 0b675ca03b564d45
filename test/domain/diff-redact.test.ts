import { describe, expect, it } from 'vitest';
import { changedTopLevelFields, diffConfig, parsePointer, toPointer, type FieldChange } from '../../functions/domain/diff.ts';
import {
  GATEWAY_SENSITIVE_PATHS,
  REDACTED,
  RUNTIME_SENSITIVE_PATHS,
  SENSITIVE_PATHS,
  redactChanges,
  redactGateway,
  redactRuntime,
  sensitivePathsOf,
} from '../../functions/domain/redact.ts';
import { buildRuntimeUpdate } from '../../functions/domain/runtime-update.ts';
import type { ServiceModel } from '../../functions/lib/model/validate.ts';
import { SECRET, liveGateway, liveRuntime } from './fixtures.ts';

describe('diffConfig', () => {
  it('reports leaf changes of structures and maps with JSON Pointer paths, in sorted order', () => {
    const from = { b: { y: 1, x: 'a' }, a: [1, 2], env: { 'K/1': 'v', 'K~2': 'w' }, gone: true };
    const to = { a: [1, 3], b: { x: 'b', y: 1, z: null }, env: { 'K/1': 'v2', 'K~2': 'w' }, added: { deep: { er: 1 } } };
    expect(diffConfig(from, to)).toEqual<FieldChange[]>([
      { path: '/a', kind: 'changed', from: [1, 2], to: [1, 3] },
      { path: '/added', kind: 'added', from: undefined, to: { deep: { er: 1 } } },
      { path: '/b/x', kind: 'changed', from: 'a', to: 'b' },
      { path: '/b/z', kind: 'added', from: undefined, to: null },
      { path: '/env/K~11', kind: 'changed', from: 'v', to: 'v2' },
      { path: '/gone', kind: 'removed', from: true, to: undefined },
    ]);
  });

  it('is empty for equal values whatever their key order, and ignores undefined members', () => {
    expect(diffConfig({ a: 1, b: { c: [1, { d: 2 }] }, u: undefined }, { b: { c: [1, { d: 2 }] }, a: 1 })).toEqual([]);
    expect(diffConfig(undefined, undefined)).toEqual([]);
    expect(diffConfig({ t: new Date(5) }, { t: new Date(5) })).toEqual([]);
  });

  it('reports type changes and root changes whole', () => {
    expect(diffConfig({ a: { b: 1 } }, { a: [1] })).toEqual([{ path: '/a', kind: 'changed', from: { b: 1 }, to: [1] }]);
    expect(diffConfig(1, 2)).toEqual([{ path: '', kind: 'changed', from: 1, to: 2 }]);
    expect(diffConfig(undefined, { a: 1 })).toEqual([{ path: '', kind: 'added', from: undefined, to: { a: 1 } }]);
  });

  it('distinguishes removing a whole object from emptying it', () => {
    expect(diffConfig({ a: { b: 1 } }, {})).toEqual([{ path: '/a', kind: 'removed', from: { b: 1 }, to: undefined }]);
    expect(diffConfig({ a: { b: 1 } }, { a: {} })).toEqual([{ path: '/a/b', kind: 'removed', from: 1, to: undefined }]);
  });

  it('returns copies: changing the result or the inputs afterwards does not affect the other', () => {
    const from = { a: { b: [1] } };
    const to = { a: { b: [2] } };
    const changes = diffConfig(from, to);
    (changes[0].to as number[]).push(3);
    expect(to.a.b).toEqual([2]);
  });

  it('round-trips JSON Pointer escapes and names top-level fields', () => {
    for (const tokens of [[], [''], ['a/b', '~c', '~1'], ['__proto__']]) expect(parsePointer(toPointer(tokens))).toEqual(tokens);
    expect(changedTopLevelFields(diffConfig({ a: { b: 1 }, c: 1 }, { a: { b: 2 }, c: 2, d: 1 }))).toEqual(['a', 'c', 'd']);
  });

  it('lists what an update changes on the live runtime', () => {
    const live = liveRuntime();
    const request = buildRuntimeUpdate(live, { containerUri: 'public.ecr.aws/team/agent:v2', environmentVariables: { set: { LOG_LEVEL: `${SECRET}-debug` } } });
    const { clientToken: _t, agentRuntimeId: _i, ...body } = request;
    const liveBody = Object.fromEntries(Object.entries(live).filter(([k]) => k in body));
    expect(diffConfig(liveBody, body).map((c) => [c.path, c.kind])).toEqual([
      ['/agentRuntimeArtifact/containerConfiguration/containerUri', 'changed'],
      ['/environmentVariables/LOG_LEVEL', 'changed'],
    ]);
  });
});

describe('redaction', () => {
  it('derives the sensitive paths from the model', () => {
    expect(RUNTIME_SENSITIVE_PATHS).toEqual(['/description', '/environmentVariables/*']);
    expect(GATEWAY_SENSITIVE_PATHS).toEqual(['/description', '/protocolConfiguration/mcp/instructions']);
    expect(SENSITIVE_PATHS).toEqual(['/description', '/environmentVariables/*', '/protocolConfiguration/mcp/instructions']);
  });

  it('derives paths for sensitive strings, maps, lists and structures, through lists and maps', () => {
    const svc: ServiceModel = {
      metadata: {},
      operations: {},
      shapes: {
        Root: { type: 'structure', members: { s: { shape: 'Secret' }, m: { shape: 'SecretMap' }, l: { shape: 'Items' }, n: { shape: 'Root' }, o: { shape: 'SecretStruct' } } },
        Secret: { type: 'string', sensitive: true },
        SecretMap: { type: 'map', sensitive: true, key: { shape: 'Plain' }, value: { shape: 'Plain' } },
        Items: { type: 'list', member: { shape: 'Item' } },
        Item: { type: 'structure', members: { token: { shape: 'Secret' } } },
        SecretStruct: { type: 'structure', sensitive: true, members: {} },
        Plain: { type: 'string' },
      },
    };
    // `n` recurses into Root, which holds secrets: the recursive member is hidden whole.
    expect(sensitivePathsOf(['Root'], svc)).toEqual(['/l/*/token', '/m/*', '/n', '/o', '/s']);
    const plain: ServiceModel = { ...svc, shapes: { ...svc.shapes, Root: { type: 'structure', members: { n: { shape: 'Root' }, p: { shape: 'Plain' } } } } };
    expect(sensitivePathsOf(['Root'], plain)).toEqual([]);
  });

  it('redacts runtime environment values and description, keeping keys and everything else', () => {
    const live = liveRuntime();
    const before = structuredClone(live);
    const red = redactRuntime(live);
    expect(live).toEqual(before);
    expect(red.description).toBe(REDACTED);
    expect(red.environmentVariables).toEqual({ LOG_LEVEL: REDACTED, API_KEY: REDACTED, EMPTY: REDACTED });
    expect(red.networkConfiguration).toEqual(live.networkConfiguration);
    expect(red.createdAt).toEqual(live.createdAt);
    expect(JSON.stringify(red)).not.toContain(SECRET);
    const request = redactRuntime(buildRuntimeUpdate(live, {}));
    expect(JSON.stringify(request)).not.toContain(SECRET);
    expect(request.roleArn).toBe(live.roleArn);
  });

  it('redacts gateway description and MCP instructions', () => {
    const red = redactGateway(liveGateway());
    expect(red.description).toBe(REDACTED);
    expect((red.protocolConfiguration as { mcp: { instructions: string; supportedVersions: string[] } }).mcp).toMatchObject({
      instructions: REDACTED,
      supportedVersions: ['2025-06-18'],
    });
    expect(JSON.stringify(red)).not.toContain(SECRET);
  });

  it('redacts the payload of unknown union members', () => {
    const red = redactRuntime({ agentRuntimeArtifact: { $unknown: ['future', { token: SECRET }] } });
    expect(red).toEqual({ agentRuntimeArtifact: { $unknown: ['future', REDACTED] } });
  });

  it('shows a changed secret as changed without either value', () => {
    const from = liveRuntime();
    const to = { ...liveRuntime(), description: `${SECRET}-other`, environmentVariables: { LOG_LEVEL: `${SECRET}-debug`, NEW: `${SECRET}-n` } };
    const changes = redactChanges(diffConfig(from, to));
    expect(changes).toEqual<FieldChange[]>([
      { path: '/description', kind: 'changed', from: REDACTED, to: REDACTED },
      { path: '/environmentVariables/API_KEY', kind: 'removed', from: REDACTED, to: undefined },
      { path: '/environmentVariables/EMPTY', kind: 'removed', from: REDACTED, to: undefined },
      { path: '/environmentVariables/LOG_LEVEL', kind: 'changed', from: REDACTED, to: REDACTED },
      { path: '/environmentVariables/NEW', kind: 'added', from: undefined, to: REDACTED },
    ]);
  });

  it('redacts inside whole values: an added map, an added structure, a root diff, a malformed map', () => {
    const changes = redactChanges([
      ...diffConfig({}, { environmentVariables: { A: `${SECRET}1` }, protocolConfiguration: { mcp: { instructions: `${SECRET}2`, searchType: 'SEMANTIC' } } }),
      ...diffConfig(undefined, { description: `${SECRET}3` }),
      ...diffConfig({ environmentVariables: `${SECRET}4` }, { environmentVariables: { B: 'x' } }),
    ]);
    expect(JSON.stringify(changes)).not.toContain(SECRET);
    expect(changes[0]).toEqual({ path: '/environmentVariables', kind: 'added', from: undefined, to: { A: REDACTED } });
    expect(changes[1].to).toEqual({ mcp: { instructions: REDACTED, searchType: 'SEMANTIC' } });
    expect(changes[3]).toEqual({ path: '/environmentVariables', kind: 'changed', from: REDACTED, to: { B: REDACTED } });
  });
});
