/**
 * `autopilot get` and `autopilot describe` against the local stack: what exists, what the config
 * declares about it, drift state and redaction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/autopilot.ts';
import { startStack, type Stack } from '../../local/stack.ts';
import {
  BILLING, BILLING_PE, GW_BILLING, GW_SUPPORT, SECRET, SECRET_DRIFTED, SEED, SUPPORT, SUPPORT_PE, cliIO, driftRuntime, fullConfig, writeConfig,
} from '../e2e/drift-fixtures.ts';

let stack: Stack;
let configFile: string;

beforeAll(async () => {
  stack = await startStack({ seed: SEED });
  configFile = writeConfig(fullConfig());
  await driftRuntime(stack, SUPPORT, (live) => ({ ...live, environmentVariables: { ...(live.environmentVariables as object), API_KEY: SECRET_DRIFTED } }));
});
afterAll(async () => { await stack.close(); });

async function cli(argv: string[]) {
  const t = cliIO(stack);
  const code = await main([...argv, '--config', configFile], t.io);
  return { code, out: t.text(), err: t.errors() };
}

describe('autopilot get / describe', () => {
  it('get runtimes: versions, endpoints, drift against the config, tracked rule; -o json is one document', async () => {
    const text = await cli(['get', 'runtimes']);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^ID\s+VERSION\s+STATUS\s+ENDPOINTS\s+DRIFT\s+TRACKS\s+LAST PROMOTION\s+IMAGE/);
    expect(text.out).toMatch(new RegExp(`${SUPPORT}\\s+\\d+\\s+READY\\s+\\S+\\s+drifted`));
    expect(text.out).toMatch(new RegExp(`${BILLING}\\s+\\d+\\s+READY\\s+\\S+\\s+not-declared`));
    const json = await cli(['get', 'runtimes', '-o', 'json']);
    const rows = JSON.parse(json.out) as { id: string; declared: boolean; drift: string; endpoints: { name: string }[] }[];
    expect(rows.map((r) => [r.id, r.declared, r.drift])).toEqual([[SUPPORT, true, 'drifted'], [BILLING, false, 'not-declared']]);
    expect(rows[0].endpoints.map((e) => e.name)).toContain('DEFAULT');
    const quick = JSON.parse((await cli(['get', 'runtimes', '-o', 'json', '--no-drift'])).out) as { drift: string }[];
    expect(quick.map((r) => r.drift)).toEqual(['unknown', 'not-declared']);
  });

  it('get gateways and engines: live and declared mode, attached and declaring gateways', async () => {
    const gateways = JSON.parse((await cli(['get', 'gateways', '--json'])).out) as { id: string; policyEngine?: { mode: string }; declaredPolicyEngine?: { mode: string } }[];
    expect(gateways.find((g) => g.id === GW_SUPPORT)).toMatchObject({ policyEngine: { mode: 'LOG_ONLY' } });
    expect(gateways.find((g) => g.id === GW_BILLING)).toMatchObject({ declaredPolicyEngine: { arn: BILLING_PE, mode: 'LOG_ONLY' } });
    const engines = await cli(['get', 'engines']);
    expect(engines.code).toBe(0);
    expect(engines.out).toMatch(new RegExp(`supportPolicies-u1v2w3x4y5\\s+\\S+\\s+\\S+\\s+${GW_SUPPORT} \\(LOG_ONLY\\)`));
    const yaml = await cli(['get', 'engines', '-o', 'yaml']);
    expect(yaml.out).toContain(`arn: ${SUPPORT_PE}`);
    expect(yaml.out).toContain(`- gw-billing`);
  });

  it('get policies: the Cedar policies of every engine, or of one (--engine); an unknown engine exits 1', async () => {
    const all = JSON.parse((await cli(['get', 'policies', '-o', 'json'])).out) as { engine: string; name: string; status: string }[];
    expect(all.map((p) => `${p.engine}/${p.name}`).sort()).toEqual([
      'billingPolicies-z6a7b8c9d0/billing_agents', 'billingPolicies-z6a7b8c9d0/large_refunds',
      'supportPolicies-u1v2w3x4y5/no_ticket_deletes', 'supportPolicies-u1v2w3x4y5/support_agents', 'supportPolicies-u1v2w3x4y5/urgent_by_leads',
    ]);
    const one = await cli(['get', 'policies', '--engine', BILLING_PE]);
    expect(one.code).toBe(0);
    expect(one.out).toMatch(/^ENGINE\s+NAME\s+STATUS\s+MODE\s+ID/);
    expect(one.out).toMatch(/billingPolicies-z6a7b8c9d0\s+large_refunds\s+ACTIVE/);
    expect(one.out).not.toContain('support_agents');
    const unknown = await cli(['get', 'policies', '--engine', 'nope-zzzzzzzzzz']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe('autopilot get: No policy engine nope-zzzzzzzzzz');
  });

  it('describe runtime: drifted fields and live configuration, secrets redacted; unknown id exits 1', async () => {
    const d = await cli(['describe', 'runtime', SUPPORT]);
    expect(d.code).toBe(0);
    expect(d.out).toContain('~ /environmentVariables/API_KEY: "<redacted>" -> "<redacted>"');
    expect(d.out).toContain('Live configuration:');
    expect(d.out).not.toContain(SECRET);
    expect(d.out).not.toContain(SECRET_DRIFTED);
    const json = JSON.parse((await cli(['describe', 'gateway', GW_SUPPORT, '-o', 'json'])).out);
    expect(json).toMatchObject({ id: GW_SUPPORT, declared: true, live: { gatewayId: GW_SUPPORT } });
    const missing = await cli(['describe', 'runtime', 'ghostAgent-zzzzzzzzzz']);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('autopilot describe: No runtime ghostAgent-zzzzzzzzzz');
    expect((await cli(['describe', 'engine', 'x'])).code).toBe(2);
  });
});
