/**
 * The command line itself (cli/program.ts on commander, completion from @bomb.sh/tab): version,
 * help, usage errors with the one usage line, output formats, completion scripts and candidates.
 * No AWS here: these never reach an action that calls one.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/autopilot.ts';
import { clientOptions } from '../../cli/aws.ts';
import { Output, useColour } from '../../cli/output.ts';
import type { CliIO } from '../../cli/types.ts';
import pkg from '../../package.json' with { type: 'json' };

function io(env: NodeJS.ProcessEnv = {}, isTTY = false) {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIO = { stdout: (l) => out.push(l), stderr: (l) => err.push(l), env, isTTY };
  return { cli, out: () => out.join('\n'), err: () => err.join('\n') };
}

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const t = io(env);
  const code = await main(argv, t.cli);
  return { code, out: t.out(), err: t.err() };
}

describe('autopilot (the command line)', () => {
  it('--version and -v print the package version', async () => {
    for (const flag of ['--version', '-v']) {
      const r = await run([flag]);
      expect(r).toEqual({ code: 0, out: pkg.version, err: '' });
    }
  });

  it('help <command> and <command> --help print the same help, to stdout, exit 0', async () => {
    const a = await run(['help', 'rollout', 'status']);
    const b = await run(['rollout', 'status', '--help']);
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    expect(a.out).toMatch(/^Usage: autopilot rollout status --gateway ID \| --execution ARN/);
    expect(a.out).toContain('Global Options:');
    expect(a.out).toMatch(/-o, --output <format>/);
    expect((await run(['help', 'nope'])).code).toBe(2);
    const top = await run(['help']);
    expect(top.code).toBe(0);
    expect(top.out).toMatch(/^Usage: autopilot <command> \[options\]/);
  });

  it('usage errors print the message and the one usage line (not the whole help) and exit 2', async () => {
    const unknown = await run(['rollout', 'status', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.out).toBe('');
    expect(unknown.err.split('\n')).toEqual([
      "autopilot rollout status: unknown option '--bogus'",
      'Usage: autopilot rollout status --gateway ID | --execution ARN [--watch [--interval S] [--timeout D]]',
      "Run 'autopilot rollout status --help' for the options.",
    ]);
    const command = await run(['deploy']);
    expect(command.code).toBe(2);
    expect(command.err).toMatch(/^autopilot: unknown command 'deploy'\n\(Did you mean redeploy\?\)\nUsage: autopilot <command> \[options\]/);
    const format = await run(['-o', 'xml', 'plan']);
    expect(format.code).toBe(2);
    expect(format.err).toMatch(/argument 'xml' is invalid. Allowed choices are text, json, yaml/);
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^Usage: autopilot <command>/);
  });

  it('--json with another --output is a usage error; in json mode the error is the one document', async () => {
    const r = await run(['rollout', 'start', '--gateway', 'gw-a1b2c3d4e5', '--json', '-o', 'yaml']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--json and --output yaml disagree');
    const j = await run(['rollout', 'status', '--json', '--interval', '0']);
    expect(j.code).toBe(2);
    expect(JSON.parse(j.out)).toEqual({ error: 'UsageError', message: expect.stringMatching(/--interval must be a number of seconds > 0/) });
  });

  it('completion: bash, zsh and fish scripts call back `autopilot complete`; candidates are commands, options and choices', async () => {
    for (const shell of ['bash', 'zsh', 'fish']) {
      const r = await run(['completion', shell]);
      expect(r.code, shell).toBe(0);
      expect(r.out, shell).toContain('autopilot complete --');
    }
    expect((await run(['completion', 'tcsh'])).code).toBe(2);
    const sub = await run(['complete', '--', 'rollout', 'st']);
    expect(sub.out.split('\n')).toEqual([
      'start\tStart a rollout (one per gateway; the same request again returns the running one)',
      'status\tStage, time left in the bake, last gate figures, pending approval, outcome',
      ':4',
    ]);
    const format = await run(['complete', '--', 'plan', '-o', '']);
    expect(format.out.split('\n').map((l) => l.split('\t')[0])).toEqual(['text', 'json', 'yaml', ':4']);
    const options = await run(['complete', '--', 'plan', '--']);
    const names = options.out.split('\n').map((l) => l.split('\t')[0]);
    expect(names).toEqual(expect.arrayContaining(['--config', '--rollout-state-machine', '--output', '--json', '--region', '--profile']));
    // One line per candidate: multi-line descriptions would break the shells' parsing.
    for (const line of options.out.split('\n').slice(0, -1)) expect(line).toMatch(/^--[a-z-]+\t/);
  });

  it('colours only on a terminal, never with NO_COLOR or --no-color', () => {
    const tty = io({}, true).cli;
    expect(useColour(tty, undefined)).toBe(true);
    expect(useColour(tty, false)).toBe(false);
    expect(useColour(io({ NO_COLOR: '1' }, true).cli, undefined)).toBe(false);
    expect(useColour(io({}, false).cli, undefined)).toBe(false);
    expect(new Output(tty, 'text', true).paint('green', '+')).toBe('\u001b[32m+\u001b[0m');
    expect(new Output(tty, 'text', false).paint('green', '+')).toBe('+');
  });

  it('cli/bin/autopilot (the package bin) runs on the project\'s Node 24 whatever node is on PATH, quietly', () => {
    const bin = fileURLToPath(new URL('../../cli/bin/autopilot', import.meta.url));
    // PATH without node_modules/.bin: `node` there, if any, is the system's (Node 20 here).
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${pkg.version}\n`);
    expect(r.status).toBe(0);
    expect(pkg.bin.autopilot).toBe('cli/bin/autopilot');
  });

  it('--region and --profile win over the environment; a profile replaces static keys', () => {
    const env = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 'secret', AWS_ENDPOINT_URL: 'http://127.0.0.1:4599' };
    const cli = io(env).cli;
    expect(clientOptions({ io: cli, opts: {} })).toEqual({ region: 'us-east-1', endpoint: 'http://127.0.0.1:4599', credentials: { accessKeyId: 'AKIA', secretAccessKey: 'secret' } });
    expect(clientOptions({ io: cli, opts: { region: 'eu-west-1', profile: 'ops' } })).toEqual({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:4599', profile: 'ops' });
    expect(clientOptions({ io: io({ AWS_PROFILE: 'dev', AWS_DEFAULT_REGION: 'eu-central-1' }).cli, opts: {} })).toEqual({ region: 'eu-central-1', profile: 'dev' });
  });
});
