/**
 * Approvals are attributable: the task token never goes on a bus; the approveRollout function URL
 * (AuthType AWS_IAM, SigV4-signed requests through the local Lambda stand-in) answers only the
 * approverPrincipals of serverless.yml and records who answered, in the execution and an event.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { functionUrlOf, postToFunctionUrl } from '../../functions/adapters/lambda-url.ts';
import { ENGINE_ARN, GATEWAY_ID, finished, gatewayUpdates, liveGateway, rolloutEvents, rolloutStack, scriptTraffic, GatedClock, type RolloutStack } from './rollout-fixture.ts';

let r: RolloutStack | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

const APPROVAL_MINUTES = 24 * 60;
const APPROVER = 'arn:aws:sts::123456789012:assumed-role/platform-approver/approver';

/** A rollout waiting for approval, and a way to call the approval URL as someone. */
async function waitingRollout() {
  const clock = new GatedClock(APPROVAL_MINUTES * 60_000);
  r = await rolloutStack({ clock });
  scriptTraffic(r.stack, { allowed: 10, denied: 0.1 });
  const started = (await r.stack.lambda.invoke('startRollout', { gatewayId: GATEWAY_ID, settings: { approval: { required: true, timeoutMinutes: APPROVAL_MINUTES } } })) as { executionArn: string };
  await r.stack.settle();
  const region = r.stack.env.AWS_REGION;
  const url = await functionUrlOf('agentcore-autopilot-dev-approveRollout', { region, endpoint: r.stack.url, credentials: { accessKeyId: 'test', secretAccessKey: 'x' } });
  const as = (accessKeyId: string, body: Record<string, unknown>) =>
    postToFunctionUrl(url, body, { region, credentials: { accessKeyId, secretAccessKey: 'x' } });
  return { clock, executionArn: started.executionArn, as };
}

describe('approving a rollout', () => {
  it('keeps the task token off the bus and refuses callers that are not approvers (403, reported), answering nothing', async () => {
    const { executionArn, as } = await waitingRollout();
    const stack = r!.stack;
    expect(JSON.stringify(stack.events.events)).not.toContain('taskToken');

    // Someone else in the account, and the operator who may send requests but not approve.
    for (const key of ['intruder', 'test']) {
      const out = await as(key, { executionArn, decision: 'approve' });
      expect(out).toMatchObject({ status: 403, body: { message: expect.stringContaining('is not an approver') } });
    }
    // A key nobody knows: refused by the URL itself.
    expect(await as('AKIA-NOBODY', { executionArn, decision: 'approve' })).toMatchObject({ status: 403, body: { Message: 'Forbidden' } });
    const refused = stack.events.events.filter((e) => e.event['detail-type'] === 'Request Refused').map((e) => e.event.detail);
    expect(refused).toMatchObject([
      { request: 'Approval', reason: 'not-an-approver', problems: ['arn:aws:iam::123456789012:user/mallory is not one of the approverPrincipals'] },
      { request: 'Approval', reason: 'not-an-approver' },
    ]);
    expect(stack.sfn.getExecution(executionArn)?.status).toBe('RUNNING');
    expect(stack.emulator.count('SendTaskSuccess') + stack.emulator.count('SendTaskFailure')).toBe(0);
    expect(gatewayUpdates(stack).map((u) => u.mode)).toEqual([]);
  });

  it('an approver approves: recorded with the approver\'s identity, then ENFORCE', async () => {
    const { clock, executionArn, as } = await waitingRollout();
    const out = await as('approver', { executionArn, decision: 'approve', comment: 'shadow looks clean' });
    expect(out).toMatchObject({ status: 200, body: { answered: 'APPROVED', by: APPROVER, executionArn } });
    clock.resume();
    const done = await finished(r!, executionArn);
    expect(done.output).toMatchObject({ outcome: 'ENFORCED', approval: { approved: true, answer: { approvedBy: APPROVER, comment: 'shadow looks clean' } } });
    expect((await liveGateway(r!)).policyEngineConfiguration).toEqual({ arn: ENGINE_ARN, mode: 'ENFORCE' });
    const answered = r!.stack.events.events.find((e) => e.event['detail-type'] === 'Policy Rollout Approved');
    expect(answered?.event.detail).toMatchObject({ executionArn, decision: 'approve', by: APPROVER });
    // Answered once: a second answer finds nothing pending.
    expect(await as('approver', { executionArn, decision: 'approve' })).toMatchObject({ status: 409 });
  });

  it('an approver rejects: ABORTED with who and why, never enforced', async () => {
    const { clock, executionArn, as } = await waitingRollout();
    expect(await as('approver', { executionArn, decision: 'reject', comment: 'too many denies' })).toMatchObject({ status: 200, body: { answered: 'REJECTED' } });
    clock.resume();
    const done = await finished(r!, executionArn);
    expect(done.output).toMatchObject({ outcome: 'ABORTED', approval: { Error: 'ApprovalRejectedError' } });
    expect(JSON.parse((done.output!.approval as { Cause: string }).Cause)).toMatchObject({ rejectedBy: APPROVER, reason: 'too many denies' });
    expect(gatewayUpdates(r!.stack).map((u) => u.mode)).not.toContain('ENFORCE');
    expect(rolloutEvents(r!.stack).map((e) => e.detailType)).toEqual(expect.arrayContaining(['Policy Rollout Rejected', 'Policy Rollout Aborted']));
  });

  it('refuses malformed answers and executions of other state machines', async () => {
    const { executionArn, as } = await waitingRollout();
    expect(await as('approver', { executionArn, decision: 'maybe' })).toMatchObject({ status: 400 });
    expect(await as('approver', { executionArn: executionArn.replace('policy-rollout', 'runtime-promotion'), decision: 'approve' })).toMatchObject({ status: 400 });
    expect(r!.stack.sfn.getExecution(executionArn)?.status).toBe('RUNNING');
  });
});

describe('any configured outcome bus', () => {
  it('a bus given by ARN carries the approval event and the answers; the approval still works', async () => {
    const BUS = 'arn:aws:events:us-east-1:123456789012:event-bus/platform-events';
    const clock = new GatedClock(APPROVAL_MINUTES * 60_000);
    r = await rolloutStack({ clock, env: { AUTOPILOT_EVENT_BUS: BUS } });
    r.stack.events.createEventBus(BUS);
    scriptTraffic(r.stack, { allowed: 10, denied: 0.1 });
    const { executionArn } = (await r.stack.lambda.invoke('startRollout', { gatewayId: GATEWAY_ID, settings: { approval: { required: true, timeoutMinutes: APPROVAL_MINUTES } } })) as { executionArn: string };
    await r.stack.settle();
    const onBus = () => r!.stack.events.events.filter((e) => e.bus === 'platform-events').map((e) => e.event['detail-type']);
    expect(onBus()).toEqual(expect.arrayContaining(['Policy Rollout Started', 'Policy Rollout Awaiting Approval']));
    const region = r.stack.env.AWS_REGION;
    const url = await functionUrlOf('agentcore-autopilot-dev-approveRollout', { region, endpoint: r.stack.url, credentials: { accessKeyId: 'approver', secretAccessKey: 'x' } });
    expect(await postToFunctionUrl(url, { executionArn, decision: 'approve' }, { region, credentials: { accessKeyId: 'approver', secretAccessKey: 'x' } })).toMatchObject({ status: 200 });
    clock.resume();
    expect((await finished(r, executionArn)).output).toMatchObject({ outcome: 'ENFORCED' });
    expect(onBus()).toEqual(expect.arrayContaining(['Policy Rollout Approved', 'Policy Rollout Enforced']));
  });
});
