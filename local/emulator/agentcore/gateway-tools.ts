/**
 * The tools a local gateway serves (an emulator-only seed field: real gateways learn them from
 * their targets, ListGatewayTargets), and the Cedar schema AgentCore generates from them.
 *
 * Source: AgentCore developer guide, policy-schema-constraints and policy-scope:
 * - principal `AgentCore::OAuthUser` (id = the JWT `sub`, claims as tags) or `AgentCore::IamEntity`
 *   (id = the caller's ARN);
 * - action `AgentCore::Action::"<Target>___<tool>"` (three underscores), each a member of the
 *   action group `AgentCore::Action::"<Target>"`;
 * - resource `AgentCore::Gateway` (id = the gateway ARN);
 * - context: only `context.input`, the tool's input with JSON Schema types mapped to
 *   String / Long / Bool / Decimal / Record / Set.
 */

/** JSON Schema subset of a tool's input (MCP `inputSchema`). */
export interface ToolInputSchema {
  type?: 'object' | 'string' | 'integer' | 'number' | 'boolean' | 'array';
  properties?: Record<string, ToolInputSchema>;
  required?: string[];
  items?: ToolInputSchema;
}

export interface GatewayTool {
  name: string;
  inputSchema?: ToolInputSchema;
}

export interface GatewayTarget {
  name: string;
  tools: GatewayTool[];
}

/** The Cedar action id of a target's tool. */
export function actionId(target: string, tool: string): string {
  return `${target}___${tool}`;
}

type CedarType = Record<string, unknown>;

function cedarType(schema: ToolInputSchema | undefined): CedarType {
  switch (schema?.type) {
    case 'string':
      return { type: 'String' };
    case 'integer':
      return { type: 'Long' };
    case 'number':
      return { type: 'Extension', name: 'decimal' };
    case 'boolean':
      return { type: 'Boolean' };
    case 'array':
      return { type: 'Set', element: cedarType(schema.items ?? { type: 'string' }) };
    default: {
      const required = new Set(schema?.required ?? []);
      const attributes = Object.fromEntries(
        Object.entries(schema?.properties ?? {}).map(([k, v]) => [k, { ...cedarType(v), required: required.has(k) }]),
      );
      return { type: 'Record', attributes };
    }
  }
}

/** Cedar JSON schema (namespace AgentCore) for the tools of the given targets. */
export function cedarSchemaFor(targets: GatewayTarget[]): Record<string, unknown> {
  const actions: Record<string, unknown> = {};
  for (const target of targets) {
    actions[target.name] = {};
    for (const tool of target.tools) {
      actions[actionId(target.name, tool.name)] = {
        memberOf: [{ id: target.name }],
        appliesTo: {
          principalTypes: ['OAuthUser', 'IamEntity'],
          resourceTypes: ['Gateway'],
          context: { type: 'Record', attributes: { input: { ...cedarType(tool.inputSchema ?? { type: 'object' }), required: true } } },
        },
      };
    }
  }
  return {
    AgentCore: {
      entityTypes: {
        OAuthUser: { shape: { type: 'Record', attributes: {} }, tags: { type: 'String' } },
        IamEntity: { shape: { type: 'Record', attributes: {} } },
        Gateway: { shape: { type: 'Record', attributes: {} } },
      },
      actions,
    },
  };
}
