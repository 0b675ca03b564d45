/**
 * Validation of the `desired` blocks and `ignore` pointers against the public service model:
 * each declared field is checked with the member shape of UpdateAgentRuntimeRequest /
 * UpdateGatewayRequest, so a configuration can never declare a value the service would reject.
 */
import { serviceModel } from '../model/service-model.ts';
import { isPlainObject, validateShape, type FieldIssue } from '../model/validate.ts';
import { describeType, suggestKey, unknownKeyMessage, type RawIssue, type Segment } from './issues.ts';

export type ResourceKind = 'runtime' | 'gateway';

interface KindModel {
  request: string;
  operation: string;
  /** Members of the request that can be declared under `desired`. */
  members: Record<string, string>;
  /** Keys that are not desired fields, with the reason (identifier, read-only, declared elsewhere). */
  forbidden: Record<string, string>;
}

const readOnly = (get: string, update: string) => `is read-only (returned by ${get}, not accepted by ${update}); remove it`;

const RUNTIME_READ_ONLY = readOnly('GetAgentRuntime', 'UpdateAgentRuntime');
const GATEWAY_READ_ONLY = readOnly('GetGateway', 'UpdateGateway');

const KINDS: Record<ResourceKind, Omit<KindModel, 'members'> & { excluded: string[] }> = {
  runtime: {
    request: 'UpdateAgentRuntimeRequest',
    operation: 'UpdateAgentRuntime',
    excluded: ['agentRuntimeId', 'clientToken'],
    forbidden: {
      agentRuntimeId: 'must not be set under desired: the runtime is identified by `id` or `name` next to `desired`',
      clientToken: 'must not be set under desired: autopilot generates an idempotency token for each update',
      agentRuntimeName: 'must not be set under desired: a runtime name cannot change; to identify the runtime by name, use `name` next to `desired`',
      agentRuntimeArn: RUNTIME_READ_ONLY,
      agentRuntimeVersion: RUNTIME_READ_ONLY,
      createdAt: RUNTIME_READ_ONLY,
      lastUpdatedAt: RUNTIME_READ_ONLY,
      status: RUNTIME_READ_ONLY,
      failureReason: RUNTIME_READ_ONLY,
      workloadIdentityDetails: RUNTIME_READ_ONLY,
      tags: 'must not be set under desired: UpdateAgentRuntime does not accept tags (they are managed with TagResource)',
    },
  },
  gateway: {
    request: 'UpdateGatewayRequest',
    operation: 'UpdateGateway',
    excluded: ['gatewayIdentifier', 'name', 'policyEngineConfiguration'],
    forbidden: {
      gatewayIdentifier: 'must not be set under desired: the gateway is identified by `id` or `name` next to `desired`',
      gatewayId: 'must not be set under desired: the gateway is identified by `id` or `name` next to `desired`',
      name: 'must not be set under desired: a gateway name cannot change (UpdateGateway resends the name it was created with); to identify the gateway by name, use `name` next to `desired`',
      policyEngineConfiguration: 'must not be set under desired: declare it under policyEngine (arn, mode and rollout settings)',
      webAclArn: 'is read-only (returned by GetGateway only; UpdateGateway cannot set it); remove it',
      gatewayArn: GATEWAY_READ_ONLY,
      gatewayUrl: GATEWAY_READ_ONLY,
      createdAt: GATEWAY_READ_ONLY,
      updatedAt: GATEWAY_READ_ONLY,
      status: GATEWAY_READ_ONLY,
      statusReasons: GATEWAY_READ_ONLY,
      workloadIdentityDetails: GATEWAY_READ_ONLY,
      tags: 'must not be set under desired: UpdateGateway does not accept tags (they are managed with TagResource)',
    },
  },
};

function kindModel(kind: ResourceKind): KindModel {
  const k = KINDS[kind];
  const request = serviceModel.shapes[k.request];
  const members: Record<string, string> = {};
  for (const [name, member] of Object.entries(request?.members ?? {})) {
    if (!k.excluded.includes(name)) members[name] = member.shape;
  }
  return { request: k.request, operation: k.operation, members, forbidden: k.forbidden };
}

const MODELS: Record<ResourceKind, KindModel> = { runtime: kindModel('runtime'), gateway: kindModel('gateway') };

/** The fields a `desired` block of this kind may declare, in model order. */
export function desiredFields(kind: ResourceKind): string[] {
  return Object.keys(MODELS[kind].members);
}

const join = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : `${path}.${key}`);

/**
 * What validateShape leaves out: unknown members of nested structures (it ignores them, as the
 * SDK drops them silently; in a config they are typos) and the paths of strings given as YAML
 * numbers or booleans (for a quoting hint).
 */
function walkExtras(shapeName: string, value: unknown, path: string, unknown: FieldIssue[], unquoted: Map<string, string>): void {
  const shape = serviceModel.shapes[shapeName];
  if (!shape) return;
  if (shape.type === 'string') {
    if (typeof value === 'number' || typeof value === 'boolean') unquoted.set(path, describeType(value));
    return;
  }
  if (shape.type === 'list' && Array.isArray(value)) {
    value.forEach((item, i) => walkExtras(shape.member!.shape, item, join(path, i), unknown, unquoted));
    return;
  }
  if (shape.type === 'map' && isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) walkExtras(shape.value!.shape, v, join(path, k), unknown, unquoted);
    return;
  }
  if (shape.type === 'structure' && isPlainObject(value)) {
    const members = shape.members ?? {};
    for (const [k, v] of Object.entries(value)) {
      const member = members[k];
      if (member) walkExtras(member.shape, v, join(path, k), unknown, unquoted);
      else unknown.push({ name: join(path, k), message: unknownKeyMessage(k, Object.keys(members), `a field of ${shapeName}`) });
    }
  }
}

