/**
 * `autopilot plan` and `autopilot apply` through the CLI dispatcher against the local stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/autopilot.ts';
import type { CliIO } from '../../cli/types.ts';
import { startStack, type Stack } from '../../local/stack.ts';
import {
  GW_BILLING, GW_SUPPORT, SECRET, SECRET_DRIFTED, SEED, SUPPORT, SUPPORT_PE, driftRuntime, fullConfig, getRuntime, settleResources, supportDesired, writeConfig,
} from '../e2e/drift-fixtures.ts';

let stack: Stack;
let configFile: string;

beforeAll(async () => {
  stack = await startStack({ seed: SEED });
  // supportAgent declares every field; the seed lacks some of them, so it starts drifted.
  configFile = writeConfig(fullConfig({ runtimes: [{ id: SUPPORT, desired: supportDesired() }], gateways: [{ id: GW_BILLING, desired: { description: 'Billing tools' } }] }));
});
afterAll(async () => { await stack.close(); });

function io(opts: { prompt?: (q: string) => Promise<string> } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIO = {
    stdout: (l) => out.push(l), stderr: (l) => err.push(l), env: { ...stack.env, PATH: process.env.PATH }, isTTY: false,
    ...(opts.prompt ? { prompt: opts.prompt } : {}),
  };
  return { cli, out, err, text: () => out.join('\n'), errors: () => err.join('\n') };
}

describe('autopilot plan / apply', () => {
  it('plans: table, JSON, exit 2 on drift, the new-version note, secrets redacted', async () => {
    await driftRuntime(stack, SUPPORT, (live) => ({ ...live, environmentVariables: { LOG_LEVEL: 'info', MODEL_ID: 'x', API_KEY: SECRET_DRIFTED, HAND_ADDED: 'hand-added-value-x9' } }));
    const t = io();
    expect(await main(['plan', '--config', configFile], t.cli)).toBe(2);
    expect(t.text()).toMatch(/^RESOURCE\s+KIND\s+STATUS\s+ACTION/);
    expect(t.text()).toMatch(/supportAgent-a1b2c3d4e5\s+runtime\s+drifted\s+correct/);
    expect(t.text()).toMatch(/creates a new runtime version .*resets managed session storage/);
    expect(t.text()).toContain('~ /environmentVariables/API_KEY: "<redacted>" -> "<redacted>"');
    expect(t.text()).toMatch(/gw-billing-p6q7r8s9t0\s+gateway\s+in-sync\s+none/);
    expect(t.text()).toMatch(/Plan: 1 drifted/);
    // Added by hand, not declared: reported by name, value redacted, kept by apply.
    expect(t.text()).toContain('! /environmentVariables/HAND_ADDED: "<redacted>"  [not declared (added by hand?): reported only, apply keeps it]');
    expect(t.text()).not.toContain('hand-added-value-x9');
    expect(t.text()).not.toContain(SECRET);
    expect(t.text()).not.toContain(SECRET_DRIFTED);

    const j = io();
    expect(await main(['plan', '--config', configFile, '--json'], j.cli)).toBe(2);
    const plan = JSON.parse(j.text());
    expect(plan.resources[0]).toMatchObject({ ref: SUPPORT, status: 'drifted', createsVersion: true });
    expect(plan.resources[0].fields.map((f: { path: string }) => f.path)).toContain('/environmentVariables/API_KEY');
    expect(j.text()).not.toContain(SECRET_DRIFTED);
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(1); // only the test's own drift
  });

  it('plan shows one line per JSON pointer: the engine mode as /policyEngineConfiguration/mode', async () => {
    const file = writeConfig(fullConfig({ runtimes: [], gateways: [{ id: GW_SUPPORT, desired: {}, policyEngine: { arn: SUPPORT_PE, mode: 'ENFORCE' } }] }));
    const t = io();
    expect(await main(['plan', '--config', file], t.cli)).toBe(2);
    expect(t.text()).toMatch(/^    [~!] \/policyEngineConfiguration\/mode: "LOG_ONLY" -> "ENFORCE"/m);
    expect(t.text()).not.toMatch(/\/policyEngineConfiguration: \{/);
    const c = io();
    c.cli.isTTY = true;
    expect(await main(['plan', '--config', file], c.cli)).toBe(2);
    expect(c.text()).toMatch(/\u001b\[\d+m[~!]\u001b\[0m \/policyEngineConfiguration\/mode/);
    const plain = io();
    plain.cli.isTTY = true;
    plain.cli.env.NO_COLOR = '1';
    expect(await main(['plan', '--config', file], plain.cli)).toBe(2);
    expect(plain.text()).not.toContain('\u001b[');
  });

  it('apply refuses without a terminal and without --yes, and a "no" changes nothing', async () => {
    const before = (await getRuntime(stack, SUPPORT)).agentRuntimeVersion;
    const t = io();
    expect(await main(['apply', '--config', configFile], t.cli)).toBe(1);
    expect(t.errors()).toMatch(/refusing to apply without confirmation.*--yes/);
    const no = io({ prompt: async () => 'no' });
    expect(await main(['apply', '--config', configFile], no.cli)).toBe(1);
    expect(no.errors()).toContain('Apply cancelled.');
    expect((await getRuntime(stack, SUPPORT)).agentRuntimeVersion).toBe(before);
  });

  it('apply --yes shows the plan, applies with progress and a summary; plan is then clean', async () => {
    const t = io();
    expect(await main(['apply', '--config', configFile, '--yes'], t.cli)).toBe(0);
    expect(t.text()).toMatch(/supportAgent-a1b2c3d4e5\s+runtime\s+drifted\s+correct/);
    expect(t.text()).toMatch(/\[1\/1\] runtime supportAgent-a1b2c3d4e5: corrected \(version \d+ -> \d+\)/);
    expect(t.text()).toContain('Apply complete: 1 corrected, 0 failed, 0 skipped.');
    expect(t.text()).not.toContain(SECRET);
    // The run by hand is on the bus like a scheduled one, trigger manual, secrets redacted.
    const published = stack.events.events.map((e) => e.event).filter((e) => e.source === 'agentcore-autopilot' && e.detail.trigger === 'manual');
    expect(published.map((e) => e['detail-type']).sort()).toEqual(['Drift Corrected', 'Drift Detected']);
    expect(JSON.stringify(published)).not.toContain(SECRET);
    await settleResources(stack);
    expect((await getRuntime(stack, SUPPORT)).environmentVariables).toMatchObject({ API_KEY: SECRET });

    const again = io();
    expect(await main(['plan', '--config', configFile], again.cli)).toBe(0);
    expect(again.text()).toMatch(/Plan: 0 drifted/);
    const nothing = io();
    expect(await main(['apply', '--config', configFile], nothing.cli)).toBe(0);
    expect(nothing.text()).toContain('Nothing to apply.');
  });

  it('--help names the state machine options and variables, and apply --json', async () => {
    for (const cmd of ['plan', 'apply']) {
      const h = io();
      expect(await main([cmd, '--help'], h.cli)).toBe(0);
      for (const word of ['ROLLOUT_STATE_MACHINE_ARN', 'PROMOTION_STATE_MACHINE_ARN', '--rollout-state-machine', '--promotion-state-machine', '--stage', '--json']) {
        expect(h.text()).toContain(word);
      }
    }
    const h = io();
    await main(['apply', '--help'], h.cli);
    expect(h.text()).toMatch(/-o json \(with --yes\) prints one JSON document/);
  });

  it('apply --json --yes with nothing to do: one document, exit 0', async () => {
    const t = io();
    expect(await main(['apply', '--config', configFile, '--json', '--yes'], t.cli)).toBe(0);
    const doc = JSON.parse(t.text());
    expect(doc).toMatchObject({ outcomes: [], counts: { planned: 0 }, summary: { drifted: 0, corrected: 0 } });
    expect(doc.plan.inSync).toBe(true);
  });

  it('exit 1 with a clear message on a bad config or option', async () => {
    const bad = io();
    expect(await main(['plan', '--config', '/nonexistent/autopilot.yaml'], bad.cli)).toBe(1);
    expect(bad.errors()).toMatch(/invalid configuration[\s\S]*does not exist/);
    const opt = io();
    expect(await main(['plan', '--bogus'], opt.cli)).toBe(1);
    expect(opt.errors()).toContain("unknown option '--bogus'");
    // The one usage line, not the whole help.
    expect(opt.errors()).toContain('Usage: autopilot plan [--config FILE]');
    expect(opt.errors()).not.toContain('Exit codes');
  });
});
