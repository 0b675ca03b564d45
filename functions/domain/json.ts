/**
 * JSON-value helpers shared by the update builders, the client token and the diff. Semantics follow
 * JSON.stringify (what the SDK puts on the wire): an `undefined` member is absent, `null` is a
 * value, a Date is its ISO string. Object keys such as `__proto__` are handled as plain data.
 */
import { isPlainObject } from '../lib/model/validate.ts';

export { isPlainObject };

/** True when `v` is neither undefined nor null (how the SDK decides whether to send a member). */
export function isPresent(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** Own property check that does not trip over `__proto__` or a null prototype. */
export function hasOwn(o: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

/**
 * Deep copy of a JSON-like value: plain objects and arrays are rebuilt (undefined members dropped,
 * as on the wire), Dates are cloned, other values are returned as they are.
 */
export function deepCopy<T>(value: T): T {
  return copy(value) as T;
}

function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copy);
  if (value instanceof Date) return new Date(value.getTime());
  if (isPlainObject(value)) {
    const entries: [string, unknown][] = [];
    for (const [k, v] of Object.entries(value)) if (v !== undefined) entries.push([k, copy(v)]);
    // fromEntries defines own data properties, so a "__proto__" key stays a key.
    return Object.fromEntries(entries);
  }
  return value;
}

/**
 * Canonical JSON: JSON.stringify semantics with object keys sorted by UTF-16 code unit at every
 * level, so two values that serialize to the same request produce the same text.
 */
export function canonicalJson(value: unknown): string | undefined {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value === null) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toJSON());
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'bigint') throw new TypeError('canonicalJson: bigint is not JSON');
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v) ?? 'null').join(',')}]`;
  if (typeof value === 'object') {
    const parts: string[] = [];
    for (const k of Object.keys(value).sort()) {
      const v = canonicalJson((value as Record<string, unknown>)[k]);
      if (v !== undefined) parts.push(`${JSON.stringify(k)}:${v}`);
    }
    return `{${parts.join(',')}}`;
  }
  return undefined;
}

/** Equality of what two values would serialize to (key order and undefined members ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
