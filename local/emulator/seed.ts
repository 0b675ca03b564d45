/**
 * Seed files for the emulator: the resources that exist when it starts (YAML or an object).
 * Parsed with zod for the outline, then every runtime and gateway configuration is validated
 * against the service model, so a seed can only contain what the real service would accept.
 * Seeded resources start settled (READY / ACTIVE) with the ids given.
 *
 * ```yaml
 * settings: { account, region, idSeed, defaultPageSize, delays: {...}, limits: {...},
 *             failingImages: [uri|glob], failingGatewayPolicyEngines: [{ arn, mode? }] }
 * runtimes:
 *   - id: supportAgent-a1b2c3d4e5        # or name: (id generated)
 *     config: { agentRuntimeArtifact, roleArn, ... }   # or versions: [config, config, ...]
 *     endpoints: [{ name: prod, liveVersion: 1, description? }]
 *     tags: { team: support }
 *     failingImages: [uri|glob]
 * gateways:
 *   - { id, name, config: { roleArn, authorizerType, ... }, webAclArn?, tags?, failUpdates? }
 * policyEngines: [{ id, name, description?, encryptionKeyArn?, tags? }]
 * tags: { <arn>: { key: value } }
 * ```
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import { serviceModel } from '../../functions/lib/model/service-model.ts';
import { validateShape } from '../../functions/lib/model/validate.ts';
import { AgentCoreState, GATEWAY_POLICY_ROLE_ACTIONS, type AgentCoreSettings, type Delays, type Limits } from './agentcore/state.ts';
import { gatewayTargetSchema, trafficScriptSchema } from './agentcore/traffic.ts';
import { parseStatement } from '../../functions/lib/cedar.ts';

const nonNegative = z.number().int().min(0);
const tagsSchema = z.record(z.string(), z.string());
const configSchema = z.record(z.string(), z.unknown());

const delaysSchema = z.object({
  runtimeCreate: nonNegative, runtimeUpdate: nonNegative, runtimeDelete: nonNegative,
  endpointCreate: nonNegative, endpointUpdate: nonNegative, endpointDelete: nonNegative,
  gatewayCreate: nonNegative, gatewayUpdate: nonNegative, gatewayDelete: nonNegative,
  policyEngineCreate: nonNegative, policyCreate: nonNegative, policyUpdate: nonNegative, policyDelete: nonNegative,
}).partial().strict();

const limitsSchema = z.object({
  runtimes: nonNegative, versionsPerRuntime: nonNegative, endpointsPerRuntime: nonNegative,
  gateways: nonNegative, policyEngines: nonNegative, policiesPerEngine: nonNegative,
}).partial().strict();

export const seedSchema = z.object({
  settings: z.object({
    account: z.string().regex(/^[0-9]{12}$/, 'must be a 12-digit account id').optional(),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-[0-9]$/, 'must be a region such as us-east-1').optional(),
    idSeed: z.number().int().optional(),
    defaultPageSize: z.number().int().min(1).max(100).optional(),
    delays: delaysSchema.optional(),
    limits: limitsSchema.optional(),
    failingImages: z.array(z.string().min(1)).optional(),
    failingGatewayPolicyEngines: z.array(z.object({ arn: z.string().min(1), mode: z.enum(['LOG_ONLY', 'ENFORCE']).optional() }).strict()).optional(),
    /** Gateway execution roles (ARN) and the Policy actions their IAM policies lack (policy-permissions). */
    rolesMissingPolicyActions: z.record(z.string().min(1), z.array(z.enum(GATEWAY_POLICY_ROLE_ACTIONS)).min(1)).optional(),
  }).strict().optional(),
  runtimes: z.array(z.object({
    id: z.string().optional(),
    name: z.string().optional(),
    config: configSchema.optional(),
    versions: z.array(configSchema).min(1).optional(),
    endpoints: z.array(z.object({
      name: z.string().min(1),
      liveVersion: z.union([z.number().int().min(1), z.string().regex(/^[1-9][0-9]*$/)]).optional(),
      description: z.string().optional(),
      tags: tagsSchema.optional(),
    }).strict()).optional(),
    tags: tagsSchema.optional(),
    /** Container images (exact URI or glob) whose versions fail, for this runtime's scenarios. */
    failingImages: z.array(z.string().min(1)).optional(),
  }).strict()
    .refine((r) => r.id !== undefined || r.name !== undefined, { message: 'set id or name' })
    .refine((r) => (r.config === undefined) !== (r.versions === undefined), { message: 'set exactly one of config or versions' }))
    .optional(),
  gateways: z.array(z.object({
    id: z.string().optional(),
    name: z.string().optional(),
    config: configSchema,
    webAclArn: z.string().optional(),
    tags: tagsSchema.optional(),
    failUpdates: nonNegative.optional(),
    /** Emulator-only: the tools the gateway's targets serve (for Cedar schema checks and traffic). */
    targets: z.array(gatewayTargetSchema).optional(),
  }).strict().refine((g) => g.id !== undefined || g.name !== undefined, { message: 'set id or name' })).optional(),
  policyEngines: z.array(z.object({
    id: z.string().optional(),
    name: z.string().optional(),
    description: z.string().optional(),
    encryptionKeyArn: z.string().optional(),
    tags: tagsSchema.optional(),
  }).strict().refine((p) => p.id !== undefined || p.name !== undefined, { message: 'set id or name' })).optional(),
  /** Cedar policies of the seeded engines, in force from the start. */
  policies: z.array(z.object({
    engine: z.string().min(1),
    name: z.string().min(1),
    id: z.string().optional(),
    statement: z.string().min(1),
    enforcementMode: z.enum(['ACTIVE', 'LOG_ONLY']).optional(),
    description: z.string().optional(),
  }).strict()).optional(),
  /** Tool calls the seeded gateways receive (local/emulator/agentcore/traffic.ts). */
  traffic: z.array(trafficScriptSchema).optional(),
  tags: z.record(z.string(), tagsSchema).optional(),
}).strict();

