/**
 * Staged promotion of declared Cedar policies on the local stack: the real startPromotion Lambda
 * starts the real policy-promotion state machine whose tasks are the real handlers; traffic is
 * decided by the real Cedar engine and published as AWS's policy metrics.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINE_ARN, scriptTraffic } from './rollout-fixture.ts';
import {
  livePolicies, promotionConfig, promotionDone, promotionEvents, promotionStack, seededSupportPolicies, startPromotion, type PromotionStack,
} from './promotion-fixture.ts';

let p: PromotionStack | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

const SETTINGS = { bakeMinutes: 30, activeBakeMinutes: 15, minMatches: 20, maxFlipRatio: 0.05, minDecisions: 100, maxBakeExtensions: 1 };
const declare = (policies: Record<string, unknown>[], promotion: Record<string, unknown> = {}) =>
  promotionConfig({ promotion: { ...SETTINGS, ...promotion }, policies: [...seededSupportPolicies(), ...policies] });

describe('policy promotion (LOG_ONLY -> ACTIVE)', () => {
  it('a sound new policy goes LOG_ONLY, passes its gates, then ACTIVE: PROMOTED, every stage published', async () => {
    const statement = 'permit (principal is AgentCore::OAuthUser, action == AgentCore::Action::"tickets___getTicket", resource) when { principal.hasTag("role") };';
    p = await promotionStack(declare([{ name: 'readers', statement }]));
    scriptTraffic(p.stack, { allowed: 10, denied: 0.2 });
    const started = await startPromotion(p, 'readers');
    expect(started.status).toBe('STARTED');
    const done = await promotionDone(p, started.executionArn);

    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toMatchObject({ outcome: 'PROMOTED', change: 'create', logOnly: { verdict: 'PASS' }, active: { verdict: 'PASS' } });
    const gates = Object.fromEntries(done.output!.logOnly!.report.gates.map((g) => [g.name, g]));
    expect(gates.matches.value).toBeGreaterThanOrEqual(200);
    expect(gates.flipRatio.value).toBe(0);
    expect(gates.matches.stream).toMatch(/^LogOnlyMatches\|LogOnlyDecisionFlips\{OperationName=AuthorizeAction,Policy=readers-[a-z0-9_]{10}\}$/);
    expect((await livePolicies(p)).readers).toMatchObject({ enforcementMode: 'ACTIVE', status: 'ACTIVE' });
    expect(promotionEvents(p.stack).map((e) => [e.detailType, e.detail.stage])).toEqual([
      ['Policy Promotion Started', 'STARTED'],
      ['Policy Promotion Stage Passed', 'LOG_ONLY_READY'],
      ['Policy Promotion Stage Passed', 'LOG_ONLY_VERIFIED'],
      ['Policy Promotion Stage Passed', 'ACTIVE_READY'],
      ['Policy Promotion Promoted', 'PROMOTED'],
    ]);
    expect(JSON.stringify(promotionEvents(p.stack))).not.toContain('permit (');
  });

  it('a policy that would deny most current traffic halts in LOG_ONLY on its flips; nothing ever decided by it', async () => {
    const statement = 'forbid (principal, action in AgentCore::Action::"tickets", resource) when { principal.hasTag("role") && principal.getTag("role") == "agent" };';
    p = await promotionStack(declare([{ name: 'lockdown', statement }]));
    scriptTraffic(p.stack, { allowed: 10, denied: 0.2 });
    const done = await promotionDone(p, (await startPromotion(p, 'lockdown')).executionArn);

    expect(done.output).toMatchObject({ outcome: 'HALTED_IN_LOG_ONLY', logOnly: { verdict: 'FAIL', decision: 'STOP' } });
    expect(done.output!.logOnly!.report.reasons.join(' ')).toMatch(/flipRatio is 0\.9\d+, above 0\.05/);
    expect((await livePolicies(p)).lockdown).toMatchObject({ enforcementMode: 'LOG_ONLY' });
    expect(p.stack.emulator.requests.some((q) => q.operation === 'UpdatePolicy')).toBe(false);
    expect(promotionEvents(p.stack).at(-1)).toMatchObject({ detailType: 'Policy Promotion Halted', detail: { outcome: 'HALTED_IN_LOG_ONLY' } });
  });

  it('a policy reading an attribute the calls lack halts on its evaluation failures, though it flips nothing', async () => {
    const statement = 'forbid (principal, action == AgentCore::Action::"tickets___updateTicket", resource) when { context.input.priority > 8 };';
    p = await promotionStack(declare([{ name: 'top_priority', statement }]));
    // Agents update tickets without `priority` (the tool schema requires it; clients omit it).
    scriptTraffic(p.stack, { allowed: 10, mismatched: 2 });
    const done = await promotionDone(p, (await startPromotion(p, 'top_priority')).executionArn);

    expect(done.output).toMatchObject({ outcome: 'HALTED_IN_LOG_ONLY', logOnly: { verdict: 'FAIL' } });
    const gates = Object.fromEntries(done.output!.logOnly!.report.gates.map((g) => [g.name, g]));
    expect(gates.evaluationFailures).toMatchObject({ passed: false, published: true });
    expect(gates.evaluationFailures.value).toBeGreaterThanOrEqual(50);
    expect(gates.flipRatio.value).toBe(0);
    expect(gates['evidence:logOnly']).toMatchObject({ value: 'not published', passed: null });
    expect(done.output!.logOnly!.report.reasons.join(' ')).toMatch(/failed to evaluate on \d+ requests/);
  });

  it('an ACTIVE bake that trips an alarm returns the policy to LOG_ONLY, reporting what was restored', async () => {
    const statement = 'permit (principal is AgentCore::OAuthUser, action == AgentCore::Action::"tickets___getTicket", resource) when { principal.hasTag("role") };';
    p = await promotionStack(declare([{ name: 'readers', statement }], { alarms: ['support-gateway-errors'] }));
    scriptTraffic(p.stack, { allowed: 10, denied: 0.2 });
    // OK through the LOG_ONLY bake (30 min), ALARM during the ACTIVE bake.
    p.stack.cloudwatch.scriptAlarm('support-gateway-errors', [{ at: '-1m', state: 'OK' }, { at: '+40m', state: 'ALARM' }]);
    const done = await promotionDone(p, (await startPromotion(p, 'readers')).executionArn);

    expect(done.output).toMatchObject({
      outcome: 'ROLLED_BACK',
      error: { Error: 'ActiveGatesFailedError' },
      active: { verdict: 'FAIL' },
      restore: { action: 'restored', policyName: 'readers', from: { enforcementMode: 'ACTIVE' }, to: { enforcementMode: 'LOG_ONLY' } },
    });
    expect((await livePolicies(p)).readers).toMatchObject({ enforcementMode: 'LOG_ONLY', status: 'ACTIVE' });
    const last = promotionEvents(p.stack).at(-1)!;
    expect(last).toMatchObject({ detailType: 'Policy Promotion Rolled Back', detail: { outcome: 'ROLLED_BACK', restore: { action: 'restored' } } });
  });

  it('a changed ACTIVE policy is baked as a LOG_ONLY copy while the old statement keeps enforcing, then written in', async () => {
    const declared = seededSupportPolicies().map((x) => (x.name === 'support_agents'
      ? { ...x, statement: 'permit (principal is AgentCore::OAuthUser, action in AgentCore::Action::"tickets", resource) when { principal.hasTag("role") && ["agent", "lead"].contains(principal.getTag("role")) };' }
      : x));
    p = await promotionStack(promotionConfig({ promotion: SETTINGS, policies: declared }));
    scriptTraffic(p.stack, { allowed: 10, denied: 0.2 });
    const before = (await livePolicies(p)).support_agents.statement;
    const done = await promotionDone(p, (await startPromotion(p, 'support_agents')).executionArn);

    expect(done.output).toMatchObject({ outcome: 'PROMOTED', change: 'candidate' });
    const live = await livePolicies(p);
    expect(live.support_agents.statement).toContain('["agent", "lead"]');
    expect(live.support_agents.statement).not.toBe(before);
    expect(live.support_agents_next).toBeUndefined();
    // The copy was created LOG_ONLY; the original was never switched off.
    const writes = p.stack.emulator.requests.filter((q) => q.operation === 'CreatePolicy' || q.operation === 'UpdatePolicy' || q.operation === 'DeletePolicy');
    const policyOf = (q: { input?: unknown; path?: string }) => (q.input as any)?.name ?? String((q.input as any)?.policyId ?? q.path?.split('/').at(-1) ?? '').replace(/-[a-z0-9_]{10}$/, '');
    expect(writes.map((q) => [q.operation, policyOf(q as never), (q.input as any)?.enforcementMode])).toEqual([
      ['CreatePolicy', 'support_agents_next', 'LOG_ONLY'],
      ['UpdatePolicy', 'support_agents', 'ACTIVE'],
      ['DeletePolicy', 'support_agents_next', undefined],
    ]);
  });

  it('refuses a policy the config does not declare, and a dry run reads the gates of a policy already in LOG_ONLY', async () => {
    const statement = 'permit (principal is AgentCore::OAuthUser, action == AgentCore::Action::"tickets___getTicket", resource) when { principal.hasTag("role") };';
    p = await promotionStack(declare([{ name: 'readers', statement, mode: 'ACTIVE' }]), (s) => {
      s.policies!.push({ engine: 'supportPolicies-u1v2w3x4y5', name: 'readers', statement, enforcementMode: 'LOG_ONLY' });
    });
    scriptTraffic(p.stack, { allowed: 10, denied: 0.2 }, '-2h', '+0s');
    await expect(startPromotion(p, 'not_declared')).rejects.toThrow(/not declared/);
    // Through the request bus: an unlisted principal is denied by the bus policy; a listed one
    // naming an undeclared policy is refused and reported (functions/app/requests.ts), no start.
    const request = { policyEngineArn: ENGINE_ARN, policyName: 'not_declared' };
    expect((await p.stack.request('Policy Promotion Requested', request, { accessKeyId: 'intruder' })).ErrorCode).toBe('AccessDeniedException');
    expect((await p.stack.request('Policy Promotion Requested', request)).EventId).toBeTruthy();
    await p.stack.settle();
    expect(p.stack.events.events.filter((e) => e.event['detail-type'] === 'Request Refused').map((e) => e.event.detail)).toMatchObject([
      { request: 'Policy Promotion Requested', reason: 'undeclared-policy', resource: ENGINE_ARN, problems: [expect.stringContaining('not declared')] },
    ]);
    expect(p.stack.sfn.listExecutions()).toEqual([]);
    expect(p.stack.deadLetters).toEqual([]);
    const dry = await startPromotion(p, 'readers', { dryRun: true });
    const done = await promotionDone(p, dry.executionArn);
    expect(done.output).toMatchObject({ outcome: 'WOULD_PROMOTE', dryRun: true, change: 'mode', logOnly: { verdict: 'PASS' } });
    expect(p.stack.emulator.requests.some((q) => ['CreatePolicy', 'UpdatePolicy', 'DeletePolicy'].includes(q.operation))).toBe(false);
    expect(promotionEvents(p.stack)).toEqual([]);
  });
});
