import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { listDefinitions, resolveIntrinsics, validateDefinition, validateFile } from '../../scripts/validate-asl.ts';

const definitions = listDefinitions();
const serverlessYml = readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8');

/** Function keys declared under `functions:` in serverless.yml (osls names them `<Key>LambdaFunction`). */
function functionLogicalIds(): Set<string> {
  // The file holds osls variables (${...}) and CloudFormation tags; the yaml parser keeps them as text.
  const doc = parse(serverlessYml, { customTags: [], logLevel: 'silent', strict: false }) as { functions?: Record<string, unknown> | null };
  return new Set(
    Object.keys(doc.functions ?? {}).map((key) => `${key.charAt(0).toUpperCase()}${key.slice(1).replaceAll('-', 'Dash').replaceAll('_', 'Underscore')}LambdaFunction`),
  );
}

const minimal = {
  Comment: 'one Lambda task',
  StartAt: 'ApplyChange',
  States: {
    ApplyChange: {
      Type: 'Task',
      Resource: { 'Fn::GetAtt': ['ApplyChangeLambdaFunction', 'Arn'] },
      Retry: [{ ErrorEquals: ['ThrottledError'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 }],
      End: true,
    },
  },
};

describe('the ASL validator itself', () => {
  it('accepts a definition whose Lambda task is a CloudFormation GetAtt, and reports the reference', () => {
    const result = validateDefinition(minimal);

    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
    expect(result.references).toEqual(['ApplyChangeLambdaFunction']);
  });

  it('rejects a transition to a state that does not exist', () => {
    const broken = structuredClone(minimal) as Record<string, any>;
    delete broken.States.ApplyChange.End;
    broken.States.ApplyChange.Next = 'Nowhere';

    const result = validateDefinition(broken);

    expect(result.valid).toBe(false);
    expect(result.errors.join('\n')).toMatch(/Nowhere/);
  });

  it('rejects a Task without Resource, and a Task state with both End and Next', () => {
    const noResource = { StartAt: 'A', States: { A: { Type: 'Task', End: true } } };
    const both = { StartAt: 'A', States: { A: { Type: 'Pass', End: true, Next: 'B' }, B: { Type: 'Succeed' } } };

    expect(validateDefinition(noResource).valid).toBe(false);
    expect(validateDefinition(both).valid).toBe(false);
  });

  it('rejects an invalid JSONPath and a non-object document', () => {
    const badPath = { StartAt: 'A', States: { A: { Type: 'Pass', InputPath: 'not-a-path', End: true } } };

    expect(validateDefinition(badPath).valid).toBe(false);
    expect(validateDefinition('StartAt: A').valid).toBe(false);
  });

  it('leaves the parsed definition untouched', () => {
    const copy = structuredClone(minimal);

    validateDefinition(minimal);

    expect(minimal).toEqual(copy);
  });

  it('resolves Ref and Fn::Sub references to placeholder ARNs', () => {
    const refs = new Set<string>();

    const out = resolveIntrinsics({ a: { Ref: 'Topic' }, b: { 'Fn::Sub': 'arn:${AWS::Partition}:lambda:x:${Fn.Arn}' } }, refs);

    expect(out).toEqual({ a: expect.stringMatching(/^arn:aws:lambda:.*:function:Topic$/), b: expect.stringMatching(/^arn:placeholder:lambda:x:arn:aws:lambda:.*:function:Fn$/) });
    expect([...refs].sort()).toEqual(['Fn', 'Topic']);
  });
});

describe('statemachines/*.asl.yaml', () => {
  it('finds only *.asl.yaml files in statemachines/', () => {
    expect(definitions.every((f) => f.endsWith('.asl.yaml'))).toBe(true);
  });

  // One case per definition file: files added later are picked up without touching this test.
  it.each(definitions.map((f) => [f.split('/').pop() as string, f]))('%s parses and passes asl-validator', (_name, file) => {
    const result = validateFile(file);

    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it.each(definitions.map((f) => [f.split('/').pop() as string, f]))('%s is referenced from serverless.yml', (name) => {
    expect(serverlessYml).toContain(`statemachines/${name}`);
  });

  it.each(definitions.map((f) => [f.split('/').pop() as string, f]))('%s only references functions declared in serverless.yml', (_name, file) => {
    const declared = functionLogicalIds();
    const missing = validateFile(file).references.filter((r) => r.endsWith('LambdaFunction') && !declared.has(r));

    expect(missing).toEqual([]);
  });
});
