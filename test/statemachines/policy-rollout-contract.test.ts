import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import * as libErrors from '../../functions/lib/errors.ts';
import { ROLLOUT_FUNCTION_KEYS, lambdaLogicalId } from '../../functions/domain/rollout/contract.ts';
import * as rolloutErrors from '../../functions/domain/rollout/errors.ts';
import {
  RETRYABLE_ADAPTER_ERROR_NAMES,
  ROLLOUT_ERROR_NAMES,
  ROLLOUT_OWN_ERROR_NAMES,
} from '../../functions/domain/rollout/errors.ts';
import {
  ROLLOUT_DETAIL_TYPES,
  ROLLOUT_EVENT_DETAIL_KEYS,
  ROLLOUT_EVENT_SOURCE,
  rolloutEvent,
} from '../../functions/domain/rollout/outcome.ts';
import type { RolloutState } from '../../functions/domain/rollout/contract.ts';

type Json = Record<string, any>;

const ASL_FILE = new URL('../../statemachines/policy-rollout.asl.yaml', import.meta.url);
const definition: Json = parse(readFileSync(ASL_FILE, 'utf8'));
const states: Record<string, Json> = definition.States;

/** Every state, those inside Parallel branches included. */
function flatten(machine: { States: Record<string, Json> }): [string, Json][] {
  return Object.entries(machine.States).flatMap(([name, state]) => [
    [name, state] as [string, Json],
    ...(state.Branches ?? []).flatMap(flatten),
  ]);
}
const allStates = flatten(definition as { States: Record<string, Json> });

const validator = createRequire(import.meta.url)('asl-validator') as (
  def: unknown,
  opts: { checkArn: boolean; checkPaths: boolean },
) => { isValid: boolean; errors: { 'Error code': string; Message: string }[] };

const APPROVAL_RESOURCE = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** Fn::GetAtt [X, Arn] -> a Lambda ARN ending in X (what serverless-step-functions resolves at deploy). */
function withPlaceholderArns(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withPlaceholderArns);
  if (value && typeof value === 'object') {
    const getAtt = (value as Json)['Fn::GetAtt'];
    if (getAtt) return `arn:aws:lambda:us-east-1:123456789012:function:${getAtt[0]}`;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withPlaceholderArns(v)]));
  }
  return value;
}

function lambdaTaskLogicalId(state: Json): string | undefined {
  return state.Resource?.['Fn::GetAtt']?.[0];
}

/** Successor edges of a state: [target, guarded-loop-edge?]. */
function edges(name: string): { to: string; boundedBy?: string }[] {
  const state = states[name];
  const out: { to: string; boundedBy?: string }[] = [];
  if (state.Next) out.push({ to: state.Next });
  for (const c of state.Catch ?? []) out.push({ to: c.Next });
  if (state.Type === 'Choice') {
    let budgetGuard: string | undefined;
    for (const rule of state.Choices) {
      const conditions: Json[] = rule.And ?? [rule];
      const lessThanMax = conditions.find((c) => c.NumericLessThanEqualsPath?.startsWith('$.rollout.plan.max'));
      out.push({ to: rule.Next, boundedBy: lessThanMax?.NumericLessThanEqualsPath });
      if (rule.NumericGreaterThanEqualsPath?.startsWith('$.rollout.plan.max')) budgetGuard = rule.NumericGreaterThanEqualsPath;
    }
    // A Default reached only while `attempt < max` (an earlier rule took attempt >= max).
    out.push({ to: state.Default, boundedBy: budgetGuard });
  }
  return out;
}

function sampleState(): RolloutState {
  return {
    rollout: {
      rolloutId: 'r',
      executionArn: 'arn',
      gatewayId: 'gw',
      gatewayArn: 'gwarn',
      policyEngineArn: 'pe',
      dryRun: false,
      startMode: 'NONE',
      eventBusName: 'default',
      settings: {} as RolloutState['rollout']['settings'],
      plan: { approvalTimeoutSeconds: 600 } as RolloutState['rollout']['plan'],
      rollbackPoint: { policyEngineConfiguration: null },
    },
    ready: null,
    shadow: null,
    approval: null,
    enforce: null,
    error: null,
  };
}

