/**
 * Failures are kept and seen, on the local stack wired from the real serverless.yml: a handler
 * that keeps failing is retried the way Lambda retries asynchronous invocations, then its
 * invocation record lands in the stack's dead-letter queue (read back with the real SQS client),
 * and the stack's own alarms (serverless.yml, resources/monitoring.yml) go off on the metrics
 * Lambda and SQS publish.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../local/clock.ts';
import { startStack, type Stack } from '../../local/stack.ts';
import { SEED } from './drift-fixtures.ts';

const DLQ = 'agentcore-autopilot-dev-events-dlq';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** A config file every handler refuses to load (a deployment mistake): each invocation fails. */
function brokenConfig(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'autopilot-broken-')), 'autopilot.config.yaml');
  writeFileSync(file, 'version: 1\nruntimes:\n  - id: supportAgent-a1b2c3d4e5\n    drfit: correct\n');
  return file;
}

async function dlqRecords(s: Stack): Promise<Record<string, any>[]> {
  const sqs = new SQSClient({ endpoint: s.url, region: s.env.AWS_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  try {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: DLQ }));
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    return (out.Messages ?? []).map((m) => JSON.parse(m.Body!));
  } finally {
    sqs.destroy();
  }
}

describe('a handler that keeps failing', () => {
  it('is retried twice (1 and 2 minutes later) and ends in the dead-letter queue with its invocation record', async () => {
    stack = await startStack({ seed: SEED, configFile: brokenConfig() });
    expect(await stack.request('Runtime Change Requested', { runtime: { id: 'supportAgent-a1b2c3d4e5' }, change: { unset: ['description'] } })).toHaveProperty('EventId');
    await stack.settle();

    const [inv] = stack.lambdaAsync.invocations;
    expect(inv).toMatchObject({ functionKey: 'onChangeRequest', outcome: 'failed', condition: 'RetriesExhausted', attempts: 3 });
    expect(inv.attemptTimes.map((t) => t - inv.attemptTimes[0])).toEqual([0, 60_000, 180_000]);
    // EventBridge handed the event over: its own retry policy and DLQ saw nothing.
    expect(stack.events.deliveries[0]).toMatchObject({ outcome: 'delivered', attempts: 1 });
    const [record] = await dlqRecords(stack);
    expect(record).toMatchObject({
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3, functionArn: expect.stringContaining(':function:agentcore-autopilot-dev-onChangeRequest') },
      requestPayload: { 'detail-type': 'Runtime Change Requested' },
      responsePayload: { errorType: 'ConfigError' },
    });
    expect(stack.emulator.count('bedrock-agentcore-control:UpdateAgentRuntime')).toBe(0);
  });

  it('correctDrift is never retried: one attempt, then the dead-letter queue', async () => {
    stack = await startStack({ seed: SEED, configFile: brokenConfig() });
    await stack.request('Drift Check Requested', {});
    await stack.settle();
    expect(stack.lambdaAsync.invocations).toMatchObject([{ functionKey: 'correctDrift', outcome: 'failed', condition: 'RetriesExhausted', attempts: 1 }]);
    expect(await dlqRecords(stack)).toMatchObject([{ requestContext: { approximateInvokeCount: 1 } }]);
  });
});

describe('the stack watches itself', () => {
  it('a handler that keeps failing raises the dead-letter-queue and entry-function alarms, which notify the alarm topic', async () => {
    // A manual clock: the test decides when time passes (retries 1 and 2 minutes apart, alarm windows).
    const clock = new VirtualClock({ mode: 'manual', start: Date.parse('2026-03-02T10:00:00Z') });
    stack = await startStack({ seed: SEED, configFile: brokenConfig(), clock });
    const cw = new CloudWatchClient({ endpoint: stack.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const state = async (name: string) => (await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms?.[0];
    try {
      expect(stack.alarms).toEqual(expect.arrayContaining(['agentcore-autopilot-dev-dlq-not-empty', 'agentcore-autopilot-dev-entry-functions-errors']));
      await clock.advance(60_000);
      expect((await state('agentcore-autopilot-dev-dlq-not-empty'))?.StateValue).not.toBe('ALARM');

      await stack.request('Drift Check Requested', {});
      await stack.request('Runtime Change Requested', { runtime: { id: 'supportAgent-a1b2c3d4e5' }, change: { unset: ['description'] } });
      for (let i = 0; i < 10 && stack.deadLetters.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 30));
        await clock.advance(60_000);
      }
      expect(stack.deadLetters.map((d) => d.source).sort()).toEqual(['correctDrift', 'onChangeRequest']);
      await clock.advance(60_000);

      const dlq = await state('agentcore-autopilot-dev-dlq-not-empty');
      expect(dlq).toMatchObject({ StateValue: 'ALARM', AlarmActions: ['arn:aws:sns:us-east-1:123456789012:agentcore-autopilot-dev-alarms'] });
      expect((await state('agentcore-autopilot-dev-entry-functions-errors'))?.StateValue).toBe('ALARM');
      expect((await state('agentcore-autopilot-dev-rollback-failed'))?.StateValue).not.toBe('ALARM');
    } finally {
      cw.destroy();
    }
  });
});
