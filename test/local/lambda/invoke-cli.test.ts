import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../cli/autopilot.ts';
import type { CliIO } from '../../../cli/types.ts';
import { VirtualClock } from '../../../local/clock.ts';
import { startStack, until, type Stack } from '../stepfunctions/helpers.ts';

const CONFIG = resolve(import.meta.dirname, '../../fixtures/serverless/basic/serverless.yml');

function io(env: NodeJS.ProcessEnv = {}): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (l) => out.push(l), stderr: (l) => err.push(l), env, isTTY: false };
}

function eventFile(event: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'invoke-'));
  const file = join(dir, 'event.json');
  writeFileSync(file, JSON.stringify(event));
  return file;
}

let stack: Stack | undefined;
afterEach(async () => { await stack?.close(); stack = undefined; });

describe('autopilot invoke', () => {
  it('runs the handler with its serverless.yml environment and prints the JSON result', async () => {
    const cli = io({ AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });
    const code = await main(['invoke', 'onImagePush', '--event', eventFile({ detail: { tag: 'v2' } }), '--config', CONFIG, '--stage', 'prod'], cli);
    expect(cli.err).toEqual([]);
    expect(code).toBe(0);
    const result = JSON.parse(cli.out.join('\n'));
    expect(result.event).toEqual({ detail: { tag: 'v2' } });
    expect(result.env).toMatchObject({
      AUTOPILOT_STAGE: 'prod', GREETING: 'hello-prod-world', AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_LAMBDA_FUNCTION_NAME: 'autopilot-fixture-prod-onImagePush',
    });
    expect(result.context.functionName).toBe('autopilot-fixture-prod-onImagePush');
  });

  it('answers a waiting task token against the endpoint the AWS environment names', async () => {
    stack = await startStack(new VirtualClock());
    const { executionArn } = await stack.sfn.send(new StartExecutionCommand({
      stateMachineArn: stack.config.stateMachines.approval.arn, input: JSON.stringify({ change: 'c-9' }),
    }));
    const entries = await until(() => stack!.putEvents[0]);
    const token = (JSON.parse(entries[0].Detail!) as { taskToken: string }).taskToken;

    const cli = io({ AWS_ENDPOINT_URL: stack.core.url, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
    const code = await main(['invoke', 'approve', `--event=${eventFile({ token, decision: 'approve' })}`, '--config', CONFIG], cli);
    expect(cli.err).toEqual([]);
    expect(code).toBe(0);
    expect(JSON.parse(cli.out[0])).toEqual({ answered: 'approve' });
    const done = await stack.standIn.waitForExecution(executionArn!);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!).approval).toEqual({ approvedBy: 'autopilot-fixture-dev-approve' });
  });

  it('reports handler errors on stderr with exit 1', async () => {
    const cli = io();
    expect(await main(['invoke', 'fail', '--config', CONFIG], cli)).toBe(1);
    expect(cli.out).toEqual([]);
    expect(cli.err.join('\n')).toBe('autopilot invoke: fail failed: DeployFailedError: runtime update rejected');

    const badConfig = io();
    expect(await main(['invoke', 'work', '--config', '/nonexistent/serverless.yml'], badConfig)).toBe(1);
    expect(badConfig.err.join('\n')).toMatch(/cannot read \/nonexistent\/serverless.yml/);
  });

  it('prints help and rejects bad usage with exit 2', async () => {
    const help = io();
    expect(await main(['invoke', '--help'], help)).toBe(0);
    expect(help.out.join('\n')).toMatch(/^Usage: autopilot invoke <functionKey>/);
    const usage = io();
    expect(await main(['invoke'], usage)).toBe(2);
    expect(usage.err.join('\n')).toMatch(/missing required argument 'functionKey'\nUsage: autopilot invoke <functionKey>/);
    expect(help.out.join('\n')).toMatch(/Exit codes:[\s\S]*2 +usage error: .*a function serverless.yml does not\s+declare/);
  });

  it('an unknown function or an unreadable / non-JSON event file is a usage error (exit 2), the handler never runs', async () => {
    const unknown = io();
    expect(await main(['invoke', 'nope', '--config', CONFIG], unknown)).toBe(2);
    expect(unknown.out).toEqual([]);
    expect(unknown.err.join('\n')).toMatch(/^autopilot invoke: no function 'nope' in .*serverless\.yml; known function keys: onImagePush, .*\bfail\b/);

    const missing = io();
    expect(await main(['invoke', 'onImagePush', '--event', '/missing.json', '--config', CONFIG], missing)).toBe(2);
    expect(missing.out).toEqual([]);
    expect(missing.err).toEqual(['autopilot invoke: cannot read event file /missing.json: ENOENT: no such file or directory']);

    const dir = io();
    expect(await main(['invoke', 'onImagePush', '--event', tmpdir(), '--config', CONFIG], dir)).toBe(2);
    expect(dir.err.join('\n')).toMatch(/cannot read event file .*: EISDIR/);

    const notJson = eventFile('x');
    writeFileSync(notJson, '{ not json');
    const bad = io();
    expect(await main(['invoke', 'fail', '--event', notJson, '--config', CONFIG], bad)).toBe(2);
    expect(bad.out).toEqual([]);
    expect(bad.err.join('\n')).toMatch(/^autopilot invoke: event file .* is not valid JSON/);
    const list = io();
    expect(await main(['--help'], list)).toBe(0);
    expect(list.out.join('\n')).toMatch(/invoke\s+Run one Lambda handler locally/);
    expect(list.out.join('\n')).toContain("Run 'autopilot help <command>' (or '<command> --help') for the options and exit codes of a command.\nExit codes:\n  0  success");
  });

  it('every command listed by the top-level help documents its own exit codes', async () => {
    const list = io();
    await main(['--help'], list);
    const text = list.out.join('\n');
    const names = [...text.slice(text.indexOf('Commands:')).matchAll(/^  (\S+)  /gm)].map((m) => m[1]);
    expect(names).toEqual(expect.arrayContaining(['emulator', 'invoke', 'rollout', 'events', 'plan', 'apply', 'redeploy']));
    for (const name of names) {
      const help = io();
      expect(await main([name, '--help'], help), name).toBe(0);
      expect(help.out.join('\n'), name).toMatch(/Exit codes:\s+0 /);
    }
  });

  it('stdout is the result alone (one JSON document); the handler\'s log lines go to stderr', () => {
    const r = spawnSync(fileURLToPath(new URL('../../../cli/bin/autopilot', import.meta.url)), ['invoke', 'onImagePush', '--config', CONFIG], {
      encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ event: {}, context: { functionName: 'autopilot-fixture-dev-onImagePush' } });
    expect(r.stderr).toContain('echo handler ran');
  });

  it('honours AUTOPILOT_CONFIG_FILE over the packaged config path of serverless.yml', async () => {
    const cli = io({ AUTOPILOT_CONFIG_FILE: '/nonexistent/autopilot.yaml', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });
    expect(await main(['invoke', 'correctDrift', '--config', resolve(import.meta.dirname, '../../../serverless.yml')], cli)).toBe(1);
    expect(cli.err.join('\n')).toContain('/nonexistent/autopilot.yaml: configuration file does not exist');
  });
});
