/**
 * Reads serverless.yml the way osls (Serverless Framework v3 syntax) and serverless-step-functions
 * do, for the local stack: variables resolved, functions normalised (deployed-style names and
 * ARNs), state machine definitions loaded with their `Fn::GetAtt: [XLambdaFunction, Arn]` task
 * resources turned into the function ARNs AWS would see, and the EventBridge/schedule rules
 * the functions subscribe to.
 *
 * Variables supported (recursively, nested and with fallbacks, e.g. `${opt:stage, 'dev'}`):
 *   ${self:a.b}  ${sls:stage}  ${sls:instanceId}  ${param:x}  ${opt:stage|region}
 *   ${env:X, 'default'}  ${file(rel/path.yaml)}  ${file(rel/path.json):a.b}
 *   ${aws:region}  ${aws:accountId}  ${strToBool(...)}
 * As in the framework, `${` followed by anything that is not a lowercase source name (e.g. the
 * `${AWS::Region}` of Fn::Sub) is left alone. Any other source is an error naming the variable.
 * CloudFormation short-form tags (!Ref, !GetAtt, !Sub, !Join, ...) are read as their long forms.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { parse as parseYaml, type Tags } from 'yaml';

export const DEFAULT_ACCOUNT_ID = '123456789012';
/** osls defaults (lib/plugins/aws/package/compile/functions.js). */
export const DEFAULT_TIMEOUT_SECONDS = 6;
export const DEFAULT_MEMORY_MB = 1024;

export interface LoadServerlessConfigOptions {
  /** Like `--stage`; overrides `provider.stage` (default: provider.stage, else 'dev'). */
  stage?: string;
  /** Like `--region`; overrides `provider.region` (default: provider.region, else 'us-east-1'). */
  region?: string;
  /** Environment for `${env:...}` (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Account id used in deployed-style ARNs (default 123456789012). */
  accountId?: string;
}

export interface HandlerRef {
  /** Module path relative to the service directory, without extension (`functions/handlers/x`). */
  file: string;
  /** Named export (`handler`). */
  export: string;
}

export interface RetryPolicy {
  maximumEventAge?: number;
  maximumRetryAttempts?: number;
}

export interface FunctionConfig {
  key: string;
  /** Deployed function name: `name:` when given, else `<service>-<stage>-<key>`. */
  name: string;
  arn: string;
  /** CloudFormation logical id, e.g. `OnImagePushLambdaFunction`. */
  logicalId: string;
  handler: HandlerRef;
  /** provider.environment merged with the function's own (function wins), values as strings. */
  environment: Record<string, string>;
  timeout: number;
  memorySize: number;
  runtime?: string;
  /** The function's `events`, variables resolved, otherwise as written. */
  events: Record<string, unknown>[];
  /**
   * Asynchronous invocation settings (osls compiles them to AWS::Lambda::EventInvokeConfig):
   * `maximumRetryAttempts`, `maximumEventAge` (seconds) and the `destinations` as ARNs.
   */
  async: { maximumRetryAttempts?: number; maximumEventAge?: number; onFailure?: string; onSuccess?: string };
  /** `reservedConcurrency`, when set. */
  reservedConcurrency?: number;
  /** `url:` (a Lambda function URL): its AuthType (`authorizer: aws_iam` -> AWS_IAM, else NONE). */
  url?: { authType: 'AWS_IAM' | 'NONE' };
}

export interface StateMachineConfig {
  key: string;
  name: string;
  arn: string;
  logicalId: string;
  /** Parsed ASL with Lambda `Fn::GetAtt`/`Ref` resources replaced by deployed-style ARNs. */
  definition: Record<string, unknown>;
}

export interface EventRuleConfig {
  functionKey: string;
  functionArn: string;
  kind: 'eventBridge' | 'schedule';
  /** Rule name as deployed (`<function name>-rule-<n>` for unnamed eventBridge events). */
  name: string;
  enabled: boolean;
  eventBus?: string;
  pattern?: Record<string, unknown>;
  /** `rate(...)` / `cron(...)` expression. */
  schedule?: string;
  input?: unknown;
  inputPath?: string;
  inputTransformer?: { inputPathsMap?: Record<string, string>; inputTemplate: string };
  retryPolicy?: RetryPolicy;
  /** Dead-letter queue ARN. */
  deadLetter?: string;
}

