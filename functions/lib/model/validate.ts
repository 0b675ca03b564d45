/**
 * Validation of AgentCore Control requests against the public service model (trimmed copy in
 * agentcore-control.model.json). Shared by the lossless update builders, which must never build
 * a request the service would reject, and by the local emulator, which must reject what the
 * service rejects. Patterns are matched against the whole value, as the service does.
 */
import model from './agentcore-control.model.json' with { type: 'json' };

export interface ModelMember { shape: string; location?: string; locationName?: string; idempotencyToken?: boolean }
export interface ModelShape {
  type: string;
  required?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  union?: boolean;
  sensitive?: boolean;
  error?: { httpStatusCode?: number; senderFault?: boolean };
  exception?: boolean;
  members?: Record<string, ModelMember>;
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
}
export interface ModelOperation {
  http: { method: string; requestUri: string; responseCode?: number };
  input?: string;
  output?: string;
  errors: string[];
}
export interface ServiceModel {
  metadata: Record<string, unknown>;
  operations: Record<string, ModelOperation>;
  shapes: Record<string, ModelShape>;
}

export const agentCoreModel = model as unknown as ServiceModel;

/** One violated constraint: `name` is the dotted path of the offending field. */
export interface FieldIssue { name: string; message: string }

const regexCache = new Map<string, RegExp>();
function wholeMatch(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`, 'u');
    regexCache.set(pattern, re);
  }
  return re;
}

const join = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

/** Validates `value` against shape `shapeName`; returns every violated constraint (empty when valid). */
export function validateShape(shapeName: string, value: unknown, path = '', svc: ServiceModel = agentCoreModel): FieldIssue[] {
  const issues: FieldIssue[] = [];
  check(svc, shapeName, value, path, issues);
  return issues;
}

function check(svc: ServiceModel, shapeName: string, value: unknown, path: string, out: FieldIssue[]): void {
  const shape = svc.shapes[shapeName];
  if (!shape) throw new Error(`unknown model shape ${shapeName}`);
  const at = path || shapeName;
  switch (shape.type) {
    case 'string': {
      if (typeof value !== 'string') { out.push({ name: at, message: 'must be a string' }); return; }
      // Lengths count characters as the service does (UTF-16 code units are close enough here).
      const len = [...value].length;
      if (shape.min !== undefined && len < shape.min) out.push({ name: at, message: `must be at least ${shape.min} characters` });
      if (shape.max !== undefined && len > shape.max) out.push({ name: at, message: `must be at most ${shape.max} characters` });
      if (shape.enum && !shape.enum.includes(value)) out.push({ name: at, message: `must be one of ${shape.enum.join(', ')}` });
      if (shape.pattern && !wholeMatch(shape.pattern).test(value)) {
        out.push({ name: at, message: shape.sensitive ? 'does not match the required pattern' : `must match the pattern ${shape.pattern}` });
      }
      return;
    }
    case 'integer':
    case 'long': {
      if (typeof value !== 'number' || !Number.isInteger(value)) { out.push({ name: at, message: 'must be an integer' }); return; }
      if (shape.min !== undefined && value < shape.min) out.push({ name: at, message: `must be >= ${shape.min}` });
      if (shape.max !== undefined && value > shape.max) out.push({ name: at, message: `must be <= ${shape.max}` });
      return;
    }
    case 'float':
    case 'double': {
      if (typeof value !== 'number' || Number.isNaN(value)) { out.push({ name: at, message: 'must be a number' }); return; }
      if (shape.min !== undefined && value < shape.min) out.push({ name: at, message: `must be >= ${shape.min}` });
      if (shape.max !== undefined && value > shape.max) out.push({ name: at, message: `must be <= ${shape.max}` });
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') out.push({ name: at, message: 'must be a boolean' });
      return;
    case 'timestamp':
      if (!(value instanceof Date) && typeof value !== 'string' && typeof value !== 'number') out.push({ name: at, message: 'must be a timestamp' });
      return;
    case 'blob':
      return;
    case 'list': {
      if (!Array.isArray(value)) { out.push({ name: at, message: 'must be a list' }); return; }
      if (shape.min !== undefined && value.length < shape.min) out.push({ name: at, message: `must have at least ${shape.min} items` });
      if (shape.max !== undefined && value.length > shape.max) out.push({ name: at, message: `must have at most ${shape.max} items` });
      value.forEach((item, i) => check(svc, shape.member!.shape, item, join(at, i), out));
      return;
    }
    case 'map': {
      if (!isPlainObject(value)) { out.push({ name: at, message: 'must be a map' }); return; }
      const entries = Object.entries(value);
      if (shape.min !== undefined && entries.length < shape.min) out.push({ name: at, message: `must have at least ${shape.min} entries` });
      if (shape.max !== undefined && entries.length > shape.max) out.push({ name: at, message: `must have at most ${shape.max} entries` });
      for (const [k, v] of entries) {
        const keyIssues: FieldIssue[] = [];
        check(svc, shape.key!.shape, k, join(at, k), keyIssues);
        // Keys are reported by position, not by name, in case the key itself is the bad input.
        for (const issue of keyIssues) out.push({ name: `${at} key`, message: `key ${issue.message}` });
        check(svc, shape.value!.shape, v, join(at, k), out);
      }
      return;
    }
    case 'structure': {
      if (!isPlainObject(value)) { out.push({ name: at, message: 'must be an object' }); return; }
      const members = shape.members ?? {};
      const present = Object.keys(value).filter((k) => value[k] !== undefined && value[k] !== null);
      if (shape.union) {
        const known = present.filter((k) => k in members);
        if (known.length !== 1) {
          out.push({ name: at, message: `must set exactly one of ${Object.keys(members).join(', ')} (got ${known.length})` });
        }
      }
      for (const req of shape.required ?? []) {
        if (!present.includes(req)) out.push({ name: join(path, req), message: 'is required' });
      }
      for (const k of present) {
        const m = members[k];
        if (!m) continue; // unknown members are ignored, as the SDK drops them and the service ignores them
        check(svc, m.shape, value[k], join(path, k), out);
      }
      return;
    }
    default:
      return;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Names of the members of a structure shape whose values are sensitive (for redaction). */
export function isSensitiveShape(shapeName: string, svc: ServiceModel = agentCoreModel): boolean {
  return svc.shapes[shapeName]?.sensitive === true;
}
