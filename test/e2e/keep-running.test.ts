/**
 * `npm start -- --keep-running`: after the scenario the stack stays up for people to drive by hand.
 * Its clock must then flow (an update made through the SDK ends READY, as in AWS) and the banner
 * must say how to point the AWS CLI, the SDKs and autopilot at it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import {
  BedrockAgentCoreControlClient, GetAgentRuntimeCommand, UpdateAgentRuntimeCommand,
} from '@aws-sdk/client-bedrock-agentcore-control';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRuntimeUpdate } from '../../functions/domain/runtime-update.ts';
import { REPO_ROOT } from '../../local/stack.ts';

const RUNTIME = 'supportAgent-a1b2c3d4e5';

describe('npm start -- --keep-running', () => {
  let child: ChildProcess;
  let output = '';
  let exports: Record<string, string> = {};
  let exitCode: Promise<number | null>;

  beforeAll(async () => {
    child = spawn(process.execPath, [path.join(REPO_ROOT, 'local/start.ts'), '--keep-running', '--no-report', '--no-color', '--speed', '100'], {
      cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    exitCode = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner in time:\n${output}`)), 45_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Press Ctrl+C to stop.')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    });
    for (const line of output.split('\n').filter((l) => l.trim().startsWith('export '))) {
      for (const [, k, v] of line.matchAll(/([A-Z_]+)=(\S+)/g)) exports[k] = v;
    }
  }, 60_000);

  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('prints every variable the CLI, the AWS CLI (v1 and v2) and the SDKs need', () => {
    expect(exports.AWS_ENDPOINT_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(exports.AWS_REGION).toBe('us-east-1');
    expect(exports.AWS_DEFAULT_REGION).toBe('us-east-1');
    expect(exports.PROMOTION_STATE_MACHINE_ARN).toMatch(/:stateMachine:agentcore-autopilot-dev-runtime-promotion$/);
    expect(exports.ROLLOUT_STATE_MACHINE_ARN).toMatch(/:stateMachine:agentcore-autopilot-dev-policy-rollout$/);
    expect(exports.AUTOPILOT_CONFIG_FILE).toMatch(/autopilot\.config\.yaml$/);
  });

  it('lets time flow: a runtime update made by hand ends READY', async () => {
    const client = new BedrockAgentCoreControlClient({
      endpoint: exports.AWS_ENDPOINT_URL, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const live = await client.send(new GetAgentRuntimeCommand({ agentRuntimeId: RUNTIME }));
    expect(live.status).toBe('READY');
    const updated = await client.send(new UpdateAgentRuntimeCommand(buildRuntimeUpdate(live, { set: { description: 'edited by hand on the kept stack' } })));
    expect(updated.status).toBe('UPDATING');
    const deadline = Date.now() + 20_000;
    let status: string | undefined = 'UPDATING';
    while (status === 'UPDATING' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await client.send(new GetAgentRuntimeCommand({ agentRuntimeId: RUNTIME }))).status;
    }
    expect(status).toBe('READY');
    client.destroy();
  });

  it('stops cleanly on Ctrl+C', async () => {
    child.kill('SIGINT');
    expect(await exitCode).toBe(0);
    expect(output).toContain('Stopped.');
  });
});
