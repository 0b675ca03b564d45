/**
 * statemachines/policy-promotion.asl.yaml in aws-local-stepfunctions: every terminal state is
 * reached through exactly one outcome event. The tasks run the real promotion domain (preflight,
 * writes, gates, events) over an in-memory engine; the end-to-end runs live in
 * test/e2e/promotion.test.ts.
 */
import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_PROMOTION_SETTINGS, type PolicyEngineDeclaration } from '../../functions/lib/config/policies.ts';
import type { CheckPolicyInput, PolicyProgress, PromotionState, PromotionVerifyInput, WriteInput } from '../../functions/domain/promotion/contract.ts';
import { ApprovalRejectedError } from '../../functions/domain/rollout/errors.ts';
import { promotionFigures, promotionQueries, promotionStreams, promotionVerifyResult, type PromotionFigures } from '../../functions/domain/promotion/gates.ts';
import { promotionEvent, promotionRefusedEvent, type PromotionDetailType } from '../../functions/domain/promotion/outcome.ts';
import { promotionPreflight, type LivePolicy } from '../../functions/domain/promotion/preflight.ts';
import { planWrite } from '../../functions/domain/promotion/writes.ts';

type Json = Record<string, any>;
const definition: Json = parse(readFileSync(new URL('../../statemachines/policy-promotion.asl.yaml', import.meta.url), 'utf8'));
const ENGINE = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/supportPolicies-u1v2w3x4y5';
const HASH = 'aaaaaaaaaaaa';

interface World {
  policies: Map<string, LivePolicy>;
  engineStatus: string;
  logOnly: Partial<PromotionFigures>;
  active: Partial<PromotionFigures>;
  approval?: 'approve' | 'reject';
  approvalRequired?: boolean;
  failStage?: boolean;
  failRestore?: boolean;
  tamperBeforeRestore?: boolean;
  events: { detailType: string; detail: Json }[];
}

function figures(over: Partial<PromotionFigures>): PromotionFigures {
  return {
    matches: 500, flips: 0, evaluationFailures: 0, allow: 990, deny: 10,
    published: { matches: true, flips: true, evaluationFailures: false, decisions: true },
    streams: { logOnly: 'LogOnlyMatches{...}', evaluationFailures: 'MismatchErrors{...}', decisions: 'AllowDecisions|DenyDecisions{...}' },
    alarms: {},
    ...over,
  };
}

function declaration(approvalRequired: boolean): PolicyEngineDeclaration {
  return {
    arn: ENGINE, prune: false, promote: 'manual',
    promotion: { ...structuredClone(DEFAULT_PROMOTION_SETTINGS), approval: { required: approvalRequired, timeoutMinutes: 60 }, gateways: ['gw-support-k1l2m3n4o5'] },
    policies: [{ name: 'readers', mode: 'ACTIVE', statement: 'permit (principal, action, resource) when { true };', source: 'inline', validationMode: 'FAIL_ON_ANY_FINDINGS' }],
  };
}

