/**
 * Requests are authenticated: they reach autopilot only through the stack's request bus, whose
 * resource policy (resources/requests.yml, evaluated by the local EventBridge for the caller of
 * the signed PutEvents call) admits only serverless.yml's requestPrincipals and only the request
 * source; the rules also pin the account. Requests are scoped: only declared runtimes, gateways and
 * engines, settings that only tighten the declared ones. Anything else makes no AgentCore call and
 * is reported by a `Request Refused` outcome event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../local/stack.ts';
import { SEED, SUPPORT } from './drift-fixtures.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ seed: SEED });
});
afterAll(() => stack?.close());

const change = { runtime: { id: SUPPORT }, change: { set: { description: 'changed by request' } }, requestId: 'ticket-1' };
const agentCoreCalls = () => stack.emulator.requests.filter((r) => r.service === 'bedrock-agentcore-control').length;
const refusals = () => stack.events.events.filter((e) => e.event['detail-type'] === 'Request Refused').map((e) => e.event);
const rolloutStarts = () => stack.sfn.listExecutions().filter((e) => e.stateMachineArn.endsWith(':policy-rollout') || e.stateMachineArn.endsWith('-policy-rollout')).length;
const writes = () => stack.emulator.count('UpdateAgentRuntime') + stack.emulator.count('UpdateGateway');
const invocations = () => stack.lambda.invocations.length;

describe('the request bus', () => {
  it('refuses a forged request from a principal that is not listed: AccessDenied, no handler, no AgentCore call', async () => {
    const [w, i] = [writes(), invocations()];
    const out = await stack.request('Runtime Change Requested', change, { accessKeyId: 'intruder' });
    expect(out).toMatchObject({
      ErrorCode: 'AccessDeniedException',
      ErrorMessage: expect.stringMatching(/User: arn:aws:iam::123456789012:user\/mallory is not authorized to perform: events:PutEvents on resource: arn:aws:events:us-east-1:123456789012:event-bus\/agentcore-autopilot-dev-requests with an explicit deny/),
    });
    expect(out.EventId).toBeUndefined();
    await stack.settle();
    expect([writes(), invocations()]).toEqual([w, i]);
    expect(stack.events.events.filter((e) => e.bus === stack.requestBus && e.event['detail-type'] === 'Runtime Change Requested')).toEqual([]);
  });

  it('refuses another source from a listed principal (outcome events cannot pose as requests)', async () => {
    const out = await stack.request('Runtime Change Requested', change, { source: 'agentcore-autopilot' });
    expect(out.ErrorCode).toBe('AccessDeniedException');
  });

  it('refuses an unknown access key outright', async () => {
    await expect(stack.request('Drift Check Requested', {}, { accessKeyId: 'AKIA-NOBODY' })).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
  });

  it('ignores a request put on the default bus or coming from another account', async () => {
    const [w, i] = [writes(), invocations()];
    stack.events.put({ source: 'agentcore-autopilot.requests', 'detail-type': 'Runtime Change Requested', detail: change });
    stack.events.put({ source: 'agentcore-autopilot.requests', 'detail-type': 'Runtime Change Requested', account: '999999999999', detail: change }, stack.requestBus);
    await stack.settle();
    expect([writes(), invocations()]).toEqual([w, i]);
  });

  it('accepts the same request from a listed principal (CI) and applies it', async () => {
    const out = await stack.request('Runtime Change Requested', change, { accessKeyId: 'ci' });
    expect(out.EventId).toBeTruthy();
    await stack.settle();
    const result = stack.events.deliveries.find((d) => d.targetId === 'onChangeRequest')?.result as { outcomes: { status: string }[] };
    expect(result.outcomes).toMatchObject([{ status: 'updated' }]);
  });
});

describe('requests are scoped to the config', () => {
  it('refuses a change request for a runtime the config does not declare: no AgentCore call, reported', async () => {
    const [calls, before] = [agentCoreCalls(), refusals().length];
    await stack.request('Runtime Change Requested', { runtime: { id: 'ghostAgent-zzzzzzzzzz' }, change: { set: { description: 'x' } }, requestId: 'ticket-2' });
    await stack.settle();
    expect(agentCoreCalls()).toBe(calls);
    expect(refusals().slice(before)).toMatchObject([{
      source: 'agentcore-autopilot',
      detail: { request: 'Runtime Change Requested', reason: 'undeclared-runtime', resource: 'ghostAgent-zzzzzzzzzz', requestId: 'ticket-2', problems: [expect.stringContaining('not declared')] },
    }]);
    // A refusal is an answer, not a failure: no retries, nothing in the dead-letter queue.
    expect(stack.deadLetters).toEqual([]);
  });

  it('refuses a rollout request for an undeclared gateway or engine: no AgentCore or Step Functions call, reported', async () => {
    const [calls, before, starts] = [agentCoreCalls(), refusals().length, rolloutStarts()];
    await stack.request('Policy Rollout Requested', { gatewayId: 'gw-unknown-a1b2c3d4e5' });
    await stack.request('Policy Rollout Requested', { gatewayId: 'gw-support-k1l2m3n4o5', policyEngineArn: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/billingPolicies-z6a7b8c9d0' });
    await stack.settle();
    expect(agentCoreCalls()).toBe(calls);
    expect(rolloutStarts()).toBe(starts);
    expect(refusals().slice(before).map((e) => e.detail)).toMatchObject([
      { request: 'Policy Rollout Requested', reason: 'undeclared-gateway', resource: 'gw-unknown-a1b2c3d4e5' },
      { request: 'Policy Rollout Requested', reason: 'undeclared-policy-engine', resource: 'gw-support-k1l2m3n4o5' },
    ]);
  });

  it('refuses a loosening rollout request (shorter bake, higher deny ratio, fewer alarms...): reported, nothing started', async () => {
    const [before, starts] = [refusals().length, rolloutStarts()];
    await stack.request('Policy Rollout Requested', { gatewayId: 'gw-support-k1l2m3n4o5', settings: { bakeMinutes: 5, maxDenyRatio: 0.5 } });
    await stack.settle();
    expect(rolloutStarts()).toBe(starts);
    const [refused] = refusals().slice(before);
    expect(refused.detail).toMatchObject({ reason: 'loosening', problems: [
      'settings.bakeMinutes may only be raised from the declared 60',
      'settings.maxDenyRatio may only be lowered from the declared 0.05',
    ] });
  });

  it('starts a tightening rollout request (longer bake, approval on)', async () => {
    const starts = rolloutStarts();
    const out = await stack.request('Policy Rollout Requested', { gatewayId: 'gw-support-k1l2m3n4o5', dryRun: true, settings: { bakeMinutes: 90, maxDenyRatio: 0.01, approval: { required: true } } });
    expect(out.EventId).toBeTruthy();
    await stack.settle();
    expect(rolloutStarts()).toBe(starts + 1);
    const started = stack.events.deliveries.filter((d) => d.targetId === 'startRollout').at(-1)?.result as { status: string };
    expect(started.status).toBe('STARTED');
  });
});
