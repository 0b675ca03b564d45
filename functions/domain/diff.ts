/**
 * Field-level diff of two configurations (a live resource and the request that would replace it,
 * two desired states...), for plans, logs and events. Redact the result with redactChanges before
 * it leaves the domain.
 *
 * Semantics (JSON, as on the wire): an `undefined` member is absent; `null` is a value.
 * - Plain objects (structures and maps) present on both sides are recursed, so a change is
 *   reported at its leaf: `/environmentVariables/LOG_LEVEL`, `/networkConfiguration/networkMode`.
 * - A member present on one side only is one `added`/`removed` entry carrying its whole value
 *   (recursing would make "{a:{b:1}} -> {}" and "{a:{b:1}} -> {a:{}}" indistinguishable).
 * - Lists and scalars are compared as whole values (`changed`): list items have no identity in
 *   these APIs (subnets, interceptors, filesystems), so an index-wise diff would mislead.
 * - Order is stable: depth-first with keys sorted by UTF-16 code unit, whatever the key order of
 *   the inputs. Paths are JSON Pointers (RFC 6901); the root is `''`.
 */
import { deepCopy, isPlainObject, jsonEqual } from './json.ts';

export type FieldChangeKind = 'added' | 'removed' | 'changed';

/** One difference. `from` is undefined for `added`, `to` is undefined for `removed`. */
export interface FieldChange {
  path: string;
  kind: FieldChangeKind;
  from: unknown;
  to: unknown;
}

/** Every difference between `from` and `to`; empty exactly when they serialize to the same JSON. */
export function diffConfig(from: unknown, to: unknown): FieldChange[] {
  const out: FieldChange[] = [];
  diffAt([], from, to, out);
  return out;
}

function diffAt(tokens: string[], a: unknown, b: unknown, out: FieldChange[]): void {
  if (a === undefined && b === undefined) return;
  const path = toPointer(tokens);
  if (a === undefined) {
    out.push({ path, kind: 'added', from: undefined, to: deepCopy(b) });
    return;
  }
  if (b === undefined) {
    out.push({ path, kind: 'removed', from: deepCopy(a), to: undefined });
    return;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set<string>();
    for (const k of Object.keys(a)) if (a[k] !== undefined) keys.add(k);
    for (const k of Object.keys(b)) if (b[k] !== undefined) keys.add(k);
    for (const k of [...keys].sort()) {
      diffAt([...tokens, k], own(a, k), own(b, k), out);
    }
    return;
  }
  if (!jsonEqual(a, b)) out.push({ path, kind: 'changed', from: deepCopy(a), to: deepCopy(b) });
}

function own(o: Record<string, unknown>, k: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
}

/** JSON Pointer from reference tokens (`~` -> `~0`, `/` -> `~1`). */
export function toPointer(tokens: readonly string[]): string {
  return tokens.map((t) => `/${t.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** Reference tokens of a JSON Pointer (inverse of toPointer). */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`not a JSON Pointer: ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** The distinct top-level members touched by `changes` (e.g. to name the fields of a plan). */
export function changedTopLevelFields(changes: readonly FieldChange[]): string[] {
  const fields = new Set<string>();
  for (const c of changes) {
    const [first] = parsePointer(c.path);
    if (first !== undefined) fields.add(first);
  }
  return [...fields];
}