export type Seed = z.input<typeof seedSchema>;
export type ParsedSeed = z.output<typeof seedSchema>;

export class SeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedError';
  }
}

/** Parses a seed object, reporting every problem with its path. */
export function parseSeed(value: unknown, source = 'seed'): ParsedSeed {
  const result = seedSchema.safeParse(value ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new SeedError(`invalid ${source}:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** Reads and parses a YAML seed file. */
export function loadSeedFile(file: string): ParsedSeed {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) { throw new SeedError(`cannot read seed ${file}: ${(e as Error).message}`); }
  let doc: unknown;
  try { doc = parseYaml(text); } catch (e) { throw new SeedError(`seed ${file} is not valid YAML: ${(e as Error).message}`); }
  return parseSeed(doc, `seed ${file}`);
}

/** Settings for AgentCoreState from a seed. */
export function seedSettings(seed: ParsedSeed | undefined): Partial<AgentCoreSettings> {
  const s = seed?.settings ?? {};
  const out: Partial<AgentCoreSettings> = {};
  if (s.account) out.account = s.account;
  if (s.region) out.region = s.region;
  if (s.idSeed !== undefined) out.idSeed = s.idSeed;
  if (s.defaultPageSize !== undefined) out.defaultPageSize = s.defaultPageSize;
  if (s.delays) out.delays = s.delays as Delays;
  if (s.limits) out.limits = s.limits as Limits;
  return out;
}

function idSuffixless(id: string): string {
  return id.replace(/-[^-]{10}$/, '');
}

/** Creates the seeded resources in `state` (settled at the clock's current time). */
export function applySeed(state: AgentCoreState, seed: ParsedSeed, clock: Clock): void {
  const problems: string[] = [];
  const check = (where: string, shape: string, value: unknown, skip: string[] = []) => {
    for (const i of validateShape(shape, value, '', serviceModel)) {
      if (skip.includes(i.name)) continue;
      problems.push(`  ${where}.${i.name}: ${i.message}`);
    }
  };
  const now = clock.now();
  const fail = () => {
    if (problems.length) throw new SeedError(`invalid seed:\n${problems.join('\n')}`);
  };

  for (const uri of seed.settings?.failingImages ?? []) state.markImageFailing(uri);
  for (const f of seed.settings?.failingGatewayPolicyEngines ?? []) state.failGatewayUpdatesWithPolicyEngine(f.arn, f.mode);
  for (const [role, actions] of Object.entries(seed.settings?.rolesMissingPolicyActions ?? {})) state.denyRoleActions(role, actions);

  (seed.policyEngines ?? []).forEach((p, i) => {
    const name = p.name ?? idSuffixless(p.id!);
    const where = `policyEngines[${i}]`;
    check(where, 'PolicyEngineName', name);
    if (p.id) check(where, 'ResourceId', p.id);
    if (p.description !== undefined) check(where, 'Description', p.description);
    fail();
    const pe = state.addPolicyEngine({ name, id: p.id, description: p.description, encryptionKeyArn: p.encryptionKeyArn, createdAt: now, settlesAt: now });
    if (p.tags) state.tags.set(pe.arn, { ...p.tags });
  });

  (seed.runtimes ?? []).forEach((r, i) => {
    const where = `runtimes[${i}]`;
    const name = r.name ?? idSuffixless(r.id!);
    check(where, 'AgentRuntimeName', name);
    const configs = r.versions ?? [r.config!];
    configs.forEach((c, v) => {
      check(r.versions ? `${where}.versions[${v}]` : `${where}.config`, 'UpdateAgentRuntimeRequest',
        { ...c, agentRuntimeId: r.id ?? `${name}-aaaaaaaaaa` });
    });
    for (const ep of r.endpoints ?? []) {
      check(`${where}.endpoints`, 'EndpointName', ep.name);
      const live = ep.liveVersion === undefined ? configs.length : Number(ep.liveVersion);
      if (live > configs.length) problems.push(`  ${where}.endpoints.${ep.name}.liveVersion: version ${live} is not seeded`);
      if (ep.name === 'DEFAULT') problems.push(`  ${where}.endpoints: DEFAULT is implicit`);
    }
    fail();
    for (const uri of r.failingImages ?? []) state.markImageFailing(uri);
    const [first, ...rest] = configs.map((c) => AgentCoreState.runtimeConfig(c));
    const rt = state.addRuntime({ name, id: r.id, config: first, extraVersions: rest, createdAt: now, settlesAt: now });
    if (r.tags) state.tags.set(rt.arn, { ...r.tags });
    for (const ep of r.endpoints ?? []) {
      const rec = state.addEndpoint(rt, {
        name: ep.name, description: ep.description, createdAt: now,
        liveVersion: ep.liveVersion === undefined ? configs.length : Number(ep.liveVersion),
      });
      if (ep.tags) state.tags.set(rec.arn, { ...ep.tags });
    }
  });

  (seed.gateways ?? []).forEach((g, i) => {
    const where = `gateways[${i}]`;
    const name = g.name ?? idSuffixless(g.id!);
    const id = g.id ?? `${name.toLowerCase()}-aaaaaaaaaa`;
    check(where, 'UpdateGatewayRequest', { ...g.config, name, gatewayIdentifier: id });
    if (g.webAclArn) check(where, 'WebAclArn', g.webAclArn);
    const pe = (g.config as { policyEngineConfiguration?: { arn?: string } }).policyEngineConfiguration;
    if (pe?.arn && ![...state.policyEngines.values()].some((p) => p.arn === pe.arn)) {
      problems.push(`  ${where}.config.policyEngineConfiguration.arn: no seeded policy engine has this ARN`);
    }
    fail();
    const gw = state.addGateway({
      name, id: g.id, config: AgentCoreState.gatewayConfig(g.config), createdAt: now, settlesAt: now, webAclArn: g.webAclArn,
    });
    if (g.tags) state.tags.set(gw.arn, { ...g.tags });
    if (g.failUpdates) state.failGatewayUpdates(gw.id, g.failUpdates);
    if (g.targets) gw.targets = structuredClone(g.targets);
    // Seeded configuration has always been in force (traffic scripted in the past sees it).
    gw.enforcement = [{ at: 0, config: gw.enforcement[0]?.config ?? null }];
  });

  (seed.policies ?? []).forEach((p, i) => {
    const where = `policies[${i}]`;
    if (!state.policyEngines.has(p.engine)) problems.push(`  ${where}.engine: no seeded policy engine has the id ${p.engine}`);
    check(where, 'PolicyName', p.name);
    if (p.id) check(where, 'ResourceId', p.id);
    check(where, 'Statement', p.statement);
    const parsed = parseStatement(p.statement);
    if (!parsed.ok) problems.push(...parsed.issues.map((e) => `  ${where}.statement: line ${e.line}, column ${e.column}: ${e.message}`));
    fail();
    const rec = state.policies.seed({ engineId: p.engine, name: p.name, id: p.id, statement: p.statement, enforcementMode: p.enforcementMode, description: p.description, at: now });
    rec.revisions[0].at = 0;
  });

  (seed.traffic ?? []).forEach((t, i) => {
    if (!state.findGateway(t.gateway)) problems.push(`  traffic[${i}].gateway: no seeded gateway has the id ${t.gateway}`);
    fail();
    state.traffic.add(t, now);
  });

  for (const [arn, tags] of Object.entries(seed.tags ?? {})) {
    if (!state.resourceExists(arn)) problems.push(`  tags.${arn}: no seeded resource has this ARN`);
    else state.tags.set(arn, { ...state.tags.get(arn), ...tags });
  }
  fail();
}
