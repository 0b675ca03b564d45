/**
 * Redaction for plans, logs and events. Runtime environment variable values and description text
 * (and any other member the service model marks `sensitive`) become `'<redacted>'`; map keys stay
 * visible, so a plan still says which variable changes, and a FieldChange keeps its `kind`.
 *
 * Why plain `<redacted>` and no hash of the value: secrets in environment variables are often
 * low-entropy (short tokens, passwords, flags), and an unsalted hash prefix printed in a log can
 * be matched against guesses offline and shows which runtimes share a value. `kind: 'changed'`
 * already says that the value changed, which is all a plan needs.
 *
 * The sensitive paths are derived from the model (`sensitive` traits reachable from the
 * Update/Get shapes) as JSON Pointer patterns where `*` stands for any list index or map key. A
 * sensitive map or list has its items redacted and its keys kept; any other sensitive shape is
 * redacted whole. Union members this SDK did not know (`{$unknown: [name, value]}`) have their
 * value redacted too: nothing says it is not secret.
 */
import { agentCoreModel, isPlainObject, type ModelShapes } from '../lib/model/validate.ts';
import type { FieldChange } from './diff.ts';
import { parsePointer } from './diff.ts';

export const REDACTED = '<redacted>';

/** JSON Pointer patterns of sensitive members under the given root shapes, sorted. */
export function sensitivePathsOf(rootShapes: readonly string[], svc: ModelShapes = agentCoreModel): string[] {
  const found = new Set<string>();
  const visit = (shapeName: string, path: string, stack: string[]): void => {
    const shape = svc.shapes[shapeName];
    if (!shape) return;
    // A recursive shape cannot be spelled out path by path: hide the whole recursive member
    // when anything sensitive is reachable from it (over-redaction is the safe side).
    if (stack.includes(shapeName)) {
      if (reachesSensitive(shapeName, svc, new Set())) found.add(path);
      return;
    }
    if (shape.sensitive) {
      found.add(shape.type === 'map' || shape.type === 'list' ? `${path}/*` : path);
      return;
    }
    const next = [...stack, shapeName];
    if (shape.type === 'structure') {
      for (const [name, m] of Object.entries(shape.members ?? {})) {
        visit(m.shape, `${path}/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`, next);
      }
    } else if (shape.type === 'list' && shape.member) visit(shape.member.shape, `${path}/*`, next);
    else if (shape.type === 'map' && shape.value) visit(shape.value.shape, `${path}/*`, next);
  };
  for (const root of rootShapes) visit(root, '', []);
  return [...found].sort();
}

function reachesSensitive(shapeName: string, svc: ModelShapes, seen: Set<string>): boolean {
  const shape = svc.shapes[shapeName];
  if (!shape || seen.has(shapeName)) return false;
  if (shape.sensitive) return true;
  seen.add(shapeName);
  const children = [
    ...Object.values(shape.members ?? {}).map((m) => m.shape),
    ...(shape.member ? [shape.member.shape] : []),
    ...(shape.value ? [shape.value.shape] : []),
  ];
  return children.some((c) => reachesSensitive(c, svc, seen));
}

/** Sensitive paths of a runtime (GetAgentRuntime output and UpdateAgentRuntime input). */
export const RUNTIME_SENSITIVE_PATHS: readonly string[] = Object.freeze(
  sensitivePathsOf(['UpdateAgentRuntimeRequest', 'GetAgentRuntimeResponse']),
);
/** Sensitive paths of a gateway (GetGateway output and UpdateGateway input). */
export const GATEWAY_SENSITIVE_PATHS: readonly string[] = Object.freeze(sensitivePathsOf(['UpdateGatewayRequest', 'GetGatewayResponse']));
/** Every sensitive path of both resources (used when a change's resource type is not known). */
export const SENSITIVE_PATHS: readonly string[] = Object.freeze([...new Set([...RUNTIME_SENSITIVE_PATHS, ...GATEWAY_SENSITIVE_PATHS])].sort());

type Pattern = readonly string[];
const compile = (paths: readonly string[]): Pattern[] => paths.map(parsePointer);
const RUNTIME_PATTERNS = compile(RUNTIME_SENSITIVE_PATHS);
const GATEWAY_PATTERNS = compile(GATEWAY_SENSITIVE_PATHS);
const ALL_PATTERNS = compile(SENSITIVE_PATHS);

function matches(pattern: Pattern, tokens: readonly string[], length: number): boolean {
  for (let i = 0; i < length; i++) if (pattern[i] !== '*' && pattern[i] !== tokens[i]) return false;
  return true;
}

/** Some pattern covers `tokens` (equal to it or one of its ancestors). */
function isSensitive(patterns: readonly Pattern[], tokens: readonly string[]): boolean {
  return patterns.some((p) => p.length <= tokens.length && matches(p, tokens, p.length));
}

/** `tokens` is a container whose items are sensitive (pattern `tokens/*`). */
function isSensitiveContainer(patterns: readonly Pattern[], tokens: readonly string[]): boolean {
  return patterns.some((p) => p.length === tokens.length + 1 && p[p.length - 1] === '*' && matches(p, tokens, tokens.length));
}

/** Copy of `value` (found at `tokens`) with every sensitive part replaced by REDACTED. */
function redactAt(patterns: readonly Pattern[], tokens: readonly string[], value: unknown): unknown {
  if (value === undefined) return undefined;
  if (isSensitive(patterns, tokens)) return REDACTED;
  const container = Array.isArray(value) || isPlainObject(value);
  // A sensitive map or list holding something else (malformed input) is hidden whole.
  if (!container && isSensitiveContainer(patterns, tokens)) return REDACTED;
  if (Array.isArray(value)) return value.map((v, i) => redactAt(patterns, [...tokens, String(i)], v));
  if (value instanceof Date) return new Date(value.getTime());
  if (isPlainObject(value)) {
    const entries: [string, unknown][] = [];
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      if (k === '$unknown' && Array.isArray(v)) entries.push([k, [v[0], REDACTED]]);
      else entries.push([k, redactAt(patterns, [...tokens, k], v)]);
    }
    return Object.fromEntries(entries);
  }
  return value;
}

/** Deep copy of a runtime (Get output, Update input or any part-object of them) with sensitive values redacted. */
export function redactRuntime<T>(runtime: T): T {
  return redactAt(RUNTIME_PATTERNS, [], runtime) as T;
}

/** Deep copy of a gateway (Get output, Update input or any part-object of them) with sensitive values redacted. */
export function redactGateway<T>(gateway: T): T {
  return redactAt(GATEWAY_PATTERNS, [], gateway) as T;
}

/**
 * Copies of `changes` (paths relative to a runtime or gateway root, as diffConfig gives them) with
 * sensitive `from`/`to` values redacted; paths and kinds are kept.
 */
export function redactChanges(changes: readonly FieldChange[]): FieldChange[] {
  return changes.map((c) => {
    const tokens = parsePointer(c.path);
    return { path: c.path, kind: c.kind, from: redactAt(ALL_PATTERNS, tokens, c.from), to: redactAt(ALL_PATTERNS, tokens, c.to) };
  });
}
