/**
 * Lambda's asynchronous invocation in the local stack (local/lambda/async-invoke.ts), against what
 * the Lambda Developer Guide documents: a function error is retried twice (1 min, then 2 min
 * later) or MaximumRetryAttempts times, a throttled event waits until MaximumEventAgeInSeconds, and
 * what fails ends as an invocation record in the on-failure destination (read back with the real
 * SQS client) or, without one, is discarded. Reserved concurrency throttles synchronous invokes
 * (TooManyRequestsException, 429) as well. EventBridge hands the event over with the Invoke call:
 * a function error never reaches the rule's retry policy or dead-letter queue.
 */
import { GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../local/clock.ts';
import { startStack, type Stack } from '../../../local/stack.ts';

const fixture = fileURLToPath(new URL('../../fixtures/serverless/basic/serverless.yml', import.meta.url));
const QUEUE = 'autopilot-fixture-dev-events-dlq';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function fixtureStack(clock = new VirtualClock({ mode: 'auto', start: Date.parse('2026-03-02T10:00:00Z') })): Promise<Stack> {
  stack = await startStack({ serverlessFile: fixture, clock, validateDefinitions: false });
  return stack;
}

/** The messages of the fixture's dead-letter queue, through the real SQS client. */
async function dlqMessages(s: Stack): Promise<{ Body?: string; MessageAttributes?: Record<string, { StringValue?: string }> }[]> {
  const sqs = new SQSClient({ endpoint: s.url, region: s.env.AWS_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  try {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: QUEUE }));
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }));
    return out.Messages ?? [];
  } finally {
    sqs.destroy();
  }
}

