/**
 * Finds union values the updater must not echo back. The SDK parses a union member it does not
 * know as `{$unknown: [memberName, value]}`; sending that back would silently drop the member
 * (the serializer skips `$unknown`) and so change the resource. A member the trimmed service model
 * does not know is just as opaque. Both are reported, walked along the model shapes.
 */
import { agentCoreModel, isPlainObject, type ModelShapes } from '../lib/model/validate.ts';
import { UnknownUnionMemberError } from './update-errors.ts';

export interface UnknownUnionMember {
  /** Dotted path of the union value, as validateShape names fields. */
  path: string;
  /** The member name the service sent (not a secret: a shape member name). */
  member: string;
}

const join = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

/** Every unknown union member under `value`, which is read as model shape `shapeName`. */
export function findUnknownUnionMembers(
  shapeName: string,
  value: unknown,
  path = '',
  svc: ModelShapes = agentCoreModel,
): UnknownUnionMember[] {
  const out: UnknownUnionMember[] = [];
  walk(svc, shapeName, value, path, out);
  return out;
}

function walk(svc: ModelShapes, shapeName: string, value: unknown, path: string, out: UnknownUnionMember[]): void {
  const shape = svc.shapes[shapeName];
  if (!shape) throw new Error(`unknown model shape ${shapeName}`);
  switch (shape.type) {
    case 'list':
      if (Array.isArray(value)) value.forEach((item, i) => walk(svc, shape.member!.shape, item, join(path, i), out));
      return;
    case 'map':
      if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) walk(svc, shape.value!.shape, v, join(path, k), out);
      return;
    case 'structure': {
      if (!isPlainObject(value)) return;
      const members = shape.members ?? {};
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined || v === null) continue;
        if (k === '$unknown') {
          const name = Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '?';
          out.push({ path: path || shapeName, member: name });
        } else if (Object.prototype.hasOwnProperty.call(members, k)) {
          walk(svc, members[k].shape, v, join(path, k), out);
        } else if (shape.union) {
          out.push({ path: path || shapeName, member: k });
        }
      }
      return;
    }
    default:
      return;
  }
}

/** Throws UnknownUnionMemberError when `value` (read as `shapeName`) holds an unknown union member. */
export function assertNoUnknownUnions(shapeName: string, value: unknown, path: string, origin: 'live' | 'change'): void {
  const found = findUnknownUnionMembers(shapeName, value, path);
  if (found.length === 0) return;
  const where = found.map((f) => `${f.path} (member ${JSON.stringify(f.member)})`).join(', ');
  throw new UnknownUnionMemberError(
    `${origin === 'live' ? 'live resource' : 'change'} has a union member this updater does not know at ${where}; refusing to build an update that would drop it`,
    { details: { origin, fields: found } },
  );
}
