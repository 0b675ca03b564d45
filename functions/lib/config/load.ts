/**
 * Loading the desired-state configuration: YAML -> schema + semantic checks -> typed Config with
 * every default applied. Any problem throws one ConfigError listing all of them; nothing runs on
 * an invalid file.
 */
import { refProblems } from '../../domain/secrets/refs.ts';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node as YamlNode } from 'yaml';
import { ConfigError, type ConfigIssue } from './config-error.ts';
import { formatPath } from './issues.ts';
import { fromZodIssues, zodErrorMap, type RawIssue, type Segment } from './issues.ts';
import { configSchema, type ParsedConfig, type ParsedGateway, type ParsedRuntime, type ParsedTagPolicy } from './schema.ts';
import { semanticIssues } from './semantics.ts';
import { configWarnings } from './warnings.ts';
import { resolvePolicyEngines, type PolicyEngineDeclaration } from './policies.ts';
import { parseStatement } from '../cedar.ts';
import type {
  Config, DriftMode, GatewayDesired, GatewaySpec, ResourceRef, RuntimeDesired, RuntimeSpec, TagPolicy, TrackRule,
} from './types.ts';

export const DEFAULT_CONFIG_FILE = 'autopilot.config.yaml';
export { configWarnings };

/** Source offset of the node at `at`, or of its nearest existing ancestor. */
function offsetOf(doc: Document, at: readonly Segment[]): number | undefined {
  let node: unknown = doc.contents;
  let offset = (node as YamlNode | null)?.range?.[0];
  for (const seg of at) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (!pair) break;
      // The key's line: for block values it is where the reader looks.
      offset = (isScalar(pair.key) ? pair.key.range?.[0] : undefined) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (!item) break;
      offset = (item as YamlNode).range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

/** 1-based line and column of the node at `at` (or its nearest existing ancestor) in YAML text. */
export function locateInYaml(text: string, at: readonly Segment[]): { line?: number; column?: number } {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  const offset = offsetOf(doc, at);
  if (offset === undefined) return {};
  const pos = counter.linePos(offset);
  return { line: pos.line, column: pos.col };
}

function place(doc: Document, counter: LineCounter, raw: RawIssue[]): ConfigIssue[] {
  const placed = raw.map((r, i) => {
    const offset = offsetOf(doc, r.at);
    const issue: ConfigIssue = { path: r.path || '(root)', message: r.message };
    if (offset !== undefined) {
      const pos = counter.linePos(offset);
      issue.line = pos.line;
      issue.column = pos.col;
    }
    return { issue, offset: offset ?? 0, i };
  });
  // File order, so the list reads top to bottom like the file.
  placed.sort((a, b) => a.offset - b.offset || a.i - b.i);
  // Identical findings from two checks (e.g. a schema refine and a semantic check) are shown once.
  const seen = new Set<string>();
  return placed.map((p) => p.issue).filter((issue) => {
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** YAML parser messages without the source excerpt (a line may hold a secret value). */
function yamlReason(message: string): string {
  const first = message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '').trim();
  return first.length > 200 ? `${first.slice(0, 200)}...` : first;
}

/** toJS fails on an alias without an anchor, or on alias expansion bombs: locate the alias. */
function aliasIssue(doc: Document, counter: LineCounter, err: unknown): ConfigIssue {
  let offset: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) === undefined) {
        offset = node.range?.[0];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  const excessive = /alias count/i.test((err as Error).message ?? '');
  const message = excessive
    ? 'YAML error: too many alias expansions (more than 100)'
    : 'YAML syntax error: an alias (*name) refers to an anchor (&name) that is not defined before it';
  if (offset === undefined) return { path: '', message, line: 1 };
  const pos = counter.linePos(offset);
  return { path: '', message, line: pos.line, column: pos.col };
}

function ref(spec: { id?: string; name?: string }): ResourceRef {
  return spec.id !== undefined ? { id: spec.id } : { name: spec.name as string };
}

function tagPolicy(p: ParsedTagPolicy): TagPolicy {
  if (p.exact !== undefined) return { kind: 'exact', exact: p.exact };
  if (p.semver !== undefined) return { kind: 'semver', semver: p.semver };
  if (p.glob !== undefined) return { kind: 'glob', glob: p.glob };
  return { kind: 'regex', regex: p.regex as string };
}

function runtimeSpec(r: ParsedRuntime, mode: DriftMode): RuntimeSpec {
  let track: TrackRule | undefined;
  if (r.track) {
    track = {
      repository: r.track.repository,
      tagPolicy: tagPolicy(r.track.tagPolicy),
      registry: { accounts: r.track.registry?.accounts ?? [], regions: r.track.registry?.regions ?? [] },
      keepTag: r.track.keepTag,
      ...(r.track.promote ? { promote: r.track.promote } : {}),
    };
  }
  return {
    ...ref(r),
    drift: r.drift ?? mode,
    ignore: r.ignore,
    // Shape-checked against UpdateAgentRuntimeRequest by the semantic pass.
    desired: r.desired as RuntimeDesired,
    ...(track ? { track } : {}),
  };
}

function gatewaySpec(g: ParsedGateway, mode: DriftMode): GatewaySpec {
  return {
    ...ref(g),
    drift: g.drift ?? mode,
    ignore: g.ignore,
    desired: g.desired as GatewayDesired,
    ...(g.policyEngine ? { policyEngine: g.policyEngine } : {}),
  };
}

function finalize(p: ParsedConfig, policyEngines: PolicyEngineDeclaration[]): Config {
  const { changeWindow, ...drift } = p.drift;
  return {
    version: p.version,
    events: p.events,
    runtimes: p.runtimes.map((r) => runtimeSpec(r, p.drift.mode)),
    gateways: p.gateways.map((g) => gatewaySpec(g, p.drift.mode)),
    drift: { ...drift, ...(changeWindow ? { changeWindow } : {}) },
    redeploy: p.redeploy,
    unknownMembers: p.unknownMembers,
    policyEngines,
    quotas: p.quotas,
  };
}

/** Gateway ids per policy engine ARN, as the config declares them. */
function gatewaysByEngine(p: ParsedConfig): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const g of p.gateways) {
    if (!g.policyEngine || g.id === undefined) continue;
    out.set(g.policyEngine.arn, [...(out.get(g.policyEngine.arn) ?? []), g.id]);
  }
  return out;
}

