// Regenerates functions/lib/model/agentcore-control.model.json from the public AWS service model
// copied (Apache-2.0) into local/aws-models/. Keeps only the operations the product and the
// emulator use, and only the validation-relevant traits, so Lambda bundles stay small.
// Run: node scripts/trim-model.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

const SOURCE = new URL('../local/aws-models/bedrock-agentcore-control-2023-06-05.service-2.json.gz', import.meta.url);
const TARGET = new URL('../functions/lib/model/agentcore-control.model.json', import.meta.url);

export const OPERATIONS = [
  'CreateAgentRuntime', 'GetAgentRuntime', 'UpdateAgentRuntime', 'DeleteAgentRuntime',
  'ListAgentRuntimes', 'ListAgentRuntimeVersions',
  'CreateAgentRuntimeEndpoint', 'GetAgentRuntimeEndpoint', 'UpdateAgentRuntimeEndpoint',
  'DeleteAgentRuntimeEndpoint', 'ListAgentRuntimeEndpoints',
  'CreateGateway', 'GetGateway', 'UpdateGateway', 'DeleteGateway', 'ListGateways',
  'CreatePolicyEngine', 'GetPolicyEngine', 'ListPolicyEngines',
  'TagResource', 'UntagResource', 'ListTagsForResource',
];
const SHAPE_KEYS = ['type', 'required', 'min', 'max', 'pattern', 'enum', 'union', 'sensitive',
  'error', 'exception', 'fault', 'timestampFormat', 'document'];
const MEMBER_KEYS = ['shape', 'location', 'locationName', 'idempotencyToken'];

const full = JSON.parse(gunzipSync(readFileSync(SOURCE)).toString('utf8'));
const shapes: Record<string, unknown> = {};
const operations: Record<string, unknown> = {};
const pick = (o: Record<string, unknown>, keys: string[]) =>
  Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));

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
writeFileSync(TARGET, JSON.stringify({ notice, metadata: full.metadata, operations, shapes }) + '\n');
console.log(`${Object.keys(operations).length} operations, ${Object.keys(shapes).length} shapes -> ${TARGET.pathname}`);
