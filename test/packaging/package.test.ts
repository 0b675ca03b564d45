// Runs `serverless package` exactly as a developer would (offline, no AWS credentials) and checks
// what it produced: the CloudFormation template against the resource registry, the Lambda settings,
// the role-per-function IAM pattern, and each function's bundle.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkTemplate } from '../../scripts/check-cfn.ts';
import { runRulePack, SUPPRESSIONS } from '../../scripts/rule-pack.ts';
import { readZip } from './zip.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'node_modules/.bin');
const output = join(root, '.serverless');

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, any>; DependsOn?: string[] }> };

/** Function keys declared in serverless.yml (osls variables and CloudFormation tags stay as text). */
function declaredFunctions(): string[] {
  const doc = parse(readFileSync(join(root, 'serverless.yml'), 'utf8'), { logLevel: 'silent', strict: false }) as {
    functions?: Record<string, unknown> | null;
  };
  return Object.keys(doc.functions ?? {});
}

/** The environment of a machine with no AWS account configured, running the Node 24 from node_modules. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|DEFAULT_PROFILE)$/.test(key)) delete env[key];
  }
  return {
    ...env,
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    AWS_CONFIG_FILE: join(root, '.serverless-no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(root, '.serverless-no-aws-credentials'),
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    FORCE_COLOR: '0',
  };
}

/**
 * Extracts a deployment zip to a fresh temp directory and imports the handler module in a child
 * Node with a Lambda-like environment; exit status 0 when it loads and exports the handler function.
 */
function loadBundle(entries: Map<string, Buffer>, handlerFile: string, exportName = 'handler'): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'autopilot-bundle-'));
  try {
    for (const [name, data] of entries) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), data);
    }
    const script = `const m = await import(${JSON.stringify(pathToFileURL(join(dir, handlerFile)).href)}); if (typeof m[${JSON.stringify(exportName)}] !== 'function') { console.error('no ${exportName} export'); process.exit(3); }`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', LAMBDA_TASK_ROOT: dir, AUTOPILOT_CONFIG_FILE: 'autopilot.config.yaml', AUTOPILOT_EVENT_BUS: 'default', POWERTOOLS_SERVICE_NAME: 'agentcore-autopilot' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { status: child.status, stderr: child.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The files of a function's module graph in its zip, from `bundle`: the relative specifiers of
 * import statements, and of import() calls when `lazy`. Throws when one is missing from the zip.
 */
function moduleGraph(entries: Map<string, Buffer>, bundle: string, lazy: boolean): { files: Set<string>; lazyImports: number } {
  const files = new Set<string>();
  let lazyImports = 0;
  const queue = [bundle];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (files.has(file)) continue;
    const code = entries.get(file)?.toString('utf8');
    if (code === undefined) throw new Error(`${file} is imported but not in the zip`);
    files.add(file);
    for (const m of code.matchAll(/(?:from|import)\s*(\(?)\s*"(\.\.?\/[^"]+\.mjs)"/g)) {
      if (m[1] === '(') lazyImports++;
      if (lazy || m[1] !== '(') queue.push(join(dirname(file), m[2] as string));
    }
  }
  return { files, lazyImports };
}

/** What importing the bundle parses: the bundle and the chunks it imports statically. */
function codeAtImport(entries: Map<string, Buffer>, bundle: string): string {
  return [...moduleGraph(entries, bundle, false).files].map((f) => entries.get(f)?.toString('utf8')).join('\n');
}

let template: Template;
let state: { service: { provider: Record<string, unknown> } };
let functions: string[];
let log = '';

