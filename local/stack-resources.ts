/**
 * The resources of serverless.yml the local stack creates on its stand-ins, as CloudFormation
 * would: SQS queues, event buses with their policies, function URLs with their permissions, the
 * drift lock's DynamoDB table.
 */
import { REQUEST_SOURCE } from '../functions/domain/requests/source.ts';
import type { DynamoDbStandIn } from './emulator/dynamodb/dynamodb.ts';
import type { EventBridgeStandIn } from './emulator/eventbridge/eventbridge.ts';
import type { LambdaStandIn } from './emulator/lambda/lambda.ts';
import type { SqsStandIn } from './emulator/sqs/sqs.ts';
import type { ServerlessConfig } from './lambda/serverless-config.ts';

type Resources = Record<string, { Type?: string; Properties?: Record<string, unknown> }>;

function resourcesOf(serverless: ServerlessConfig): Resources {
  return ((serverless.resolved.resources ?? {}) as { Resources?: Resources }).Resources ?? {};
}

/** Creates the DynamoDB tables serverless.yml declares (AWS::DynamoDB::Table): name and key schema. */
export function createTables(serverless: ServerlessConfig, dynamodb: DynamoDbStandIn): void {
  for (const [id, res] of Object.entries(resourcesOf(serverless))) {
    if (res?.Type !== 'AWS::DynamoDB::Table') continue;
    const props = serverless.resolveIntrinsics(res.Properties ?? {}, `resources.Resources.${id}.Properties`) as Record<string, unknown>;
    const name = typeof props.TableName === 'string' ? props.TableName : `${serverless.service}-${serverless.stage}-${id}`;
    const keys = (props.KeySchema ?? []) as { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
    const hash = keys.find((k) => k.KeyType === 'HASH')?.AttributeName;
    if (!hash) throw new Error(`resources.Resources.${id}: a table needs a HASH key`);
    const range = keys.find((k) => k.KeyType === 'RANGE')?.AttributeName;
    dynamodb.createTable(name, { hash, ...(range && { range }) });
  }
}

/** Creates the SQS queues serverless.yml declares (AWS::SQS::Queue), with their attributes. */
export function createQueues(serverless: ServerlessConfig, sqs: SqsStandIn): void {
  const resources = resourcesOf(serverless);
  for (const [id, res] of Object.entries(resources)) {
    if (res?.Type !== 'AWS::SQS::Queue') continue;
    const props = serverless.resolveIntrinsics(res.Properties ?? {}, `resources.Resources.${id}.Properties`) as Record<string, unknown>;
    const name = typeof props.QueueName === 'string' ? props.QueueName : `${serverless.service}-${serverless.stage}-${id}`;
    const attributes: Record<string, string> = {};
    for (const key of ['MessageRetentionPeriod', 'VisibilityTimeout', 'MaximumMessageSize', 'DelaySeconds', 'ReceiveMessageWaitTimeSeconds', 'SqsManagedSseEnabled', 'KmsMasterKeyId']) {
      if (props[key] !== undefined) attributes[key] = String(props[key]);
    }
    sqs.createQueue(name, attributes);
  }
}

/**
 * Creates the event buses serverless.yml declares (AWS::Events::EventBus) with their resource
 * policies; returns the request bus (the one the request rules listen on).
 */
export function createBuses(serverless: ServerlessConfig, events: EventBridgeStandIn): string {
  const resources = resourcesOf(serverless);
  for (const [id, res] of Object.entries(resources)) {
    if (res?.Type !== 'AWS::Events::EventBus') continue;
    const props = serverless.resolveIntrinsics(res.Properties ?? {}, `resources.Resources.${id}.Properties`) as Record<string, unknown>;
    const name = String(props.Name);
    events.createEventBus(name);
    if (props.Policy !== undefined) events.setBusPolicy(name, props.Policy as never);
  }
  const requestRule = serverless.eventRules.find((r) => JSON.stringify(r.pattern ?? {}).includes(REQUEST_SOURCE));
  return events.busName(requestRule?.eventBus);
}

/** The function URLs of serverless.yml (`url:`) and their AWS::Lambda::Permission resources. */
export function createFunctionUrls(serverless: ServerlessConfig, lambda: LambdaStandIn): void {
  for (const f of Object.values(serverless.functions)) {
    if (f.url) lambda.addFunctionUrl({ functionName: f.name, functionArn: f.arn, authType: f.url.authType });
  }
  const resources = resourcesOf(serverless);
  for (const [id, res] of Object.entries(resources)) {
    if (res?.Type !== 'AWS::Lambda::Permission') continue;
    const props = serverless.resolveIntrinsics(res.Properties ?? {}, `resources.Resources.${id}.Properties`) as Record<string, unknown>;
    if (props.FunctionUrlAuthType === undefined && props.InvokedViaFunctionUrl === undefined) continue;
    lambda.addPermission(String(props.FunctionName), props as never);
  }
}

/** Every function destination must be a queue of the stack: the only kind emulated locally. */
export function checkDestinations(serverless: ServerlessConfig, sqs: SqsStandIn): void {
  for (const f of Object.values(serverless.functions)) {
    for (const arn of [f.async.onFailure, f.async.onSuccess]) {
      if (arn !== undefined && !sqs.queue(arn)) {
        throw new Error(`functions.${f.key}.destinations: ${arn} is not an SQS queue of this stack (only SQS destinations are emulated locally)`);
      }
    }
  }
}
