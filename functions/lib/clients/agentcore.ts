import { BedrockAgentCoreControlClient } from '@aws-sdk/client-bedrock-agentcore-control';
import { addPacing, agentCorePacer } from '../pacing.ts';
import { clientConfig, type ClientOptions } from './options.ts';

/** A Bedrock AgentCore Control client whose calls are paced per operation (see `pacer`). */
export function createAgentCoreControlClient(options: ClientOptions = {}): BedrockAgentCoreControlClient {
  const client = new BedrockAgentCoreControlClient(clientConfig(options));
  if (options.pacer !== false) addPacing(client, options.pacer ?? agentCorePacer());
  return client;
}
