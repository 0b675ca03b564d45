/**
 * The `autopilot` command tree on commander (parsing, help, usage errors) with shell completion
 * from @bomb.sh/tab (bash, zsh, fish, powershell). Commands are declared in cli/commands/*.ts as
 * specs (options, help, exit codes: cheap to load); their actions import the heavy parts (AWS SDK,
 * the use cases) only when they run, so `--help` and TAB completion stay fast.
 *
 * Adding a command: write a spec with `command()` (or a group with `group()`) in cli/commands/,
 * and list it in cli/commands/index.ts. The dispatcher gives every action the global options
 * (`-o/--output`, `--json`, `--no-color`, `--region`, `--profile`), turns thrown errors into one
 * sentence and their exit code, and usage errors into the one usage line of the command.
 */
import { Command, CommanderError, Option } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { describeCliError, UsageError } from './errors.ts';
import { EXIT, exitCodesHelp, type ExitCodeDoc } from './exit-codes.ts';
import { OUTPUT_FORMATS, Output, useColour, type OutputFormat } from './output.ts';
import type { Action, ActionContext, CliIO, Options } from './types.ts';

export const VERSION: string = pkg.version;
const HELP_WIDTH = 100;

/** One command (a leaf): `autopilot plan`, `autopilot rollout start`. */
export interface CommandSpec {
  kind: 'command';
  name: string;
  /** One line, for the command list. */
  summary: string;
  /** What follows the command path in the usage line, e.g. `--gateway ID [--wait]`. */
  usage?: string;
  /** Prose under the usage line (lines under 100 characters). */
  description?: string;
  /** Positional arguments: commander syntax (`<functionKey>`, `[file]`) and a description. */
  args?: readonly (readonly [string, string])[];
  /** Declares the options on the commander command. */
  options?: (cmd: Command) => void;
  /** Text after the options (environment, notes), before the exit codes. */
  notes?: string;
  exitCodes: readonly ExitCodeDoc[];
  /** Exit code of a usage error (default 2; plan uses 1 because 2 means drift). */
  usageExitCode?: number;
  /** Talks to AWS (or the local stack): an explicit AWS_ENDPOINT_URL is checked once, before the action. */
  aws?: boolean;
  action: Action;
}

/** A command with subcommands: `autopilot rollout start|status|...`. */
export interface GroupSpec {
  kind: 'group';
  name: string;
  summary: string;
  description?: string;
  notes?: string;
  /** Exit codes shared by the subcommands (each subcommand's help lists its own). */
  exitCodes: readonly ExitCodeDoc[];
  commands: readonly (CommandSpec | GroupSpec)[];
}

export type Spec = CommandSpec | GroupSpec;

export function command(spec: Omit<CommandSpec, 'kind'>): CommandSpec {
  return { kind: 'command', ...spec };
}

export function group(spec: Omit<GroupSpec, 'kind'>): GroupSpec {
  return { kind: 'group', ...spec };
}

/** `--alarm a --alarm b` -> ['a', 'b'] (a repeatable option's argParser). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The command's full name without the program: `rollout start`. */
export function pathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

const usageLine = (cmd: Command) => `Usage: ${['autopilot', pathOf(cmd)].filter(Boolean).join(' ')} ${cmd.usage()}`.trimEnd();

interface RunState {
  code?: number;
}

/** Prints a usage error: the message, the one usage line, where to read more. */
function printUsageError(io: CliIO, cmd: Command, message: string, out?: Output): void {
  const name = ['autopilot', pathOf(cmd)].filter(Boolean).join(' ');
  if (out?.structured && !out.printed) out.document({ error: 'UsageError', message });
  io.stderr(`${name}: ${message}\n${usageLine(cmd)}\nRun '${name} --help' for the options.`);
}

function usageExitCode(cmd: Command): number {
  return (cmd as Command & { usageExitCode?: number }).usageExitCode ?? EXIT.USAGE;
}

