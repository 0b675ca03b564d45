import { ECRClient } from '@aws-sdk/client-ecr';
import { clientConfig, type ClientOptions } from './options.ts';

/** An ECR client. */
export function createEcrClient(options: ClientOptions = {}): ECRClient {
  return new ECRClient(clientConfig(options));
}
