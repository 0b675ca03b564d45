// Regenerates functions/lib/model/agentcore-control.model.json from the public AWS service model
// copied (Apache-2.0) into local/aws-models/. Keeps only the operations the product and the
// emulator use, and only the validation-relevant traits, so Lambda bundles stay small.
// Run: node scripts/trim-model.ts [--check] [--out FILE] (--help for the options and exit codes)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const SOURCE = new URL('../local/aws-models/bedrock-agentcore-control-2023-06-05.service-2.json.gz', import.meta.url);
const TARGET = fileURLToPath(new URL('../functions/lib/model/agentcore-control.model.json', import.meta.url));
const RUNTIME_TARGET = fileURLToPath(new URL('../functions/lib/model/agentcore-control.runtime.json', import.meta.url));

const HELP = `Usage: node scripts/trim-model.ts [--check] [--out FILE]

Regenerates functions/lib/model/agentcore-control.model.json from the public AWS service model in
local/aws-models/ (Apache-2.0): only the operations the product and the emulator use, and only
the validation-relevant traits. Also regenerates agentcore-control.runtime.json next to it: the
shapes the Lambda functions read (RUNTIME_ROOTS and what they reach), the only model they bundle.

Options:
  --check       write nothing; exit 1 if a model file differs from what would be generated
  --out FILE    write the model to FILE instead of the model file (the runtime model is not written)
  -h, --help    show this help (writes nothing)

Exit codes: 0 written (--check: up to date), 1 --check found it out of date or the source model
is unusable, 2 usage error (unknown option or argument; nothing is written).`;

interface Flags { help: boolean; check: boolean; out: string }

function parseFlags(argv: string[]): Flags | string {
  const flags: Flags = { help: false, check: false, out: TARGET };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') flags.help = true;
    else if (arg === '--check') flags.check = true;
    else if (arg === '--out' || arg.startsWith('--out=')) {
      const v = arg === '--out' ? argv[++i] : arg.slice('--out='.length);
      if (!v || v.startsWith('-')) return '--out needs a file path';
      flags.out = resolve(v);
    } else return arg.startsWith('-') ? `unknown option '${arg}'` : `unexpected argument '${arg}'`;
  }
  if (flags.check && flags.out !== TARGET) return '--check compares the model file; it cannot be combined with --out';
  return flags;
}

export const OPERATIONS = [
  'CreateAgentRuntime', 'GetAgentRuntime', 'UpdateAgentRuntime', 'DeleteAgentRuntime',
  'ListAgentRuntimes', 'ListAgentRuntimeVersions',
  'CreateAgentRuntimeEndpoint', 'GetAgentRuntimeEndpoint', 'UpdateAgentRuntimeEndpoint',
  'DeleteAgentRuntimeEndpoint', 'ListAgentRuntimeEndpoints',
  'CreateGateway', 'GetGateway', 'UpdateGateway', 'DeleteGateway', 'ListGateways',
  'CreatePolicyEngine', 'GetPolicyEngine', 'ListPolicyEngines',
  'CreatePolicy', 'GetPolicy', 'ListPolicies', 'UpdatePolicy', 'DeletePolicy',
  'TagResource', 'UntagResource', 'ListTagsForResource',
];
const SHAPE_KEYS = ['type', 'required', 'min', 'max', 'pattern', 'enum', 'union', 'sensitive',
  'error', 'exception', 'fault', 'timestampFormat', 'document'];
const MEMBER_KEYS = ['shape', 'location', 'locationName', 'idempotencyToken'];

const pick = (o: Record<string, unknown>, keys: string[]) =>
  Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));

