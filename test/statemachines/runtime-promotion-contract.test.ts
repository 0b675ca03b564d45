import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROMOTION_ERROR_NAMES } from '../../functions/domain/redeploy/errors.ts';
import { PROMOTION_FUNCTION_KEYS, lambdaLogicalId } from '../../functions/domain/redeploy/promotion.ts';

const ASL_FILE = new URL('../../statemachines/runtime-promotion.asl.yaml', import.meta.url);
const definition = parse(readFileSync(ASL_FILE, 'utf8')) as { States: Record<string, State> };

interface State {
  Type: string;
  Resource?: unknown;
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Error?: string;
  ItemProcessor?: { States: Record<string, State> };
  QueryLanguage?: string;
  [k: string]: unknown;
}

/** Every state, nested Map processors included, as [name, state]. */
function allStates(states: Record<string, State>): [string, State][] {
  return Object.entries(states).flatMap(([name, s]) => [[name, s] as [string, State], ...(s.ItemProcessor ? allStates(s.ItemProcessor.States) : [])]);
}

const PLACEHOLDER = 'arn:aws:lambda:us-east-1:123456789012:function:';
function resolveGetAtt(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolveGetAtt);
  if (typeof value !== 'object' || value === null) return value;
  const obj = value as Record<string, unknown>;
  if (Array.isArray(obj['Fn::GetAtt'])) return `${PLACEHOLDER}${(obj['Fn::GetAtt'] as string[])[0]}`;
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, resolveGetAtt(v)]));
}

describe('runtime-promotion.asl.yaml contract', () => {
  const states = allStates(definition.States);

  it('passes asl-validator with ARN and path checks', () => {
    const validator = createRequire(import.meta.url)('asl-validator') as (d: unknown, o: object) => { isValid: boolean; errors: unknown[] };
    const { isValid, errors } = validator(resolveGetAtt(structuredClone(definition)), { checkArn: true, checkPaths: true });
    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
  });

  it('matches only States.*, Lambda.* or PROMOTION_ERROR_NAMES in ErrorEquals', () => {
    const names = new Set<string>();
    for (const [, s] of states) for (const r of [...(s.Retry ?? []), ...(s.Catch ?? [])]) r.ErrorEquals.forEach((n) => names.add(n));
    for (const [, s] of states) if (s.Type === 'Fail' && s.Error) names.add(s.Error);
    const unknown = [...names].filter((n) => !n.startsWith('States.') && !n.startsWith('Lambda.') && !(PROMOTION_ERROR_NAMES as readonly string[]).includes(n));
    expect(unknown).toEqual([]);
    // The retry contract with the tasks: their budget errors and throttling are retried.
    expect(names).toContain('RetryBudgetExceededError');
    expect(names).toContain('ThrottledError');
    expect(names).toContain('PromotionTimeoutError');
  });

  it('references exactly the promotion function keys, as direct Lambda resources', () => {
    const refs = new Set<string>();
    for (const [name, s] of states) {
      if (s.Type !== 'Task') continue;
      const getAtt = (s.Resource as { 'Fn::GetAtt'?: [string, string] })?.['Fn::GetAtt'];
      expect(getAtt, `${name} uses Fn::GetAtt [<Function>LambdaFunction, Arn]`).toBeDefined();
      expect(getAtt?.[1]).toBe('Arn');
      refs.add(getAtt![0]);
    }
    expect([...refs].sort()).toEqual(Object.values(PROMOTION_FUNCTION_KEYS).map(lambdaLogicalId).sort());
  });

  it('retries Lambda service errors on every task and catches every failure', () => {
    for (const [name, s] of states) {
      if (s.Type !== 'Task') continue;
      const retried = (s.Retry ?? []).flatMap((r) => r.ErrorEquals);
      expect(retried, name).toEqual(expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException', 'ThrottledError', 'ServiceUnavailableError', 'RetryBudgetExceededError']));
    }
    // Top-level tasks and Maps end in a Catch; nested tasks fail their Map, whose Catch applies.
    for (const [name, s] of Object.entries(definition.States)) {
      if (s.Type === 'Task' || s.Type === 'Map') expect(s.Catch?.some((c) => c.ErrorEquals.includes('States.ALL')), name).toBe(true);
    }
  });

  it('retries the same task errors as policy-rollout.asl.yaml (Lambda.*, throttled, unavailable)', () => {
    const rollout = parse(readFileSync(new URL('../../statemachines/policy-rollout.asl.yaml', import.meta.url), 'utf8')) as { States: Record<string, State> };
    const rolloutRetried = new Set(allStates(rollout.States).flatMap(([, s]) => (s.Retry ?? []).flatMap((r) => r.ErrorEquals)));
    for (const [name, s] of states) {
      if (s.Type !== 'Task') continue;
      const retried = new Set((s.Retry ?? []).flatMap((r) => r.ErrorEquals));
      for (const error of rolloutRetried) if (error.startsWith('Lambda.') || error === 'ThrottledError' || error === 'ServiceUnavailableError') expect(retried.has(error), `${name} retries ${error}`).toBe(true);
    }
  });

  it('uses JSONPath only and has unique state names', () => {
    expect(states.every(([, s]) => s.QueryLanguage === undefined || s.QueryLanguage === 'JSONPath')).toBe(true);
    for (const [name, s] of states) for (const key of ['Arguments', 'Output', 'Assign']) expect(s[key], `${name}.${key}`).toBeUndefined();
    expect(JSON.stringify(definition)).not.toContain('{%');
    const names = states.map(([n]) => n);
    expect(new Set(names).size).toBe(names.length);
  });
});
