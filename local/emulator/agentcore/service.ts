/**
 * AgentCore Control on its real wire protocol (restJson1): routes by method + the service model's
 * requestUri templates, builds each operation's input from labels, query and JSON body, validates
 * it against the model, runs it against the AgentCoreState and renders model-shaped JSON.
 */
import type { EmulatorRequest, EmulatorResponse, ResolvedOperation, ServiceStandIn } from '../types.ts';
import { AwsError } from '../types.ts';
import { serviceModel } from '../../../functions/lib/model/service-model.ts';
import { isPlainObject, validateShape, type ModelOperation } from '../../../functions/lib/model/validate.ts';
import type { AgentCoreState } from './state.ts';
import { errors, paginate } from './util.ts';

export const AGENTCORE_SERVICE = 'bedrock-agentcore-control';

type Json = Record<string, unknown>;
type Handler = (input: Json, state: AgentCoreState) => Json | undefined;

interface Route {
  operation: string;
  method: string;
  /** Literal segments, or `{label}` for labels. */
  segments: Array<{ literal: string } | { label: string }>;
  def: ModelOperation;
}

function compileRoutes(operations: string[]): Route[] {
  return operations.map((operation) => {
    const def = serviceModel.operations[operation];
    if (!def) throw new Error(`operation ${operation} is not in the model`);
    const path = def.http.requestUri.split('?')[0];
    const segments = path.split('/').map((s) => {
      const m = /^\{([^}+]+)\}$/.exec(s);
      return m ? { label: m[1] } : { literal: s };
    });
    return { operation, method: def.http.method, segments, def };
  });
}

function matchRoute(routes: Route[], method: string, path: string): { route: Route; labels: Record<string, string> } | undefined {
  const parts = path.split('/');
  for (const route of routes) {
    if (route.method !== method || route.segments.length !== parts.length) continue;
    const labels: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < parts.length; i++) {
      const seg = route.segments[i];
      if ('literal' in seg) {
        if (seg.literal !== parts[i]) { ok = false; break; }
      } else {
        if (parts[i] === '') { ok = false; break; }
        try { labels[seg.label] = decodeURIComponent(parts[i]); } catch { ok = false; break; }
      }
    }
    if (ok) return { route, labels };
  }
  return undefined;
}

/** Builds the operation input the way the SDK split it: labels, query string, headers, body. */
function buildInput(route: Route, labels: Record<string, string>, req: EmulatorRequest): Json {
  const shapeName = route.def.input;
  if (!shapeName) return {};
  const shape = serviceModel.shapes[shapeName];
  const members = shape.members ?? {};
  const hasBody = Object.values(members).some((m) => !m.location);
  let body: Json = {};
  if (hasBody && req.body.trim() !== '') {
    let parsed: unknown;
    try { parsed = JSON.parse(req.body); } catch { throw errors.validation('The request body is not valid JSON', 'CannotParse'); }
    if (!isPlainObject(parsed)) throw errors.validation('The request body must be a JSON object', 'CannotParse');
    body = parsed;
  }
  const input: Json = {};
  for (const [name, m] of Object.entries(members)) {
    const wire = m.locationName ?? name;
    const memberShape = serviceModel.shapes[m.shape];
    if (m.location === 'uri') {
      if (labels[wire] !== undefined) input[name] = labels[wire];
    } else if (m.location === 'querystring') {
      if (memberShape.type === 'list') {
        const all = req.query.getAll(wire);
        if (all.length) input[name] = all;
      } else {
        const v = req.query.get(wire);
        if (v === null) continue;
        input[name] = (memberShape.type === 'integer' || memberShape.type === 'long') && /^-?\d+$/.test(v) ? Number(v) : v;
      }
    } else if (m.location === 'header') {
      const v = req.headers[wire.toLowerCase()];
      if (v !== undefined) input[name] = Array.isArray(v) ? v.join(',') : v;
    } else if (body[name] !== undefined && body[name] !== null) {
      input[name] = body[name];
    }
  }
  return input;
}

