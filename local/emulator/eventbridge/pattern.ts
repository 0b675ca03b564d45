/**
 * EventBridge event-pattern matching (pure). Semantics follow the EventBridge user guide:
 * - a pattern is a JSON object; nested objects address nested event fields, leaves are arrays of
 *   matchers and a leaf matches when ANY matcher matches (OR); all fields must match (AND);
 * - when the event value is an array, the leaf matches when any element matches;
 * - matchers: exact values (string, number compared numerically, boolean, null), `prefix`, `suffix`
 *   (both also with `equals-ignore-case`), `anything-but` (value, list, `prefix`, `suffix`,
 *   `equals-ignore-case`, `wildcard`), `exists`, `numeric` ranges, `equals-ignore-case`,
 *   `wildcard` (`*`, escape with `\*`), and `$or` (a list of alternative sub-patterns);
 * - a field absent from the event only matches `{"exists": false}`.
 */

export type EventPattern = Record<string, unknown>;

export class EventPatternError extends Error {
  constructor(message: string) {
    super(`Event pattern is not valid. Reason: ${message}`);
    this.name = 'InvalidEventPatternError';
  }
}

const NUMERIC_OPS = new Set(['<', '<=', '=', '>', '>=']);
const OPERATORS = new Set(['prefix', 'suffix', 'anything-but', 'numeric', 'exists', 'equals-ignore-case', 'wildcard', 'cidr']);

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Throws EventPatternError when `pattern` is not a valid EventBridge event pattern. Accepts a JSON string too. */
export function validatePattern(pattern: unknown): EventPattern {
  let p = pattern;
  if (typeof p === 'string') {
    try {
      p = JSON.parse(p);
    } catch {
      throw new EventPatternError('pattern is not valid JSON');
    }
  }
  if (!isObject(p)) throw new EventPatternError('pattern must be a JSON object');
  if (Object.keys(p).length === 0) throw new EventPatternError('pattern must not be empty');
  validateObject(p, '');
  return p;
}

function validateObject(obj: Record<string, unknown>, path: string): void {
  for (const [key, value] of Object.entries(obj)) {
    const here = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2) throw new EventPatternError(`"$or" at ${here} must be an array of at least 2 sub-patterns`);
      for (const [i, alt] of value.entries()) {
        if (!isObject(alt) || Object.keys(alt).length === 0) throw new EventPatternError(`"$or" alternative ${i} at ${here} must be a non-empty object`);
        validateObject(alt, path);
      }
    } else if (isObject(value)) {
      if (Object.keys(value).length === 0) throw new EventPatternError(`field ${here} has an empty object`);
      validateObject(value, here);
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new EventPatternError(`field ${here} has an empty array of values`);
      for (const m of value) validateMatcher(m, here);
    } else {
      throw new EventPatternError(`field ${here} must be an object or an array of values, got ${JSON.stringify(value)}`);
    }
  }
}

function validateMatcher(m: unknown, path: string): void {
  if (m === null || typeof m === 'string' || typeof m === 'boolean') return;
  if (typeof m === 'number') {
    if (!Number.isFinite(m)) throw new EventPatternError(`value at ${path} must be a finite number`);
    return;
  }
  if (Array.isArray(m)) throw new EventPatternError(`value at ${path} must not be a nested array`);
  if (!isObject(m)) throw new EventPatternError(`unsupported value at ${path}`);
  const keys = Object.keys(m);
  if (keys.length !== 1) throw new EventPatternError(`matcher at ${path} must have exactly one operator, got ${JSON.stringify(keys)}`);
  const op = keys[0];
  const arg = m[op];
  if (!OPERATORS.has(op)) throw new EventPatternError(`unknown operator "${op}" at ${path}`);
  switch (op) {
    case 'prefix':
    case 'suffix':
      if (typeof arg === 'string') return;
      if (isObject(arg) && Object.keys(arg).length === 1 && typeof arg['equals-ignore-case'] === 'string') return;
      throw new EventPatternError(`"${op}" at ${path} must be a string or {"equals-ignore-case": string}`);
    case 'equals-ignore-case':
      if (typeof arg !== 'string') throw new EventPatternError(`"equals-ignore-case" at ${path} must be a string`);
      return;
    case 'wildcard':
      validateWildcard(arg, path);
      return;
    case 'exists':
      if (typeof arg !== 'boolean') throw new EventPatternError(`"exists" at ${path} must be true or false`);
      return;
    case 'numeric':
      validateNumeric(arg, path);
      return;
    case 'anything-but':
      validateAnythingBut(arg, path);
      return;
    case 'cidr':
      throw new EventPatternError(`"cidr" at ${path} is not supported by the local emulator`);
  }
}

