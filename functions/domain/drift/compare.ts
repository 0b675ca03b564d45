/**
 * Declared-vs-live comparison for drift detection. Only the fields the operator declared are
 * compared, after normalising what the service fills in by itself, so defaults never show as drift.
 */
import { isDeepStrictEqual } from 'node:util';

/** One drifted leaf: JSON-pointer `path` into the update fields, live value `from`, declared `to`. */
export interface FieldDrift {
  path: string;
  from: unknown;
  to: unknown;
}

/** Server-side defaults the AgentCore API fills in when a field is omitted (agentcore-api.md §3). */
export const RUNTIME_DEFAULTS: Readonly<Record<string, unknown>> = Object.freeze({
  lifecycleConfiguration: Object.freeze({ idleRuntimeSessionTimeout: 900, maxLifetime: 28800 }),
});

/** Lists whose order the service does not preserve or give meaning to: compared as sets. */
const SET_LIKE = new Set([
  '/networkConfiguration/networkModeConfig/securityGroups',
  '/networkConfiguration/networkModeConfig/subnets',
  '/authorizerConfiguration/customJWTAuthorizer/allowedAudience',
  '/authorizerConfiguration/customJWTAuthorizer/allowedClients',
  '/authorizerConfiguration/customJWTAuthorizer/allowedScopes',
  '/requestHeaderConfiguration/requestHeaderAllowlist',
  '/protocolConfiguration/mcp/supportedVersions',
]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** Escapes one JSON-pointer segment (RFC 6901). */
export const pointerSegment = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** Splits a JSON pointer into unescaped segments. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer.replace(/^\//, '').split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** True when `path` equals an ignore pattern or lies under it; `*` matches one segment. */
export function isIgnored(path: string, ignore: readonly string[]): boolean {
  const segs = pointerSegments(path);
  return ignore.some((pattern) => {
    const p = pointerSegments(pattern);
    if (p.length > segs.length) return false;
    return p.every((seg, i) => seg === '*' || seg === segs[i]);
  });
}

/** Treats absent, null, empty list and empty map as the same "nothing". */
function isEmptyish(v: unknown): boolean {
  return v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);
}

function valuesEqual(path: string, a: unknown, b: unknown): boolean {
  if (isEmptyish(a) && isEmptyish(b)) return true;
  if (Array.isArray(a) && Array.isArray(b) && SET_LIKE.has(path.replace(/\/\d+$/, ''))) {
    const key = (x: unknown) => JSON.stringify(x);
    return a.length === b.length && isDeepStrictEqual([...a].map(key).sort(), [...b].map(key).sort());
  }
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => valuesEqual(`${path}/${pointerSegment(k)}`, a[k], b[k]));
  }
  return isDeepStrictEqual(a, b);
}

/** Fills the server-side defaults into a copy of a live runtime's update fields. */
export function normalizeRuntimeFields(live: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(live);
  for (const [field, defaults] of Object.entries(RUNTIME_DEFAULTS)) {
    const current = out[field];
    out[field] = { ...(defaults as object), ...(isObject(current) ? current : {}) };
  }
  return out;
}

/**
 * Compares the declared fields with the live ones. Objects are walked key by key (only declared
 * keys count, so an undeclared env var or header is never drift); lists and scalars are compared
 * as whole values. Paths under an `ignore` pattern are skipped.
 */
export function compareDeclared(
  declared: Record<string, unknown>,
  live: Record<string, unknown>,
  ignore: readonly string[] = [],
): FieldDrift[] {
  const out: FieldDrift[] = [];
  const walk = (path: string, want: unknown, have: unknown) => {
    if (isIgnored(path, ignore)) return;
    if (isObject(want) && Object.keys(want).length > 0) {
      const haveObj = isObject(have) ? have : {};
      for (const key of Object.keys(want).sort()) {
        walk(`${path}/${pointerSegment(key)}`, want[key], haveObj[key]);
      }
      return;
    }
    if (!valuesEqual(path, want, have)) out.push({ path, from: structuredClone(have), to: structuredClone(want) });
  };
  for (const key of Object.keys(declared).sort()) walk(`/${pointerSegment(key)}`, declared[key], live[key]);
  return out;
}

/**
 * The value to send for one top-level field so that the declared leaves win and everything
 * else (undeclared keys, ignored paths) keeps its live value: a deep merge of declared onto live.
 */
export function mergeDeclared(
  live: unknown,
  declared: unknown,
  path: string,
  ignore: readonly string[] = [],
  unionPaths: ReadonlySet<string> = new Set(),
): unknown {
  if (isIgnored(path, ignore)) return structuredClone(live);
  if (isObject(declared) && Object.keys(declared).length > 0) {
    // A union switching member (container -> code artifact) is replaced, never merged into two members.
    const switchesMember = unionPaths.has(path) && isObject(live)
      && Object.keys(live).some((k) => !(k in declared));
    const base: Record<string, unknown> = isObject(live) && !switchesMember ? structuredClone(live) : {};
    for (const [k, v] of Object.entries(declared)) {
      const merged = mergeDeclared(base[k], v, `${path}/${pointerSegment(k)}`, ignore, unionPaths);
      if (merged === undefined) delete base[k]; else base[k] = merged;
    }
    return base;
  }
  return structuredClone(declared);
}

/** Minimal view of the service model needed to find union-typed fields. */
export interface ShapeIndex {
  shapes: Record<string, { type: string; union?: boolean; members?: Record<string, { shape: string }> }>;
}

/** JSON-pointer paths (through structures only) whose shape is a union, starting at `shapeName`. */
export function unionPathsOf(model: ShapeIndex, shapeName: string): Set<string> {
  const out = new Set<string>();
  const walk = (name: string, path: string, depth: number) => {
    const shape = model.shapes[name];
    if (!shape || shape.type !== 'structure' || depth > 8) return;
    if (shape.union && path) out.add(path);
    for (const [k, m] of Object.entries(shape.members ?? {})) walk(m.shape, `${path}/${pointerSegment(k)}`, depth + 1);
  };
  walk(shapeName, '', 0);
  return out;
}
