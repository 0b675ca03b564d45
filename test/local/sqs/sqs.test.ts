/**
 * The SQS stand-in through the real @aws-sdk/client-sqs (awsJson1_0, query-compatible errors, MD5
 * checks, queue URLs on the emulator's origin): send, receive with visibility timeout, delete,
 * long polling on the clock, attributes and the documented errors.
 */
import {
  ChangeMessageVisibilityCommand, CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, GetQueueUrlCommand,
  ListQueuesCommand, PurgeQueueCommand, QueueDoesNotExist, ReceiveMessageCommand, SendMessageCommand, SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../local/clock.ts';
import { startEmulator, type Emulator } from '../../../local/emulator/index.ts';
import { SqsStandIn } from '../../../local/emulator/sqs/sqs.ts';

let emulator: Emulator;
let sqs: SqsStandIn;
let client: SQSClient;
let clock: VirtualClock;

beforeEach(async () => {
  clock = new VirtualClock({ mode: 'manual', start: Date.parse('2026-03-02T10:00:00Z') });
  emulator = await startEmulator({ clock, services: [(ctx) => (sqs = new SqsStandIn({ clock: ctx.clock, account: ctx.account, region: ctx.region }))] });
  client = new SQSClient({ endpoint: emulator.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});
afterEach(async () => {
  client.destroy();
  await emulator.close();
});

describe('SQS stand-in', () => {
  it('sends, receives (hidden for the visibility timeout) and deletes, with MD5 checks passing', async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'dlq', Attributes: { VisibilityTimeout: '30' } }));
    expect(QueueUrl).toBe(`${emulator.url}/123456789012/dlq`);
    const sent = await client.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"a":1}', MessageAttributes: { RULE_ARN: { DataType: 'String', StringValue: 'arn:x' } } }));
    expect(sent.MessageId).toBeTruthy();

    const first = await client.send(new ReceiveMessageCommand({ QueueUrl, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
    expect(first.Messages).toMatchObject([{ Body: '{"a":1}', MessageAttributes: { RULE_ARN: { StringValue: 'arn:x' } }, Attributes: { ApproximateReceiveCount: '1' } }]);
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl }))).Messages ?? []).toEqual([]);
    const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    expect(attrs.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1', QueueArn: 'arn:aws:sqs:us-east-1:123456789012:dlq' });

    await clock.advance(31_000);
    const again = await client.send(new ReceiveMessageCommand({ QueueUrl, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
    expect(again.Messages?.[0].Attributes?.ApproximateReceiveCount).toBe('2');
    await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: again.Messages![0].ReceiptHandle }));
    await clock.advance(31_000);
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl }))).Messages ?? []).toEqual([]);
  });

  it('long polling waits on the clock for a message', async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'poll' }));
    const waiting = client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 }));
    await new Promise((r) => setTimeout(r, 30));
    sqs.send('arn:aws:sqs:us-east-1:123456789012:poll', 'late');
    expect((await waiting).Messages?.map((m) => m.Body)).toEqual(['late']);
    const empty = client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5 }));
    await new Promise((r) => setTimeout(r, 30));
    await clock.advance(5_000);
    expect((await empty).Messages ?? []).toEqual([]);
  });

  it('answers the documented errors', async () => {
    await expect(client.send(new GetQueueUrlCommand({ QueueName: 'missing' }))).rejects.toBeInstanceOf(QueueDoesNotExist);
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'q' }));
    await expect(client.send(new CreateQueueCommand({ QueueName: 'q', Attributes: { VisibilityTimeout: '5' } }))).rejects.toMatchObject({ name: 'QueueNameExists' });
    await expect(client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 11 }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(client.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: 'bogus', VisibilityTimeout: 1 }))).rejects.toMatchObject({ name: 'ReceiptHandleIsInvalid' });
    expect((await client.send(new ListQueuesCommand({ QueueNamePrefix: 'q' }))).QueueUrls).toEqual([QueueUrl]);
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' }));
    await client.send(new PurgeQueueCommand({ QueueUrl }));
    expect(sqs.messages('q')).toEqual([]);
  });

  it('drops messages past the retention period', async () => {
    sqs.createQueue('short', { MessageRetentionPeriod: '60' });
    sqs.send('short', 'old');
    await clock.advance(61_000);
    expect(sqs.messages('short')).toEqual([]);
  });
});
