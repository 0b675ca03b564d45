import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { AutopilotError, InvalidEventError } from '../../functions/lib/errors.ts';
import { createLogger } from '../../functions/lib/logger.ts';
import { describeError, withMiddleware } from '../../functions/lib/middy.ts';

const SECRET = 'env-secret-value-42';

function lambdaContext(requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'agentcore-autopilot-dev-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:agentcore-autopilot-dev-test',
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/agentcore-autopilot-dev-test',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function captureOutput() {
  const chunks: string[] = [];
  const record = (chunk: unknown) => {
    chunks.push(String(chunk));
    return true;
  };
  const spies = [vi.spyOn(process.stdout, 'write').mockImplementation(record), vi.spyOn(process.stderr, 'write').mockImplementation(record)];
  return {
    text: () => chunks.join(''),
    items: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}

class DomainFailureError extends AutopilotError {}

describe('withMiddleware', () => {
  let out: ReturnType<typeof captureOutput>;
  beforeEach(() => {
    vi.stubEnv('POWERTOOLS_DEV', '');
    out = captureOutput();
  });
  afterEach(() => {
    out.restore();
    vi.unstubAllEnvs();
  });

  it('passes the event through and adds the Lambda context to log lines', async () => {
    const logger = createLogger({ serviceName: 'test', logLevel: 'INFO' });
    const handler = withMiddleware(async (event: { n: number }) => {
      logger.info('inside');
      return event.n * 2;
    }, { logger });

    const result = await handler({ n: 21 }, lambdaContext('req-1'));

    expect(result).toBe(42);
    expect(out.items()[0]).toMatchObject({ message: 'inside', function_request_id: 'req-1', function_name: 'agentcore-autopilot-dev-test' });
  });

  it('resets keys appended during an invocation before the next one', async () => {
    const logger = createLogger({ serviceName: 'test', logLevel: 'INFO' });
    const handler = withMiddleware(async (event: { tag?: string }) => {
      if (event.tag) logger.appendKeys({ tag: event.tag });
      logger.info('run');
    }, { logger });

    await handler({ tag: 'first' }, lambdaContext('req-1'));
    await handler({}, lambdaContext('req-2'));

    const [first, second] = out.items();
    expect(first.tag).toBe('first');
    expect(second).not.toHaveProperty('tag');
    expect(second.function_request_id).toBe('req-2');
  });

  it('parses the event with the schema and hands the parsed value to the handler', async () => {
    const logger = createLogger({ serviceName: 'test', logLevel: 'INFO' });
    const schema = z.object({ runtimeId: z.string(), dryRun: z.boolean().default(false) });
    const seen: unknown[] = [];
    const handler = withMiddleware(async (event: z.infer<typeof schema>) => {
      seen.push(event);
      return 'ok';
    }, { logger, schema });

    await handler({ runtimeId: 'rt-1' } as never, lambdaContext('req-1'));

    expect(seen).toEqual([{ runtimeId: 'rt-1', dryRun: false }]);
  });

  it('throws InvalidEventError listing every issue when the event does not match, without echoing values', async () => {
    const logger = createLogger({ serviceName: 'test', logLevel: 'INFO' });
    const schema = z.object({ runtimeId: z.string(), count: z.number().int() });
    const inner = vi.fn(async () => 'never');
    const handler = withMiddleware(inner, { logger, schema });

    const error = await handler({ count: SECRET } as never, lambdaContext('req-1')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidEventError);
    expect((error as InvalidEventError).name).toBe('InvalidEventError');
    expect((error as InvalidEventError).issues).toHaveLength(2);
    expect((error as InvalidEventError).issues.join('\n')).toMatch(/runtimeId: /);
    expect((error as InvalidEventError).issues.join('\n')).toMatch(/count: /);
    expect((error as InvalidEventError).message).not.toContain(SECRET);
    expect(inner).not.toHaveBeenCalled();
    expect(out.text()).not.toContain(SECRET);
  });

  it('logs name, message and details of a failure once, then rethrows the same error', async () => {
    const logger = createLogger({ serviceName: 'test', logLevel: 'INFO' });
    const thrown = new DomainFailureError('runtime rt-1 is UPDATING', {
      cause: new Error(`upstream said ${SECRET}`),
      details: { runtimeId: 'rt-1' },
    });
    const handler = withMiddleware(async () => {
      throw thrown;
    }, { logger });

    await expect(handler({}, lambdaContext('req-9'))).rejects.toBe(thrown);

    const errorLines = out.items().filter((i) => i.level === 'ERROR');
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatchObject({
      message: 'Invocation failed',
      function_request_id: 'req-9',
      error: { name: 'DomainFailureError', message: 'runtime rt-1 is UPDATING', details: { runtimeId: 'rt-1' }, causeName: 'Error' },
    });
    // Neither the cause's message nor a stack trace reaches the log.
    expect(out.text()).not.toContain(SECRET);
    expect(Object.keys(errorLines[0].error as object).sort()).toEqual(['causeName', 'details', 'message', 'name']);
  });
});

describe('withMiddleware: log level of the invocation environment', () => {
  let out: ReturnType<typeof captureOutput>;
  beforeEach(() => {
    vi.stubEnv('POWERTOOLS_DEV', '');
    out = captureOutput();
  });
  afterEach(() => {
    out.restore();
    vi.unstubAllEnvs();
  });

  it("logs at the level each invocation's environment names, whatever the level at module load", async () => {
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
    const logger = createLogger({ serviceName: 'test' });
    const handler = withMiddleware(async (event: { n: number }) => {
      logger.info('info line', { n: event.n });
      logger.warn('warn line', { n: event.n });
    }, { logger });

    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    await handler({ n: 1 }, lambdaContext('req-1'));
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'WARN');
    await handler({ n: 2 }, lambdaContext('req-2'));
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
    await handler({ n: 3 }, lambdaContext('req-3'));
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'not-a-level');
    await handler({ n: 4 }, lambdaContext('req-4'));

    expect(out.items().map((i) => `${i.message}:${i.n}`)).toEqual([
      'warn line:2',
      'info line:3', 'warn line:3',
      'info line:4', 'warn line:4',
    ]);
  });

  it('keeps a level given to createLogger', async () => {
    const logger = createLogger({ serviceName: 'test', logLevel: 'WARN' });
    const handler = withMiddleware(async () => {
      logger.info('info line');
      logger.warn('warn line');
    }, { logger });

    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'DEBUG');
    await handler({}, lambdaContext('req-1'));
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    await handler({}, lambdaContext('req-2'));

    expect(out.items().map((i) => i.message)).toEqual(['warn line', 'warn line']);
  });
});

describe('describeError', () => {
  it('describes non-Error throws without their value', () => {
    expect(describeError(SECRET)).toEqual({ name: 'string', message: 'non-Error value thrown' });
  });
});
