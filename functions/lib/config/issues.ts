/**
 * Turning validation findings into user-facing issues: `runtimes[1].track.tagPolicy.semver`-style
 * paths and messages that say what was expected. Messages describe the type of a bad value, never
 * the value, because a bad value may be an environment variable or a description.
 */
import type * as z from 'zod';

export type Segment = string | number;

/** An issue before it is placed in the file: `at` locates the node (for the line number). */
export interface RawIssue {
  path: string;
  message: string;
  at: Segment[];
}

/** `['runtimes', 1, 'track']` -> `runtimes[1].track` (same joining as the model validator). */
export function formatPath(at: readonly Segment[]): string {
  let out = '';
  for (const seg of at) out = typeof seg === 'number' ? `${out}[${seg}]` : out ? `${out}.${seg}` : seg;
  return out;
}

export function issueAt(at: Segment[], message: string): RawIssue {
  return { path: formatPath(at), message, at };
}

/** Describes the type of a value without revealing it. */
export function describeType(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  switch (typeof value) {
    case 'string': return 'a string';
    case 'number': return Number.isInteger(value) ? 'an integer' : 'a number';
    case 'boolean': return 'a boolean';
    case 'object': return 'an object';
    default: return `a ${typeof value}`;
  }
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  record: 'an object',
  array: 'a list',
  literal: 'a literal',
};

/** Levenshtein distance, for "did you mean" hints on misspelt keys. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const next = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = prev[j];
      prev[j] = next;
    }
  }
  return prev[b.length];
}

/** The closest allowed key when it is a plausible typo (case slips and small edits). */
export function suggestKey(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of allowed) {
    const score = candidate.toLowerCase() === key.toLowerCase() ? 0 : distance(key.toLowerCase(), candidate.toLowerCase());
    if (score < bestScore) { best = candidate; bestScore = score; }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

/** Message for a key that is not allowed where it stands. */
export function unknownKeyMessage(key: string, allowed: readonly string[], what = 'a known key'): string {
  const hint = suggestKey(key, allowed);
  return `is not ${what}${hint ? ` (did you mean "${hint}"?)` : ''}; expected one of: ${allowed.join(', ')}`;
}

const ALLOWED_PREFIX = 'allowed:';

/**
 * Per-parse zod error map: the wording of every issue zod raises itself. Refinements carry their
 * own messages. Unknown-key issues carry the allowed keys, split per key by `fromZodIssues`.
 */
export const zodErrorMap = (iss: z.core.$ZodRawIssue): string | undefined => {
  switch (iss.code) {
    case 'invalid_type': {
      if (iss.input === undefined) return 'is required';
      const expected = EXPECTED[iss.expected] ?? iss.expected;
      if (iss.expected === 'int' && typeof iss.input === 'number') return 'must be an integer';
      if (iss.expected === 'number' && typeof iss.input === 'number') return 'must be a finite number';
      const quote = iss.expected === 'string' && (typeof iss.input === 'number' || typeof iss.input === 'boolean') ? '; quote it in YAML' : '';
      return `must be ${expected} (got ${describeType(iss.input)}${quote})`;
    }
    case 'invalid_value': {
      if (iss.input === undefined) return 'is required';
      const values = iss.values.map((v) => String(v));
      return values.length === 1 ? `must be ${values[0]}` : `must be one of: ${values.join(', ')}`;
    }
    case 'too_small': {
      const min = Number(iss.minimum);
      if (iss.origin === 'string') return min <= 1 ? 'must not be empty' : `must be at least ${min} characters`;
      if (iss.origin === 'array' || iss.origin === 'set') return min <= 1 ? 'must not be empty' : `must have at least ${min} items`;
      return iss.inclusive === false ? `must be greater than ${min}` : `must be at least ${min}`;
    }
    case 'too_big': {
      const max = Number(iss.maximum);
      if (iss.origin === 'string') return `must be at most ${max} characters`;
      if (iss.origin === 'array' || iss.origin === 'set') return `must have at most ${max} items`;
      return iss.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
    }
    case 'unrecognized_keys': {
      const shape = (iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
      return `${ALLOWED_PREFIX}${Object.keys(shape ?? {}).join(',')}`;
    }
    case 'invalid_key':
      return 'has an invalid key';
    case 'invalid_format':
      return iss.format === 'regex' && 'pattern' in iss ? `must match the pattern ${String(iss.pattern)}` : `must be a valid ${iss.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(iss.divisor)}`;
    case 'invalid_union':
      return 'does not match any of the allowed forms';
    default:
      return 'is invalid';
  }
};

/** Converts zod issues into raw issues, one per unknown key. `base` prefixes every path. */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], base: Segment[] = []): RawIssue[] {
  const out: RawIssue[] = [];
  for (const iss of issues) {
    const at: Segment[] = [...base, ...(iss.path as Segment[])];
    if (iss.code === 'unrecognized_keys') {
      const allowed = iss.message.startsWith(ALLOWED_PREFIX) ? iss.message.slice(ALLOWED_PREFIX.length).split(',').filter(Boolean) : [];
      for (const key of iss.keys) out.push(issueAt([...at, key], unknownKeyMessage(key, allowed)));
    } else if (iss.code === 'invalid_key') {
      // Record keys: report the nested reason, not the key (a key may itself be the bad input).
      const reason = iss.issues[0]?.message ?? 'is invalid';
      out.push(issueAt(at, `has an invalid key: key ${reason}`));
    } else {
      out.push(issueAt(at, iss.message));
    }
  }
  return out;
}
