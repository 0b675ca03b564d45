/**
 * `autopilot plan -out FILE` and `autopilot apply FILE`: exactly the reviewed plan is applied, and
 * nothing when the config changed or a resource to change moved since the plan.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../cli/autopilot.ts';
import { startStack, type Stack } from '../../local/stack.ts';
import { SECRET, SECRET_DRIFTED, SEED, SUPPORT, cliIO, driftRuntime, fullConfig, getRuntime, settleResources, supportDesired, writeConfig } from '../e2e/drift-fixtures.ts';

let stack: Stack;
let configFile: string;
let dir: string;

beforeEach(async () => {
  stack = await startStack({ seed: SEED });
  configFile = writeConfig(fullConfig({ runtimes: [{ id: SUPPORT, desired: supportDesired() }], gateways: [] }));
  dir = mkdtempSync(path.join(tmpdir(), 'saved-plan-'));
  await driftRuntime(stack, SUPPORT, (live) => ({ ...live, environmentVariables: { LOG_LEVEL: 'info', MODEL_ID: 'x', API_KEY: SECRET_DRIFTED } }));
  await settleResources(stack);
});
afterEach(async () => { await stack.close(); });

async function cli(argv: string[]) {
  const t = cliIO(stack);
  const code = await main(argv, t.io);
  return { code, out: t.text(), err: t.errors() };
}

describe('plan -out FILE / apply FILE', () => {
  it('saves the reviewed plan (no secret in it) and applies exactly it, without asking', async () => {
    const file = path.join(dir, 'drift.plan');
    const plan = await cli(['plan', '--config', configFile, '-out', file]);
    expect(plan.code).toBe(2);
    expect(plan.err).toContain(`Saved the plan to ${file}`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(SECRET_DRIFTED);
    expect(JSON.parse(text)).toMatchObject({ format: 'agentcore-autopilot/drift-plan', fingerprints: [{ kind: 'runtime', ref: SUPPORT, version: expect.any(String) }] });

    const before = stack.emulator.count('UpdateAgentRuntime');
    const apply = await cli(['apply', file]);
    expect(apply.code).toBe(0);
    expect(apply.out).toMatch(/\[1\/1\] runtime supportAgent-a1b2c3d4e5: corrected/);
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(before + 1);
    await settleResources(stack);
    expect((await getRuntime(stack, SUPPORT)).environmentVariables).toMatchObject({ API_KEY: SECRET });
  });

  it('refuses (exit 3, nothing written) when the resource moved or the config changed since the plan', async () => {
    const file = path.join(dir, 'drift.plan');
    expect((await cli(['plan', '--config', configFile, '--out', file])).code).toBe(2);
    // Someone changes the runtime again: a new version.
    await driftRuntime(stack, SUPPORT, (live) => ({ ...live, environmentVariables: { LOG_LEVEL: 'warn', MODEL_ID: 'x', API_KEY: SECRET_DRIFTED } }));
    await settleResources(stack);
    const writes = stack.emulator.count('UpdateAgentRuntime');
    const moved = await cli(['apply', file]);
    expect(moved.code).toBe(3);
    expect(moved.err).toMatch(/the saved plan was not applied: runtime supportAgent-a1b2c3d4e5 moved since the plan \(version \d+ -> \d+\)\. Nothing was changed/);
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(writes);

    const again = path.join(dir, 'again.plan');
    expect((await cli(['plan', '--config', configFile, '--out', again])).code).toBe(2);
    writeFileSync(configFile, `${readFileSync(configFile, 'utf8')}\n# edited\n`);
    const edited = await cli(['apply', again, '-o', 'json']);
    expect(edited.code).toBe(3);
    expect(JSON.parse(edited.out)).toMatchObject({ error: 'Refused', message: expect.stringContaining('changed since the plan') });
    expect(stack.emulator.count('UpdateAgentRuntime')).toBe(writes);

    const junk = path.join(dir, 'junk');
    writeFileSync(junk, '{"hello": 1}');
    expect((await cli(['apply', junk])).err).toContain('is not a saved plan');
    expect((await cli(['apply', path.join(dir, 'missing')])).code).toBe(2);
  });
});
