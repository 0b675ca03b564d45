/**
 * A scripted world for the policy-promotion state machine at its longest
 * (test/statemachines/limits-at-maximum.test.ts): the tasks are the real promotion domain
 * (preflight, write plans, gates, outcome events) over an in-memory engine, arranged so that every
 * readiness loop ends at its last poll, every bake uses every extension, the approval comes at the
 * last moment, and the ACTIVE verification fails so that the restore runs.
 */
import type { Clock } from '../../local/clock.ts';
import type { CheckPolicyInput, PolicyProgress, PromotionState, PromotionVerifyInput, WriteInput } from '../../functions/domain/promotion/contract.ts';
import { promotionFigures, promotionQueries, promotionStreams, promotionVerifyResult } from '../../functions/domain/promotion/gates.ts';
import { promotionEvent, promotionRefusedEvent, type PromotionDetailType } from '../../functions/domain/promotion/outcome.ts';
import { promotionPreflight, statementHash, type LivePolicy } from '../../functions/domain/promotion/preflight.ts';
import { planWrite } from '../../functions/domain/promotion/writes.ts';
import type { PolicyEngineDeclaration } from '../../functions/lib/config/policies.ts';

type Task = (input: any) => unknown;

export interface PromotionWorldOptions {
  clock: Clock;
  declaration: PolicyEngineDeclaration;
  /** The ARN each declared gateway has (GetGateway). */
  gatewayArn: (id: string) => string;
  /** The live policy's statement (it is ACTIVE with another one: a `candidate` change keeps it for the restore). */
  previousStatement: string;
  /** Answers the approval request's task token (SendTaskSuccess); called a second before it would time out. */
  approve: (taskToken: string) => Promise<unknown>;
  /** Alarm state at the last ACTIVE verification (otherwise every alarm is OK). */
  activeAlarms?: 'OK' | 'ALARM';
}

export interface PromotionWorld {
  tasks: Record<string, Task>;
  events: { detailType: string }[];
  policies: Map<string, LivePolicy>;
}

const DECLARED = statementHash('declared statement');
const BEFORE = statementHash('previous statement');

/** The promotion tasks by serverless.yml function key. */
export function promotionWorld(o: PromotionWorldOptions): PromotionWorld {
  const { clock, declaration } = o;
  const policy = declaration.policies[0];
  const policies = new Map<string, LivePolicy>([[policy.name, {
    policyId: `${policy.name}-a1b2c3d4e5`, name: policy.name, status: 'ACTIVE', enforcementMode: 'ACTIVE', statementHash: BEFORE, statement: o.previousStatement,
  }]]);
  const events: { detailType: string }[] = [];
  const now = () => new Date(clock.now());
  let ids = 0;

  const tasks: Record<string, Task> = {
    promotionPreflight: (i: { request: any; executionArn: string }) => promotionPreflight({
      request: i.request, executionArn: i.executionArn, declaration, policy, declaredHash: DECLARED,
      engine: { status: 'ACTIVE' }, live: policies.get(policy.name), trial: policies.get(`${policy.name}_next`),
      runningExecutions: [], gateways: declaration.promotion.gateways.map((id) => ({ id, arn: o.gatewayArn(id) })), eventBusName: 'default',
    }),
    promotionWrite: (i: WriteInput): PolicyProgress => {
      const ctx = i.promotion;
      const plan = planWrite(i.action, ctx, policies.get(ctx.policyName), policies.get(ctx.trialName));
      for (const call of plan.calls) {
        if (call.op === 'create') {
          policies.set(call.name, { policyId: `${call.name}-${String(ids++).padStart(10, '0')}`, name: call.name, status: 'CREATING', enforcementMode: 'LOG_ONLY', statementHash: DECLARED });
        } else if (call.op === 'update') {
          const p = policies.get(call.name)!;
          const hash = call.statement === 'declared' ? DECLARED : call.statement === 'before' ? ctx.before.statementHash : p.statementHash;
          policies.set(call.name, { ...p, status: 'UPDATING', enforcementMode: call.enforcementMode ?? p.enforcementMode, statementHash: hash });
        } else {
          policies.delete(call.name);
        }
      }
      return {
        ready: false, attempt: 0, deadline: new Date(clock.now() + ctx.plan.readyTimeoutSeconds * 1000).toISOString(),
        policyName: plan.waitFor, policyId: policies.get(plan.waitFor)?.policyId ?? null, changed: plan.calls.length > 0,
        ...(plan.report && { restore: plan.report }),
      };
    },
    // Settles at the last poll the loop allows (what functions/app/promotion.ts checkPolicy returns then).
    promotionCheckPolicy: (i: CheckPolicyInput): PolicyProgress => {
      const p = policies.get(i.policyName)!;
      const attempt = i.attempt + 1;
      const base = { attempt, deadline: i.deadline, policyName: i.policyName, policyId: p.policyId, checkedAt: now().toISOString() };
      if (attempt < i.maxAttempts) return { ready: false, status: p.status, ...base };
      if (i.expect && (p.enforcementMode !== i.expect.enforcementMode || p.statementHash !== i.expect.statementHash)) throw new Error('restore not applied');
      policies.set(i.policyName, { ...p, status: 'ACTIVE' });
      return { ready: true, status: 'ACTIVE', ...base };
    },
    // INCONCLUSIVE (too few decisions) until the extensions run out; then LOG_ONLY passes and ACTIVE
    // fails (the deny ratio spikes, the alarms are in ALARM).
    promotionVerify: (i: PromotionVerifyInput) => {
      const used = i.previous?.extensionsUsed ?? 0;
      const last = used >= i.promotion.settings.maxBakeExtensions;
      const window = { start: new Date(clock.now() - 60_000).toISOString(), end: now().toISOString() };
      const plan = promotionQueries(promotionStreams(i.promotion, i.stage, i.policyId ?? ''), window);
      const active = i.stage === 'ACTIVE' && last;
      const allow = last ? 1000 : 10;
      const results = [
        { Id: 'matches', Values: [500] }, { Id: 'flips', Values: [0] }, { Id: 'failures', Values: [0] },
        ...i.promotion.gateways.flatMap((_, n) => [{ Id: `allow_${n}`, Values: [active ? allow / 2 : allow] }, { Id: `deny_${n}`, Values: [active ? allow / 2 : 0] }]),
      ];
      const alarmState = active ? o.activeAlarms ?? 'OK' : 'OK';
      const alarms = Object.fromEntries(i.promotion.settings.alarms.map((a) => [a, alarmState]));
      return promotionVerifyResult(i, promotionFigures(plan, results, [], alarms), window);
    },
    promotionPublish: (i: any) => {
      if (i.taskToken) {
        // The approval: answered just before it would time out.
        void clock.sleep(i.approvalTimeoutSeconds * 1000 - 1000).then(() => o.approve(i.taskToken));
      }
      const e = i.state ? promotionEvent(i.detailType as PromotionDetailType, i.state as PromotionState, i.stage) : promotionRefusedEvent(i.failure);
      events.push({ detailType: e.detailType });
      return { published: true, eventIds: [`e${events.length}`] };
    },
  };
  return { tasks, events, policies };
}
