/**
 * Secret references in the config: malformed ones are config errors naming the path; a plaintext
 * value that looks like a secret gets a load-time warning (names only); the example config keeps
 * its secrets as references, and serverless.yml lets the functions read them.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../functions/lib/config/index.ts';
import { parseSecretRef } from '../../../functions/domain/secrets/refs.ts';
import { loadServerlessConfig } from '../../../local/lambda/serverless-config.ts';
import { REPO_ROOT } from '../../../local/stack.ts';

const write = (text: string) => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'refs-config-')), 'autopilot.config.yaml');
  writeFileSync(file, text);
  return file;
};
const runtime = (env: string) => `version: 1\nruntimes:\n  - id: agentA-a1b2c3d4e5\n    desired:\n      environmentVariables:\n${env}`;

describe('secret references in the config', () => {
  it('a malformed reference is a config error at its path, without its text', async () => {
    await expect(loadConfig(write(runtime("        API_KEY: '{{resolve:vault:hunter2}}'\n")))).rejects.toMatchObject({
      issues: [expect.objectContaining({ path: 'runtimes[0].desired.environmentVariables.API_KEY', message: expect.stringContaining('the secret reference is not') })],
    });
    await expect(loadConfig(write(runtime("        API_KEY: '{{resolve:vault:hunter2}}'\n")))).rejects.not.toThrow(/hunter2/);
  });

  it('warns about plaintext that looks like a secret, naming the variable only', async () => {
    const warnings: string[] = [];
    await loadConfig(write(runtime("        API_KEY: plaintext-hunter2\n        LOG_LEVEL: info\n        TOKEN: '{{resolve:ssm-secure:/x}}'\n")), { warn: (w) => warnings.push(w) });
    expect(warnings).toEqual([expect.stringMatching(/runtime agentA-a1b2c3d4e5: environment variable API_KEY is plaintext but its name suggests a secret; declare it as \{\{resolve:secretsmanager/)]);
    expect(warnings.join('')).not.toContain('hunter2');
  });

  it('the example config references its secrets, and serverless.yml lets the functions read exactly those', async () => {
    const warnings: string[] = [];
    const config = await loadConfig(path.join(REPO_ROOT, 'autopilot.config.yaml'), { warn: (w) => warnings.push(w) });
    expect(warnings).toEqual([]);
    const refs = config.runtimes.flatMap((r) => Object.values(r.desired.environmentVariables ?? {}).map((v) => parseSecretRef(v)).filter((x) => x !== undefined));
    expect(refs.length).toBeGreaterThan(0);
    const sls = loadServerlessConfig(path.join(REPO_ROOT, 'serverless.yml'), { stage: 'dev', env: {} });
    const params = (sls.resolved.params as Record<string, Record<string, unknown>>).default;
    const patterns = [
      ...(sls.resolveIntrinsics(params.secretArns, 'secretArns') as string[]),
      ...(sls.resolveIntrinsics(params.secureParameterArns, 'secureParameterArns') as string[]),
    ].map((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`));
    for (const ref of refs) {
      const arn = ref.kind === 'secretsmanager'
        ? `arn:aws:secretsmanager:us-east-1:123456789012:secret:${ref.secretId}-AbCdEf`
        : `arn:aws:ssm:us-east-1:123456789012:parameter${ref.name.startsWith('/') ? '' : '/'}${ref.name}`;
      expect(patterns.some((p) => p.test(arn)), ref.text).toBe(true);
    }
    expect(readFileSync(path.join(REPO_ROOT, 'autopilot.config.yaml'), 'utf8')).toContain('{{resolve:secretsmanager:');
  });
});
