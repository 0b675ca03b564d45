/**
 * Bedrock AgentCore Control: runtimes, runtime versions and endpoints, gateways, policy engines.
 * Every method translates SDK exceptions into the named errors of lib/errors.ts; lists drain all
 * pages with the SDK paginators.
 */
import {
  GetAgentRuntimeCommand,
  GetAgentRuntimeEndpointCommand,
  GetGatewayCommand,
  GetPolicyEngineCommand,
  GetPolicyCommand,
  CreatePolicyCommand,
  UpdatePolicyCommand,
  DeletePolicyCommand,
  UpdateAgentRuntimeCommand,
  UpdateAgentRuntimeEndpointCommand,
  UpdateGatewayCommand,
  paginateListAgentRuntimeEndpoints,
  paginateListAgentRuntimeVersions,
  paginateListAgentRuntimes,
  paginateListGateways,
  paginateListPolicyEngines,
  paginateListPolicies,
} from '@aws-sdk/client-bedrock-agentcore-control';
import type {
  AgentRuntime,
  AgentRuntimeEndpoint,
  BedrockAgentCoreControlClient,
  GatewaySummary,
  GetAgentRuntimeCommandOutput,
  GetAgentRuntimeEndpointCommandOutput,
  GetGatewayCommandOutput,
  GetPolicyEngineCommandOutput,
  GetPolicyCommandOutput,
  CreatePolicyCommandInput,
  CreatePolicyCommandOutput,
  UpdatePolicyCommandInput,
  UpdatePolicyCommandOutput,
  DeletePolicyCommandOutput,
  Policy,
  PolicyEngine,
  UpdateAgentRuntimeCommandInput,
  UpdateAgentRuntimeCommandOutput,
  UpdateAgentRuntimeEndpointCommandInput,
  UpdateAgentRuntimeEndpointCommandOutput,
  UpdateGatewayCommandInput,
  UpdateGatewayCommandOutput,
} from '@aws-sdk/client-bedrock-agentcore-control';
import { rawBodyOf } from '../lib/clients.ts';
import { AmbiguousResourceError, ResourceNotFoundError } from '../lib/errors.ts';
import {
  NO_ACKNOWLEDGED_MEMBERS,
  UNKNOWN_MEMBERS_KEY,
  unacknowledgedMembers,
  type AcknowledgedMembers,
  type LiveResourceKind,
} from '../lib/model/unknown-members.ts';
import { callAws, collectPages } from './aws-errors.ts';

const SERVICE = 'bedrock-agentcore-control';
const PAGE_SIZE = 100;

/** A runtime or gateway named by id or by name. */
export type ResourceRef = { id: string } | { name: string };

export interface AgentCoreAdapterOptions {
  /**
   * Unknown member paths the operator acknowledged as read-only (config `unknownMembers`), or a
   * function that loads them when a Get first needs them. Default: none.
   */
  acknowledgedMembers?: AcknowledgedMembers | (() => Promise<AcknowledgedMembers>);
}

/**
 * A Get output, marked with the member paths of the raw response that the bundled model does not
 * know and nobody acknowledged (`$unknownMembers`, only when there is one): the update builders
 * refuse to write such a resource (functions/lib/model/unknown-members.ts).
 */
export type Marked<T> = T & { [UNKNOWN_MEMBERS_KEY]?: string[] };

/** Typed AgentCore Control calls over an injected client. */
export class AgentCoreAdapter {
  readonly client: BedrockAgentCoreControlClient;
  private readonly acknowledged: AgentCoreAdapterOptions['acknowledgedMembers'];

  constructor(client: BedrockAgentCoreControlClient, options: AgentCoreAdapterOptions = {}) {
    this.client = client;
    this.acknowledged = options.acknowledgedMembers;
  }

  /** Marks `output` with the unknown, unacknowledged members of its raw body (a client without the raw body: nothing to compare). */
  private async mark<T extends object>(kind: LiveResourceKind, output: T): Promise<Marked<T>> {
    const raw = rawBodyOf(output);
    if (raw === undefined) return output;
    const acknowledged = typeof this.acknowledged === 'function' ? await this.acknowledged() : this.acknowledged ?? NO_ACKNOWLEDGED_MEMBERS;
    const unknown = unacknowledgedMembers(kind, raw, acknowledged);
    if (unknown.length > 0) (output as Record<string, unknown>)[UNKNOWN_MEMBERS_KEY] = unknown;
    return output;
  }

