/**
 * Cedar policies under declared configuration, through drift: `autopilot plan` shows policy drift
 * (exit 2), formatting alone is not drift, and the scheduled run acts only as the config allows
 * (LOG_ONLY written directly, ACTIVE only through a staged promotion, undeclared deleted only
 * with prune).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../cli/autopilot.ts';
import type { CliIO } from '../../cli/types.ts';
import { scriptTraffic } from './rollout-fixture.ts';
import { livePolicies, promotionConfig, promotionStack, seededSupportPolicies, type PromotionStack } from './promotion-fixture.ts';

let p: PromotionStack | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

const NEW_ACTIVE = 'permit (principal is AgentCore::OAuthUser, action == AgentCore::Action::"tickets___getTicket", resource) when { principal.hasTag("role") };';
const NEW_LOG_ONLY = 'forbid (principal, action == AgentCore::Action::"tickets___deleteTicket", resource) unless { principal.hasTag("lead") };';

function cli(stack: PromotionStack['stack'], configFile: string) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    stdout: (l) => out.push(l), stderr: (l) => err.push(l), isTTY: false,
    env: { ...stack.env, PATH: process.env.PATH, AUTOPILOT_CONFIG_FILE: configFile, NO_COLOR: '1' },
  };
  return { io, out, err };
}

/** The seeded policies, reformatted (formatting alone is not drift), minus `urgent_by_leads`. */
function declaredExamplePolicies() {
  return seededSupportPolicies()
    .filter((x) => x.name !== 'urgent_by_leads')
    .map((x) => ({ ...x, statement: x.statement.replace(/\s+/g, '  ').replace('(principal', '(\n    principal') }));
}

describe('policy drift', () => {
  it('plan lists a missing policy, a changed one and an undeclared one, per JSON pointer; exit 2; formatting is not drift', async () => {
    const policies = [...declaredExamplePolicies(), { name: 'readers', statement: NEW_ACTIVE, mode: 'ACTIVE' }, { name: 'leads_delete', statement: NEW_LOG_ONLY, mode: 'LOG_ONLY' }];
    const configFile = promotionConfig({ policies });
    p = await promotionStack(configFile);
    const c = cli(p.stack, configFile);
    const code = await main(['plan', '-o', 'json'], c.io);
    expect(code).toBe(2);
    const doc = JSON.parse(c.out.join('\n'));
    const policyEntries = (doc.plan ?? doc).resources.filter((r: { kind: string }) => r.kind === 'policy');
    const byRef = Object.fromEntries(policyEntries.map((r: { ref: string }) => [r.ref, r]));
    expect(byRef['supportPolicies-u1v2w3x4y5/support_agents']).toMatchObject({ status: 'in-sync' });
    expect(byRef['supportPolicies-u1v2w3x4y5/no_ticket_deletes']).toMatchObject({ status: 'in-sync' });
    expect(byRef['supportPolicies-u1v2w3x4y5/readers']).toMatchObject({ status: 'missing', action: 'report-only' });
    expect(byRef['supportPolicies-u1v2w3x4y5/readers'].reason).toMatch(/autopilot policy promote --engine .* --policy readers/);
    expect(byRef['supportPolicies-u1v2w3x4y5/leads_delete']).toMatchObject({ status: 'missing', action: 'report-only' });
    expect(byRef['supportPolicies-u1v2w3x4y5/urgent_by_leads']).toMatchObject({ status: 'drifted', action: 'report-only' });
    expect(byRef['supportPolicies-u1v2w3x4y5/urgent_by_leads'].reason).toMatch(/not declared/);

    const text = cli(p.stack, configFile);
    expect(await main(['plan'], text.io)).toBe(2);
    expect(text.out.join('\n')).toMatch(/supportPolicies-u1v2w3x4y5\/readers/);
    expect(text.out.join('\n')).toMatch(/\/enforcementMode/);
  });

  it('the scheduled run writes a LOG_ONLY policy, starts the promotion of an ACTIVE one (promote: auto), deletes the undeclared one (prune)', async () => {
    const policies = [...declaredExamplePolicies(), { name: 'readers', statement: NEW_ACTIVE, mode: 'ACTIVE' }, { name: 'leads_delete', statement: NEW_LOG_ONLY, mode: 'LOG_ONLY' }];
    // Drift corrects, with no change window (the example config's window is office hours).
    const configFile = promotionConfig({ policies, promote: 'auto', prune: true, promotion: { bakeMinutes: 30, activeBakeMinutes: 15, maxBakeExtensions: 0 } }, {}, { mode: 'correct', changeWindow: undefined });
    p = await promotionStack(configFile);
    scriptTraffic(p.stack, { allowed: 10, denied: 0.2 });
    const result = (await p.stack.lambda.invoke('correctDrift', { trigger: 'schedule' })) as { outcomes: { ref: string; status: string; action: string; reason?: string }[] };
    const byRef = Object.fromEntries(result.outcomes.map((o) => [o.ref, o]));
    expect(byRef['supportPolicies-u1v2w3x4y5/leads_delete']).toMatchObject({ action: 'correct', status: 'corrected' });
    expect(byRef['supportPolicies-u1v2w3x4y5/readers']).toMatchObject({ action: 'promote', status: 'corrected' });
    expect(byRef['supportPolicies-u1v2w3x4y5/urgent_by_leads']).toMatchObject({ action: 'delete', status: 'corrected' });
    await p.stack.settle();
    const live = await livePolicies(p);
    expect(live.leads_delete).toMatchObject({ enforcementMode: 'LOG_ONLY' });
    expect(live.readers).toMatchObject({ enforcementMode: 'ACTIVE' });
    expect(live.urgent_by_leads).toBeUndefined();
    // The promotion ran as its own execution; a second run starts nothing more.
    const again = (await p.stack.lambda.invoke('correctDrift', { trigger: 'schedule' })) as { outcomes: unknown[]; summary: Record<string, number> };
    expect(again.outcomes).toEqual([]);
    expect(p.stack.sfn.listExecutions().filter((e) => e.stateMachineArn === p!.stack.stateMachineArn('policyPromotion'))).toHaveLength(1);
  });
});
