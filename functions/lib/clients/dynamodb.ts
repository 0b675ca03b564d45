import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { clientConfig, type ClientOptions } from './options.ts';

/** A DynamoDB client (the drift lock's table only). */
export function createDynamoDbClient(options: ClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient(clientConfig(options));
}