export interface ServerlessConfig {
  service: string;
  stage: string;
  region: string;
  accountId: string;
  /** Absolute directory of serverless.yml (handler and file() paths are relative to it). */
  serviceDir: string;
  provider: {
    name: string;
    runtime?: string;
    stage: string;
    region: string;
    environment: Record<string, string>;
    timeout: number;
    memorySize: number;
    [other: string]: unknown;
  };
  functions: Record<string, FunctionConfig>;
  stateMachines: Record<string, StateMachineConfig>;
  eventRules: EventRuleConfig[];
  /** The whole document, every variable resolved. */
  resolved: Record<string, unknown>;
  /**
   * Resolves CloudFormation intrinsics (Ref, Fn::GetAtt, Fn::Sub, Fn::Join) in `value` to the
   * deployed-style values of this stack (e.g. a `resources` entry's properties); throws naming
   * `where` for a reference that cannot be resolved locally.
   */
  resolveIntrinsics(value: unknown, where: string): unknown;
}

/** Raised for unreadable files, unresolvable variables and references. */
export class ServerlessConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerlessConfigError';
  }
}

// --- YAML ---------------------------------------------------------------------------------------

const CFN_FUNCTIONS = ['And', 'Base64', 'Cidr', 'Equals', 'FindInMap', 'GetAZs', 'If', 'ImportValue',
  'Join', 'Not', 'Or', 'Select', 'Split', 'Sub', 'Transform', 'Condition'];