  /** GetAgentRuntime: the latest version, or `version` when given; marked with unknown members (see Marked). */
  async getRuntime(id: string, version?: string): Promise<Marked<GetAgentRuntimeCommandOutput>> {
    const out = await callAws({ service: SERVICE, operation: 'GetAgentRuntime', resource: id }, () =>
      this.client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id, ...(version !== undefined && { agentRuntimeVersion: version }) })),
    );
    return this.mark('runtime', out);
  }

  /** UpdateAgentRuntime (creates a new version; DEFAULT follows it, named endpoints do not). */
  async updateRuntime(input: UpdateAgentRuntimeCommandInput): Promise<UpdateAgentRuntimeCommandOutput> {
    return callAws({ service: SERVICE, operation: 'UpdateAgentRuntime', resource: input.agentRuntimeId }, () =>
      this.client.send(new UpdateAgentRuntimeCommand(input)),
    );
  }

  /** Every runtime (latest version of each), all pages. */
  async listRuntimes(): Promise<AgentRuntime[]> {
    return collectPages(
      { service: SERVICE, operation: 'ListAgentRuntimes' },
      paginateListAgentRuntimes({ client: this.client, pageSize: PAGE_SIZE }, {}),
      (page) => page.agentRuntimes,
    );
  }

  /** Every version of one runtime, all pages. */
  async listRuntimeVersions(id: string): Promise<AgentRuntime[]> {
    return collectPages(
      { service: SERVICE, operation: 'ListAgentRuntimeVersions', resource: id },
      paginateListAgentRuntimeVersions({ client: this.client, pageSize: PAGE_SIZE }, { agentRuntimeId: id }),
      (page) => page.agentRuntimes,
    );
  }

  /** GetAgentRuntimeEndpoint: carries `liveVersion` and, during a move, `targetVersion`. */
  async getRuntimeEndpoint(id: string, endpointName: string): Promise<GetAgentRuntimeEndpointCommandOutput> {
    return callAws({ service: SERVICE, operation: 'GetAgentRuntimeEndpoint', resource: `${id}/${endpointName}` }, () =>
      this.client.send(new GetAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName })),
    );
  }

  /** UpdateAgentRuntimeEndpoint: points a named endpoint at a version. */
  async updateRuntimeEndpoint(input: UpdateAgentRuntimeEndpointCommandInput): Promise<UpdateAgentRuntimeEndpointCommandOutput> {
    return callAws(
      { service: SERVICE, operation: 'UpdateAgentRuntimeEndpoint', resource: `${input.agentRuntimeId}/${input.endpointName}` },
      () => this.client.send(new UpdateAgentRuntimeEndpointCommand(input)),
    );
  }

  /** Every endpoint of one runtime, all pages. */
  async listRuntimeEndpoints(id: string): Promise<AgentRuntimeEndpoint[]> {
    return collectPages(
      { service: SERVICE, operation: 'ListAgentRuntimeEndpoints', resource: id },
      paginateListAgentRuntimeEndpoints({ client: this.client, pageSize: PAGE_SIZE }, { agentRuntimeId: id }),
      (page) => page.runtimeEndpoints,
    );
  }

  /** GetGateway (by id or ARN); marked with unknown members (see Marked). */
  async getGateway(gatewayIdentifier: string): Promise<Marked<GetGatewayCommandOutput>> {
    const out = await callAws({ service: SERVICE, operation: 'GetGateway', resource: gatewayIdentifier }, () =>
      this.client.send(new GetGatewayCommand({ gatewayIdentifier })),
    );
    return this.mark('gateway', out);
  }

  /** UpdateGateway: a full replacement, so send every field to keep (see agentcore-api §5). */
  async updateGateway(input: UpdateGatewayCommandInput): Promise<UpdateGatewayCommandOutput> {
    return callAws({ service: SERVICE, operation: 'UpdateGateway', resource: input.gatewayIdentifier }, () =>
      this.client.send(new UpdateGatewayCommand(input)),
    );
  }

  /** Every gateway summary, all pages (summaries carry no ARN or policy config: use getGateway). */
  async listGateways(): Promise<GatewaySummary[]> {
    return collectPages(
      { service: SERVICE, operation: 'ListGateways' },
      paginateListGateways({ client: this.client, pageSize: PAGE_SIZE }, {}),
      (page) => page.items,
    );
  }

  /** GetPolicyEngine. */
  async getPolicyEngine(policyEngineId: string): Promise<GetPolicyEngineCommandOutput> {
    return callAws({ service: SERVICE, operation: 'GetPolicyEngine', resource: policyEngineId }, () =>
      this.client.send(new GetPolicyEngineCommand({ policyEngineId })),
    );
  }

  /** Every policy engine, all pages. */
  async listPolicyEngines(): Promise<PolicyEngine[]> {
    return collectPages(
      { service: SERVICE, operation: 'ListPolicyEngines' },
      paginateListPolicyEngines({ client: this.client, pageSize: PAGE_SIZE }, {}),
      (page) => page.policyEngines,
    );
  }

  /** Every policy of an engine, all pages (ListPolicies returns whole Policy objects). */
  async listPolicies(policyEngineId: string): Promise<Policy[]> {
    return collectPages(
      { service: SERVICE, operation: 'ListPolicies', resource: policyEngineId },
      paginateListPolicies({ client: this.client, pageSize: 100 }, { policyEngineId }),
      (page) => page.policies,
    );
  }

  /** GetPolicy. */
  async getPolicy(policyEngineId: string, policyId: string): Promise<GetPolicyCommandOutput> {
    return callAws({ service: SERVICE, operation: 'GetPolicy', resource: `${policyEngineId}/${policyId}` }, () =>
      this.client.send(new GetPolicyCommand({ policyEngineId, policyId })),
    );
  }

  /** CreatePolicy (202: the policy is CREATING; validation ends it ACTIVE or CREATE_FAILED). */
  async createPolicy(input: CreatePolicyCommandInput): Promise<CreatePolicyCommandOutput> {
    return callAws({ service: SERVICE, operation: 'CreatePolicy', resource: `${input.policyEngineId}/${input.name}` }, () =>
      this.client.send(new CreatePolicyCommand(input)),
    );
  }

  /** UpdatePolicy (PATCH: omitted members stay as they are). */
  async updatePolicy(input: UpdatePolicyCommandInput): Promise<UpdatePolicyCommandOutput> {
    return callAws({ service: SERVICE, operation: 'UpdatePolicy', resource: `${input.policyEngineId}/${input.policyId}` }, () =>
      this.client.send(new UpdatePolicyCommand(input)),
    );
  }

  /** DeletePolicy. */
  async deletePolicy(policyEngineId: string, policyId: string): Promise<DeletePolicyCommandOutput> {
    return callAws({ service: SERVICE, operation: 'DeletePolicy', resource: `${policyEngineId}/${policyId}` }, () =>
      this.client.send(new DeletePolicyCommand({ policyEngineId, policyId })),
    );
  }

  /** Finds a runtime by id or name among all runtimes; ResourceNotFoundError when absent. */
  async resolveRuntime(ref: ResourceRef): Promise<AgentRuntime> {
    const runtimes = await this.listRuntimes();
    return pickOne(runtimes, ref, (r) => r.agentRuntimeId, (r) => r.agentRuntimeName, 'ListAgentRuntimes', 'runtime');
  }

  /** Finds a gateway by id or name among all gateways; ResourceNotFoundError when absent. */
  async resolveGateway(ref: ResourceRef): Promise<GatewaySummary> {
    const gateways = await this.listGateways();
    return pickOne(gateways, ref, (g) => g.gatewayId, (g) => g.name, 'ListGateways', 'gateway');
  }
}

function pickOne<T>(
  items: T[],
  ref: ResourceRef,
  idOf: (item: T) => string | undefined,
  nameOf: (item: T) => string | undefined,
  operation: string,
  kind: string,
): T {
  const [field, wanted, get] = 'id' in ref ? ['id', ref.id, idOf] as const : ['name', ref.name, nameOf] as const;
  const matches = items.filter((item) => get(item) === wanted);
  if (matches.length === 0) {
    throw new ResourceNotFoundError(
      { service: SERVICE, operation, resource: `${field}=${wanted}` },
      { message: `No AgentCore ${kind} with ${field} "${wanted}"` },
    );
  }
  if (matches.length > 1) {
    throw new AmbiguousResourceError(`${matches.length} AgentCore ${kind}s have ${field} "${wanted}"`, {
      details: { kind, field, ids: matches.map(idOf) },
    });
  }
  return matches[0];
}