/** The trimmed model, as the file's text (reads the source model; writes nothing). */
export function trimModel(): string {
  const full = JSON.parse(gunzipSync(readFileSync(SOURCE)).toString('utf8'));
  const shapes: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};

  function visit(name: string): void {
    if (shapes[name]) return;
    const s = full.shapes[name];
    if (!s) throw new Error(`shape ${name} missing from the model`);
    const out: Record<string, unknown> = pick(s, SHAPE_KEYS);
    shapes[name] = out;
    if (s.members) {
      out.members = Object.fromEntries(Object.entries(s.members as Record<string, Record<string, unknown>>)
        .map(([k, m]) => [k, pick(m, MEMBER_KEYS)]));
      for (const m of Object.values(s.members as Record<string, { shape: string }>)) visit(m.shape);
    }
    for (const k of ['member', 'key', 'value'] as const) {
      if (s[k]) { out[k] = { shape: s[k].shape }; visit(s[k].shape); }
    }
  }

  for (const op of OPERATIONS) {
    const o = full.operations[op];
    if (!o) throw new Error(`operation ${op} missing from the model`);
    operations[op] = { http: o.http, input: o.input?.shape, output: o.output?.shape,
      errors: (o.errors ?? []).map((e: { shape: string }) => e.shape) };
    if (o.input) visit(o.input.shape);
    if (o.output) visit(o.output.shape);
    for (const e of o.errors ?? []) visit(e.shape);
  }

  const notice = 'Trimmed from the public AWS service model bedrock-agentcore-control 2023-06-05 '
    + '(botocore, Apache-2.0, Copyright Amazon.com, Inc. or its affiliates). See local/aws-models/NOTICE.';
  return JSON.stringify({ notice, metadata: full.metadata, operations, shapes }) + '\n';
}

/**
 * The shapes the functions read at run time: the update requests they build and validate, the Get
 * outputs whose members they compare with the model (unknown-member check) and redact, and the
 * identifiers they check in requests. Everything these reach is kept.
 */
export const RUNTIME_ROOTS = [
  'UpdateAgentRuntimeRequest', 'GetAgentRuntimeResponse', 'UpdateGatewayRequest', 'GetGatewayResponse',
  'GatewayIdentifier', 'PolicyEngineArn',
];

/** The runtime model (RUNTIME_ROOTS and the shapes they reach, unchanged), as the file's text, from the trimmed model's. */
export function runtimeModel(trimmedText: string): string {
  const { notice, shapes } = JSON.parse(trimmedText) as { notice: string; shapes: Record<string, { members?: Record<string, { shape: string }>; member?: { shape: string }; key?: { shape: string }; value?: { shape: string } }> };
  const kept: Record<string, unknown> = {};
  const pending = [...RUNTIME_ROOTS];
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (kept[name]) continue;
    const s = shapes[name];
    if (!s) throw new Error(`shape ${name} missing from the trimmed model`);
    kept[name] = s;
    for (const m of Object.values(s.members ?? {})) pending.push(m.shape);
    for (const ref of [s.member, s.key, s.value]) if (ref) pending.push(ref.shape);
  }
  const sorted = Object.fromEntries(Object.keys(shapes).filter((n) => kept[n]).map((n) => [n, kept[n]]));
  return JSON.stringify({ notice: `${notice} Runtime subset: the shapes RUNTIME_ROOTS in scripts/trim-model.ts reach.`, shapes: sorted }) + '\n';
}

function main(argv: string[]): number {
  const flags = parseFlags(argv);
  if (typeof flags === 'string') {
    process.stderr.write(`trim-model: ${flags}\nRun 'node scripts/trim-model.ts --help' for usage.\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const text = trimModel();
  const { operations, shapes } = JSON.parse(text) as { operations: object; shapes: object };
  const summary = `${Object.keys(operations).length} operations, ${Object.keys(shapes).length} shapes`;
  const runtime = runtimeModel(text);
  const runtimeSummary = `${Object.keys((JSON.parse(runtime) as { shapes: object }).shapes).length} shapes`;
  if (flags.check) {
    let stale = 0;
    for (const [file, wanted, what] of [[TARGET, text, summary], [RUNTIME_TARGET, runtime, runtimeSummary]]) {
      if (existsSync(file) && readFileSync(file, 'utf8') === wanted) {
        console.log(`${what}: ${file} is up to date`);
      } else {
        process.stderr.write(`trim-model: ${file} is out of date; run node scripts/trim-model.ts\n`);
        stale += 1;
      }
    }
    return stale > 0 ? 1 : 0;
  }
  writeFileSync(flags.out, text);
  console.log(`${summary} -> ${flags.out}`);
  if (flags.out === TARGET) {
    writeFileSync(RUNTIME_TARGET, runtime);
    console.log(`${runtimeSummary} -> ${RUNTIME_TARGET}`);
  }
  return 0;
}

if (import.meta.main) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`trim-model: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