function cfnTags(): Tags {
  const tags: Tags = [];
  const wrap = (name: string) => (value: unknown) => ({ [name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`]: value });
  for (const fn of CFN_FUNCTIONS) {
    for (const collection of ['seq', 'map'] as const) {
      tags.push({ tag: `!${fn}`, collection, resolve: (v: { toJSON(): unknown }) => wrap(fn)(v.toJSON()) } as never);
    }
    tags.push({ tag: `!${fn}`, resolve: (v: string) => wrap(fn)(v) });
  }
  tags.push({ tag: '!Ref', resolve: (v: string) => ({ Ref: v }) });
  tags.push({ tag: '!GetAtt', resolve: (v: string) => {
    const i = v.indexOf('.');
    return { 'Fn::GetAtt': i < 0 ? [v] : [v.slice(0, i), v.slice(i + 1)] };
  } });
  tags.push({ tag: '!GetAtt', collection: 'seq', resolve: (v: { toJSON(): unknown }) => ({ 'Fn::GetAtt': v.toJSON() }) } as never);
  return tags;
}

function readStructured(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ServerlessConfigError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    if (path.endsWith('.json')) return JSON.parse(text);
    return parseYaml(text, { customTags: cfnTags(), merge: true });
  } catch (err) {
    throw new ServerlessConfigError(`cannot parse ${path}: ${(err as Error).message}`);
  }
}

// --- variables ----------------------------------------------------------------------------------

const MISSING = Symbol('missing');
type Resolved = unknown | typeof MISSING;

interface Ctx {
  root: Record<string, unknown>;
  stage: string;
  region: string;
  accountId: string;
  env: Record<string, string | undefined>;
  options: Record<string, string | undefined>;
  serviceDir: string;
  fileCache: Map<string, unknown>;
  selfCache: Map<string, unknown>;
  selfStack: string[];
  instanceId: string;
}

/** Index of the `}` closing the `${` at `start`, honouring nesting and quotes; -1 when unclosed. */
function findClose(s: string, start: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\') { i++; continue; }
      if (c === quote) quote = undefined;
      continue;
    }
    if ((c === "'" || c === '"') && depth > 0) { quote = c; continue; }
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** A `${` that the framework treats as a variable: a lowercase source name, a quote or a nested `${`. */
function isVariableStart(s: string, i: number): boolean {
  return /^\$\{\s*(?:[a-z][a-zA-Z0-9]*[:(]|['"]|\$\{)/.test(s.slice(i, i + 64));
}

/** Splits at top-level commas (outside quotes, parentheses and nested `${}`). */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      cur += c;
      if (c === '\\' && i + 1 < s.length) { cur += s[++i]; continue; }
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') { quote = c; cur += c; continue; }
    if (c === '{' || c === '(') depth++;
    if (c === '}' || c === ')') depth--;
    if (c === ',' && depth === 0) { parts.push(cur.trim()); cur = ''; continue; }
    cur += c;
  }
  parts.push(cur.trim());
  return parts;
}

function getPath(obj: unknown, path: string): Resolved {
  if (path === '') return obj;
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(seg in (cur as Record<string, unknown>))) return MISSING;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function resolveDeep(ctx: Ctx, value: unknown, where: string): unknown {
  if (typeof value === 'string') return resolveString(ctx, value, where);
  if (Array.isArray(value)) return value.map((v, i) => resolveDeep(ctx, v, `${where}[${i}]`));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveDeep(ctx, v, where ? `${where}.${k}` : k);
    return out;
  }
  return value;
}

function resolveString(ctx: Ctx, s: string, where: string): unknown {
  if (!s.includes('${')) return s;
  const pieces: unknown[] = [];
  let last = 0;
  let i = s.indexOf('${');
  while (i >= 0) {
    if (!isVariableStart(s, i)) { i = s.indexOf('${', i + 2); continue; }
    const end = findClose(s, i);
    if (end < 0) throw new ServerlessConfigError(`unclosed variable in "${s}" at ${where}`);
    if (i > last) pieces.push(s.slice(last, i));
    pieces.push({ value: resolveExpression(ctx, s.slice(i + 2, end), s.slice(i, end + 1), where) });
    last = end + 1;
    i = s.indexOf('${', last);
  }
  if (pieces.length === 0) return s;
  if (last < s.length) pieces.push(s.slice(last));
  if (pieces.length === 1 && typeof pieces[0] === 'object') return (pieces[0] as { value: unknown }).value;
  return pieces.map((p) => {
    if (typeof p === 'string') return p;
    const v = (p as { value: unknown }).value;
    if (v !== null && typeof v === 'object') {
      throw new ServerlessConfigError(`variable at ${where} resolves to an object and cannot be embedded in the string "${s}"`);
    }
    return String(v);
  }).join('');
}

function resolveExpression(ctx: Ctx, body: string, text: string, where: string): unknown {
  const parts = splitTopLevel(body);
  for (const part of parts) {
    const v = resolveSource(ctx, part, text, where);
    if (v !== MISSING && v !== undefined && v !== null) return v;
    if (v === null && /^null$/.test(part)) return null;
  }
  throw new ServerlessConfigError(`cannot resolve ${text} at ${where || '(root)'}: ${describeMissing(parts[0])}`);
}

function describeMissing(part: string): string {
  const m = /^([a-zA-Z]+):(.*)$/.exec(part);
  if (m?.[1] === 'env') return `environment variable ${m[2].trim()} is not set and no default was given`;
  if (m?.[1] === 'opt') return `option --${m[2].trim()} was not given and no default was given`;
  if (m) return `no value found at "${m[2].trim()}" in the "${m[1]}" source`;
  return `no value for "${part}"`;
}

function resolveSource(ctx: Ctx, rawPart: string, text: string, where: string): Resolved {
  let part = rawPart.trim();
  if (/^'.*'$|^".*"$/s.test(part)) return part.slice(1, -1);
  if (/^-?\d+(\.\d+)?$/.test(part)) return Number(part);
  if (part === 'true' || part === 'false') return part === 'true';
  if (part === 'null') return null;
  if (part.startsWith('${')) return resolveString(ctx, part, where);
  // Nested variables inside an address: ${self:custom.${sls:stage}.x}
  if (part.includes('${')) part = String(resolveString(ctx, part, where));

  const fileMatch = /^file\((.+?)\)(?::(.*))?$/s.exec(part);
  if (fileMatch) return resolveFile(ctx, fileMatch[1].trim(), fileMatch[2]?.trim() ?? '', text, where);
  const strToBool = /^strToBool\((.*)\)$/s.exec(part);
  if (strToBool) {
    const v = String(resolveSource(ctx, strToBool[1], text, where)).trim().toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new ServerlessConfigError(`${text} at ${where}: strToBool expects true/false/1/0, got "${v}"`);
  }
  const m = /^([a-zA-Z][a-zA-Z0-9]*):(.*)$/s.exec(part);
  if (!m) throw new ServerlessConfigError(`invalid variable ${text} at ${where}: cannot parse "${part}"`);
  const [, source, address] = [m[0], m[1], m[2].trim()];
  switch (source) {
    case 'self': return resolveSelf(ctx, address, text);
    case 'sls':
      if (address === 'stage') return ctx.stage;
      if (address === 'instanceId') return ctx.instanceId;
      throw new ServerlessConfigError(`unsupported variable ${text} at ${where}: sls:${address} (supported: sls:stage, sls:instanceId)`);
    case 'opt': return ctx.options[address] ?? MISSING;
    case 'env': return ctx.env[address] ?? MISSING;
    case 'param': return resolveParam(ctx, address, text, where);
    case 'aws':
      if (address === 'region') return ctx.region;
      if (address === 'accountId') return ctx.accountId;
      throw new ServerlessConfigError(`unsupported variable ${text} at ${where}: aws:${address} (supported: aws:region, aws:accountId)`);
    default:
      throw new ServerlessConfigError(
        `unsupported variable source "${source}" in ${text} at ${where} (supported: self, sls, opt, env, param, file, aws, strToBool)`,
      );
  }
}

function resolveSelf(ctx: Ctx, address: string, text: string): Resolved {
  if (ctx.selfCache.has(address)) return ctx.selfCache.get(address);
  if (ctx.selfStack.includes(address)) {
    throw new ServerlessConfigError(`circular reference: ${[...ctx.selfStack, address].map((a) => `self:${a}`).join(' -> ')} (${text})`);
  }
  // Walk segment by segment so a variable on the way (e.g. provider.stage) is resolved first.
  const segs = address === '' ? [] : address.split('.');
  ctx.selfStack.push(address);
  try {
    let cur: unknown = ctx.root;
    let curPath = '';
    for (const seg of segs) {
      if (cur === null || typeof cur !== 'object' || !(seg in (cur as Record<string, unknown>))) return MISSING;
      cur = (cur as Record<string, unknown>)[seg];
      curPath = curPath ? `${curPath}.${seg}` : seg;
      if (typeof cur === 'string' && cur.includes('${')) cur = resolveString(ctx, cur, curPath);
    }
    const out = resolveDeep(ctx, cur, address);
    ctx.selfCache.set(address, out);
    return out;
  } finally {
    ctx.selfStack.pop();
  }
}

function resolveParam(ctx: Ctx, name: string, text: string, where: string): Resolved {
  const params = resolveSelf(ctx, 'params', text);
  if (params === MISSING || !params || typeof params !== 'object') return MISSING;
  const p = params as Record<string, Record<string, unknown> | undefined>;
  const stageValue = getPath(p[ctx.stage] ?? {}, name);
  if (stageValue !== MISSING) return stageValue;
  const def = getPath(p.default ?? {}, name);
  if (def !== MISSING) return def;
  void where;
  return MISSING;
}

function resolveFile(ctx: Ctx, relPath: string, address: string, text: string, where: string): Resolved {
  const abs = resolvePath(ctx.serviceDir, relPath);
  let content = ctx.fileCache.get(abs);
  if (content === undefined) {
    try {
      content = readStructured(abs);
    } catch (err) {
      throw new ServerlessConfigError(`${text} at ${where}: ${(err as Error).message}`);
    }
    content = resolveDeep(ctx, content, `${relPath}`);
    ctx.fileCache.set(abs, content);
  }
  return getPath(content, address);
}

// --- CloudFormation references --------------------------------------------------------------------

/** Serverless' logical-id normalisation: `on-image_push` -> `OnDashimageUnderscorepush`. */
export function normalizeResourceName(name: string): string {
  const s = name.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

interface RefTable {
  /** logical id -> { Ref value, attributes } */
  resources: Map<string, { ref: string; attrs: Record<string, string> }>;
  pseudo: Record<string, string>;
}

function buildRefTable(
  ctx: Ctx, service: string, functions: Record<string, FunctionConfig>,
  machines: { logicalId: string; name: string; arn: string }[], resources: Record<string, unknown>,
): RefTable {
  const table: RefTable = {
    resources: new Map(),
    pseudo: {
      'AWS::Region': ctx.region,
      'AWS::AccountId': ctx.accountId,
      'AWS::Partition': 'aws',
      'AWS::StackName': `${service}-${ctx.stage}`,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::NoValue': '',
    },
  };
  for (const f of Object.values(functions)) {
    table.resources.set(f.logicalId, { ref: f.name, attrs: { Arn: f.arn } });
  }
  for (const m of machines) {
    table.resources.set(m.logicalId, { ref: m.arn, attrs: { Arn: m.arn, Name: m.name } });
  }
  // Resources whose physical names are predictable from their properties.
  for (const [id, res] of Object.entries(resources)) {
    if (!res || typeof res !== 'object') continue;
    const { Type: type, Properties: props = {} } = res as { Type?: string; Properties?: Record<string, unknown> };
    const generated = `${service}-${ctx.stage}-${id}`;
    const name = (key: string) => (typeof props[key] === 'string' ? props[key] as string : generated);
    const arn = (svc: string, rest: string) => `arn:aws:${svc}:${ctx.region}:${ctx.accountId}:${rest}`;
    switch (type) {
      case 'AWS::SQS::Queue': {
        const n = name('QueueName');
        table.resources.set(id, {
          ref: `https://sqs.${ctx.region}.amazonaws.com/${ctx.accountId}/${n}`,
          attrs: { Arn: arn('sqs', n), QueueName: n, QueueUrl: `https://sqs.${ctx.region}.amazonaws.com/${ctx.accountId}/${n}` },
        });
        break;
      }
      case 'AWS::SNS::Topic': {
        const a = arn('sns', name('TopicName'));
        table.resources.set(id, { ref: a, attrs: { TopicArn: a, TopicName: name('TopicName') } });
        break;
      }
      case 'AWS::Events::EventBus': {
        const n = name('Name');
        table.resources.set(id, { ref: n, attrs: { Arn: arn('events', `event-bus/${n}`), Name: n } });
        break;
      }
      case 'AWS::IAM::Role': {
        const n = name('RoleName');
        table.resources.set(id, { ref: n, attrs: { Arn: `arn:aws:iam::${ctx.accountId}:role/${n}`, RoleId: `AROA${id.toUpperCase()}` } });
        break;
      }
      case 'AWS::S3::Bucket': {
        const n = name('BucketName').toLowerCase();
        table.resources.set(id, { ref: n, attrs: { Arn: `arn:aws:s3:::${n}` } });
        break;
      }
      case 'AWS::DynamoDB::Table': {
        const n = name('TableName');
        table.resources.set(id, { ref: n, attrs: { Arn: arn('dynamodb', `table/${n}`) } });
        break;
      }
      case 'AWS::Logs::LogGroup': {
        const n = name('LogGroupName');
        table.resources.set(id, { ref: n, attrs: { Arn: arn('logs', `log-group:${n}:*`) } });
        break;
      }
      default:
        break;
    }
  }
  return table;
}

