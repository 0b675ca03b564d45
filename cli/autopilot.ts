#!/usr/bin/env node
/**
 * `autopilot`: the operator command line. The command tree is cli/commands/index.ts (specs:
 * options, help, exit codes); cli/program.ts parses and dispatches on commander; each action loads
 * its implementation (cli/actions/*.ts) only when it runs, so `--help` and completion stay fast.
 */
import { createInterface } from 'node:readline/promises';
import tab from '@bomb.sh/tab/commander';
import { SPECS } from './commands/index.ts';
import { exitCodesHelp } from './exit-codes.ts';
import { buildProgram, findCommand, runProgram } from './program.ts';
import type { CliIO } from './types.ts';

/** `-out FILE` (terraform's spelling) is `--out FILE`; `-o` stays the output format. */
function normalize(argv: readonly string[]): string[] {
  return argv.map((a) => (a === '-out' ? '--out' : a.startsWith('-out=') ? `-${a}` : a));
}

/** Runs console.log-writing code (the completion library) with its output on io.stdout. */
async function withConsoleTo<T>(io: CliIO, fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = (...parts: unknown[]) => io.stdout(parts.map(String).join(' '));
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const state: { code?: number } = {};
  const program = buildProgram(io, SPECS, state);
  const completions = tab(program, { completionCommandName: 'completion' });
  // Candidates are described by the one-line summary, not the whole help prose.
  for (const [path, entry] of completions.commands) {
    const cmd = findCommand(program, path.split(' '));
    if (cmd?.summary()) entry.description = cmd.summary();
  }
  // One line per candidate: the shells read the candidates line by line.
  for (const entry of [completions, ...completions.commands.values()]) {
    for (const option of entry.options.values()) option.description = option.description?.split('\n')[0].replace(/[,;(]*$/, '');
  }
  const completion = findCommand(program, ['completion']);
  completion?.summary('Print the shell completion script (bash, zsh, fish, powershell)')
    .description([
      'Prints the completion script for your shell. Load it with, for example:',
      '  bash:  source <(autopilot completion bash)      (or save it under ~/.local/share/bash-completion/completions/autopilot)',
      '  zsh:   source <(autopilot completion zsh)',
      '  fish:  autopilot completion fish > ~/.config/fish/completions/autopilot.fish',
      'The script calls `autopilot` for the candidates, so `autopilot` must be on PATH (see README: Quick start).',
    ].join('\n'))
    .addHelpText('after', `\n${exitCodesHelp([[0, 'printed'], [2, 'usage error (unknown shell)']])}`);

  let args = normalize(argv);
  if (args[0] === 'help') {
    const names = args.slice(1).filter((a) => !a.startsWith('-'));
    if (names.length > 0 && !findCommand(program, names)) {
      io.stderr(`autopilot help: unknown command '${names.join(' ')}'\nUsage: autopilot help [command...]`);
      return 2;
    }
    args = [...names, '--help'];
  }
  const completing = args[0] === 'completion' || args[0] === 'complete';
  return completing ? withConsoleTo(io, () => runProgram(program, args, io, state)) : runProgram(program, args, io, state);
}

function processIO(): CliIO {
  return {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    isTTY: Boolean(process.stdout.isTTY),
    prompt: process.stdin.isTTY
      ? async (q) => {
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        try { return await rl.question(q); } finally { rl.close(); }
      }
      : undefined,
  };
}

if (import.meta.main) {
  // `autopilot ... | head`: a closed pipe ends the command quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  main(process.argv.slice(2), processIO()).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => {
      // Only a bug in the dispatcher itself gets here (actions' errors are described there).
      process.stderr.write(`autopilot: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
