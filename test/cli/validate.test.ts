/** `autopilot validate`: offline, every problem with file, line and column; exit 0 / 1. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/autopilot.ts';
import { REPO_ROOT } from '../../local/stack.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'validate-'));
const CONFIG = path.join(REPO_ROOT, 'autopilot.config.yaml');
const SLS = path.join(REPO_ROOT, 'serverless.yml');

async function validate(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  // No AWS variables at all: validate never calls AWS.
  const code = await main(['validate', ...args], { stdout: (l) => out.push(l), stderr: (l) => err.push(l), env: {}, isTTY: false });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('autopilot validate', () => {
  it('the repository\'s config is valid, references included', async () => {
    const r = await validate(['--config', CONFIG, '--serverless', SLS]);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/autopilot\.config\.yaml: valid \(references checked against .*serverless\.yml\)/);
  });

  it('schema and model errors: FILE:LINE:COLUMN: PATH: MESSAGE, every one, exit 1', async () => {
    const bad = file('bad.yaml', [
      'version: 1',
      'runtimes:',
      '  - id: supportAgent-a1b2c3d4e5',
      '    desired:',
      '      bogus: 1',
      '      roleArn: not-an-arn',
      '',
    ].join('\n'));
    const r = await validate(['--config', bad, '--no-serverless']);
    expect(r.code).toBe(1);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${bad}:5:7: runtimes\\[0\\]\\.desired\\.bogus: is not an UpdateAgentRuntime field`));
    expect(lines[1]).toMatch(new RegExp(`^${bad}:6:7: runtimes\\[0\\]\\.desired\\.roleArn: `));
    expect(r.err).toBe(`autopilot validate: 2 problems in ${bad}`);
    const syntax = await validate(['--config', file('syntax.yaml', 'version: 1\nruntimes: [\n'), '--no-serverless', '-o', 'json']);
    expect(syntax.code).toBe(1);
    expect(JSON.parse(syntax.out)).toMatchObject({ valid: false, issues: [{ line: expect.any(Number), column: expect.any(Number), message: expect.stringMatching(/^YAML syntax error/) }] });
  });

  it('references: a roleArn serverless.yml does not let the functions pass is an error at its line', async () => {
    const text = readFileSync(CONFIG, 'utf8').replace('arn:aws:iam::123456789012:role/GatewayRole', 'arn:aws:iam::123456789012:role/Unlisted');
    const f = file('refs.yaml', text);
    const r = await validate(['--config', f, '--serverless', SLS]);
    expect(r.code).toBe(1);
    const line = text.split('\n').findIndex((l) => l.includes('role/Unlisted')) + 1;
    expect(r.out).toMatch(new RegExp(`^${f}:${line}:\\d+: gateways\\[0\\]\\.desired\\.roleArn: arn:aws:iam::123456789012:role/Unlisted is not in .*params\\.gatewayRoleArns`));
    expect((await validate(['--config', f, '--no-serverless'])).code).toBe(0);
    expect((await validate(['--config', path.join(dir, 'missing.yaml')])).out).toContain('configuration file does not exist');
  });

  it('Cedar: declared statements are parsed by Cedar, inline or in a file next to the config (wherever validate runs from)', async () => {
    const sub = mkdtempSync(path.join(dir, 'cedar-'));
    writeFileSync(path.join(sub, 'no_deletes.cedar'), 'forbid (principal, action == AgentCore::Action::"tickets___deleteTicket", resource)\n  when { context.x > };\n');
    const engine = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/supportPolicies-u1v2w3x4y5';
    const config = path.join(sub, 'autopilot.config.yaml');
    writeFileSync(config, [
      'version: 1',
      'policyEngines:',
      `  - arn: ${engine}`,
      '    policies:',
      '      - name: agents',
      '        statement: permit (principal, action, resource) when { principal.role == };',
      '      - name: no_deletes',
      '        file: no_deletes.cedar',
      '',
    ].join('\n'));
    const r = await validate(['--config', config, '--no-serverless']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/policyEngines\[0\]\.policies\[0\]\.statement: .*agents/);
    expect(r.out).toMatch(/no_deletes\.cedar.*:2:\d+/);
    expect(r.out).not.toContain('does not exist');
    writeFileSync(path.join(sub, 'no_deletes.cedar'), 'forbid (principal, action == AgentCore::Action::"tickets___deleteTicket", resource);\n');
    writeFileSync(config, readFileSync(config, 'utf8').replace('principal.role == }', 'principal.hasTag("role") }'));
    expect(await validate(['--config', config, '--no-serverless'])).toMatchObject({ code: 0 });
  });
});