/**
 * Best-effort segments of `name` below `prefix` (for the line number only): a key containing a dot
 * splits wrongly, and the line lookup then stops at the nearest ancestor it finds.
 */
function tailSegments(name: string, prefix: string): Segment[] {
  if (!name.startsWith(prefix)) return [];
  return [...name.slice(prefix.length).matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]));
}

/**
 * Validates one `desired` block: every key must be a declarable field of the Update request and
 * every value must satisfy the field's model shape. `at` locates the block in the file.
 */
export function validateDesired(kind: ResourceKind, desired: Record<string, unknown>, at: Segment[], path: string): RawIssue[] {
  const model = MODELS[kind];
  const out: RawIssue[] = [];
  for (const [key, value] of Object.entries(desired)) {
    const keyAt = [...at, key];
    const keyPath = join(path, key);
    const forbidden = model.forbidden[key];
    const memberShape = model.members[key];
    if (forbidden) {
      out.push({ path: keyPath, message: forbidden, at: keyAt });
      continue;
    }
    if (!memberShape) {
      out.push({ path: keyPath, message: unknownKeyMessage(key, Object.keys(model.members), `an ${model.operation} field`), at: keyAt });
      continue;
    }
    if (value === null || value === undefined) {
      out.push({ path: keyPath, message: 'is empty; give it a value, or remove the key to leave the field unmanaged', at: keyAt });
      continue;
    }
    const unknown: FieldIssue[] = [];
    const unquoted = new Map<string, string>();
    walkExtras(memberShape, value, keyPath, unknown, unquoted);
    for (const issue of validateShape(memberShape, value, keyPath, serviceModel)) {
      // validateShape reports map-key problems as "<map> key"; the map itself is the location.
      const name = issue.name.endsWith(' key') ? issue.name.slice(0, -4) : issue.name;
      const got = issue.message === 'must be a string' ? unquoted.get(name) : undefined;
      const hint = got ? ` (got ${got}; quote it in YAML)` : '';
      out.push({ path: name, message: `${issue.message}${hint}`, at: [...keyAt, ...tailSegments(name, keyPath)] });
    }
    for (const issue of unknown) out.push({ path: issue.name, message: issue.message, at: [...keyAt, ...tailSegments(issue.name, keyPath)] });
  }
  return out;
}

/** Decodes a JSON pointer (RFC 6901) into its segments; undefined when the syntax is wrong. */
export function parsePointer(pointer: string): string[] | undefined {
  if (!pointer.startsWith('/') || /~[^01]|~$/.test(pointer)) return undefined;
  return pointer.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function pointerProblemFor(kind: ResourceKind, segments: string[]): string | undefined {
  const model = MODELS[kind];
  const [first, ...rest] = segments;
  if (model.forbidden[first]) return `points to ${first}, which is not a desired field of a ${kind}`;
  let shapeName = model.members[first];
  if (!shapeName) {
    const hint = suggestKey(first, Object.keys(model.members));
    return `must start with a field of ${model.operation}; "${first}" is not one${hint ? ` (did you mean "${hint}"?)` : ''}`;
  }
  let where = `/${first}`;
  for (const seg of rest) {
    const shape = serviceModel.shapes[shapeName];
    if (shape?.type === 'structure') {
      const member = shape.members?.[seg];
      if (!member) return `does not exist in the model: ${where} has no field "${seg}" (fields: ${Object.keys(shape.members ?? {}).join(', ')})`;
      shapeName = member.shape;
    } else if (shape?.type === 'map') {
      shapeName = shape.value!.shape;
    } else if (shape?.type === 'list') {
      if (!/^(0|[1-9][0-9]*)$/.test(seg)) return `does not exist in the model: ${where} is a list, so the next segment must be an index`;
      shapeName = shape.member!.shape;
    } else {
      return `does not exist in the model: ${where} is a single value with nothing below it`;
    }
    where = `${where}/${seg}`;
  }
  return undefined;
}

/**
 * Checks an `ignore` entry: a JSON pointer into `desired` whose path exists in the model for at
 * least one of `kinds`. Returns the problem, or undefined.
 */
export function checkIgnorePointer(pointer: string, kinds: readonly ResourceKind[]): string | undefined {
  const segments = parsePointer(pointer);
  if (!segments) return 'must be a JSON pointer into desired, starting with "/" (e.g. /environmentVariables/LOG_LEVEL; escape "/" as ~1 and "~" as ~0)';
  if (segments[0] === '') return 'must name a field after "/" (e.g. /description)';
  const problems = kinds.map((kind) => pointerProblemFor(kind, segments));
  if (problems.some((p) => p === undefined)) return undefined;
  if (kinds.length === 1) return problems[0];
  return 'must point to a field of UpdateAgentRuntime or UpdateGateway (e.g. /environmentVariables/LOG_LEVEL or /description)';
}