/** Cedar's parser as the config's statement checker (loads Cedar's wasm on first use). */
function cedarChecker(statement: string): { line: number; column: number; message: string }[] {
  const parsed = parseStatement(statement);
  return parsed.ok ? [] : parsed.issues.map((i) => ({ line: i.line, column: i.column, message: i.message }));
}

export interface ParseConfigOptions {
  /** Where policy statement files are looked up (default: the working directory). */
  baseDir?: string;
  /**
   * Check declared Cedar statements with Cedar itself (default true). Lambda functions that never
   * read the policies skip it, so their packages need not carry Cedar's wasm.
   */
  cedar?: boolean;
}

/**
 * Parses and validates configuration text. `fileName` prefixes every message. Throws a
 * ConfigError carrying every issue (YAML syntax errors carry the line and column).
 */
export function parseConfig(text: string, fileName: string, options: ParseConfigOptions = {}): Config {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((err): ConfigIssue => {
      const pos = counter.linePos(err.pos[0]);
      return { path: '', message: `YAML syntax error: ${yamlReason(err.message)}`, line: pos.line, column: pos.col };
    });
    throw new ConfigError(fileName, issues);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError(fileName, [aliasIssue(doc, counter, err)], { cause: err });
  }
  if (raw === null || raw === undefined) {
    throw new ConfigError(fileName, [{ path: '(root)', message: 'is empty; expected a mapping that starts with "version: 1"', line: 1 }]);
  }
  const result = configSchema.safeParse(raw, { error: zodErrorMap });
  const issues = [...(result.success ? [] : fromZodIssues(result.error.issues)), ...semanticIssues(raw)];
  let policyEngines: PolicyEngineDeclaration[] = [];
  if (result.success) {
    const resolved = resolvePolicyEngines(result.data.policyEngines, gatewaysByEngine(result.data), {
      baseDir: options.baseDir ?? process.cwd(),
      ...(options.cedar !== false && { check: cedarChecker }),
    });
    policyEngines = resolved.engines;
    issues.push(...resolved.issues);
  }
  if (issues.length > 0 || !result.success) throw new ConfigError(fileName, place(doc, counter, issues));
  const config = finalize(result.data, policyEngines);
  const refIssues = config.runtimes.flatMap((r, i) => Object.keys(r.desired.environmentVariables ?? {}).flatMap((name) => {
    const at = ['runtimes', i, 'desired', 'environmentVariables', name];
    return refProblems({ [name]: r.desired.environmentVariables![name] }, '').map((problem): RawIssue => ({
      path: formatPath(at), message: problem.slice(problem.indexOf(': ') + 2), at,
    }));
  }));
  if (refIssues.length > 0) throw new ConfigError(fileName, place(doc, counter, refIssues));
  return config;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Receives the load-time warnings (e.g. a plaintext value that looks like a secret). */
  warn?: (message: string) => void;
  /** Check declared Cedar statements with Cedar (default true; see ParseConfigOptions). */
  cedar?: boolean;
}

/**
 * Reads and parses the configuration. Path: the argument, else $AUTOPILOT_CONFIG_FILE, else
 * `autopilot.config.yaml`. A relative path is looked up in the working directory, then (in
 * Lambda) in $LAMBDA_TASK_ROOT, where the packaged file lives.
 */
export async function loadConfig(file?: string, options: LoadConfigOptions = {}): Promise<Config> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const given = file ?? (env.AUTOPILOT_CONFIG_FILE || undefined);
  const wanted = given ?? DEFAULT_CONFIG_FILE;
  const candidates = [path.resolve(cwd, wanted)];
  if (!path.isAbsolute(wanted) && env.LAMBDA_TASK_ROOT) candidates.push(path.resolve(env.LAMBDA_TASK_ROOT, wanted));
  let absolute: string | undefined;
  for (const candidate of candidates) {
    if (await exists(candidate)) {
      absolute = candidate;
      break;
    }
  }
  if (absolute === undefined) {
    const hint = given === undefined ? '; set AUTOPILOT_CONFIG_FILE to use another path' : '';
    throw new ConfigError(displayName(wanted, cwd), [{
      path: '',
      message: candidates.length === 1
        ? `configuration file does not exist${hint}`
        : `configuration file does not exist (looked for ${candidates.join(', ')})${hint}`,
    }]);
  }
  const display = displayName(absolute, cwd);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'EACCES' ? 'is not readable (permission denied)' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? 'unknown error'})`;
    throw new ConfigError(display, [{ path: '', message: `configuration file ${reason}` }], { cause: err });
  }
  const config = parseConfig(text, display, { baseDir: path.dirname(absolute), cedar: options.cedar });
  for (const warning of configWarnings(config)) options.warn?.(`${display}: ${warning}`);
  return config;
}

/** The name used in messages: relative to the working directory when inside it. */
function displayName(file: string, cwd: string): string {
  const absolute = path.resolve(cwd, file);
  const relative = path.relative(cwd, absolute);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : absolute;
}
