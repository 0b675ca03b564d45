import { BedrockAgentCoreControlClient } from '@aws-sdk/client-bedrock-agentcore-control';
import { addPacing, agentCorePacer } from '../pacing.ts';
import { clientConfig, type ClientOptions } from './options.ts';

/**
 * A Bedrock AgentCore Control client whose calls are paced per operation (see `pacer`) and that
 * keeps the raw body of GetAgentRuntime and GetGateway (see rawBodyOf).
 */
export function createAgentCoreControlClient(options: ClientOptions = {}): BedrockAgentCoreControlClient {
  const client = new BedrockAgentCoreControlClient(clientConfig(options));
  captureRawBodies(client, RAW_BODY_COMMANDS);
  if (options.pacer !== false) addPacing(client, options.pacer ?? agentCorePacer());
  return client;
}

/**
 * Commands whose raw response body is kept: the reads every read-merge-write starts from. The
 * SDK's parser drops members its model does not know; the raw body still has them
 * (functions/lib/model/unknown-members.ts).
 */
export const RAW_BODY_COMMANDS: readonly string[] = ['GetAgentRuntimeCommand', 'GetGatewayCommand'];

const RAW_BODY = Symbol.for('agentcore-autopilot.rawBody');

/** The parsed JSON body a command's output was deserialized from, when the client kept it (else undefined). */
export function rawBodyOf(output: object): unknown {
  return (output as { [RAW_BODY]?: unknown })[RAW_BODY];
}

interface RawBodyContext { commandName?: string; [RAW_BODY]?: Uint8Array }

/**
 * Adds two middlewares to `client`: one under the deserializer (priority low in the deserialize
 * step: it sees the HTTP response first) buffers a successful response body of the named commands
 * and hands the same bytes on; one above it attaches the parsed body to the command output as a
 * non-enumerable property. Other commands are untouched (no buffering).
 */
export function captureRawBodies(client: { middlewareStack: BedrockAgentCoreControlClient['middlewareStack']; config: { streamCollector: (body: unknown) => Promise<Uint8Array> } }, commands: readonly string[]): void {
  const wanted = new Set(commands);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const ctx = context as RawBodyContext;
      const response = result.response as { statusCode?: unknown; body?: unknown } | undefined;
      if (ctx.commandName && wanted.has(ctx.commandName) && typeof response?.statusCode === 'number' && response.statusCode < 300 && response.body) {
        const bytes = response.body instanceof Uint8Array ? response.body : await client.config.streamCollector(response.body);
        response.body = bytes;
        ctx[RAW_BODY] = bytes;
      }
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'autopilotBufferRawBody' },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const bytes = (context as RawBodyContext)[RAW_BODY];
      if (bytes !== undefined && typeof result.output === 'object' && result.output !== null) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(new TextDecoder().decode(bytes));
        } catch {
          parsed = undefined;
        }
        Object.defineProperty(result.output, RAW_BODY, { value: parsed, enumerable: false, configurable: true });
      }
      return result;
    },
    { step: 'deserialize', priority: 'high', name: 'autopilotAttachRawBody' },
  );
}
