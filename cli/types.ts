/** The shapes every `autopilot` command uses: the process's I/O, and what an action receives. */
import type { Output } from './output.ts';

export interface CliIO {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  env: NodeJS.ProcessEnv;
  /** True when stdout is an interactive terminal (progress rendering, prompts, colours). */
  isTTY: boolean;
  /** Reads one line from stdin (for confirmations); undefined when stdin is not interactive. */
  prompt?: (question: string) => Promise<string>;
}

/** Option values of one command, its parents' and the global ones (commander's optsWithGlobals). */
export type Options = Record<string, unknown>;

/** What a command's action gets. */
export interface ActionContext {
  io: CliIO;
  /** The command's own options merged with the global ones, by commander's camelCase names. */
  opts: Options;
  /** Positional arguments, in declaration order. */
  args: string[];
  /** Output format, colours, and the one-document rule of JSON/YAML. */
  out: Output;
  /** The full command name, e.g. `rollout start` (for messages). */
  command: string;
}

/** An action resolves to the process exit code. */
export type Action = (ctx: ActionContext) => Promise<number>;