const handlers: Record<string, Handler> = {
  CreateAgentRuntime: (i, s) => s.idempotent('CreateAgentRuntime', i.clientToken as string, i, () => s.createRuntime(i)),
  GetAgentRuntime: (i, s) => s.runtimeView(s.getRuntime(i.agentRuntimeId as string), i.agentRuntimeVersion === undefined ? undefined : Number(i.agentRuntimeVersion)),
  UpdateAgentRuntime: (i, s) => s.idempotent(`UpdateAgentRuntime/${i.agentRuntimeId}`, i.clientToken as string, i,
    () => s.updateRuntime(i.agentRuntimeId as string, i)),
  DeleteAgentRuntime: (i, s) => s.idempotent(`DeleteAgentRuntime/${i.agentRuntimeId}`, i.clientToken as string, i,
    () => s.deleteRuntime(i.agentRuntimeId as string, i.agentRuntimeVersion === undefined ? undefined : Number(i.agentRuntimeVersion))),
  ListAgentRuntimes: (i, s) => {
    const { page, nextToken } = paginate(s.listRuntimes(), i, 'ListAgentRuntimes', s.settings.defaultPageSize);
    return { agentRuntimes: page.map((rt) => s.runtimeSummary(rt)), nextToken };
  },
  ListAgentRuntimeVersions: (i, s) => {
    const rt = s.getRuntime(i.agentRuntimeId as string);
    const versions = [...rt.versions].reverse();
    const { page, nextToken } = paginate(versions, i, `ListAgentRuntimeVersions/${rt.id}`, s.settings.defaultPageSize);
    return { agentRuntimes: page.map((v) => s.runtimeSummary(rt, v)), nextToken };
  },
  CreateAgentRuntimeEndpoint: (i, s) => s.idempotent(`CreateAgentRuntimeEndpoint/${i.agentRuntimeId}`, i.clientToken as string, i,
    () => s.createEndpoint(i.agentRuntimeId as string, i)),
  GetAgentRuntimeEndpoint: (i, s) => s.endpointView(s.getRuntime(i.agentRuntimeId as string), i.endpointName as string),
  UpdateAgentRuntimeEndpoint: (i, s) => s.idempotent(`UpdateAgentRuntimeEndpoint/${i.agentRuntimeId}/${i.endpointName}`, i.clientToken as string, i,
    () => s.updateEndpoint(i.agentRuntimeId as string, i.endpointName as string, i)),
  DeleteAgentRuntimeEndpoint: (i, s) => s.idempotent(`DeleteAgentRuntimeEndpoint/${i.agentRuntimeId}/${i.endpointName}`, i.clientToken as string, i,
    () => s.deleteEndpoint(i.agentRuntimeId as string, i.endpointName as string)),
  ListAgentRuntimeEndpoints: (i, s) => {
    const rt = s.getRuntime(i.agentRuntimeId as string);
    const { page, nextToken } = paginate(s.endpointNames(rt), i, `ListAgentRuntimeEndpoints/${rt.id}`, s.settings.defaultPageSize);
    return {
      runtimeEndpoints: page.map((name) => {
        const { failureReason: _f, ...item } = s.endpointView(rt, name);
        return item;
      }),
      nextToken,
    };
  },
  CreateGateway: (i, s) => s.idempotent('CreateGateway', i.clientToken as string, i, () => s.createGateway(i)),
  GetGateway: (i, s) => s.gatewayView(s.getGateway(i.gatewayIdentifier as string)),
  UpdateGateway: (i, s) => s.updateGateway(i.gatewayIdentifier as string, i),
  DeleteGateway: (i, s) => s.deleteGateway(i.gatewayIdentifier as string),
  ListGateways: (i, s) => {
    const { page, nextToken } = paginate(s.listGateways(), i, 'ListGateways', s.settings.defaultPageSize);
    return { items: page.map((g) => s.gatewaySummary(g)), nextToken };
  },
  CreatePolicyEngine: (i, s) => s.idempotent('CreatePolicyEngine', i.clientToken as string, i, () => s.createPolicyEngine(i)),
  GetPolicyEngine: (i, s) => s.policyEngineView(s.getPolicyEngine(i.policyEngineId as string)),
  ListPolicyEngines: (i, s) => {
    const { page, nextToken } = paginate([...s.policyEngines.values()], i, 'ListPolicyEngines', s.settings.defaultPageSize);
    return { policyEngines: page.map((p) => s.policyEngineView(p)), nextToken };
  },
  CreatePolicy: (i, s) => s.idempotent(`CreatePolicy/${i.policyEngineId}`, i.clientToken as string, i, () => s.policies.create(i)),
  GetPolicy: (i, s) => s.policies.view(s.policies.get(i.policyEngineId as string, i.policyId as string)),
  UpdatePolicy: (i, s) => s.policies.update(i),
  DeletePolicy: (i, s) => s.policies.delete(i.policyEngineId as string, i.policyId as string),
  ListPolicies: (i, s) => s.policies.list(i.policyEngineId as string, i, s.settings.defaultPageSize),
  TagResource: (i, s) => { s.tagResource(i.resourceArn as string, i.tags as Record<string, string>); return undefined; },
  UntagResource: (i, s) => { s.untagResource(i.resourceArn as string, (i.tagKeys as string[] | undefined) ?? []); return undefined; },
  ListTagsForResource: (i, s) => ({ tags: s.listTags(i.resourceArn as string) }),
};

/** The operations this stand-in serves (all from the trimmed model). */
export const AGENTCORE_OPERATIONS = Object.keys(handlers);

/** Renders an AwsError as restJson1: `x-amzn-errortype` header and `{ message, ... }` body. */
export function renderRestJsonError(err: AwsError): EmulatorResponse {
  return {
    status: err.status,
    headers: { 'x-amzn-errortype': err.type },
    body: { message: err.message, ...err.extra },
  };
}

/** The AgentCore Control stand-in over a live state store. */
export function createAgentCoreService(state: AgentCoreState): ServiceStandIn {
  const routes = compileRoutes(AGENTCORE_OPERATIONS);
  return {
    name: AGENTCORE_SERVICE,
    resolve(req: EmulatorRequest): ResolvedOperation | undefined {
      if (req.target) return undefined;
      const hit = matchRoute(routes, req.method, req.path);
      if (!hit) return undefined;
      const { route, labels } = hit;
      return {
        service: AGENTCORE_SERVICE,
        operation: route.operation,
        run: () => {
          const input = buildInput(route, labels, req);
          const issues = route.def.input ? validateShape(route.def.input, input, '', serviceModel) : [];
          if (issues.length) throw errors.fields(issues);
          const output = handlers[route.operation](input, state);
          const status = route.def.http.responseCode ?? 200;
          return status === 204 || output === undefined ? { status } : { status, body: output };
        },
      };
    },
    renderError: renderRestJsonError,
  };
}
