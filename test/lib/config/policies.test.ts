import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError, loadConfig, parseConfig } from '../../../functions/lib/config/index.ts';

const ENGINE = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/supportPolicies-u1v2w3x4y5';
const GOOD = 'permit (principal is AgentCore::OAuthUser, action in AgentCore::Action::"tickets", resource);';

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(path.join(tmpdir(), 'autopilot-policies-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(d, name), text);
  return d;
}

function issues(fn: () => unknown): { path: string; message: string; line?: number }[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('no ConfigError');
}

const doc = (policies: unknown[], extra: Record<string, unknown> = {}) => stringify({
  version: 1,
  gateways: [{ id: 'gw-support-k1l2m3n4o5', policyEngine: { arn: ENGINE, mode: 'ENFORCE' } }],
  policyEngines: [{ arn: ENGINE, policies, ...extra }],
});

describe('policyEngines: Cedar policies under declared configuration', () => {
  it('reads inline statements and files next to the config, fills the defaults, derives the gateways', async () => {
    const d = dir({ 'no_deletes.cedar': 'forbid (principal, action == AgentCore::Action::"tickets___deleteTicket", resource);\n', 'autopilot.config.yaml': doc([
      { name: 'agents', statement: GOOD },
      { name: 'no_deletes', file: 'no_deletes.cedar', mode: 'LOG_ONLY', validationMode: 'IGNORE_ALL_FINDINGS' },
    ]) });
    const config = await loadConfig(path.join(d, 'autopilot.config.yaml'));
    const [engine] = config.policyEngines;
    expect(engine).toMatchObject({ arn: ENGINE, prune: false, promote: 'manual', promotion: { bakeMinutes: 60, minMatches: 20, gateways: ['gw-support-k1l2m3n4o5'] } });
    expect(engine.policies).toEqual([
      { name: 'agents', mode: 'ACTIVE', statement: GOOD, source: 'inline', validationMode: 'FAIL_ON_ANY_FINDINGS' },
      { name: 'no_deletes', mode: 'LOG_ONLY', statement: 'forbid (principal, action == AgentCore::Action::"tickets___deleteTicket", resource);', source: 'no_deletes.cedar', validationMode: 'IGNORE_ALL_FINDINGS' },
    ]);
  });

  it('points at the file, policy, line and column of a Cedar error; nothing loads', async () => {
    const d = dir({
      'broken.cedar': 'forbid (\n  principal,\n  action,\n  resource\n) when { contxt.input.amount > 5 };\n',
      'autopilot.config.yaml': doc([{ name: 'agents', statement: 'permit (principal, action, resource) when {\n  x\n};' }, { name: 'refunds', file: 'broken.cedar' }]),
    });
    const found = await loadConfig(path.join(d, 'autopilot.config.yaml')).then(() => [], (err: ConfigError) => err.issues);
    expect(found.map((i) => `${i.path}: ${i.message}`)).toEqual([
      expect.stringMatching(/^policyEngines\[0\]\.policies\[0\]\.statement: policy agents: Cedar error at line 2, column 3 of the statement: invalid variable: x/),
      expect.stringMatching(/^policyEngines\[0\]\.policies\[1\]\.file: policy refunds: Cedar error at broken\.cedar:5:10: /),
    ]);
    expect(found[0].line).toBeGreaterThan(1);
  });

  it('checks names (pattern, length, the reserved _next suffix) and the statement-or-file choice', () => {
    const text = issues(() => parseConfig(stringify({
      version: 1,
      policyEngines: [{ arn: ENGINE, policies: [{ name: '9bad', statement: GOOD }, { name: 'x'.repeat(44), statement: GOOD }, { name: 'agents_next', statement: GOOD }, { name: 'both', statement: GOOD, file: 'x.cedar' }] }],
    }), 'c.yaml')).map((i) => `${i.path}: ${i.message}`).join('\n');
    expect(text).toMatch(/policies\[0\]\.name: must start with a letter/);
    expect(text).toMatch(/policies\[1\]\.name: must be at most 43 characters/);
    expect(text).toMatch(/policies\[2\]\.name: must not end in _next/);
    expect(text).toMatch(/policies\[3\]: give exactly one of statement .* or file/);
  });

  it('checks that names are unique in the account, statement lengths and readable files', () => {
    const text = issues(() => parseConfig(stringify({
      version: 1,
      policyEngines: [
        { arn: ENGINE, policies: [{ name: 'dup', statement: GOOD }] },
        { arn: ENGINE.replace('supportPolicies-u1v2w3x4y5', 'billingPolicies-z6a7b8c9d0'), policies: [{ name: 'dup', statement: GOOD }, { name: 'short', statement: 'permit(principal,action,resource);' }, { name: 'gone', file: 'missing.cedar' }] },
        { arn: ENGINE, policies: [] },
      ],
    }), 'c.yaml', { baseDir: tmpdir() })).map((i) => `${i.path}: ${i.message}`).join('\n');
    expect(text).toMatch(/policyEngines\[1\]\.policies\[0\]\.name: repeats the policy name of policyEngines\[0\]\.policies\[0\]/);
    expect(text).toMatch(/policies\[1\]\.statement: policy short: the statement must be 35 to 10000 characters/);
    expect(text).toMatch(/policies\[2\]\.file: cannot read missing\.cedar \(no such file next to the config\)/);
    expect(text).toMatch(/policyEngines\[2\]\.arn: repeats the policy engine of policyEngines\[0\]/);
  });

  it('bounds the promotion settings by the Step Functions quotas (history, one year, state size with the resolved gateways)', () => {
    const text = (promotion: Record<string, unknown>, gateways = 1) => issues(() => parseConfig(stringify({
      version: 1,
      gateways: Array.from({ length: gateways }, (_, i) => ({ id: `gw-support${i}-k1l2m3n4o5`, policyEngine: { arn: ENGINE, mode: 'ENFORCE' } })),
      policyEngines: [{ arn: ENGINE, promotion, policies: [{ name: 'agents', statement: GOOD }] }],
    }), 'c.yaml', { cedar: false })).map((i) => `${i.path}: ${i.message}`).join('\n');
    expect(text({ readyTimeoutMinutes: 16 })).toMatch(/promotion\.readyTimeoutMinutes: must be at most 15: the promotion polls the policy every 5 s/);
    expect(text({ maxBakeExtensions: 101, alarms: Array.from({ length: 101 }, (_, i) => `a${i}`) })).toMatch(/maxBakeExtensions: must be at most 100 .*\n.*alarms: must have at most 100 items/);
    expect(text({ bakeMinutes: 500_000 })).toMatch(/promotion\.bakeMinutes: .*a promotion could run \d+ minutes, more than a Step Functions execution may \(525600, one year\)/);
    // 400 gateways of the config use the engine: their decision streams would not fit the promotion's state.
    expect(text({}, 400)).toMatch(/^policyEngines\[0\]\.promotion: the alarms \(0\), gateways \(400\) and projections could put \d+ bytes into the promotion's Step Functions state, more than 98304 .*\(the 400 gateways of the config on this engine: list the ones to verify in promotion\.gateways\)$/);
    expect(() => parseConfig(stringify({
      version: 1,
      gateways: Array.from({ length: 400 }, (_, i) => ({ id: `gw-support${i}-k1l2m3n4o5`, policyEngine: { arn: ENGINE, mode: 'ENFORCE' } })),
      policyEngines: [{ arn: ENGINE, promotion: { gateways: ['gw-support0-k1l2m3n4o5'] }, policies: [{ name: 'agents', statement: GOOD }] }],
    }), 'c.yaml', { cedar: false })).not.toThrow();
  });

  it('Lambda functions that never read policies skip Cedar (cedar: false) but still check lengths', () => {
    const text = doc([{ name: 'agents', statement: 'permit (principal, action, resource) when { x };' }]);
    expect(() => parseConfig(text, 'c.yaml', { cedar: false })).not.toThrow();
    expect(issues(() => parseConfig(text, 'c.yaml')).length).toBe(1);
  });

  it('the example config\'s commented policyEngines section loads as written once uncommented', async () => {
    const example = readFileSync(new URL('../../../autopilot.config.yaml', import.meta.url), 'utf8');
    const uncommented = example.replace(/^# policyEngines:\n(?:#(?: .*)?\n)+/m, (block) => block.replace(/^# ?/gm, ''));
    expect(uncommented).not.toBe(example);
    const d = dir({ 'autopilot.config.yaml': uncommented });
    mkdirSync(path.join(d, 'policies'));
    writeFileSync(path.join(d, 'policies', 'no_ticket_deletes.cedar'), 'forbid (principal, action == AgentCore::Action::"tickets___deleteTicket", resource);\n');
    const config = await loadConfig(path.join(d, 'autopilot.config.yaml'));
    expect(config.policyEngines).toHaveLength(1);
    expect(config.policyEngines[0]).toMatchObject({ arn: ENGINE, prune: false, promote: 'manual', promotion: { bakeMinutes: 60, maxDenySpikeRatio: 2 } });
    expect(config.policyEngines[0].policies.map((x) => [x.name, x.mode, x.source])).toEqual([
      ['support_agents', 'ACTIVE', 'inline'],
      ['no_ticket_deletes', 'ACTIVE', 'policies/no_ticket_deletes.cedar'],
      ['urgent_by_leads', 'LOG_ONLY', 'inline'],
    ]);
  });
});