/**
 * Resolves CloudFormation intrinsics (Ref, Fn::GetAtt, Fn::Sub, Fn::Join) to deployed-style values.
 * Throws naming `where` when a reference cannot be resolved locally.
 */
function resolveIntrinsics(table: RefTable, value: unknown, where: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => resolveIntrinsics(table, v, `${where}[${i}]`));
  if (!value || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const [k] = keys;
    const arg = obj[k];
    const fail = (what: string): never => {
      throw new ServerlessConfigError(`cannot resolve ${k} ${JSON.stringify(arg)} at ${where}: ${what}`);
    };
    if (k === 'Ref') {
      const id = String(arg);
      if (id in table.pseudo) return table.pseudo[id];
      const r = table.resources.get(id);
      return r ? r.ref : fail(`no function, state machine or known resource with logical id "${id}"`);
    }
    if (k === 'Fn::GetAtt') {
      const [id, attr] = Array.isArray(arg) ? arg.map(String) : String(arg).split(/\.(.*)/s);
      const r = table.resources.get(id);
      if (!r) return fail(`no function, state machine or known resource with logical id "${id}"`);
      return r.attrs[attr] ?? fail(`attribute ${attr} of ${id} is not known locally`);
    }
    if (k === 'Fn::Sub') {
      const [template, vars] = Array.isArray(arg) ? [String(arg[0]), (arg[1] ?? {}) as Record<string, unknown>] : [String(arg), {}];
      return template.replace(/\$\{([^}!]+)\}/g, (_m, name: string) => {
        if (name in vars) return String(resolveIntrinsics(table, vars[name], where));
        if (name in table.pseudo) return table.pseudo[name];
        const [id, attr] = name.split(/\.(.*)/s);
        const r = table.resources.get(id);
        if (!r) return fail(`unknown name \${${name}}`);
        if (attr) return r.attrs[attr] ?? fail(`attribute ${attr} of ${id} is not known locally`);
        return r.ref;
      });
    }
    if (k === 'Fn::Join' && Array.isArray(arg)) {
      const [sep, list] = arg as [string, unknown[]];
      return (resolveIntrinsics(table, list, where) as unknown[]).map(String).join(sep);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = resolveIntrinsics(table, v, `${where}.${k}`);
  return out;
}

