/**
 * The local stack wires every stand-in from a serverless.yml: rules -> handlers, state machines ->
 * handlers, ECR pushes -> bus. Driven through the real SDK clients against a fixture service whose
 * handlers echo what they receive.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerlessConfig } from '../../local/lambda/serverless-config.ts';
import { REPO_ROOT, startStack, type Stack } from '../../local/stack.ts';

const fixture = fileURLToPath(new URL('../fixtures/serverless/basic/serverless.yml', import.meta.url));

describe('startStack (fixture service)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      serverlessFile: fixture,
      seed: { ecr: { repositories: [{ name: 'support-agent' }] }, cloudwatch: { alarms: [{ name: 'agent-5xx', state: 'OK' }] } },
      env: { MARKER: 'from-stack' },
      validateDefinitions: false,
    });
  });
  afterAll(() => stack?.close());

  it('delivers an ECR push to the function whose rule matches, with the stack environment', async () => {
    const before = stack.lambda.invocations.length;
    const pushed = stack.pushImage({ repository: 'support-agent', tags: ['v1.0.0', 'latest'] });
    expect(pushed.events).toHaveLength(2);
    await stack.settle();
    const deliveries = stack.events.deliveries.filter((d) => d.rule.endsWith('onImagePush-rule-1'));
    expect(deliveries).toHaveLength(2);
    expect(deliveries.every((d) => d.outcome === 'delivered')).toBe(true);
    const result = deliveries[0].result as { event: { detail: Record<string, string> }; env: Record<string, string> };
    expect(result.event.detail['image-digest']).toBe(pushed.image.imageDigest);
    expect(result.env.AWS_ENDPOINT_URL).toBe(stack.url);
    expect(result.env.MARKER).toBe('from-stack');
    expect(stack.lambda.invocations.length - before).toBe(2);
  });

  it('does not deliver events no rule matches', async () => {
    const events = new EventBridgeClient({ ...clientEnv(stack) });
    const before = stack.events.deliveries.length;
    const out = await events.send(new PutEventsCommand({ Entries: [{ Source: 'someone.else', DetailType: 'Other', Detail: '{}' }] }));
    expect(out.FailedEntryCount).toBe(0);
    await stack.settle();
    expect(stack.events.deliveries.length).toBe(before);
    expect(stack.events.events.at(-1)?.event.source).toBe('someone.else');
  });

  it('sends a failing target to its dead-letter queue after the rule retry policy', async () => {
    stack.events.addRule({
      name: 'always-fails',
      pattern: { source: ['test.fail'] },
      retryPolicy: { maximumRetryAttempts: 2 },
      target: { id: 'fail', invoke: (_e, input) => stack.lambda.invoke('fail', input) },
      deadLetter: (event, error) => void stack.deadLetters.push({ kind: 'rule', source: 'always-fails', rule: 'always-fails', queueArn: undefined, event, error: String(error) }),
    });
    stack.events.put({ source: 'test.fail', 'detail-type': 'x', detail: {} });
    await stack.settle();
    const record = stack.events.deliveries.find((d) => d.rule === 'always-fails');
    expect(record?.outcome).toBe('dead-lettered');
    expect(record?.attempts).toBe(3);
    expect(stack.deadLetters.some((d) => d.source === 'always-fails')).toBe(true);
  });

  it('runs a state machine from serverless.yml through the SFN client', async () => {
    const sfn = new SFNClient({ ...clientEnv(stack) });
    const arn = stack.stateMachineArn('pipeline');
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'stack-test', input: JSON.stringify({ mode: 'deploy', failures: 1, change: 'c-9' }) }));
    const t0 = stack.clock.now();
    await stack.settle();
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(described.status).toBe('SUCCEEDED');
    // The one-hour Wait and the 30 s retry passed on the stack's clock, not in real time.
    expect(stack.clock.now() - t0).toBeGreaterThanOrEqual(3_630_000);
  });

  it('holds the clock while a handler does real I/O, and lets it move while the handler waits', async () => {
    // Something else on the clock (e.g. another execution's Wait, a runtime settling) is due in 10 s.
    let otherWoke = false;
    void stack.clock.sleep(10_000).then(() => { otherWoke = true; });
    const t0 = stack.clock.now();
    const seen = (await stack.lambda.invoke('waits', { ioMs: 40, sleepMs: 50 })) as { start: number; afterIo: number; afterSleep: number };
    // 40 ms of real I/O: the auto clock (2 ms idle) did not jump to the pending 10 s wake-up.
    expect(seen.afterIo).toBe(seen.start);
    expect(seen.start).toBe(t0);
    // The handler's own (real-time) 50 ms wait let go of the clock: it jumped to the wake-up.
    expect(seen.afterSleep - seen.afterIo).toBeGreaterThanOrEqual(10_000);
    expect(otherWoke).toBe(true);
  });

  it('names the known state machines when asked for an unknown one', () => {
    expect(() => stack.stateMachineArn('nope')).toThrow(/no state machine "nope".*pipeline/);
  });
});

describe('the project serverless.yml', () => {
  const config = loadServerlessConfig(`${REPO_ROOT}/serverless.yml`, { stage: 'dev', region: 'us-east-1' });

  it('routes ECR pushes of tracked repositories, change requests, rollout requests and the drift schedule', () => {
    const byFunction = (key: string) => config.eventRules.filter((r) => r.functionKey === key);
    expect(byFunction('onImagePush')[0].pattern).toMatchObject({ source: ['aws.ecr'], 'detail-type': ['ECR Image Action', 'ECR Replication Action'] });
    expect(byFunction('onChangeRequest')[0].pattern).toMatchObject({ 'detail-type': ['Runtime Change Requested'] });
    expect(byFunction('startRollout')[0].pattern).toMatchObject({ 'detail-type': ['Policy Rollout Requested'] });
    expect(byFunction('correctDrift').map((r) => (r.schedule ? 'schedule' : 'pattern')).sort()).toEqual(['pattern', 'schedule']);
    for (const rule of config.eventRules.filter((r) => r.kind === 'eventBridge')) {
      expect(rule.deadLetter, rule.name).toMatch(/^arn:aws:sqs:/);
      expect(rule.retryPolicy?.maximumRetryAttempts, rule.name).toBeGreaterThan(0);
    }
  });

  it('gives the functions that start executions the deployed state machine ARNs', () => {
    expect(config.functions.onImagePush.environment.PROMOTION_STATE_MACHINE_ARN).toBe(config.stateMachines.runtimePromotion.arn);
    expect(config.functions.startRollout.environment.ROLLOUT_STATE_MACHINE_ARN).toBe(config.stateMachines.policyRollout.arn);
    expect(config.functions.correctDrift.environment.ROLLOUT_STATE_MACHINE_ARN).toBe(config.stateMachines.policyRollout.arn);
  });
});

function clientEnv(stack: Stack) {
  return {
    endpoint: stack.url,
    region: stack.env.AWS_REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}
