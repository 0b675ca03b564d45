/**
 * Errors read as one sentence with the cause: an unreachable endpoint names ECONNREFUSED and the
 * URL at once; no stack trace, internal class name or installation path reaches the operator.
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeCliError } from '../../cli/errors.ts';
import { ServiceUnavailableError } from '../../functions/lib/errors.ts';

const BIN = fileURLToPath(new URL('../../cli/bin/autopilot', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

function cli(args: string[], env: Record<string, string>) {
  return spawnSync(BIN, args, {
    encoding: 'utf8',
    cwd: ROOT,
    env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', ...env },
  });
}

function expectOneCleanSentence(stderr: string): void {
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m); // no stack frames
  expect(stderr).not.toContain(ROOT); // no installation paths
  expect(stderr).not.toMatch(/\b[A-Z][A-Za-z]+Error\b/); // no internal class names
}

describe('CLI errors', () => {
  it('an unreachable endpoint: ECONNREFUSED and the URL, quickly, exit 1, for every AWS command', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    for (const args of [['plan'], ['rollout', 'status', '--gateway', 'gw-orders-h5j6k7l8m9'], ['events'], ['redeploy', '--runtime', 'supportAgent-a1b2c3d4e5', '--image', '123456789012.dkr.ecr.us-east-1.amazonaws.com/support-agent:1.0', '--yes']]) {
      const started = Date.now();
      const r = cli(args, { AWS_ENDPOINT_URL: url });
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`cannot reach ${url} (AWS_ENDPOINT_URL): connection refused (ECONNREFUSED)`);
      expectOneCleanSentence(r.stderr);
      // Bounded: no SDK or use-case retries before saying so (generous for a loaded machine).
      expect(Date.now() - started, args.join(' ')).toBeLessThan(5000);
    }
    const json = cli(['plan', '-o', 'json'], { AWS_ENDPOINT_URL: url });
    expect(JSON.parse(json.stdout)).toEqual({ error: 'Unreachable', message: expect.stringContaining('ECONNREFUSED') });
  });

  it('an unexpected failure is its message only: no stack, no class name, no path of the installation', () => {
    const bug = new TypeError(`Cannot read properties of undefined (reading 'x') at ${ROOT}functions/app/drift.ts:10:5`);
    expect(describeCliError(bug, undefined)).toEqual({ code: 1, kind: 'Error', message: "Cannot read properties of undefined (reading 'x') at functions/app/drift.ts:10:5" });
    const network = new ServiceUnavailableError({ service: 'sfn', operation: 'ListStateMachines' }, { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) });
    expect(describeCliError(network, 'http://127.0.0.1:9').message).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:9: connection refused \(ECONNREFUSED\)/);
    // A config file that is a directory: one clean line through the real CLI.
    const r = cli(['plan', '--config', 'cli'], {});
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toContain(ROOT);
  });
});
