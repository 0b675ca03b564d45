/**
 * Members of a live resource that the bundled service model does not know.
 *
 * The SDK's parser drops response members its own model does not know (and parses an unknown
 * union member as `$unknown`). UpdateAgentRuntime and UpdateGateway replace the whole resource,
 * so a field AWS adds after this bundle was built would silently be reset by the next
 * read-merge-write. The AgentCore client keeps the raw response body of GetAgentRuntime and
 * GetGateway (functions/lib/clients.ts); the adapter compares its member paths with the model
 * here and marks the output; the update builders refuse to write a resource so marked.
 *
 * Paths name members, never values: `a.b` for a structure member, `a[]` for the items of a list,
 * `a.*` for the values of a map (map keys are data, e.g. environment variable names, and are never
 * reported).
 */
import { agentCoreModel, isPlainObject, type ModelShapes } from './validate.ts';

/**
 * Key under which the AgentCore adapter lists a Get output's unknown, unacknowledged member paths
 * (present only when there is at least one). `$` keeps it clear of AWS member names, and it is a
 * plain enumerable property so it survives the JSON copies the state machines' tasks make.
 */
export const UNKNOWN_MEMBERS_KEY = '$unknownMembers';

/** Live resource kinds whose members are checked (GetAgentRuntime / GetGateway). */
export type LiveResourceKind = 'runtime' | 'gateway';

/** The model output shape of each kind's Get operation. */
export const LIVE_OUTPUT_SHAPES: Readonly<Record<LiveResourceKind, string>> = Object.freeze({
  runtime: 'GetAgentRuntimeResponse',
  gateway: 'GetGatewayResponse',
});

/** Member paths an operator has checked to be read-only, per kind (config `unknownMembers.acknowledged`). */
export interface AcknowledgedMembers {
  runtime: readonly string[];
  gateway: readonly string[];
}

export const NO_ACKNOWLEDGED_MEMBERS: AcknowledgedMembers = Object.freeze({ runtime: Object.freeze([]), gateway: Object.freeze([]) });

/** Syntax of a member path: `name(.name|[]|.*)*`. */
export const MEMBER_PATH_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(?:\[\]|\.\*|\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Every member path in `value` (read as model shape `shapeName`) that the model does not know; sorted, unique. */
export function unknownMemberPaths(shapeName: string, value: unknown, svc: ModelShapes = agentCoreModel): string[] {
  const found = new Set<string>();
  walk(svc, shapeName, value, '', found);
  return [...found].sort();
}

function walk(svc: ModelShapes, shapeName: string, value: unknown, path: string, out: Set<string>): void {
  const shape = svc.shapes[shapeName];
  if (!shape) throw new Error(`unknown model shape ${shapeName}`);
  if (shape.type === 'list') {
    if (Array.isArray(value)) for (const item of value) walk(svc, shape.member!.shape, item, `${path}[]`, out);
  } else if (shape.type === 'map') {
    if (isPlainObject(value)) for (const v of Object.values(value)) walk(svc, shape.value!.shape, v, `${path}.*`, out);
  } else if (shape.type === 'structure' && isPlainObject(value)) {
    const members = shape.members ?? {};
    for (const [key, v] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      // A member the model has is walked; any other one is unknown, whatever its value (a null
      // the service sends today may carry a setting tomorrow).
      if (Object.hasOwn(members, key)) walk(svc, members[key].shape, v, at, out);
      else out.add(at);
    }
  }
}

/** Whether `path` names a member the model knows under `shapeName` (used to refuse pointless acknowledgements). */
export function isModeledPath(shapeName: string, path: string, svc: ModelShapes = agentCoreModel): boolean {
  let shape = svc.shapes[shapeName];
  for (const step of path.match(/\[\]|\.\*|[A-Za-z_][A-Za-z0-9_]*/g) ?? []) {
    if (!shape) return false;
    if (step === '[]') shape = shape.type === 'list' ? svc.shapes[shape.member!.shape] : undefined!;
    else if (step === '.*') shape = shape.type === 'map' ? svc.shapes[shape.value!.shape] : undefined!;
    else {
      const member = shape.type === 'structure' ? shape.members?.[step] : undefined;
      if (!member) return false;
      shape = svc.shapes[member.shape];
    }
  }
  return shape !== undefined;
}

/** The unknown member paths of a raw Get body that are not acknowledged for `kind`. */
export function unacknowledgedMembers(kind: LiveResourceKind, rawBody: unknown, acknowledged: AcknowledgedMembers): string[] {
  const ok = new Set(acknowledged[kind]);
  return unknownMemberPaths(LIVE_OUTPUT_SHAPES[kind], rawBody).filter((p) => !ok.has(p));
}

/** The unknown member paths an adapter marked on a live resource (empty when none). */
export function unknownMembersOf(live: unknown): string[] {
  const marked = isPlainObject(live) ? live[UNKNOWN_MEMBERS_KEY] : undefined;
  return Array.isArray(marked) ? marked.filter((p): p is string => typeof p === 'string') : [];
}
