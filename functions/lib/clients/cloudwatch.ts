import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { clientConfig, type ClientOptions } from './options.ts';

/** A CloudWatch client. */
export function createCloudWatchClient(options: ClientOptions = {}): CloudWatchClient {
  return new CloudWatchClient(clientConfig(options));
}