function validateWildcard(arg: unknown, path: string): void {
  if (typeof arg !== 'string') throw new EventPatternError(`"wildcard" at ${path} must be a string`);
  let prevStar = false;
  for (let i = 0; i < arg.length; i++) {
    if (arg[i] === '\\') { i++; prevStar = false; continue; }
    const star = arg[i] === '*';
    if (star && prevStar) throw new EventPatternError(`"wildcard" at ${path} must not contain consecutive wildcard characters`);
    prevStar = star;
  }
}

function validateNumeric(arg: unknown, path: string): void {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0) {
    throw new EventPatternError(`"numeric" at ${path} must be an array of operator/number pairs`);
  }
  let lower = 0;
  let upper = 0;
  let eq = 0;
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const n = arg[i + 1];
    if (typeof op !== 'string' || !NUMERIC_OPS.has(op)) throw new EventPatternError(`"numeric" at ${path}: unknown comparison ${JSON.stringify(op)}`);
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new EventPatternError(`"numeric" at ${path}: ${JSON.stringify(n)} is not a number`);
    if (op === '=') eq++;
    else if (op.startsWith('>')) lower++;
    else upper++;
  }
  if (eq > 0 && arg.length > 2) throw new EventPatternError(`"numeric" at ${path}: "=" cannot be combined with other comparisons`);
  if (lower > 1 || upper > 1) throw new EventPatternError(`"numeric" at ${path}: at most one lower and one upper bound`);
  if (lower === 1 && upper === 1) {
    const lo = arg[arg.findIndex((x, i) => i % 2 === 0 && String(x).startsWith('>')) + 1] as number;
    const hi = arg[arg.findIndex((x, i) => i % 2 === 0 && String(x).startsWith('<')) + 1] as number;
    if (lo > hi) throw new EventPatternError(`"numeric" at ${path}: bottom must be less than top`);
  }
}

function validateAnythingBut(arg: unknown, path: string): void {
  if (typeof arg === 'string' || (typeof arg === 'number' && Number.isFinite(arg))) return;
  if (Array.isArray(arg)) {
    if (arg.length === 0) throw new EventPatternError(`"anything-but" at ${path} must not be an empty array`);
    const allStrings = arg.every((x) => typeof x === 'string');
    const allNumbers = arg.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!allStrings && !allNumbers) throw new EventPatternError(`"anything-but" list at ${path} must hold only strings or only numbers`);
    return;
  }
  if (isObject(arg) && Object.keys(arg).length === 1) {
    const [op] = Object.keys(arg);
    const v = arg[op];
    if (op === 'prefix' || op === 'suffix') {
      if (typeof v === 'string' && v.length > 0) return;
      throw new EventPatternError(`"anything-but"/"${op}" at ${path} must be a non-empty string`);
    }
    if (op === 'equals-ignore-case') {
      if (typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'))) return;
      throw new EventPatternError(`"anything-but"/"equals-ignore-case" at ${path} must be a string or a list of strings`);
    }
    if (op === 'wildcard') {
      const list = Array.isArray(v) ? v : [v];
      if (list.length === 0) throw new EventPatternError(`"anything-but"/"wildcard" at ${path} must not be empty`);
      for (const w of list) validateWildcard(w, path);
      return;
    }
  }
  throw new EventPatternError(`"anything-but" at ${path} must be a value, a list of values, or one of prefix/suffix/equals-ignore-case/wildcard`);
}

/** True when `event` matches `pattern`. The pattern is validated first (throws EventPatternError). */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  const p = validatePattern(pattern);
  return matchObject(p, event);
}

/** Matching without re-validating (for patterns validated once, at rule creation). */
export function matchesValidatedPattern(pattern: EventPattern, event: unknown): boolean {
  return matchObject(pattern, event);
}

function matchObject(pattern: Record<string, unknown>, value: unknown): boolean {
  for (const [key, sub] of Object.entries(pattern)) {
    if (key === '$or') {
      const alts = sub as Record<string, unknown>[];
      if (!alts.some((alt) => matchObject(alt, value))) return false;
      continue;
    }
    const field = getField(value, key);
    if (isObject(sub)) {
      if (!matchNested(sub, field)) return false;
    } else if (!matchLeaf(sub as unknown[], field)) {
      return false;
    }
  }
  return true;
}

