#!/usr/bin/env node
/**
 * `autopilot`: the operator command line. Each subcommand lives in cli/commands/<name>.ts and is
 * loaded only when called, so `autopilot --help` stays fast.
 */
import { createInterface } from 'node:readline/promises';
import type { CliCommand, CliIO } from './types.ts';

const COMMANDS: Record<string, { summary: string; load: () => Promise<CliCommand> }> = {
  // Registered by name; each module default-exports a CliCommand.
};

/** Registers a subcommand (used by the registry below). */
function register(name: string, summary: string, load: () => Promise<{ default: CliCommand }>): void {
  COMMANDS[name] = { summary, load: async () => (await load()).default };
}

// --- registry ---------------------------------------------------------------------------------
// (commands are added here as they land)
register('emulator', 'Serve the local AgentCore emulator (AWS wire protocol) until interrupted', () => import('./commands/emulator.ts'));
register('invoke', 'Run one Lambda handler locally and print its result', () => import('./commands/invoke.ts'));
register('rollout', 'Staged policy rollouts: start, status, approve, reject, abort', () => import('./commands/rollout.ts'));
register('plan', 'Show drift between the config and the live resources (exit 0 in sync, 2 drift, 1 error)', () => import('./commands/plan.ts'));
register('apply', 'Correct drift: show the plan, confirm (or --yes), apply with progress', () => import('./commands/apply.ts'));
register('redeploy', 'Deploy an image to one runtime by hand (pinned by digest, lossless, with promotion)', () => import('./commands/redeploy.ts'));
register('events', 'Print or tail the events on the local stack\'s bus (--follow)', () => import('./commands/events.ts'));

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length), 8);
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: autopilot <command> [options]',
    '',
    'Operate Amazon Bedrock AgentCore runtimes and gateways: redeploy, policy rollouts, drift.',
    'Talks to AWS through the default credential chain and region, or to the local stack when',
    'AWS_ENDPOINT_URL points at it.',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `autopilot <command> --help` for the options and the exit codes of one command.',
    'Exit codes: each command documents its own (e.g. plan exits 2 when it finds drift, rollout 3',
    'when refused); commonly 0 success, 1 error, 2 usage error.',
  ].join('\n');
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name ? 0 : 2;
  }
  if (name === '--version') {
    const pkg = await import('../package.json', { with: { type: 'json' } });
    io.stdout(pkg.default.version);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.stderr(`autopilot: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const cmd = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(cmd.help);
    return 0;
  }
  return cmd.run(rest, io);
}

function processIO(): CliIO {
  return {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    isTTY: Boolean(process.stdout.isTTY),
    prompt: process.stdin.isTTY
      ? async (q) => {
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        try { return await rl.question(q); } finally { rl.close(); }
      }
      : undefined,
  };
}

if (import.meta.main) {
  main(process.argv.slice(2), processIO()).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => {
      process.stderr.write(`autopilot: ${(err as Error).message ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

void register;