/** The endpoint the CLI talks to, for error messages (undefined: AWS itself). */
export function endpointOf(io: CliIO): string | undefined {
  return io.env.AWS_ENDPOINT_URL || undefined;
}

function outputFormat(opts: Options): OutputFormat {
  const output = opts.output as OutputFormat | undefined;
  if (opts.json === true) {
    if (output !== undefined && output !== 'json') throw new UsageError(`--json and --output ${output} disagree: give one of them`);
    return 'json';
  }
  return output ?? 'text';
}

/** The options of every ancestor of `cmd`. */
function globalOptions(cmd: Command): readonly Option[] {
  const all: Option[] = [];
  for (let p = cmd.parent; p; p = p.parent) all.push(...p.options);
  return all;
}

function addAction(cmd: Command, spec: CommandSpec, io: CliIO, state: RunState): void {
  cmd.action(async (...params: unknown[]) => {
    const c = params.at(-1) as Command;
    const opts = c.optsWithGlobals();
    let out: Output | undefined;
    try {
      for (const option of [...c.options, ...(c.parent ? globalOptions(c) : [])]) {
        if (opts[option.attributeName()] === '') throw new UsageError(`${option.long ?? option.short} needs a value`);
      }
      out = new Output(io, outputFormat(opts), useColour(io, opts.color as boolean | undefined));
      const ctx: ActionContext = { io, opts, args: c.processedArgs.filter((a) => a !== undefined).map(String), out, command: pathOf(c) };
      if (spec.aws) {
        const aws = await import('./aws.ts');
        await aws.ensureReachable(io);
        await aws.followStackClock(io);
      }
      state.code = await spec.action(ctx);
    } catch (err) {
      if (err instanceof UsageError) {
        printUsageError(io, c, err.message, out);
        state.code = usageExitCode(c);
        return;
      }
      const d = describeCliError(err, endpointOf(io));
      if (out?.structured && !out.printed) out.document({ error: d.kind, message: d.message });
      io.stderr(`autopilot ${pathOf(c)}: ${d.message}`);
      state.code = d.code;
    }
  });
}

function helpAfter(notes: string | undefined, codes: readonly ExitCodeDoc[]): string {
  return `\n${[notes, exitCodesHelp(codes)].filter(Boolean).join('\n\n')}`;
}

/** The spec each command was built from (for the README reference). */
const SPEC_OF = new WeakMap<Command, Spec>();
export const specOf = (cmd: Command): Spec | undefined => SPEC_OF.get(cmd);

function addSpec(parent: Command, spec: Spec, io: CliIO, state: RunState): Command {
  const cmd = parent.command(spec.name).summary(spec.summary).description(spec.description ?? spec.summary);
  SPEC_OF.set(cmd, spec);
  cmd.addHelpText('after', helpAfter(spec.notes, spec.exitCodes));
  if (spec.kind === 'group') {
    cmd.usage(`<${spec.commands.map((s) => s.name).join('|')}> [options]`);
    for (const sub of spec.commands) addSpec(cmd, sub, io, state);
    // No subcommand, or an unknown one: a usage error naming the choices.
    cmd.allowExcessArguments().action((...params: unknown[]) => {
      const c = params.at(-1) as Command;
      const names = spec.commands.map((s) => s.name);
      const [first] = c.args;
      printUsageError(io, c, first === undefined ? `missing subcommand (${names.join(', ')})` : `unknown subcommand '${first}' (one of ${names.join(', ')})`);
      state.code = EXIT.USAGE;
    });
    return cmd;
  }
  if (spec.usage !== undefined) cmd.usage(spec.usage);
  for (const [name, description] of spec.args ?? []) cmd.argument(name, description);
  spec.options?.(cmd);
  if (spec.usageExitCode !== undefined) (cmd as Command & { usageExitCode?: number }).usageExitCode = spec.usageExitCode;
  addAction(cmd, spec, io, state);
  return cmd;
}