beforeAll(async () => {
  functions = declaredFunctions();
  rmSync(output, { recursive: true, force: true });
  if (functions.length === 0) {
    // serverless-esbuild 1.57.2 skips bundling when no Node function exists, but its
    // after:package:createDeploymentArtifacts hook still copies .esbuild/.serverless (ENOENT).
    // Give it the empty folder it expects; it removes .esbuild itself. No-op once functions exist.
    mkdirSync(join(root, '.esbuild/.serverless'), { recursive: true });
  }
  const run = await promisify(execFile)(join(bin, 'serverless'), ['package', '--stage', 'dev', '--region', 'us-east-1'], {
    cwd: root,
    env: offlineEnv(),
    timeout: 90_000,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`serverless package failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  });
  log = `${run.stdout}\n${run.stderr}`;
  template = JSON.parse(readFileSync(join(output, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  state = JSON.parse(readFileSync(join(output, 'serverless-state.json'), 'utf8'));
}, 120_000);

const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

describe('serverless package (offline, no credentials)', () => {
  it('packages the service', () => {
    expect(log).toMatch(/Service packaged/);
  });

  it('produces a template that passes the CloudFormation registry check', () => {
    const issues = checkTemplate(template);

    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual([]);
  });

  it('passes cdk-nag\'s AwsSolutions and Serverless rule packs, each acknowledged finding with a one-line reason', () => {
    const file = join(output, 'cloudformation-template-update-stack.json');
    const left = runRulePack(file);
    expect(left.map((f) => `${f.rule} ${f.resource}`)).toEqual([]);
    // Every acknowledgement still answers a real finding (none is stale).
    const raw = runRulePack(file, []);
    for (const s of SUPPRESSIONS) {
      const base = s.id.replace(/<FunctionVersions>\]$/, '');
      expect(raw.some((f) => f.rule.startsWith(base) && (s.resources === '*' || s.resources.some((r) => f.resource.startsWith(r)))), s.id).toBe(true);
      expect(s.reason).toMatch(/^[^\n]{10,300}$/);
    }
  });

  it('the rule packs catch a regression (a function without tracing, a queue open to plain HTTP)', () => {
    const broken = structuredClone(template) as Template & { Resources: Record<string, any> };
    delete broken.Resources.OnImagePushLambdaFunction.Properties!.TracingConfig;
    broken.Resources.EventsDeadLetterQueuePolicy.Properties!.PolicyDocument.Statement = broken.Resources.EventsDeadLetterQueuePolicy.Properties!.PolicyDocument.Statement
      .filter((st: { Sid?: string }) => st.Sid !== 'TlsOnly');
    const dir = mkdtempSync(join(tmpdir(), 'autopilot-nag-'));
    try {
      writeFileSync(join(dir, 'template.json'), JSON.stringify(broken));
      const rules = runRulePack(join(dir, 'template.json')).map((f) => `${f.rule} ${f.resource}`);
      expect(rules).toEqual(expect.arrayContaining(['Serverless-LambdaTracing OnImagePushLambdaFunction', 'AwsSolutions-SQS4 EventsDeadLetterQueue']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('targets Node.js 24 on arm64 with the shared environment', () => {
    expect(state.service.provider).toMatchObject({
      runtime: 'nodejs24.x',
      architecture: 'arm64',
      stage: 'dev',
      region: 'us-east-1',
      environment: {
        POWERTOOLS_SERVICE_NAME: 'agentcore-autopilot',
        POWERTOOLS_LOG_LEVEL: expect.any(String),
        AUTOPILOT_CONFIG_FILE: 'autopilot.config.yaml',
        AUTOPILOT_EVENT_BUS: expect.any(String),
      },
    });
  });

  it('declares one Lambda function per serverless.yml function, each on nodejs24.x/arm64', () => {
    const lambdas = ofType('AWS::Lambda::Function');

    expect(lambdas).toHaveLength(functions.length);
    for (const [, fn] of lambdas) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Environment: { Variables: { AUTOPILOT_CONFIG_FILE: 'autopilot.config.yaml', POWERTOOLS_SERVICE_NAME: 'agentcore-autopilot' } },
      });
    }
  });

  it('gives every function its own role that attaches the logging policy, and no shared role', () => {
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
    expect(template.Resources.LambdaLoggingPolicy?.Type).toBe('AWS::IAM::ManagedPolicy');
    const roles = ofType('AWS::Lambda::Function').map(([id, fn]) => {
      const roleId = fn.Properties?.Role?.['Fn::GetAtt']?.[0] as string | undefined;
      expect(roleId, `${id} must use role: <its own role>`).toBeTypeOf('string');
      const role = template.Resources[roleId as string];
      expect(role?.Type, `${id}: ${roleId}`).toBe('AWS::IAM::Role');
      expect(role.Properties?.ManagedPolicyArns, `${roleId}`).toContainEqual({ Ref: 'LambdaLoggingPolicy' });
      return roleId;
    });
    expect(new Set(roles).size).toBe(roles.length);
  });

  it('bundles every function as ESM with the AWS SDK inside, its config file and the standard middleware', () => {
    const bundles: string[] = [];
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      const zipName = String(fn.Properties?.Code?.S3Key).split('/').pop() as string;
      const entries = readZip(join(output, zipName));
      const handlerFile = `${String(fn.Properties?.Handler).replace(/\.[^.]+$/, '')}.mjs`;
      const bundle = entries.get(handlerFile)?.toString('utf8');

      expect(bundle, `${id}: ${handlerFile} in ${zipName}`).toBeDefined();
      if (existsSync(join(root, 'autopilot.config.yaml'))) expect([...entries.keys()]).toContain('autopilot.config.yaml');
      expect(bundle).toMatch(/^import \{ createRequire/);
      // What loading the function parses: the bundle and the chunks it imports (code splitting).
      const code = codeAtImport(entries, handlerFile);
      // Everything (the AWS SDK included: the runtime's SDK may lack AgentCore) is in the bundle:
      // it loads from a directory with no node_modules anywhere above it, as in /var/task.
      const loaded = loadBundle(entries, handlerFile, String(fn.Properties?.Handler).split('.').pop());
      expect(loaded.status, `${id} failed to load:\n${loaded.stderr}`).toBe(0);
      // keepNames: error class names survive minification (they are the ASL ErrorEquals contract),
      // and every handler goes through withMiddleware (which carries InvalidEventError).
      expect(code).toContain('"InvalidEventError"');
      // The config was compiled at package time (scripts/esbuild-plugins.ts): no YAML parser inside.
      expect(code).not.toContain('YAMLParseError');
      bundles.push(code as string);
    }
    if (bundles.length > 0) {
      expect(bundles.some((code) => code.includes('BedrockAgentCoreControlClient'))).toBe(true);
    }
  });

  it('splits each bundle: its zip holds every chunk the bundle imports (static or import()), and no other bundle\'s chunks', () => {
    const handlerFiles = new Set([...ofType('AWS::Lambda::Function')].map(([, fn]) => String(fn.Properties?.Handler).replace(/\.[^.]+$/, '')));
    let lazyImports = 0;
    const atImport = new Map<string, string>();
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      const entries = readZip(join(output, String(fn.Properties?.Code?.S3Key).split('/').pop() as string));
      const own = String(fn.Properties?.Handler).replace(/\.[^.]+$/, '');
      const all = moduleGraph(entries, `${own}.mjs`, true);
      lazyImports += all.lazyImports;
      expect(all.files.size, `${id}: the bundle loads no chunk (custom.esbuild.splitting off?)`).toBeGreaterThan(1);
      const chunks = [...entries.keys()].filter((k) => k.includes('.chunks/'));
      for (const chunk of chunks) expect(chunk.startsWith(`${own}.chunks/`), `${id}: ${chunk} belongs to another bundle`).toBe(true);
      for (const other of handlerFiles) if (other !== own) expect(entries.has(`${other}.mjs`), `${id}: ${other}.mjs in its zip`).toBe(false);
      atImport.set(own, codeAtImport(entries, `${own}.mjs`));
    }
    // The SDK's credential providers other than the environment's (SSO, STS, INI...) load on demand.
    expect(lazyImports).toBeGreaterThan(0);
    // A client only some of a bundle's functions call is not parsed when the bundle loads
    // (functions/adapters/lazy.ts): CloudWatch for the rollout tasks (verify alone reads it).
    const rollout = atImport.get('functions/handlers/rollout');
    if (rollout !== undefined) {
      expect(rollout).toContain('BedrockAgentCoreControlClient');
      expect(rollout).not.toContain('"CloudWatchClient"');
    }
  });

  it('ships Cedar (its wasm) only with the rollout preflight, loadable from the bundle as in /var/task', () => {
    const entries = readZip(join(output, 'rolloutPreflight.zip'));
    expect([...entries.keys()]).toContain('node_modules/@cedar-policy/cedar-wasm/nodejs/cedar_wasm_bg.wasm');
    const dir = mkdtempSync(join(tmpdir(), 'autopilot-cedar-'));
    try {
      for (const [name, data] of entries) {
        mkdirSync(dirname(join(dir, name)), { recursive: true });
        writeFileSync(join(dir, name), data);
      }
      // functions/lib/cedar.ts resolves the package with createRequire from the bundle's location.
      const script = `const { createRequire } = await import('node:module'); const c = createRequire(${JSON.stringify(join(dir, 'functions/handlers/rollout.mjs'))})('@cedar-policy/cedar-wasm/nodejs'); const r = c.policyToJson('permit(principal, action, resource);'); process.exit(r.type === 'success' && r.json.effect === 'permit' ? 0 : 3);`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
      expect(child.status, child.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect([...readZip(join(output, 'rolloutVerify.zip')).keys()].some((k) => k.includes('cedar-wasm'))).toBe(false);
  });
});
