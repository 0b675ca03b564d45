import { SFNClient } from '@aws-sdk/client-sfn';
import { clientConfig, type ClientOptions } from './options.ts';

/** A Step Functions client. */
export function createSfnClient(options: ClientOptions = {}): SFNClient {
  return new SFNClient(clientConfig(options));
}