const ROOT_DESCRIPTION = `Operate Amazon Bedrock AgentCore runtimes and gateways: redeploy, policy rollouts, drift.
Talks to AWS through the default credential chain and region (or --region/--profile), or to the
local stack when AWS_ENDPOINT_URL points at it.`;

export const ROOT_EXIT_CODES: readonly ExitCodeDoc[] = [
  [EXIT.OK, 'success'],
  [EXIT.ERROR, 'error (AWS, network, configuration, not found, a failed operation)'],
  [EXIT.USAGE, 'usage error (plan: drift found; its usage errors are 1)'],
  [EXIT.REFUSED, 'refused or declined (another run in progress, nothing pending, not confirmed)'],
  [EXIT.NOT_SUCCEEDED, 'the outcome is not the one asked for (rollout halted, rolled back, aborted, failed)'],
  [EXIT.TIMEOUT, '--timeout ran out while waiting (what was waited for goes on)'],
];

/** Builds the program for one run (commander keeps parse state on the command objects). */
export function buildProgram(io: CliIO, specs: readonly Spec[], state: RunState = {}): Command {
  const program = new Command('autopilot')
    .usage('<command> [options]')
    .description(ROOT_DESCRIPTION)
    .version(VERSION, '-v, --version', 'print the version')
    .addOption(new Option('-o, --output <format>', 'output format: text, or one json/yaml document on stdout').choices(OUTPUT_FORMATS))
    .option('--json', 'same as --output json')
    .option('--no-color', 'no colours (also NO_COLOR=1); colours are only used on a terminal')
    .option('--region <region>', 'AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile\'s)')
    .option('--profile <name>', 'AWS profile from ~/.aws/config (default: $AWS_PROFILE)')
    .helpOption('-h, --help', 'show help')
    .helpCommand(false)
    .exitOverride()
    .configureHelp({ showGlobalOptions: true, helpWidth: HELP_WIDTH, subcommandTerm: (c) => c.name() })
    .configureOutput({
      writeOut: (s) => io.stdout(s.replace(/\n$/, '')),
      writeErr: (s) => io.stderr(s.replace(/\n$/, '')),
      outputError: () => undefined,
    });
  program.addHelpText('after', `\nRun 'autopilot help <command>' (or '<command> --help') for the options and exit codes of a command.\n${exitCodesHelp(ROOT_EXIT_CODES)}`);
  for (const spec of specs) addSpec(program, spec, io, state);
  return program;
}

/** Finds `rollout start` in the tree; undefined when a name does not match. */
export function findCommand(root: Command, names: readonly string[]): Command | undefined {
  let cmd: Command | undefined = root;
  for (const name of names) {
    cmd = cmd.commands.find((c) => c.name() === name || c.aliases().includes(name));
    if (!cmd) return undefined;
  }
  return cmd;
}

/** Every command of the tree, depth first (for the README reference and its test). */
export function allCommands(root: Command): Command[] {
  return root.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** The command a commander error is about: the deepest command named in argv. */
function commandOf(root: Command, argv: readonly string[]): Command {
  let cmd = root;
  for (const a of argv) {
    if (a.startsWith('-')) continue;
    const next = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!next) break;
    cmd = next;
  }
  return cmd;
}

/** Parses and runs; returns the exit code. */
export async function runProgram(program: Command, argv: readonly string[], io: CliIO, state: RunState): Promise<number> {
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.OK;
    const cmd = commandOf(program, argv);
    if (err.code === 'commander.help' || err.code === 'commander.executeSubCommandAsync') {
      // `autopilot` alone: the help was shown on stderr.
      return EXIT.USAGE;
    }
    printUsageError(io, cmd, err.message.replace(/^error: /, ''));
    return usageExitCode(cmd);
  }
  return state.code ?? EXIT.OK;
}
