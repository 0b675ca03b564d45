/**
 * Offline validation of a config file for CI (`autopilot validate`): the schema, the AgentCore
 * service model (every `desired` field), the semantic rules of the loader, and the references
 * serverless.yml must hold for it (iam:PassRole on every roleArn, the image-push rule on every
 * tracked repository). No AWS call. Each problem has the file, line and column.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../lib/config/config-error.ts';
import { locateInYaml, parseConfig } from '../lib/config/load.ts';
import type { Config } from '../lib/config/types.ts';

export interface ValidationIssue {
  file: string;
  line?: number;
  column?: number;
  /** Where inside the file (`runtimes[0].track.tagPolicy`); empty for syntax errors. */
  path: string;
  message: string;
}

export interface ValidationResult {
  valid: boolean;
  file: string;
  /** serverless.yml the references were checked against (undefined: none was found or given). */
  serverless?: string;
  issues: ValidationIssue[];
}

/** `file:line:column: path: message`, the shape editors and CI annotations understand. */
export function formatValidationIssue(i: ValidationIssue): string {
  const where = i.line === undefined ? '' : `:${i.line}${i.column === undefined ? '' : `:${i.column}`}`;
  return `${i.file}${where}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
}

/** The serverless.yml params for a stage (the stage's own, else `default`). */
function paramsOf(text: string, stage: string): { runtimeRoleArns?: string[]; gatewayRoleArns?: string[]; trackedRepositories?: string[] } {
  // CloudFormation short tags (!Ref, !GetAtt) stay plain values: only params are read.
  const raw = parseDocument(text, { logLevel: 'silent' }).toJS({ maxAliasCount: -1 }) as { params?: Record<string, Record<string, unknown>> } | null;
  const params = raw?.params ?? {};
  const pick = (key: string) => (params[stage]?.[key] ?? params.default?.[key]) as string[] | undefined;
  return { runtimeRoleArns: pick('runtimeRoleArns'), gatewayRoleArns: pick('gatewayRoleArns'), trackedRepositories: pick('trackedRepositories') };
}

/** serverless.yml must let the functions pass every role and hear every tracked repository. */
function referenceIssues(config: Config, text: string, slsText: string, file: string, serverlessFile: string, stage: string): ValidationIssue[] {
  const params = paramsOf(slsText, stage);
  const at = (...segments: (string | number)[]) => locateInYaml(text, segments);
  const issues: ValidationIssue[] = [];
  // PassRole is split by resource type: runtimes pass runtimeRoleArns, gateways gatewayRoleArns.
  const check = (list: readonly { desired: { roleArn?: unknown } }[], kind: string, param: 'runtimeRoleArns' | 'gatewayRoleArns') => list.forEach((r, i) => {
    const role = r.desired.roleArn;
    if (typeof role === 'string' && !(params[param] ?? []).includes(role)) {
      issues.push({ file, ...at(kind, i, 'desired', 'roleArn'), path: `${kind}[${i}].desired.roleArn`, message: `${role} is not in ${serverlessFile} params.${param} (stage ${stage}): the functions may not pass it (iam:PassRole)` });
    }
  });
  check(config.runtimes, 'runtimes', 'runtimeRoleArns');
  check(config.gateways, 'gateways', 'gatewayRoleArns');
  const repos = params.trackedRepositories ?? [];
  config.runtimes.forEach((r, i) => {
    if (r.track && !repos.includes(r.track.repository)) {
      issues.push({ file, ...at('runtimes', i, 'track', 'repository'), path: `runtimes[${i}].track.repository`, message: `${r.track.repository} is not in ${serverlessFile} params.trackedRepositories (stage ${stage}): the image-push rule never hears its pushes` });
    }
  });
  return issues;
}

/**
 * Validates `file`. `serverlessFile`: the serverless.yml to check references against (skipped
 * when undefined); `stage` picks its params. Never throws for a bad config: the issues say it.
 */
export async function validateConfigFile(file: string, options: { serverlessFile?: string; stage?: string; cwd?: string } = {}): Promise<ValidationResult> {
  const cwd = options.cwd ?? process.cwd();
  const shown = (f: string) => {
    const rel = path.relative(cwd, path.resolve(cwd, f));
    return rel && !rel.startsWith('..') ? rel : path.resolve(cwd, f);
  };
  const display = shown(file);
  let text: string;
  try {
    text = await readFile(path.resolve(cwd, file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { valid: false, file: display, issues: [{ file: display, path: '', message: code === 'ENOENT' ? 'configuration file does not exist' : code === 'EISDIR' ? 'configuration file is a directory' : `cannot read the configuration file (${code})` }] };
  }
  let config: Config;
  try {
    // Policy statement files are next to the config, wherever validate runs from.
    config = parseConfig(text, display, { baseDir: path.dirname(path.resolve(cwd, file)) });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { valid: false, file: display, issues: err.issues.map((i) => ({ file: display, ...(i.line !== undefined && { line: i.line }), ...(i.column !== undefined && { column: i.column }), path: i.path, message: i.message })) };
  }
  if (!options.serverlessFile) return { valid: true, file: display, issues: [] };
  const slsDisplay = shown(options.serverlessFile);
  const slsText = await readFile(path.resolve(cwd, options.serverlessFile), 'utf8');
  const issues = referenceIssues(config, text, slsText, display, slsDisplay, options.stage ?? 'default');
  return { valid: issues.length === 0, file: display, serverless: slsDisplay, issues };
}