// --- main ---------------------------------------------------------------------------------------

function asRecord(v: unknown, where: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new ServerlessConfigError(`${where} must be a map`);
  return v as Record<string, unknown>;
}

function stringifyEnv(env: Record<string, unknown>, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'object') throw new ServerlessConfigError(`${where}.${k} did not resolve to a string: ${JSON.stringify(v)}`);
    out[k] = String(v);
  }
  return out;
}

function parseHandler(handler: unknown, where: string): HandlerRef {
  if (typeof handler !== 'string' || !/^.+\.[A-Za-z_$][\w$]*$/.test(handler)) {
    throw new ServerlessConfigError(`${where}.handler must look like "path/to/module.exportName", got ${JSON.stringify(handler)}`);
  }
  const dot = handler.lastIndexOf('.');
  return { file: handler.slice(0, dot), export: handler.slice(dot + 1) };
}

/** Loads and resolves a serverless.yml. */
export function loadServerlessConfig(path: string, opts: LoadServerlessConfigOptions = {}): ServerlessConfig {
  const file = resolvePath(path);
  const serviceDir = dirname(file);
  const raw = asRecord(readStructured(file), file);
  const accountId = opts.accountId ?? DEFAULT_ACCOUNT_ID;
  const ctx: Ctx = {
    root: raw,
    stage: '',
    region: '',
    accountId,
    env: opts.env ?? process.env,
    options: { stage: opts.stage, region: opts.region },
    serviceDir,
    fileCache: new Map(),
    selfCache: new Map(),
    selfStack: [],
    instanceId: globalThis.crypto.randomUUID(),
  };
  // Stage and region first: sls:stage, param:... and aws:region depend on them.
  const rawProvider = asRecord(raw.provider, 'provider');
  ctx.stage = opts.stage ?? (rawProvider.stage !== undefined ? String(resolveDeep(ctx, rawProvider.stage, 'provider.stage')) : 'dev');
  ctx.options.stage = ctx.stage;
  ctx.region = opts.region ?? (rawProvider.region !== undefined ? String(resolveDeep(ctx, rawProvider.region, 'provider.region')) : 'us-east-1');
  ctx.options.region = ctx.region;
  ctx.selfCache.clear();

  const resolved = asRecord(resolveDeep(ctx, raw, ''), file);
  // `resources` may be a list of maps (e.g. `- ${file(resources/x.yml)}`): osls merges them
  // (lib/classes/service.js mergeArrays, a deep merge of plain objects).
  if (Array.isArray(resolved.resources)) {
    resolved.resources = resolved.resources.reduce((memo: Record<string, unknown>, entry: unknown, i: number) => {
      if (entry === null || entry === undefined) return memo;
      return mergePlain(memo, asRecord(entry, `resources[${i}]`));
    }, {});
  }
  const service = typeof resolved.service === 'object' && resolved.service !== null
    ? String((resolved.service as { name?: unknown }).name)
    : String(resolved.service ?? '');
  if (!service) throw new ServerlessConfigError(`${file}: "service" is required`);

  const provider = asRecord(resolved.provider, 'provider');
  const providerEnv = asRecord(provider.environment, 'provider.environment');
  const providerTimeout = Number(provider.timeout ?? DEFAULT_TIMEOUT_SECONDS);
  const providerMemory = Number(provider.memorySize ?? DEFAULT_MEMORY_MB);

  // Functions (names and ARNs first: references in environments and ASL point at them).
  const functions: Record<string, FunctionConfig> = {};
  const rawFunctions = asRecord(resolved.functions, 'functions');
  for (const [key, fv] of Object.entries(rawFunctions)) {
    const f = asRecord(fv, `functions.${key}`);
    const name = typeof f.name === 'string' ? f.name : `${service}-${ctx.stage}-${key}`;
    functions[key] = {
      key,
      name,
      arn: `arn:aws:lambda:${ctx.region}:${accountId}:function:${name}`,
      logicalId: `${normalizeResourceName(key)}LambdaFunction`,
      handler: parseHandler(f.handler, `functions.${key}`),
      environment: {},
      timeout: Number(f.timeout ?? providerTimeout),
      memorySize: Number(f.memorySize ?? providerMemory),
      runtime: (f.runtime ?? provider.runtime) as string | undefined,
      events: Array.isArray(f.events) ? f.events as Record<string, unknown>[] : [],
      async: {},
      ...(f.reservedConcurrency !== undefined && { reservedConcurrency: Number(f.reservedConcurrency) }),
      ...(f.url !== undefined && f.url !== false && {
        url: { authType: (typeof f.url === 'object' && (f.url as { authorizer?: unknown }).authorizer === 'aws_iam' ? 'AWS_IAM' : 'NONE') as 'AWS_IAM' | 'NONE' },
      }),
    };
  }

  // State machines (serverless-step-functions naming).
  const sf = asRecord(resolved.stepFunctions, 'stepFunctions');
  const rawMachines = asRecord(sf.stateMachines, 'stepFunctions.stateMachines');
  const machineHeads = Object.entries(rawMachines).map(([key, mv]) => {
    const m = asRecord(mv, `stepFunctions.stateMachines.${key}`);
    const custom = (m.id ?? m.name) as string | undefined;
    const logicalId = custom ? normalizeResourceName(String(custom)) : `${normalizeResourceName(key)}StepFunctionsStateMachine`;
    const name = typeof m.name === 'string' ? m.name : `${logicalId}-${service}-${ctx.stage}`;
    return { key, m, logicalId, name, arn: `arn:aws:states:${ctx.region}:${accountId}:stateMachine:${name}` };
  });

  const resources = asRecord(asRecord(resolved.resources, 'resources').Resources, 'resources.Resources');
  const table = buildRefTable(ctx, service, functions, machineHeads, resources);

  const envProvider = stringifyEnv(resolveIntrinsics(table, providerEnv, 'provider.environment') as Record<string, unknown>, 'provider.environment');
  for (const [key, f] of Object.entries(functions)) {
    const fnRaw = asRecord(rawFunctions[key], `functions.${key}`);
    const own = resolveIntrinsics(table, asRecord(fnRaw.environment, `functions.${key}.environment`), `functions.${key}.environment`);
    f.environment = { ...envProvider, ...stringifyEnv(own as Record<string, unknown>, `functions.${key}.environment`) };
  }

  for (const [key, f] of Object.entries(functions)) {
    f.async = asyncSettings(table, functions, asRecord(rawFunctions[key], `functions.${key}`), `functions.${key}`);
  }

  const stateMachines: Record<string, StateMachineConfig> = {};
  for (const h of machineHeads) {
    const def = h.m.definition;
    if (!def || typeof def !== 'object') {
      throw new ServerlessConfigError(`stepFunctions.stateMachines.${h.key}.definition must be a map (e.g. \${file(statemachines/x.asl.yaml)})`);
    }
    stateMachines[h.key] = {
      key: h.key,
      name: h.name,
      arn: h.arn,
      logicalId: h.logicalId,
      definition: resolveIntrinsics(table, def, `stepFunctions.stateMachines.${h.key}.definition`) as Record<string, unknown>,
    };
  }

  const eventRules: EventRuleConfig[] = [];
  for (const f of Object.values(functions)) {
    let scheduleNumber = 0;
    f.events.forEach((ev, idx) => {
      const where = `functions.${f.key}.events[${idx}]`;
      if (ev && typeof ev === 'object' && 'eventBridge' in ev) {
        const e = asRecord(ev.eventBridge, `${where}.eventBridge`);
        const dlq = e.deadLetterQueueArn === undefined ? undefined : resolveIntrinsics(table, e.deadLetterQueueArn, `${where}.eventBridge.deadLetterQueueArn`);
        eventRules.push({
          functionKey: f.key,
          functionArn: f.arn,
          kind: 'eventBridge',
          name: typeof e.name === 'string' ? e.name : makeRuleName(f.name, idx + 1),
          enabled: e.enabled !== false,
          eventBus: e.eventBus === undefined ? undefined : String(resolveIntrinsics(table, e.eventBus, `${where}.eventBridge.eventBus`)),
          pattern: e.pattern === undefined ? undefined : resolveIntrinsics(table, e.pattern, `${where}.eventBridge.pattern`) as Record<string, unknown>,
          schedule: e.schedule as string | undefined,
          input: e.input,
          inputPath: e.inputPath as string | undefined,
          inputTransformer: e.inputTransformer as EventRuleConfig['inputTransformer'],
          retryPolicy: e.retryPolicy as RetryPolicy | undefined,
          deadLetter: dlq === undefined ? undefined : String(dlq),
        });
      } else if (ev && typeof ev === 'object' && 'schedule' in ev) {
        const s = typeof ev.schedule === 'string' ? { rate: ev.schedule } : asRecord(ev.schedule, `${where}.schedule`);
        const rates = (Array.isArray(s.rate) ? s.rate : [s.rate]).map(String);
        for (const rate of rates) {
          scheduleNumber++;
          if (!/^(rate|cron)\(.+\)$/.test(rate)) throw new ServerlessConfigError(`${where}.schedule.rate must be rate(...) or cron(...), got "${rate}"`);
          eventRules.push({
            functionKey: f.key,
            functionArn: f.arn,
            kind: 'schedule',
            name: typeof s.name === 'string' ? s.name : `${service}-${ctx.stage}-${normalizeResourceName(f.key)}EventsRuleSchedule${scheduleNumber}`,
            enabled: s.enabled !== false,
            schedule: rate,
            input: s.input,
            inputPath: s.inputPath as string | undefined,
            inputTransformer: s.inputTransformer as EventRuleConfig['inputTransformer'],
          });
        }
      }
    });
  }

  const config: Omit<ServerlessConfig, 'resolveIntrinsics'> = {
    service,
    stage: ctx.stage,
    region: ctx.region,
    accountId,
    serviceDir,
    provider: {
      ...provider,
      name: String(provider.name ?? 'aws'),
      runtime: provider.runtime as string | undefined,
      stage: ctx.stage,
      region: ctx.region,
      environment: envProvider,
      timeout: providerTimeout,
      memorySize: providerMemory,
    },
    functions,
    stateMachines,
    eventRules,
    resolved,
  };
  // Not enumerable: the config stays a plain, cloneable value (structuredClone skips it).
  Object.defineProperty(config, 'resolveIntrinsics', { value: (value: unknown, where: string) => resolveIntrinsics(table, value, where), enumerable: false });
  return config as ServerlessConfig;
}