describe('asynchronous invocation (the way EventBridge invokes functions)', () => {
  it('retries a function error after 1 and 2 minutes, then sends the invocation record to the on-failure destination', async () => {
    const s = await fixtureStack();
    // flakyAsync has the defaults: two retries. Three failures exhaust them.
    const { done, statusCode } = s.lambdaAsync.invoke('flakyAsync', { key: 'k1', failures: 3 });
    expect(statusCode).toBe(202);
    const inv = await done;
    expect(inv).toMatchObject({ outcome: 'failed', condition: 'RetriesExhausted', attempts: 3 });
    const runs = inv.attemptTimes;
    expect(runs[1] - runs[0]).toBe(60_000);
    expect(runs[2] - runs[1]).toBe(120_000);

    const [message] = await dlqMessages(s);
    const record = JSON.parse(message.Body!);
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: { requestId: inv.requestId, functionArn: expect.stringMatching(/:function:autopilot-fixture-dev-flakyAsync:\$LATEST$/), condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: { key: 'k1', failures: 3 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'TransientError', errorMessage: 'attempt 3 failed' },
    });
    expect(s.deadLetters).toMatchObject([{ kind: 'invocation', functionKey: 'flakyAsync' }]);
  });

  it('a success on a retry sends nothing anywhere', async () => {
    const s = await fixtureStack();
    const inv = await s.lambdaAsync.invoke('flakyAsync', { key: 'k2', failures: 1 }).done;
    expect(inv).toMatchObject({ outcome: 'succeeded', attempts: 2, result: { attempts: 2 } });
    expect(await dlqMessages(s)).toEqual([]);
  });

  it('honours MaximumRetryAttempts, and discards the event of a function without a destination', async () => {
    const s = await fixtureStack();
    expect(await s.lambdaAsync.invoke('failAsync', {}).done).toMatchObject({ outcome: 'failed', condition: 'RetriesExhausted', attempts: 2 });
    const discarded = await s.lambdaAsync.invoke('failDiscarded', {}).done;
    expect(discarded).toMatchObject({ outcome: 'failed', attempts: 3 });
    expect(discarded.destination).toBeUndefined();
    expect((await dlqMessages(s)).map((m) => JSON.parse(m.Body!).requestContext.functionArn)).toEqual([expect.stringContaining('failAsync')]);
  });

  it('a throttled event (reserved concurrency in use) waits at most MaximumEventAgeInSeconds, then goes to the destination', async () => {
    const clock = new VirtualClock({ mode: 'manual', start: Date.parse('2026-03-02T10:00:00Z') });
    const s = await fixtureStack(clock);
    // oneAtATime: reserved concurrency 1, maximum event age 60 s. The first run takes 300 ms of real time.
    const first = s.lambdaAsync.invoke('oneAtATime', { ms: 300 }).done;
    await new Promise((r) => setTimeout(r, 20));
    const second = s.lambdaAsync.invoke('oneAtATime', { ms: 1 }).done;
    await new Promise((r) => setTimeout(r, 20));
    // Throttle retries back off 1 s, 2 s, 4 s...; the one due past 60 s finds the event too old.
    await clock.advance(5 * 60_000);
    expect(await second).toMatchObject({ outcome: 'failed', condition: 'EventAgeExceeded', attempts: 0 });
    expect((await second).throttles).toBeGreaterThan(0);
    expect(await first).toMatchObject({ outcome: 'succeeded' });
    const [message] = await dlqMessages(s);
    expect(JSON.parse(message.Body!)).toMatchObject({ requestContext: { condition: 'EventAgeExceeded', approximateInvokeCount: 0 }, requestPayload: { ms: 1 } });
  });

  it('reserved concurrency holds for synchronous invocations too: one more is throttled (429), not run; a queued event waits its turn', async () => {
    const clock = new VirtualClock({ mode: 'manual', start: Date.parse('2026-03-02T10:00:00Z') });
    const s = await fixtureStack(clock);
    const running = s.lambda.invoke('oneAtATime', { ms: 300 });
    await new Promise((r) => setTimeout(r, 20));
    const runsBefore = s.lambda.invocations.length;
    await expect(s.lambda.invoke('oneAtATime', { ms: 1 })).rejects.toMatchObject({
      name: 'TooManyRequestsException', statusCode: 429, reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
    });
    expect(s.lambda.invocations.length).toBe(runsBefore); // never ran
    // An event queued meanwhile is throttled by the synchronous run, put back, and runs once it ends.
    const queued = s.lambdaAsync.invoke('oneAtATime', { ms: 1 }).done;
    await new Promise((r) => setTimeout(r, 20));
    await running;
    await clock.advance(2_000);
    expect(await queued).toMatchObject({ outcome: 'succeeded', attempts: 1 });
    expect((await queued).throttles).toBeGreaterThan(0);
    // A throttled invocation is a Throttle in AWS/Lambda, not an Invocation or an Error.
    const metric = (metricName: string) => s.cloudwatch.metrics.range({ namespace: 'AWS/Lambda', metricName, dimensions: { FunctionName: 'autopilot-fixture-dev-oneAtATime' } }, 0, Number.MAX_SAFE_INTEGER);
    expect(metric('Throttles').length).toBeGreaterThanOrEqual(2);
    expect(metric('Invocations')).toHaveLength(2); // the synchronous run and the queued one
  });

  it('EventBridge delivers once Lambda accepted the event: the function error stays with Lambda', async () => {
    const s = await fixtureStack();
    s.events.addRule({
      name: 'to-flaky',
      pattern: { source: ['test.flaky'] },
      retryPolicy: { maximumRetryAttempts: 4 },
      target: { id: 'flakyAsync', inputPath: '$.detail', invoke: async (_e, input) => (await s.lambdaAsync.invoke('flakyAsync', input).done).outcome },
    });
    s.events.put({ source: 'test.flaky', 'detail-type': 'x', detail: { key: 'k3', failures: 5 } });
    await s.settle();
    const delivery = s.events.deliveries.find((d) => d.rule === 'to-flaky')!;
    expect(delivery).toMatchObject({ outcome: 'delivered', attempts: 1 });
    expect(s.lambda.invocations.filter((i) => i.functionKey === 'flakyAsync')).toHaveLength(3);
  });

  it('an Invoke of a function that does not exist fails at once (what the rule retry policy sees)', async () => {
    const s = await fixtureStack();
    expect(() => s.lambdaAsync.invoke('noSuchFunction', {})).toThrow(expect.objectContaining({ name: 'ResourceNotFoundException' }));
  });
});
