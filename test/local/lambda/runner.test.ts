import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../local/clock.ts';
import { createLambdaRunner, FunctionNotFoundError, LambdaTimeoutError } from '../../../local/lambda/runner.ts';
import { loadServerlessConfig } from '../../../local/lambda/serverless-config.ts';

const FIXTURE = resolve(import.meta.dirname, '../../fixtures/serverless/basic/serverless.yml');
const config = loadServerlessConfig(FIXTURE, { env: {} });

interface Echo {
  event: unknown;
  env: Record<string, string | undefined>;
  context: Record<string, unknown>;
}

describe('createLambdaRunner', () => {
  it('calls the real handler with a JSON copy of the event and a realistic context', async () => {
    const runner = createLambdaRunner({ config, env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:1' } });
    const event = { detail: { repositoryName: 'agent' } };
    const out = await runner.invoke('onImagePush', event) as Echo;
    expect(out.event).toEqual(event);
    const ctx = out.context;
    expect(ctx.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ctx).toMatchObject({
      functionName: 'autopilot-fixture-dev-onImagePush',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:autopilot-fixture-dev-onImagePush',
      memoryLimitInMB: '512',
      logGroupName: '/aws/lambda/autopilot-fixture-dev-onImagePush',
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(ctx.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(ctx.remainingTimeInMillis).toBeGreaterThan(29_000);
    expect(ctx.remainingTimeInMillis).toBeLessThanOrEqual(30_000);
    expect(runner.invocations.at(-1)).toMatchObject({ functionKey: 'onImagePush', outcome: 'succeeded', requestId: ctx.awsRequestId });
  });

  it('resolves functions by key, deployed name and (qualified) ARN and reports the ARN it was invoked with', async () => {
    const runner = createLambdaRunner({ config });
    const arn = `${config.functions.onImagePush.arn}:$LATEST`;
    const out = await runner.invoke(arn, {}) as Echo;
    expect(out.context.invokedFunctionArn).toBe(arn);
    expect(runner.resolve('autopilot-fixture-dev-work').key).toBe('work');
    await expect(runner.invoke('nope', {})).rejects.toBeInstanceOf(FunctionNotFoundError);
    await expect(runner.invoke('nope', {})).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('gives each invocation its environment (runner < function < reserved) and restores process.env', async () => {
    expect(process.env.GREETING).toBeUndefined();
    const runner = createLambdaRunner({
      config,
      env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', GREETING: 'overridden-by-function', MARKER: 'runner', AWS_REGION: 'xx-nowhere-1' },
    });
    const out = await runner.invoke('onImagePush', {}) as Echo;
    expect(out.env).toEqual({
      POWERTOOLS_LOG_LEVEL: 'WARN',
      GREETING: 'hello-dev-world',
      AUTOPILOT_STAGE: 'dev',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_LAMBDA_FUNCTION_NAME: 'autopilot-fixture-dev-onImagePush',
      AWS_REGION: 'us-east-1',
      MARKER: 'runner',
    });
    expect(process.env.GREETING).toBeUndefined();
    expect(process.env.AWS_LAMBDA_FUNCTION_NAME).toBeUndefined();
    expect('MARKER' in process.env).toBe(false);
    expect(process.env.PATH).toBeTruthy();
  });

  it('keeps concurrent invocations with different environments apart', async () => {
    const a = createLambdaRunner({ config, env: { MARKER: 'a' } });
    const b = createLambdaRunner({ config, env: { MARKER: 'b' } });
    const results = await Promise.all([
      a.invoke('onImagePush', {}), b.invoke('onImagePush', {}), a.invoke('driftCheck', {}), b.invoke('driftCheck', {}),
    ]) as Echo[];
    expect(results.map((r) => `${r.env.MARKER}:${r.env.AWS_LAMBDA_FUNCTION_NAME}`)).toEqual([
      'a:autopilot-fixture-dev-onImagePush', 'b:autopilot-fixture-dev-onImagePush',
      'a:autopilot-fixture-dev-driftCheck', 'b:autopilot-fixture-dev-driftCheck',
    ]);
    expect(results.map((r) => r.env.POWERTOOLS_LOG_LEVEL)).toEqual(['WARN', 'WARN', 'DEBUG', 'DEBUG']);
  });

  it('keeps the name of errors thrown by the handler', async () => {
    const runner = createLambdaRunner({ config });
    await expect(runner.invoke('fail', {})).rejects.toMatchObject({ name: 'DeployFailedError', message: 'runtime update rejected' });
    expect(runner.invocations.at(-1)).toMatchObject({ outcome: 'failed', error: 'DeployFailedError' });
  });

  it('times out on the clock after the function timeout with Sandbox.Timedout', async () => {
    const clock = new VirtualClock({ start: 0 });
    const runner = createLambdaRunner({ config, clock });
    const p = runner.invoke('slow', {});
    const outcome = p.then(() => 'resolved', (e: unknown) => e);
    while (clock.pending() === 0) await new Promise((r) => setTimeout(r, 1));
    await clock.advance(1999);
    await new Promise((r) => setTimeout(r, 5));
    expect(runner.invocations.at(-1)?.outcome).toBeUndefined();
    await clock.advance(1);
    const err = await outcome;
    expect(err).toBeInstanceOf(LambdaTimeoutError);
    expect(err).toMatchObject({ name: 'Sandbox.Timedout' });
    expect((err as Error).message).toMatch(/^RequestId: [0-9a-f-]{36} Error: Task timed out after 2\.00 seconds$/);
    expect(runner.invocations.at(-1)).toMatchObject({ outcome: 'timedOut', startedAt: 0, endedAt: 2000 });
  });

  it('times out in wall time by default', async () => {
    const fast = structuredClone(config);
    fast.functions.slow.timeout = 0.05;
    const runner = createLambdaRunner({ config: fast });
    const started = Date.now();
    await expect(runner.invoke('slow', { ms: 5000 })).rejects.toMatchObject({ name: 'Sandbox.Timedout' });
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(runner.invoke('slow', { ms: 1 })).resolves.toEqual({ done: true });
  });
});