/**
 * `maximumRetryAttempts`, `maximumEventAge` and `destinations` of a function, as osls compiles
 * them (compile/functions.js compileFunctionEventInvokeConfig): a destination is a function key, an
 * ARN, or `{type, arn}` (the ARN may be an intrinsic).
 */
function asyncSettings(
  table: RefTable, functions: Record<string, FunctionConfig>, f: Record<string, unknown>, where: string,
): FunctionConfig['async'] {
  const out: FunctionConfig['async'] = {};
  if (f.maximumRetryAttempts !== undefined) out.maximumRetryAttempts = Number(f.maximumRetryAttempts);
  if (f.maximumEventAge !== undefined) out.maximumEventAge = Number(f.maximumEventAge);
  const destinations = asRecord(f.destinations, `${where}.destinations`);
  for (const kind of ['onFailure', 'onSuccess'] as const) {
    const d = destinations[kind];
    if (d === undefined) continue;
    let arn: unknown;
    if (typeof d === 'string') arn = d.startsWith('arn:') ? d : functions[d]?.arn;
    else arn = resolveIntrinsics(table, asRecord(d, `${where}.destinations.${kind}`).arn, `${where}.destinations.${kind}.arn`);
    if (typeof arn !== 'string') throw new ServerlessConfigError(`${where}.destinations.${kind} names no function, ARN or {type, arn}: ${JSON.stringify(d)}`);
    out[kind] = arn;
  }
  return out;
}

function mergePlain(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    const plain = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
    out[k] = plain(cur) && plain(v) ? mergePlain(cur, v) : v;
  }
  return out;
}

/** osls' eventBridge rule naming (event-bridge/utils.js): `<function>-rule-<n>`, hashed past 64 chars. */
function makeRuleName(functionName: string, index: number): string {
  const suffix = `rule-${index}`;
  const name = `${functionName}-${suffix}`;
  if (name.length <= 64) return name;
  // Same scheme as osls: md5 of the full name, truncated prefix.
  return `${name.slice(0, 31 - suffix.length)}${md5(name)}-${suffix}`;
}

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}
