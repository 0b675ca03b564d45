import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MockInstance } from 'vitest';
import { REDACTED, createLogger, redactForLog, redactingReplacer } from '../../functions/lib/logger.ts';

const SECRET = 'sk-live-9f8e7d6c5b4a';

/** Captures what the logger writes (Powertools writes JSON lines to process.stdout/stderr). */
function captureOutput() {
  const lines: string[] = [];
  const record = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  const spies: MockInstance[] = [
    vi.spyOn(process.stdout, 'write').mockImplementation(record),
    vi.spyOn(process.stderr, 'write').mockImplementation(record),
  ];
  return {
    lines,
    text: () => lines.join(''),
    items: () => lines.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}

describe('createLogger', () => {
  let out: ReturnType<typeof captureOutput>;
  beforeEach(() => {
    vi.stubEnv('POWERTOOLS_DEV', '');
    out = captureOutput();
  });
  afterEach(() => {
    out.restore();
    vi.unstubAllEnvs();
  });

  it('masks environment variable values at any depth but keeps their names', () => {
    const logger = createLogger({ serviceName: 'test', logLevel: 'INFO' });

    logger.info('runtime read', {
      runtime: { agentRuntimeId: 'rt-1', environmentVariables: { API_KEY: SECRET, NESTED: { deeper: SECRET } } },
      plan: [{ field: 'x', EnvironmentVariables: { TOKEN: SECRET } }],
    });

    expect(out.text()).not.toContain(SECRET);
    const [item] = out.items();
    expect(item.message).toBe('runtime read');
    expect(item.runtime).toEqual({
      agentRuntimeId: 'rt-1',
      environmentVariables: { API_KEY: REDACTED, NESTED: { deeper: REDACTED } },
    });
    expect(item.plan).toEqual([{ field: 'x', EnvironmentVariables: { TOKEN: REDACTED } }]);
  });

  it('masks whole values under sensitive keys, including persistent keys and child loggers', () => {
    const logger = createLogger({ serviceName: 'test', logLevel: 'INFO', persistentKeys: { authorization: SECRET } });
    const child = logger.createChild({ persistentKeys: { component: 'child' } });

    child.warn('updated', { description: SECRET, apiKey: { value: SECRET }, runtimeName: 'kept' });

    expect(out.text()).not.toContain(SECRET);
    const [item] = out.items();
    expect(item).toMatchObject({ authorization: REDACTED, description: REDACTED, apiKey: REDACTED, runtimeName: 'kept', component: 'child' });
  });

  it('uses a custom sensitive key list when given', () => {
    const logger = createLogger({ serviceName: 'test', logLevel: 'INFO', sensitiveKeys: ['pin'] });

    logger.info('custom', { pin: '1234', description: 'visible now' });

    expect(out.items()[0]).toMatchObject({ pin: REDACTED, description: 'visible now' });
  });

  it('still formats errors (name and message) through the redacting serialiser', () => {
    const logger = createLogger({ serviceName: 'test', logLevel: 'INFO' });

    logger.error('failed', new TypeError('boom'));

    const [item] = out.items();
    expect(item.error).toMatchObject({ name: 'TypeError', message: 'boom' });
  });

  it('takes the service name from POWERTOOLS_SERVICE_NAME', () => {
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'from-env');
    const logger = createLogger({ logLevel: 'INFO' });

    logger.info('hello');

    expect(out.items()[0].service).toBe('from-env');
  });
});

describe('redactForLog', () => {
  it('returns a redacted copy and leaves the input untouched', () => {
    const input = { environmentVariables: { A: SECRET }, list: [{ password: SECRET }], name: 'n' };
    const before = structuredClone(input);

    const result = redactForLog(input);

    expect(result).toEqual({ environmentVariables: { A: REDACTED }, list: [{ password: REDACTED }], name: 'n' });
    expect(input).toEqual(before);
  });

  it('masks a non-object environmentVariables value entirely', () => {
    const replacer = redactingReplacer();
    expect(replacer('environmentVariables', `A=${SECRET}`)).toBe(REDACTED);
    expect(replacer('other', 'kept')).toBe('kept');
  });
});
