/**
 * Pieces shared by the runtime and gateway update builders: reading the generic `set`/`unset`
 * part of a change, checking the live resource's top-level fields, validating against the model.
 */
import { agentCoreModel, validateShape } from '../lib/model/validate.ts';
import { UNKNOWN_MEMBERS_KEY, unknownMembersOf, type LiveResourceKind } from '../lib/model/unknown-members.ts';
import { assertNoUnknownUnions } from './unknown-unions.ts';
import { deepCopy, hasOwn, isPlainObject, isPresent } from './json.ts';
import {
  InvalidChangeError,
  InvalidUpdateRequestError,
  UnknownLiveMemberError,
  UnmappedLiveFieldError,
  describeIssues,
} from './update-errors.ts';

/** Model shape of member `field` of structure `structure`. */
export function memberShape(structure: string, field: string): string {
  const m = agentCoreModel.shapes[structure]?.members?.[field];
  if (!m) throw new Error(`model shape ${structure} has no member ${field}`);
  return m.shape;
}

export interface SetUnsetSpec {
  /** Request shape (e.g. UpdateAgentRuntimeRequest). */
  requestShape: string;
  /** Fields a change may name in `set`. */
  settable: readonly string[];
  /** Fields a change may name in `unset`. */
  unsettable: readonly string[];
  /** Why a field outside `settable` cannot be set (Get-only, immutable...), by field. */
  notSettableReason: (field: string) => string;
}

export interface ParsedSetUnset {
  set: Map<string, unknown>;
  unset: Set<string>;
}

/** Reads and validates `change.set` / `change.unset`; refuses malformed, invalid or conflicting entries. */
export function parseSetUnset(setValue: unknown, unsetValue: unknown, spec: SetUnsetSpec): ParsedSetUnset {
  const set = new Map<string, unknown>();
  const unset = new Set<string>();
  if (setValue !== undefined) {
    if (!isPlainObject(setValue)) throw new InvalidChangeError('change.set must be an object of fields', { details: { field: 'set' } });
    for (const [field, value] of Object.entries(setValue)) {
      if (!spec.settable.includes(field)) {
        throw new InvalidChangeError(`change.set.${field}: ${spec.notSettableReason(field)}`, { details: { field } });
      }
      if (!isPresent(value)) {
        throw new InvalidChangeError(`change.set.${field} is ${value === null ? 'null' : 'undefined'}; use unset to clear a field`, { details: { field } });
      }
      const shape = memberShape(spec.requestShape, field);
      assertNoUnknownUnions(shape, value, field, 'change');
      const issues = validateShape(shape, value, field);
      if (issues.length > 0) {
        throw new InvalidChangeError(`change.set.${field} is invalid: ${describeIssues(issues)}`, { details: { field, issues } });
      }
      set.set(field, value);
    }
  }
  if (unsetValue !== undefined) {
    if (!Array.isArray(unsetValue)) throw new InvalidChangeError('change.unset must be a list of field names', { details: { field: 'unset' } });
    for (const field of unsetValue) {
      if (typeof field !== 'string') throw new InvalidChangeError('change.unset must contain field names only', { details: { field: 'unset' } });
      if (!spec.unsettable.includes(field)) {
        const reason = spec.settable.includes(field) ? 'is required and cannot be cleared' : spec.notSettableReason(field);
        throw new InvalidChangeError(`change.unset ${field}: ${reason}`, { details: { field } });
      }
      if (set.has(field)) {
        throw new InvalidChangeError(`change both sets and unsets ${field}`, { details: { field } });
      }
      unset.add(field);
    }
  }
  return { set, unset };
}

/** Refuses keys of `change` outside `allowed` (a typo must fail loudly, not be ignored). */
export function assertChangeKeys(change: unknown, allowed: readonly string[]): asserts change is Record<string, unknown> {
  if (!isPlainObject(change)) throw new InvalidChangeError('change must be an object', { details: { field: 'change' } });
  for (const k of Object.keys(change)) {
    if (change[k] !== undefined && !allowed.includes(k)) {
      throw new InvalidChangeError(`change has unknown key ${k} (allowed: ${allowed.join(', ')})`, { details: { field: k } });
    }
  }
}

/**
 * Refuses a live resource with a top-level field that is neither carried nor known read-only.
 * `$metadata` (SDK response metadata) is always ignored.
 */
export function assertAllLiveFieldsMapped(live: Record<string, unknown>, known: readonly string[], resource: string): void {
  const unmapped = Object.keys(live).filter((k) => k !== '$metadata' && k !== UNKNOWN_MEMBERS_KEY && live[k] !== undefined && !known.includes(k));
  if (unmapped.length > 0) {
    throw new UnmappedLiveFieldError(
      `live ${resource} has field(s) ${unmapped.join(', ')} that the update builder does not carry; omitting them would reset them`,
      { details: { fields: unmapped } },
    );
  }
}

/**
 * Refuses a live resource the adapter marked with members the bundled model does not know (the
 * SDK dropped them from the parsed output; an update built from it would reset them).
 */
export function assertNoUnknownLiveMembers(live: Record<string, unknown>, kind: LiveResourceKind, id: unknown): void {
  const members = unknownMembersOf(live);
  if (members.length === 0) return;
  const which = typeof id === 'string' ? ` ${id}` : '';
  throw new UnknownLiveMemberError(
    `live ${kind}${which} carries member(s) the bundled AgentCore model does not know: ${members.join(', ')}; ` +
      `an update would reset them, so nothing is written. Once you have checked that a member is read-only, ` +
      `acknowledge it in the config (unknownMembers.acknowledged.${kind})`,
    { details: { kind, members } },
  );
}

/** Validates the final request; refuses with the offending field paths. */
export function assertValidRequest(requestShape: string, request: Record<string, unknown>): void {
  const issues = validateShape(requestShape, request);
  if (issues.length > 0) {
    throw new InvalidUpdateRequestError(`the merged ${requestShape} is invalid: ${describeIssues(issues)}`, {
      details: { fields: [...new Set(issues.map((i) => i.name))], issues },
    });
  }
}

/** Reads a live member, treating undefined and null alike as absent. */
export function liveValue(live: Record<string, unknown>, field: string): unknown {
  return hasOwn(live, field) && isPresent(live[field]) ? live[field] : undefined;
}

/**
 * The request body `fields` of an update: each one the change sets (deep copy), else, unless the
 * change unsets it, the live value (deep copy, absent when the live resource has none).
 */
export function carryFields(
  live: Record<string, unknown>,
  fields: readonly string[],
  { set, unset }: ParsedSetUnset,
): Record<string, unknown> {
  const request: Record<string, unknown> = {};
  for (const field of fields) {
    if (set.has(field)) request[field] = deepCopy(set.get(field));
    else if (unset.has(field)) continue;
    else {
      const v = liveValue(live, field);
      if (v !== undefined) request[field] = deepCopy(v);
    }
  }
  return request;
}