describe('policy-rollout.asl.yaml contract', () => {
  it('passes asl-validator with the function references resolved', () => {
    const result = validator(withPlaceholderArns(structuredClone(definition)), { checkArn: true, checkPaths: true });
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('is JSONPath only: no JSONata, no variables', () => {
    const text = JSON.stringify(definition);
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    for (const field of ['"Arguments"', '"Output"', '"Assign"', '"Condition"', '{%']) expect(text).not.toContain(field);
  });

  it('names only States.*, Lambda.* or rollout contract errors in ErrorEquals and Fail states', () => {
    const named = new Set<string>();
    for (const [, state] of allStates) {
      for (const r of [...(state.Retry ?? []), ...(state.Catch ?? [])]) for (const e of r.ErrorEquals) named.add(e);
      if (state.Type === 'Fail' && state.Error) named.add(state.Error);
      if (state.Type === 'Pass' && state.Result?.Error) named.add(state.Result.Error);
    }
    const unknown = [...named].filter(
      (n) => !n.startsWith('States.') && !LAMBDA_SERVICE_ERRORS.includes(n) && !ROLLOUT_ERROR_NAMES.includes(n),
    );
    expect(unknown).toEqual([]);
    expect(named).toContain('ThrottledError');
    expect(named).toContain('RollbackFailedError');
    expect(named).toContain('ApprovalRejectedError');
  });

  it('keeps ROLLOUT_ERROR_NAMES equal to the class names that throw them', () => {
    for (const name of ROLLOUT_OWN_ERROR_NAMES) {
      const ErrorClass = (rolloutErrors as Record<string, unknown>)[name] as new (m: string) => Error;
      expect(typeof ErrorClass, name).toBe('function');
      const error = new ErrorClass('x');
      expect(error.name).toBe(name);
      expect(error).toBeInstanceOf(libErrors.AutopilotError);
    }
    for (const name of RETRYABLE_ADAPTER_ERROR_NAMES) {
      const ErrorClass = (libErrors as Record<string, unknown>)[name] as new (c: libErrors.AwsErrorContext) => Error;
      expect(new ErrorClass({ service: 's', operation: 'o' }).name).toBe(name);
    }
  });

  it('retries Lambda service errors and ThrottledError with backoff on every Lambda task', () => {
    const lambdaTasks = Object.entries(states).filter(([, s]) => lambdaTaskLogicalId(s));
    expect(lambdaTasks.length).toBeGreaterThan(10);
    for (const [name, state] of lambdaTasks) {
      const retrier = state.Retry?.find((r: Json) => r.ErrorEquals.includes('ThrottledError'));
      expect(retrier, name).toBeDefined();
      expect(retrier.ErrorEquals, name).toEqual(expect.arrayContaining([...LAMBDA_SERVICE_ERRORS, 'ThrottledError']));
      expect(retrier.BackoffRate, name).toBeGreaterThan(1);
      expect(retrier.MaxAttempts, name).toBeGreaterThan(1);
      expect(state.TimeoutSeconds, name).toBeGreaterThan(0);
    }
  });

  it('references only the rollout function keys, and uses each of them', () => {
    const allowed = new Set(ROLLOUT_FUNCTION_KEYS.map(lambdaLogicalId));
    const used = new Set<string>();
    for (const [name, state] of allStates) {
      if (state.Type !== 'Task') continue;
      if (state.Resource === APPROVAL_RESOURCE) continue;
      const id = lambdaTaskLogicalId(state);
      expect(id && allowed.has(id), `${name} -> ${JSON.stringify(state.Resource)}`).toBe(true);
      used.add(id!);
    }
    expect([...used].sort()).toEqual([...allowed].sort());
    expect(lambdaLogicalId('rolloutApplyMode')).toBe('RolloutApplyModeLambdaFunction');
  });

  it('routes every failure after the first change to the rollback, and a failed rollback to the Fail state', () => {
    const afterChange = [
      'ApplyLogOnly',
      'CheckLogOnlyReady',
      'VerifyShadow',
      'ApplyEnforce',
      'CheckEnforceReady',
      'VerifyEnforce',
    ];
    for (const name of afterChange) {
      expect(states[name].Catch, name).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RestoreRollbackPoint' }]);
    }
    // Every Lambda task that is not a best-effort publish and not pre-change has a Catch.
    for (const [name, state] of Object.entries(states)) {
      if (!lambdaTaskLogicalId(state) || ['RunPreflight', 'VerifyDryRun'].includes(name)) continue;
      expect(state.Catch?.some((c: Json) => c.ErrorEquals.includes('States.ALL')), name).toBe(true);
    }
    for (const name of ['RestoreRollbackPoint', 'CheckRestoredReady']) {
      expect(states[name].Catch[0]).toMatchObject({ ErrorEquals: ['States.ALL'], Next: 'PublishRollbackFailed' });
    }
    expect(states.PublishRollbackFailed.Next).toBe('FailRollback');
    expect(states.PublishRollbackFailed.Catch[0].Next).toBe('FailRollback');
    expect(states.FailRollback).toMatchObject({ Type: 'Fail', Error: 'RollbackFailedError' });
    expect(states.FailRollback.Cause).toContain('ROLLBACK_FAILED');
  });

  it('has one Wait per bake, and every loop is bounded by a plan budget, so transitions do not grow with bake length', () => {
    const waits = Object.entries(states).filter(([, s]) => s.Type === 'Wait');
    const bakeWaits = waits.filter(([, s]) => /bakeSeconds$/i.test(s.SecondsPath ?? ''));
    expect(bakeWaits.map(([n, s]) => [n, s.SecondsPath])).toEqual([
      ['BakeShadow', '$.rollout.plan.bakeSeconds'],
      ['BakeEnforce', '$.rollout.plan.enforceBakeSeconds'],
    ]);
    // Every other Wait is a readiness poll interval; no fixed Seconds/Timestamp anywhere.
    for (const [name, state] of waits) {
      expect(Object.keys(state).filter((k) => /Seconds|Timestamp/.test(k)), name).toEqual(['SecondsPath']);
      if (!bakeWaits.some(([n]) => n === name)) expect(state.SecondsPath, name).toBe('$.rollout.plan.readyPollSeconds');
    }
    // Without the budget-guarded loop edges the graph is acyclic: a finite number of states per pass.
    const bounded = new Set<string>();
    const graph = new Map<string, string[]>();
    for (const name of Object.keys(states)) {
      const out = edges(name);
      for (const e of out) if (e.boundedBy) bounded.add(`${name}->${e.to}:${e.boundedBy}`);
      graph.set(name, out.filter((e) => !e.boundedBy).map((e) => e.to));
    }
    const visiting = new Set<string>();
    const done = new Set<string>();
    const cycles: string[] = [];
    const visit = (n: string, path: string[]): void => {
      if (done.has(n)) return;
      if (visiting.has(n)) {
        cycles.push([...path, n].join(' -> '));
        return;
      }
      visiting.add(n);
      for (const m of graph.get(n) ?? []) visit(m, [...path, n]);
      visiting.delete(n);
      done.add(n);
    };
    visit(definition.StartAt, []);
    expect(cycles).toEqual([]);
    // Every state is reachable (over all edges).
    const reached = new Set<string>([definition.StartAt]);
    const queue = [definition.StartAt as string];
    while (queue.length > 0) {
      for (const e of edges(queue.shift()!)) if (!reached.has(e.to)) reached.add(e.to), queue.push(e.to);
    }
    expect([...reached].sort()).toEqual(Object.keys(states).sort());
    expect([...bounded].sort()).toEqual([
      'IsEnforceReady->WaitEnforceReady:$.rollout.plan.maxReadyPolls',
      'IsLogOnlyReady->WaitLogOnlyReady:$.rollout.plan.maxReadyPolls',
      'IsRestoredReady->WaitRestoredReady:$.rollout.plan.maxReadyPolls',
      'RouteEnforceVerdict->BakeEnforce:$.rollout.plan.maxBakeExtensions',
      'RouteShadowVerdict->BakeShadow:$.rollout.plan.maxBakeExtensions',
    ]);
  });

  it('publishes only the documented detail-types, each at least once', () => {
    const published = Object.values(states)
      .filter((s) => lambdaTaskLogicalId(s) === 'RolloutPublishLambdaFunction')
      .map((s) => s.Parameters.detailType);
    const approval = states.AwaitApproval.Parameters.Payload;
    expect(new Set([...published, approval.detailType])).toEqual(new Set(ROLLOUT_DETAIL_TYPES));
    for (const s of Object.values(states)) {
      if (s.Parameters?.detailType === 'Policy Rollout Stage Passed') expect(s.Parameters.stage).toBeTruthy();
      if (lambdaTaskLogicalId(s) !== 'RolloutPublishLambdaFunction') continue;
      // Before the preflight there is no state document: the refusal travels as `failure`.
      if (s.Parameters.detailType === 'Policy Rollout Failed') expect(s.Parameters.failure['error.$']).toBe('$.preflightError');
      else expect(s.Parameters['state.$']).toBe('$');
    }
  });

  it('announces the approval through rolloutPublish (the task token only in its payload, never in an event), with a deadline from the plan', () => {
    const approval = states.AwaitApproval;
    expect(approval.Type).toBe('Parallel');
    expect(approval.Branches).toHaveLength(1);
    const request = approval.Branches[0].States[approval.Branches[0].StartAt];
    expect(request.Resource).toBe(APPROVAL_RESOURCE);
    expect(request.HeartbeatSeconds).toBeUndefined();
    for (const params of [approval.Parameters, request.Parameters]) {
      expect(lambdaTaskLogicalId({ Resource: params.FunctionName })).toBe('RolloutPublishLambdaFunction');
    }
    const outer = approval.Parameters.Payload;
    const inner = request.Parameters.Payload;
    expect(outer).toEqual({ detailType: 'Policy Rollout Awaiting Approval', 'state.$': '$', 'approvalTimeoutSeconds.$': '$.rollout.plan.approvalTimeoutSeconds' });
    // The deadline path resolves against the branch input ({FunctionName, Payload}) and the task's Parameters alike.
    expect(request.TimeoutSecondsPath).toBe('$.Payload.approvalTimeoutSeconds');
    expect(inner).toEqual({
      'detailType.$': '$.Payload.detailType', 'state.$': '$.Payload.state', 'approvalTimeoutSeconds.$': '$.Payload.approvalTimeoutSeconds', 'taskToken.$': '$$.Task.Token',
    });
    // rolloutPublish builds the event with rolloutEvent(), which has no place for the token.
    const detail = rolloutEvent('Policy Rollout Awaiting Approval', { state: sampleState() }).detail;
    expect(Object.keys(detail)).not.toContain('taskToken');
    expect(Object.keys(detail)).toEqual(expect.arrayContaining([...ROLLOUT_EVENT_DETAIL_KEYS, 'approvalTimeoutSeconds']));
    // No way out of the approval step leads to ENFORCE except success.
    expect(approval.Next).toBe('ApplyEnforce');
    expect(approval.Catch.map((c: Json) => c.Next)).toEqual(['PublishAborted', 'PublishAborted']);
    expect(approval.Catch[0].ErrorEquals).toEqual(['ApprovalRejectedError', 'States.Timeout']);
  });

  it('ends every successful path in a Succeed state after a report naming the outcome', () => {
    const outcomes = new Map<string, string>();
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Pass' && state.Parameters?.outcome) {
        expect(states[state.Next].Type, name).toBe('Succeed');
        outcomes.set(name, state.Parameters.outcome);
        expect(state.Parameters['rolloutId.$']).toBe('$.rollout.rolloutId');
      }
    }
    expect(new Set(outcomes.values())).toEqual(
      new Set(['ENFORCED', 'HALTED_IN_LOG_ONLY', 'ROLLED_BACK', 'CONFLICT', 'ABORTED', 'WOULD_PROMOTE', 'WOULD_HALT']),
    );
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Succeed') {
        const reporters = Object.entries(states).filter(([, s]) => s.Next === name);
        expect(reporters.every(([n]) => outcomes.has(n)), name).toBe(true);
      }
    }
  });
});
