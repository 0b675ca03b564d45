import type { GetAgentRuntimeCommandOutput } from '@aws-sdk/client-bedrock-agentcore-control';
/**
 * Property tests over arbitrary valid live resources and changes (generated from the service
 * model, see model-arbitraries.ts). Oracles here are written independently of the domain code.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, expect, it } from 'vitest';
import { CLIENT_TOKEN_PATTERN, runtimeClientToken } from '../../functions/domain/client-token.ts';
import { diffConfig, type FieldChange } from '../../functions/domain/diff.ts';
import {
  GATEWAY_OPTIONAL_FIELDS,
  GATEWAY_UPDATE_FIELDS,
  buildGatewayUpdate,
  type GatewayChange,
} from '../../functions/domain/gateway-update.ts';
import { redactChanges, redactGateway, redactRuntime } from '../../functions/domain/redact.ts';
import {
  RUNTIME_OPTIONAL_FIELDS,
  RUNTIME_UPDATE_FIELDS,
  buildRuntimeUpdate,
  type RuntimeChange,
} from '../../functions/domain/runtime-update.ts';
import { agentCoreModel, validateShape } from '../../functions/lib/model/validate.ts';
import { SECRET } from './fixtures.ts';
import { arbitraryForShape, arbitraryForStructure } from './model-arbitraries.ts';

const RUNS = { numRuns: 1000 };

// Secret-bearing shapes get values carrying the SECRET marker, so leaks can be searched for.
const secret = (max: number) => fc.string({ maxLength: max }).map((s) => `${SECRET}${s}`);
const overrides = {
  EnvironmentVariableValue: secret(10),
  Description: secret(10),
  GatewayDescription: secret(10),
  McpInstructions: secret(10),
};
const envKey = arbitraryForShape('EnvironmentVariableKey') as fc.Arbitrary<string>;

// ---------- independent oracles ----------

/** JSON text with sorted keys (what the SDK would send, key order aside). */
function stable(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || v instanceof Date) return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => stable(x) ?? 'null').join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stable(o[k])}`)
    .join(',')}}`;
}
const same = (a: unknown, b: unknown) => stable(a) === stable(b);

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

function objectsOf(v: unknown, into = new Set<object>()): Set<object> {
  if (v && typeof v === 'object') {
    into.add(v);
    for (const x of Object.values(v)) objectsOf(x, into);
  }
  return into;
}

function expectNoSharedObjects(result: unknown, ...inputs: unknown[]) {
  const inputObjects = new Set<object>();
  for (const i of inputs) objectsOf(i, inputObjects);
  const shared = [...objectsOf(result)].filter((o) => inputObjects.has(o));
  assert.equal(shared.length, 0, 'result shares objects with its inputs');
}

