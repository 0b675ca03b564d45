/**
 * Small helpers shared by the AgentCore Control stand-in, the seed loader and the fault plan:
 * AWS-shaped errors, a seeded PRNG, globs, stable hashing and opaque pagination tokens.
 */
import { AwsError } from '../types.ts';
import type { FieldIssue } from '../../../functions/lib/model/validate.ts';

export type ValidationReason =
  | 'CannotParse' | 'FieldValidationFailed' | 'IdempotentParameterMismatchException' | 'ResourceConflict';

export const errors = {
  validation(message: string, reason: ValidationReason = 'FieldValidationFailed', fieldList?: FieldIssue[]): AwsError {
    return new AwsError('ValidationException', 400, message, fieldList ? { reason, fieldList } : { reason });
  },
  fields(issues: FieldIssue[]): AwsError {
    const n = issues.length;
    const detail = issues.map((i) => `${i.name} ${i.message}`).join('; ');
    return errors.validation(`${n} validation error${n === 1 ? '' : 's'} detected: ${detail}`, 'FieldValidationFailed', issues);
  },
  notFound: (message: string) => new AwsError('ResourceNotFoundException', 404, message),
  conflict: (message: string) => new AwsError('ConflictException', 409, message),
  throttling: (message = 'Rate exceeded') => new AwsError('ThrottlingException', 429, message),
  quota: (message: string) => new AwsError('ServiceQuotaExceededException', 402, message),
  internal: (message = 'Internal server error') => new AwsError('InternalServerException', 500, message),
  accessDenied: (message = 'User is not authorized to perform this action') => new AwsError('AccessDeniedException', 403, message),
};

/** HTTP status of each AgentCore Control error type (from the service model). */
export const ERROR_STATUS: Record<string, number> = {
  ValidationException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ConflictException: 409,
  ServiceQuotaExceededException: 402,
  ThrottlingException: 429,
  InternalServerException: 500,
};

/** mulberry32: a tiny deterministic PRNG; returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 32-bit FNV-1a hash of a string (for deriving PRNG seeds). */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** `*` matches any run of characters, `?` one character; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** JSON with object keys sorted, so two equal requests hash the same whatever the key order. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

export const iso = (ms: number) => new Date(ms).toISOString();

/** Drops undefined members so responses only carry what is set. */
export function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * One page of `items`. Tokens are opaque (base64url JSON bound to `scope`), so a token from one
 * list cannot be replayed against another; a malformed token is a ValidationException.
 */
export function paginate<T>(
  items: T[], input: { maxResults?: number; nextToken?: string }, scope: string, defaultMax: number,
): { page: T[]; nextToken?: string } {
  let offset = 0;
  if (input.nextToken !== undefined) {
    let decoded: { s?: unknown; o?: unknown } | undefined;
    try {
      decoded = JSON.parse(Buffer.from(input.nextToken, 'base64url').toString('utf8'));
    } catch { decoded = undefined; }
    if (!decoded || decoded.s !== scope || typeof decoded.o !== 'number' || !Number.isInteger(decoded.o) || decoded.o < 0) {
      throw errors.validation('Invalid pagination token', 'FieldValidationFailed', [
        { name: 'nextToken', message: 'is not a valid pagination token for this request' },
      ]);
    }
    offset = decoded.o;
  }
  const size = input.maxResults ?? defaultMax;
  const page = items.slice(offset, offset + size);
  const next = offset + size;
  return next < items.length
    ? { page, nextToken: Buffer.from(JSON.stringify({ s: scope, o: next })).toString('base64url') }
    : { page };
}
