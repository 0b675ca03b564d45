/** The shape every `autopilot` subcommand implements (cli/commands/<name>.ts). */
export interface CliIO {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  env: NodeJS.ProcessEnv;
  /** True when stdout is an interactive terminal (progress rendering, prompts). */
  isTTY: boolean;
  /** Reads one line from stdin (for confirmations); undefined when stdin is not interactive. */
  prompt?: (question: string) => Promise<string>;
}

export interface CliCommand {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Full `--help` text. */
  help: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[], io: CliIO): Promise<number>;
}
