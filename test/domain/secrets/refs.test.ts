/**
 * Secret references (functions/domain/secrets/refs.ts): CloudFormation's dynamic-reference syntax
 * for Secrets Manager and SSM SecureString, resolution in memory, and the plaintext warning.
 */
import { describe, expect, it } from 'vitest';
import { looksSecret, parseSecretRef, refProblems, resolveEnv, valueOf } from '../../../functions/domain/secrets/refs.ts';

describe('parseSecretRef', () => {
  it.each([
    ['{{resolve:secretsmanager:prod/api}}', { kind: 'secretsmanager', secretId: 'prod/api' }],
    ['{{resolve:secretsmanager:prod/api:SecretString:token}}', { kind: 'secretsmanager', secretId: 'prod/api', jsonKey: 'token' }],
    ['{{resolve:secretsmanager:prod/api:SecretString:token:AWSPREVIOUS}}', { versionStage: 'AWSPREVIOUS' }],
    ['{{resolve:secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api-AbCdEf:SecretString:token}}',
      { secretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api-AbCdEf', jsonKey: 'token' }],
    ['{{resolve:ssm-secure:/prod/db/password}}', { kind: 'ssm-secure', name: '/prod/db/password' }],
    ['{{resolve:ssm-secure:/prod/db/password:3}}', { kind: 'ssm-secure', name: '/prod/db/password', version: '3' }],
  ])('reads %s', (text, expected) => {
    expect(parseSecretRef(text)).toMatchObject({ ...expected, text });
  });

  it('leaves plain values alone and refuses malformed references without echoing them', () => {
    expect(parseSecretRef('plain')).toBeUndefined();
    for (const bad of ['{{resolve:vault:x}}', '{{resolve:secretsmanager:x:SecretBinary}}', '{{resolve:ssm-secure:bad name}}', '{{resolve:secretsmanager:x:SecretString:k:AWSCURRENT:id}}']) {
      expect(() => parseSecretRef(bad), bad).toThrow(expect.objectContaining({ name: 'SecretRefError' }));
    }
    expect(refProblems({ A: '{{resolve:vault:hunter2}}', B: 'plain' }, 'env')).toEqual([expect.stringMatching(/^env\.A: the secret reference is not/)]);
    expect(refProblems({ A: '{{resolve:vault:hunter2}}' }, 'env')[0]).not.toContain('hunter2');
  });
});

describe('resolution', () => {
  it('replaces references, keeps plain values, picks JSON keys', async () => {
    const read = async (ref: ReturnType<typeof parseSecretRef>) => valueOf(ref!, ref!.kind === 'secretsmanager' ? '{"token":"t0k"}' : 'pw');
    expect(await resolveEnv({ A: 'plain', B: '{{resolve:secretsmanager:x:SecretString:token}}', C: '{{resolve:ssm-secure:/p}}' }, read))
      .toEqual({ A: 'plain', B: 't0k', C: 'pw' });
    expect(() => valueOf(parseSecretRef('{{resolve:secretsmanager:x:SecretString:missing}}')!, '{"token":"t0k"}')).toThrow(/has no string key missing/);
  });
});

describe('looksSecret (load-time warning)', () => {
  it.each([
    ['API_KEY', 'abc', 'name'], ['DB_PASSWORD', 'x', 'name'], ['GITHUB_TOKEN', 'x', 'name'],
    ['UPSTREAM', 'sk-abcdefghijklmnopqrstuv', 'value'], ['KEY_ID', 'AKIAABCDEFGHIJKLMNOP', 'value'], ['URL', 'postgres://u:p4ss@db/x', 'value'],
  ])('%s is flagged (%s)', (name, value, by) => {
    expect(looksSecret(name, value)).toContain(by === 'name' ? 'name' : 'value');
  });

  it('does not flag ordinary settings or references', () => {
    expect(looksSecret('LOG_LEVEL', 'info')).toBeUndefined();
    expect(looksSecret('MODEL_ID', 'anthropic.claude-sonnet-4')).toBeUndefined();
    expect(looksSecret('API_KEY', '{{resolve:secretsmanager:x}}')).toBeUndefined();
  });
});