function handlers(world: World): Record<string, (input: any) => unknown> {
  const decl = declaration(world.approvalRequired === true);
  return {
    PromotionPreflightLambdaFunction: (input: { request: any; executionArn: string }) => promotionPreflight({
      request: input.request, executionArn: input.executionArn, declaration: decl, policy: decl.policies[0], declaredHash: HASH,
      engine: { status: world.engineStatus }, live: world.policies.get('readers'), trial: world.policies.get('readers_next'),
      runningExecutions: [], gateways: [{ id: 'gw-support-k1l2m3n4o5', arn: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/gw-support-k1l2m3n4o5' }], eventBusName: 'default',
    }),
    PromotionWriteLambdaFunction: (input: WriteInput): PolicyProgress => {
      const ctx = input.promotion;
      if (input.action === 'stage' && world.failStage) throw Object.assign(new Error('CREATE_FAILED: refused'), { name: 'PolicyValidationFailedError' });
      if (input.action === 'restore' && world.failRestore) throw Object.assign(new Error('denied'), { name: 'AccessDeniedError' });
      if (input.action === 'restore' && world.tamperBeforeRestore) world.policies.set('readers', { ...world.policies.get('readers')!, statementHash: 'bbbbbbbbbbbb' });
      const plan = planWrite(input.action, ctx, world.policies.get('readers'), world.policies.get('readers_next'));
      for (const call of plan.calls) {
        if (call.op === 'create') world.policies.set(call.name, { policyId: `${call.name}-0000000000`, name: call.name, status: 'ACTIVE', enforcementMode: 'LOG_ONLY', statementHash: HASH });
        else if (call.op === 'update') {
          const p = world.policies.get(call.name)!;
          world.policies.set(call.name, { ...p, ...(call.enforcementMode && { enforcementMode: call.enforcementMode }), ...(call.statement && { statementHash: call.statement === 'declared' ? HASH : ctx.before.statementHash }) });
        } else world.policies.delete(call.name);
      }
      return { ready: false, attempt: 0, deadline: '2030-01-01T00:00:00.000Z', policyName: plan.waitFor, policyId: world.policies.get(plan.waitFor)?.policyId ?? null, changed: plan.calls.length > 0, ...(plan.report && { restore: plan.report }) };
    },
    PromotionCheckPolicyLambdaFunction: (input: CheckPolicyInput): PolicyProgress => ({
      ready: true, attempt: input.attempt + 1, deadline: input.deadline, policyName: input.policyName, policyId: world.policies.get(input.policyName)?.policyId ?? null, status: 'ACTIVE', checkedAt: '2026-01-01T01:00:00.000Z',
    }),
    PromotionVerifyLambdaFunction: (input: PromotionVerifyInput) => {
      const streams = promotionStreams(input.promotion, input.stage, input.policyId ?? '');
      const window = { start: '2026-01-01T00:00:00.000Z', end: '2026-01-01T01:00:00.000Z' };
      const plan = promotionQueries(streams, window);
      const f = { ...promotionFigures(plan, [], [], {}), ...figures(input.stage === 'LOG_ONLY' ? world.logOnly : world.active) };
      return promotionVerifyResult(input, f, window);
    },
    PromotionPublishLambdaFunction: (input: any) => {
      const payload = input.Payload ?? input;
      world.events.push(payload.state ? promotionEvent(payload.detailType as PromotionDetailType, payload.state as PromotionState, payload.stage) : promotionRefusedEvent(payload.failure));
      if (input.Payload) {
        if (world.approval === 'reject') throw new ApprovalRejectedError('rejected');
        return { approvedBy: 'alice' };
      }
      return { published: true };
    },
  };
}

async function run(world: World, dryRun = false): Promise<{ entered: string[]; output?: Json; error?: Error }> {
  const impl = handlers(world);
  const local: Record<string, (input: any) => Promise<any>> = {};
  const waits: Record<string, number> = {};
  const retries: Record<string, number> = {};
  for (const [name, state] of Object.entries(definition.States as Record<string, Json>)) {
    const id = state.Resource?.['Fn::GetAtt']?.[0];
    if (id) local[name] = async (i) => structuredClone(await impl[id](structuredClone(i)));
    if (state.Type === 'Wait') waits[name] = 0;
    retries[name] = 0;
  }
  local.RequestApproval = async (i) => impl.PromotionPublishLambdaFunction(i);
  const execution = new StateMachine(definition as never, { validationOptions: { noValidate: true } }).run(
    { policyEngineArn: ENGINE, policyName: 'readers', dryRun },
    { overrides: { taskResourceLocalHandlers: local, waitTimeOverrides: waits, retryIntervalOverrides: retries }, context: { Execution: { Id: 'arn:aws:states:us-east-1:123456789012:execution:promo:promote-x', Name: 'promote-x' }, Task: { Token: 't' } } },
  );
  const entered: string[] = [];
  const collect = (async () => { for await (const e of execution.eventLogs) if (e.type === 'StateEntered') entered.push(e.state.name); })();
  try {
    const output = (await execution.result) as Json;
    await collect;
    return { entered, output };
  } catch (error) {
    await collect.catch(() => undefined);
    return { entered, error: ((error as Error).cause ?? error) as Error };
  }
}

const newWorld = (over: Partial<World> = {}): World => ({ policies: new Map(), engineStatus: 'ACTIVE', logOnly: {}, active: {}, events: [], ...over });
const logOnlyPolicy = (): Map<string, LivePolicy> => new Map([['readers', { policyId: 'readers-0000000000', name: 'readers', status: 'ACTIVE', enforcementMode: 'LOG_ONLY', statementHash: HASH }]]);

describe('policy-promotion.asl.yaml', () => {
  const paths: { name: string; world: () => World; dryRun?: boolean; terminal: string; outcome: string | null }[] = [
    { name: 'promoted', world: () => newWorld(), terminal: 'Promoted', outcome: 'PROMOTED' },
    { name: 'already active', world: () => newWorld({ policies: new Map([['readers', { ...logOnlyPolicy().get('readers')!, enforcementMode: 'ACTIVE' }]]) }), terminal: 'Promoted', outcome: 'PROMOTED' },
    { name: 'halted (flips)', world: () => newWorld({ logOnly: { flips: 600 } }), terminal: 'HaltedInLogOnly', outcome: 'HALTED_IN_LOG_ONLY' },
    { name: 'rolled back', world: () => newWorld({ active: { alarms: {}, deny: 900, allow: 100 } }), terminal: 'RolledBack', outcome: 'ROLLED_BACK' },
    { name: 'conflict', world: () => newWorld({ active: { deny: 900, allow: 100 }, tamperBeforeRestore: true }), terminal: 'Conflict', outcome: 'CONFLICT' },
    { name: 'approval rejected', world: () => newWorld({ approvalRequired: true, approval: 'reject' }), terminal: 'Aborted', outcome: 'ABORTED' },
    { name: 'refused at preflight', world: () => newWorld({ engineStatus: 'CREATING' }), terminal: 'FailPreflight', outcome: 'FAILED' },
    { name: 'staged statement refused', world: () => newWorld({ failStage: true }), terminal: 'FailPromotion', outcome: 'FAILED' },
    { name: 'rollback failed', world: () => newWorld({ active: { deny: 900, allow: 100 }, failRestore: true }), terminal: 'FailRollback', outcome: 'ROLLBACK_FAILED' },
    { name: 'dry run', world: () => newWorld({ policies: logOnlyPolicy() }), dryRun: true, terminal: 'DryRunFinished', outcome: null },
  ];
  const terminals = Object.entries(definition.States as Record<string, Json>).filter(([, st]) => st.Type === 'Succeed' || st.Type === 'Fail').map(([n]) => n);

  it('the paths below cover every Succeed and Fail state', () => {
    expect(new Set(paths.map((p) => p.terminal))).toEqual(new Set(terminals));
  });

  it.each(paths)('$name -> $terminal, exactly one outcome event', async (p) => {
    const world = p.world();
    const { entered } = await run(world, p.dryRun);
    expect(entered.at(-1)).toBe(p.terminal);
    const outcomes = world.events.filter((e) => e.detail.outcome !== null).map((e) => e.detail.outcome);
    if (p.outcome === null) expect(world.events).toEqual([]);
    else expect(outcomes).toEqual([p.outcome]);
  });

  it('bakes are single Wait states: transitions do not grow with the bake', () => {
    for (const name of ['BakeLogOnly', 'BakeActive']) expect(definition.States[name]).toMatchObject({ Type: 'Wait', SecondsPath: expect.stringMatching(/^\$\.promotion\.plan\./) });
  });
});