const omit = (o: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

// ---------- runtime ----------

const liveRuntimeArb = arbitraryForStructure('GetAgentRuntimeResponse', { alsoRequired: ['agentRuntimeArtifact'], overrides }).map((l) => ({
  $metadata: { httpStatusCode: 200, requestId: 'r' },
  ...l,
}) as GetAgentRuntimeCommandOutput & Record<string, unknown>);

const runtimeFieldArbs = Object.fromEntries(
  RUNTIME_UPDATE_FIELDS.map((f) => [f, arbitraryForShape(agentCoreModel.shapes.UpdateAgentRuntimeRequest.members![f].shape, { overrides })]),
);

function runtimeChangeArb(live: Record<string, unknown>): fc.Arbitrary<RuntimeChange> {
  const liveEnvKeys = Object.keys((live.environmentVariables as object | undefined) ?? {});
  const unsetKey = fc.oneof(envKey, fc.constantFrom('NOT_THERE', ...liveEnvKeys));
  return fc
    .record({
      set: fc.subarray([...RUNTIME_UPDATE_FIELDS]).chain((fields) => fc.record(Object.fromEntries(fields.map((f) => [f, runtimeFieldArbs[f]])), { noNullPrototype: true })),
      unset: fc.subarray([...RUNTIME_OPTIONAL_FIELDS]),
      containerUri: fc.option(arbitraryForShape('RuntimeContainerUri') as fc.Arbitrary<string>, { nil: undefined }),
      env: fc.option(
        fc.record({ set: fc.dictionary(envKey, overrides.EnvironmentVariableValue, { maxKeys: 3, noNullPrototype: true }), unset: fc.array(unsetKey, { maxLength: 3 }) }, { requiredKeys: [] }),
        { nil: undefined },
      ),
    })
    .map(({ set, unset, containerUri, env }) => {
      // Keep the change self-consistent (conflicts are covered by the example tests).
      const change: RuntimeChange = {};
      if (Object.keys(set).length > 0) change.set = set as RuntimeChange['set'];
      const unsetOk = unset.filter((f) => !(f in set));
      if (unsetOk.length > 0) change.unset = unsetOk;
      if (containerUri !== undefined && !('agentRuntimeArtifact' in set)) change.containerUri = containerUri;
      if (env && !('environmentVariables' in set) && !unsetOk.includes('environmentVariables')) {
        change.environmentVariables = { ...env, ...(env.unset ? { unset: env.unset.filter((k) => !env.set || !(k in env.set)) } : {}) };
      }
      return change;
    });
}

const runtimeCaseArb = liveRuntimeArb.chain((live) => runtimeChangeArb(live).map((change) => ({ live, change })));

/** What the request must hold for `field`, or a refusal. */
function expectedRuntimeField(live: Record<string, unknown>, change: RuntimeChange, field: string): unknown {
  if (change.set && field in change.set) return (change.set as Record<string, unknown>)[field];
  if (change.unset?.includes(field as never)) return undefined;
  if (field === 'agentRuntimeArtifact' && change.containerUri !== undefined) {
    return { containerConfiguration: { ...(live.agentRuntimeArtifact as { containerConfiguration: object }).containerConfiguration, containerUri: change.containerUri } };
  }
  if (field === 'environmentVariables' && change.environmentVariables) {
    const env: Record<string, unknown> = { ...((live.environmentVariables as object | undefined) ?? {}) };
    for (const k of change.environmentVariables.unset ?? []) delete env[k];
    // Define, not assign: a variable named "__proto__" is data, as in the builder.
    for (const [k, v] of Object.entries(change.environmentVariables.set ?? {})) {
      Object.defineProperty(env, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return Object.keys(env).length === 0 && live.environmentVariables === undefined ? undefined : env;
  }
  return live[field];
}

describe('buildRuntimeUpdate properties', () => {
  // One property per resource keeps the 1000 runs cheap: generation dominates the cost.
  it('keeps untouched fields byte for byte, sets exactly the changed ones, mutates nothing, leaks nothing, mints a stable token', () => {
    fc.assert(
      fc.property(runtimeCaseArb, ({ live, change }) => {
        // The generators follow the model: the live runtime is one the service could return.
        assert.deepEqual(validateShape('GetAgentRuntimeResponse', live), []);
        const snapshot = stable({ live, change });
        deepFreeze(live);
        deepFreeze(change);
        const artifactKind = Object.keys(live.agentRuntimeArtifact as object)[0];
        if (change.containerUri !== undefined && artifactKind !== 'containerConfiguration') {
          assert.throws(() => buildRuntimeUpdate(live, change), (e: Error) => e.name === 'ArtifactKindMismatchError' && !e.message.includes(SECRET));
          return;
        }
        const request = buildRuntimeUpdate(live, change) as unknown as Record<string, unknown>;
        assert.equal(stable({ live, change }), snapshot, 'inputs mutated');

        const expectedKeys = ['agentRuntimeId', 'clientToken'];
        const wrong: string[] = [];
        for (const field of RUNTIME_UPDATE_FIELDS) {
          const expected = expectedRuntimeField(live, change, field);
          if (expected === undefined) continue;
          expectedKeys.push(field);
          // Fields the change does not name: the exact bytes; set or patched ones: the same JSON value.
          const named = (change.set && field in change.set) || (field === 'environmentVariables' && change.environmentVariables);
          const ok = named ? same(request[field], expected) : JSON.stringify(request[field]) === JSON.stringify(expected);
          if (!ok) wrong.push(field);
        }
        assert.deepEqual(wrong, []);
        assert.deepEqual(Object.keys(request).sort(), expectedKeys.sort());
        assert.equal(request.agentRuntimeId, live.agentRuntimeId);
        assert.deepEqual(validateShape('UpdateAgentRuntimeRequest', request), []);
        expectNoSharedObjects(request, live, change);

        // Token: the documented derivation, and it moves exactly when the request moves.
        const body = omit(request, 'clientToken');
        assert.equal(request.clientToken, runtimeClientToken(live.agentRuntimeId as string, live.agentRuntimeVersion as string, body));
        const unchanged = buildRuntimeUpdate(live, {});
        assert.equal(request.clientToken !== unchanged.clientToken, !same(body, omit(unchanged as unknown as Record<string, unknown>, 'clientToken')));

        const shown = JSON.stringify([redactRuntime(live), redactRuntime(request), redactChanges(diffConfig(omit(live, '$metadata'), request))]);
        assert.ok(!shown.includes(SECRET), 'secret leaked');
      }),
      RUNS,
    );
  });
});

// ---------- gateway ----------

const liveGatewayArb = arbitraryForStructure('GetGatewayResponse', { alsoRequired: ['roleArn'], overrides });
const gatewayFieldArbs = Object.fromEntries(
  GATEWAY_UPDATE_FIELDS.map((f) => [f, arbitraryForShape(agentCoreModel.shapes.UpdateGatewayRequest.members![f].shape, { overrides })]),
);
const modeArb = fc.constantFrom('LOG_ONLY' as const, 'ENFORCE' as const);

function gatewayChangeArb(live: Record<string, unknown>): fc.Arbitrary<GatewayChange> {
  const settable = GATEWAY_UPDATE_FIELDS.filter((f) => f !== 'name');
  return fc
    .record({
      set: fc.subarray(settable).chain((fields) => fc.record(Object.fromEntries(fields.map((f) => [f, gatewayFieldArbs[f]])), { noNullPrototype: true })),
      sameName: fc.boolean(),
      unset: fc.subarray([...GATEWAY_OPTIONAL_FIELDS]),
      policyEngine: fc.option(
        fc.oneof(
          modeArb.map((mode) => ({ mode })),
          fc.record({ arn: arbitraryForShape('GatewayPolicyEngineArn') as fc.Arbitrary<string>, mode: modeArb }),
          fc.constant({ detach: true as const }),
        ),
        { nil: undefined },
      ),
    })
    .map(({ set, sameName, unset, policyEngine }) => {
      const change: GatewayChange = {};
      const s = { ...set } as Record<string, unknown>;
      if (sameName) s.name = live.name;
      if (Object.keys(s).length > 0) change.set = s as GatewayChange['set'];
      const unsetOk = unset.filter((f) => !(f in s));
      if (unsetOk.length > 0) change.unset = unsetOk;
      if (policyEngine && !('policyEngineConfiguration' in s) && !unsetOk.includes('policyEngineConfiguration')) change.policyEngine = policyEngine;
      return change;
    });
}

const gatewayCaseArb = liveGatewayArb.chain((live) => gatewayChangeArb(live).map((change) => ({ live, change })));

function expectedGatewayField(live: Record<string, unknown>, change: GatewayChange, field: string): unknown {
  if (field === 'policyEngineConfiguration' && change.policyEngine) {
    const pe = change.policyEngine;
    if (pe.detach) return undefined;
    if (pe.arn !== undefined) return { arn: pe.arn, mode: pe.mode };
    return { ...(live.policyEngineConfiguration as object), mode: pe.mode };
  }
  if (change.set && field in change.set) return (change.set as Record<string, unknown>)[field];
  if (change.unset?.includes(field as never)) return undefined;
  return live[field];
}

describe('buildGatewayUpdate properties', () => {
  it('keeps every untouched field byte for byte, sets exactly the changed ones, never sends webAclArn, mutates nothing', () => {
    fc.assert(
      fc.property(gatewayCaseArb, ({ live, change }) => {
        assert.deepEqual(validateShape('GetGatewayResponse', live), []);
        const snapshot = stable({ live, change });
        deepFreeze(live);
        deepFreeze(change);
        const pe = change.policyEngine;
        if (pe && !pe.detach && pe.arn === undefined && live.policyEngineConfiguration === undefined) {
          assert.throws(() => buildGatewayUpdate(live, change), { name: 'InvalidChangeError' });
          return;
        }
        const finalType = expectedGatewayField(live, change, 'authorizerType');
        if (finalType === 'CUSTOM_JWT' && expectedGatewayField(live, change, 'authorizerConfiguration') === undefined) {
          assert.throws(() => buildGatewayUpdate(live, change), { name: 'InvalidUpdateRequestError' });
          return;
        }
        const request = buildGatewayUpdate(live, change) as unknown as Record<string, unknown>;
        assert.equal(stable({ live, change }), snapshot, 'inputs mutated');
        const expectedKeys = ['gatewayIdentifier'];
        const wrong: string[] = [];
        for (const field of GATEWAY_UPDATE_FIELDS) {
          const expected = expectedGatewayField(live, change, field);
          if (expected === undefined) continue;
          expectedKeys.push(field);
          const ok = field === 'policyEngineConfiguration' && change.policyEngine
            ? same(request[field], expected)
            : JSON.stringify(request[field]) === JSON.stringify(expected);
          if (!ok) wrong.push(field);
        }
        assert.deepEqual(wrong, []);
        assert.deepEqual(Object.keys(request).sort(), expectedKeys.sort());
        assert.equal(request.gatewayIdentifier, live.gatewayId);
        assert.ok(!('webAclArn' in request));
        assert.deepEqual(validateShape('UpdateGatewayRequest', request), []);
        expectNoSharedObjects(request, live, change);
        assert.ok(!JSON.stringify([redactGateway(request), redactChanges(diffConfig(live, request))]).includes(SECRET), 'secret leaked');
      }),
      RUNS,
    );
  });
});

// ---------- client token ----------

describe('runtimeClientToken properties', () => {
  const idArb = fc.oneof(arbitraryForShape('AgentRuntimeId') as fc.Arbitrary<string>, fc.string());
  const versionArb = fc.oneof(arbitraryForShape('AgentRuntimeVersion') as fc.Arbitrary<string>, fc.string());
  const requestArb = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5, noNullPrototype: true });

  it('is valid for the API pattern and length, and the same for the same inputs (key order aside)', () => {
    fc.assert(
      fc.property(idArb, versionArb, requestArb, fc.string({ minLength: 33, maxLength: 40 }), (id, version, request, token) => {
        const t = runtimeClientToken(id, version, request);
        assert.match(t, CLIENT_TOKEN_PATTERN);
        assert.deepEqual(validateShape('ClientToken', t), []);
        const reordered = Object.fromEntries(Object.entries(structuredClone(request)).reverse());
        assert.equal(runtimeClientToken(id, version, reordered), t);
        // The token in the request does not feed the token.
        assert.equal(runtimeClientToken(id, version, { ...request, clientToken: token }), runtimeClientToken(id, version, omit(request, 'clientToken')));
      }),
      RUNS,
    );
  });

  it('differs when the runtime, the live version or the request differs', () => {
    fc.assert(
      fc.property(idArb, idArb, versionArb, versionArb, requestArb, requestArb, (id1, id2, v1, v2, r1, r2) => {
        const t = runtimeClientToken(id1, v1, r1);
        if (id1 !== id2) assert.notEqual(runtimeClientToken(id2, v1, r1), t);
        if (v1 !== v2) assert.notEqual(runtimeClientToken(id1, v2, r1), t);
        if (!same(omit(r1, 'clientToken'), omit(r2, 'clientToken'))) assert.notEqual(runtimeClientToken(id1, v1, r2), t);
      }),
      RUNS,
    );
  });
});

// ---------- diff ----------

function decodePointer(p: string): string[] {
  return p === '' ? [] : p.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Applies changes to a copy of `doc`, checking each change's `from` against what is there. */
function applyChanges(doc: unknown, changes: FieldChange[]): unknown {
  let root = doc === undefined ? undefined : structuredClone(doc);
  for (const c of changes) {
    const tokens = decodePointer(c.path);
    if (tokens.length === 0) {
      assert.ok(same(root, c.from));
      root = c.to === undefined ? undefined : structuredClone(c.to);
      continue;
    }
    let parent = root as Record<string, unknown>;
    for (const t of tokens.slice(0, -1)) parent = parent[t] as Record<string, unknown>;
    assert.ok(parent !== null && typeof parent === 'object' && !Array.isArray(parent), `no object at ${c.path}`);
    const key = tokens[tokens.length - 1];
    const current = Object.prototype.hasOwnProperty.call(parent, key) ? parent[key] : undefined;
    assert.ok(same(current, c.from), `from does not match at ${c.path}`);
    if (c.kind === 'added') assert.equal(current, undefined);
    if (c.kind === 'removed') {
      assert.equal(c.to, undefined);
      delete parent[key];
    } else {
      assert.notEqual(c.to, undefined);
      Object.defineProperty(parent, key, { value: structuredClone(c.to), enumerable: true, writable: true, configurable: true });
    }
  }
  return root;
}

const jsonArb = fc.jsonValue({ maxDepth: 4 });
const nearPairArb = liveRuntimeArb.chain((live) => runtimeChangeArb(live).map((change) => {
  try {
    return [omit(live, '$metadata'), buildRuntimeUpdate(live, change)] as [unknown, unknown];
  } catch {
    return [live, live] as [unknown, unknown];
  }
}));
const pairArb = fc.oneof(fc.tuple(jsonArb, jsonArb), jsonArb.map((v) => [v, structuredClone(v)] as [unknown, unknown]), nearPairArb);

describe('diffConfig properties', () => {
  it('is empty exactly for JSON-equal values, applies from `from` to `to`, is antisymmetric and ordered, copies', () => {
    fc.assert(
      fc.property(pairArb, ([a, b]) => {
        const snapshot = stable([a, b]);
        const forward = diffConfig(a, b);
        assert.equal(stable([a, b]), snapshot, 'inputs mutated');
        assert.equal(forward.length === 0, same(a, b));
        assert.ok(same(applyChanges(a, forward), b), 'applying the diff does not give `to`');
        const flip = { added: 'removed', removed: 'added', changed: 'changed' } as const;
        assert.deepEqual(diffConfig(b, a), forward.map((c) => ({ path: c.path, kind: flip[c.kind], from: c.to, to: c.from })));
        const keys = forward.map((c) => decodePointer(c.path));
        for (let i = 1; i < keys.length; i++) {
          const [p, q] = [keys[i - 1], keys[i]];
          // Strictly increasing token sequences, none a prefix of another (no path under a reported one).
          const n = Math.min(p.length, q.length);
          const firstDiff = p.findIndex((t, j) => j < n && t !== q[j]);
          assert.ok(firstDiff >= 0 && p[firstDiff] < q[firstDiff], `paths out of order: ${forward[i - 1].path} ${forward[i].path}`);
        }
        expectNoSharedObjects(forward, a, b);
      }),
      RUNS,
    );
  });
});
