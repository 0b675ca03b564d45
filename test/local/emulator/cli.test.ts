import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ListAgentRuntimesCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { sdkClient } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function run(args: string[]) {
  const child = spawn(process.execPath, ['cli/autopilot.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function waitFor(pred: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('autopilot emulator', () => {
  it('starts on a free port, prints the URL and SDK settings, serves the SDK and exits 0 on SIGTERM', async () => {
    const p = run(['emulator', '--port', '0', '--seed', 'local/seed/example.yaml']);
    await waitFor(() => /http:\/\/127\.0\.0\.1:\d+/.test(p.out()) && p.out().includes('Ctrl+C'));
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(p.out())![0];
    expect(p.out()).toContain(`AWS_ENDPOINT_URL=${url}`);
    expect(p.out()).toContain('AWS_ACCESS_KEY_ID=');
    // AWS CLI v1 ignores AWS_REGION: the banner sets both to the emulator's region.
    expect(p.out()).toContain('export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 ');
    const client = sdkClient(url);
    const out = await client.send(new ListAgentRuntimesCommand({}));
    client.destroy();
    expect(out.agentRuntimes?.map((r) => r.agentRuntimeId)).toEqual(['supportAgent-a1b2c3d4e5', 'billingAgent-f6g7h8i9j0']);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.out()).toContain('Received SIGTERM; emulator stopped.');
  });

  it('exits 0 on SIGINT (Ctrl+C) and frees its port', async () => {
    const p = run(['emulator', '--port', '0']);
    await waitFor(() => p.out().includes('Ctrl+C'));
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(p.out())![0];
    const client = sdkClient(url);
    expect((await client.send(new ListAgentRuntimesCommand({}))).agentRuntimes).toEqual([]);
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(0);
    expect(p.out()).toContain('Received SIGINT; emulator stopped.');
    expect(p.err()).toBe('');
    // Nothing listens there any more.
    await expect(client.send(new ListAgentRuntimesCommand({}))).rejects.toThrow();
    client.destroy();
  });

  it('exits 2 with a clear message on an invalid flag', async () => {
    const p = run(['emulator', '--port', 'abc']);
    expect(await p.exited).toBe(2);
    expect(p.err()).toContain("--port needs a number from 0 to 65535 (got 'abc')");
    const q = run(['emulator', '--verbose']);
    expect(await q.exited).toBe(2);
    expect(q.err()).toContain("unknown option '--verbose'");
  });

  it('exits 1 when the seed file is invalid, and prints help with --help', async () => {
    const p = run(['emulator', '--port', '0', '--seed', 'test/fixtures/emulator/bad-seed.yaml']);
    expect(await p.exited).toBe(1);
    expect(p.err()).toContain('settings.account');
    const h = run(['emulator', '--help']);
    expect(await h.exited).toBe(0);
    expect(h.out()).toContain('Usage: autopilot emulator [--port N] [--seed FILE] [--faults FILE]');
    expect(h.out()).toContain('AWS_DEFAULT_REGION=us-east-1');
    expect(h.out()).toMatch(/Exit codes:\n  0  stopped by SIGINT \(Ctrl\+C\) or SIGTERM\n  1  could not start.*\n  2  usage error/);
  });
});
