import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { clientConfig, type ClientOptions } from './options.ts';

/** An EventBridge client. */
export function createEventBridgeClient(options: ClientOptions = {}): EventBridgeClient {
  return new EventBridgeClient(clientConfig(options));
}