/** Reads `key` from an object, or from every element of an array of objects (flattened). */
function getField(value: unknown, key: string): unknown {
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const el of value) {
      const v = getField(el, key);
      if (v === undefined) continue;
      if (Array.isArray(v)) out.push(...v);
      else out.push(v);
    }
    return out.length > 0 ? out : undefined;
  }
  if (isObject(value) && Object.hasOwn(value, key)) return value[key];
  return undefined;
}

function matchNested(pattern: Record<string, unknown>, field: unknown): boolean {
  if (Array.isArray(field)) return field.some((el) => matchObject(pattern, el));
  // A missing object still lets `exists: false` leaves below it match.
  return matchObject(pattern, field ?? {});
}

function matchLeaf(matchers: unknown[], field: unknown): boolean {
  if (field === undefined || (Array.isArray(field) && field.length === 0)) {
    return matchers.some((m) => isObject(m) && m.exists === false);
  }
  const values = Array.isArray(field) ? field : [field];
  return matchers.some((m) => {
    if (isObject(m) && 'exists' in m) return m.exists === true;
    return values.some((v) => matchValue(m, v));
  });
}

function matchValue(m: unknown, v: unknown): boolean {
  if (m === null) return v === null;
  if (typeof m === 'number') return typeof v === 'number' && v === m;
  if (typeof m === 'string' || typeof m === 'boolean') return v === m;
  const obj = m as Record<string, unknown>;
  const [op] = Object.keys(obj);
  const arg = obj[op];
  switch (op) {
    case 'prefix':
      return typeof v === 'string' && affix(arg, v, 'prefix');
    case 'suffix':
      return typeof v === 'string' && affix(arg, v, 'suffix');
    case 'equals-ignore-case':
      return typeof v === 'string' && v.toLowerCase() === (arg as string).toLowerCase();
    case 'wildcard':
      return typeof v === 'string' && wildcardMatch(arg as string, v);
    case 'numeric':
      return typeof v === 'number' && numericMatch(arg as unknown[], v);
    case 'anything-but':
      return anythingBut(arg, v);
    default:
      return false;
  }
}

function affix(arg: unknown, v: string, kind: 'prefix' | 'suffix'): boolean {
  if (typeof arg === 'string') return kind === 'prefix' ? v.startsWith(arg) : v.endsWith(arg);
  const needle = ((arg as Record<string, string>)['equals-ignore-case']).toLowerCase();
  const hay = v.toLowerCase();
  return kind === 'prefix' ? hay.startsWith(needle) : hay.endsWith(needle);
}

function numericMatch(ops: unknown[], v: number): boolean {
  for (let i = 0; i < ops.length; i += 2) {
    const n = ops[i + 1] as number;
    switch (ops[i]) {
      case '<': if (!(v < n)) return false; break;
      case '<=': if (!(v <= n)) return false; break;
      case '=': if (!(v === n)) return false; break;
      case '>': if (!(v > n)) return false; break;
      case '>=': if (!(v >= n)) return false; break;
    }
  }
  return true;
}

function anythingBut(arg: unknown, v: unknown): boolean {
  if (typeof arg === 'string' || typeof arg === 'number') return v !== arg && (typeof v === 'string' || typeof v === 'number');
  if (Array.isArray(arg)) return (typeof v === 'string' || typeof v === 'number') && !arg.includes(v);
  const [op] = Object.keys(arg as object);
  const inner = (arg as Record<string, unknown>)[op];
  if (typeof v !== 'string') return false;
  switch (op) {
    case 'prefix': return !v.startsWith(inner as string);
    case 'suffix': return !v.endsWith(inner as string);
    case 'equals-ignore-case': {
      const list = (Array.isArray(inner) ? inner : [inner]) as string[];
      return !list.some((x) => x.toLowerCase() === v.toLowerCase());
    }
    case 'wildcard': {
      const list = (Array.isArray(inner) ? inner : [inner]) as string[];
      return !list.some((w) => wildcardMatch(w, v));
    }
    default: return false;
  }
}

function wildcardMatch(pattern: string, v: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && (pattern[i + 1] === '*' || pattern[i + 1] === '\\')) {
      re += escapeRegex(pattern[i + 1]);
      i++;
    } else if (c === '*') {
      re += '.*';
    } else {
      re += escapeRegex(c);
    }
  }
  return new RegExp(`^${re}$`, 's').test(v);
}

function escapeRegex(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
