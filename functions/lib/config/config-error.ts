/**
 * The one error the configuration loader throws. It carries every issue found, so a user fixes the
 * whole file in one pass instead of one typo per deploy.
 */
import { AutopilotError } from '../errors.ts';

/** One problem in a configuration file. `path` is where inside the file (e.g. `runtimes[1].track.tagPolicy.semver`). */
export interface ConfigIssue {
  path: string;
  message: string;
  /** 1-based line in the file, when the offending node (or its nearest parent) could be located. */
  line?: number;
  /** 1-based column of the offending node (or its nearest parent), with `line`. */
  column?: number;
}

/** `file: path: message`; issues without a path (YAML syntax) use `file:line:column: message`. */
export function formatIssue(file: string, issue: ConfigIssue): string {
  if (issue.path) return `${file}: ${issue.path}: ${issue.message}`;
  const where = issue.line === undefined ? '' : `:${issue.line}${issue.column === undefined ? '' : `:${issue.column}`}`;
  return `${file}${where}: ${issue.message}`;
}

/** Thrown when a configuration file cannot be read or is invalid; nothing runs on an invalid file. */
export class ConfigError extends AutopilotError {
  /** The file name as given to the loader (used as the prefix of every message line). */
  readonly file: string;
  readonly issues: ConfigIssue[];
  constructor(file: string, issues: ConfigIssue[], options: { cause?: unknown } = {}) {
    super(issues.map((issue) => formatIssue(file, issue)).join('\n'), {
      cause: options.cause,
      details: { file, issues },
    });
    this.file = file;
    this.issues = issues;
  }
}
