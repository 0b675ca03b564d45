/**
 * `autopilot policy` through the CLI's `main`, against the local stack (AWS_ENDPOINT_URL in the
 * command's environment): the real policy-promotion state machine and handlers, traffic decided by
 * the real Cedar engine and published as AWS's policy metrics.
 */
import { ListPoliciesCommand, UpdatePolicyCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../cli/autopilot.ts';
import type { CliIO } from '../../cli/types.ts';
import { ENGINE_ARN, GatedClock, scriptTraffic } from '../e2e/rollout-fixture.ts';
import {
  ENGINE_ID, livePolicies, promotionConfig, promotionDone, promotionEvents, promotionStack, seededSupportPolicies, type PromotionStack,
} from '../e2e/promotion-fixture.ts';

let p: PromotionStack | undefined;
let configFile = '';
afterEach(async () => {
  await p?.close();
  p = undefined;
});

const SETTINGS = { bakeMinutes: 30, activeBakeMinutes: 15, minMatches: 20, maxFlipRatio: 0.05, minDecisions: 100, maxBakeExtensions: 1 };
const READERS = 'permit (principal is AgentCore::OAuthUser, action == AgentCore::Action::"tickets___getTicket", resource) when { principal.hasTag("role") };';
const LOCKDOWN = 'forbid (principal, action in AgentCore::Action::"tickets", resource) when { principal.hasTag("role") && principal.getTag("role") == "agent" };';

function declare(promotion: Record<string, unknown> = {}): string {
  configFile = promotionConfig({
    promotion: { ...SETTINGS, ...promotion },
    policies: [...seededSupportPolicies(), { name: 'readers', statement: READERS }, { name: 'lockdown', statement: LOCKDOWN }],
  });
  return configFile;
}

async function cli(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
    env: { ...(p ? p.stack.env : {}), AUTOPILOT_CONFIG_FILE: configFile, USER: 'alice', ...env },
    isTTY: false,
  };
  const code = await main(['policy', ...argv], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function enters(executionArn: string, state: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const last = p!.stack.sfn.getExecution(executionArn)!.history.at(-1) as { type?: string; details?: { value?: { name?: string } } } | undefined;
    if (last?.type === 'WaitStateEntered' && last.details?.value?.name === state) return;
    await new Promise((res) => setTimeout(res, 5));
  }
  const h = p!.stack.sfn.getExecution(executionArn)!;
  throw new Error(`${executionArn} never entered ${state}: ${h.status} ${JSON.stringify(h.history.slice(-4))}`);
}

describe('autopilot policy', () => {
  it('--help lists the subcommands and exit codes; usage errors and undeclared policies exit 2 before any AWS call', async () => {
    declare();
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const word of ['promote', 'status', 'approve', 'reject', 'abort', 'list', 'Exit codes']) expect(help.out).toContain(word);
    expect((await cli(['promote', '--help'])).out).toContain('--dry-run');
    expect((await cli([])).code).toBe(2);
    const noPolicy = await cli(['promote']);
    expect(noPolicy.code).toBe(2);
    expect(noPolicy.err).toContain('policy promote needs --policy NAME');
    // No endpoint and no network: an AWS call would be an error (exit 1), not 2.
    const offline = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' };
    const undeclared = await cli(['promote', '--policy', 'not_declared'], offline);
    expect(undeclared.code).toBe(2);
    expect(undeclared.err).toBe(`autopilot policy promote: Policy not_declared is not declared for engine ${ENGINE_ARN} in the config`);
    const badEngine = await cli(['promote', '--policy', 'readers', '--engine', 'nope'], offline);
    expect(badEngine.code).toBe(2);
    expect(badEngine.err).toContain('--engine must be a policy engine ARN (got "nope")');
    const otherEngine = await cli(['promote', '--policy', 'readers', '--engine', ENGINE_ARN.replace('u1v2w3x4y5', 'zzzzzzzzzz')], offline);
    expect(otherEngine.code).toBe(2);
    expect(otherEngine.err).toContain('is not declared in the config (policyEngines)');
    expect((await cli(['promote', '--policy', 'readers', '--attempt', 'a b'], offline)).err).toContain('attempt must be 1-40 letters');
    expect((await cli(['promote', '--policy', 'readers', '--timeout', '1m'], offline)).err).toContain('--timeout needs --wait');
    expect((await cli(['status'], offline)).err).toContain('give --policy NAME or --execution ARN');
    expect((await cli(['abort', '--execution', 'garbage'], offline)).code).toBe(2);
    expect((await cli(['list', '--limit', '0'], offline)).code).toBe(2);
  });

  it('promote --wait runs to PROMOTED; the same request again is refused (exit 3); a halted one is exit 4; list shows both', async () => {
    p = await promotionStack(declare());
    scriptTraffic(p.stack, { allowed: 10, denied: 0.2 });
    const run = await cli(['promote', '--policy', 'readers', '--wait', '--poll-ms', '5']);
    expect(run.code).toBe(0);
    expect(run.out).toContain('Status   SUCCEEDED -> PROMOTED');
    expect(run.out).toContain('Policy   readers (create)');
    expect(run.out).toMatch(/LOG_ONLY PASS \(PROCEED\): \d+ decisions/);
    expect(run.out).toMatch(/matches +\d+ +LogOnlyMatches\|LogOnlyDecisionFlips\{OperationName=AuthorizeAction,Policy=readers-[a-z0-9_]{10}\}/);
    expect((await livePolicies(p)).readers).toMatchObject({ enforcementMode: 'ACTIVE' });

    const again = await cli(['promote', '--policy', 'readers', '--json']);
    expect(again.code).toBe(3);
    expect(JSON.parse(again.out)).toMatchObject({ status: 'ALREADY_RAN', executionStatus: 'SUCCEEDED' });
    const status = await cli(['status', '--policy', 'readers', '-o', 'json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({ policyName: 'readers', change: 'create', stage: 'DONE', outcome: 'PROMOTED', approvalPending: false });

    const halted = await cli(['promote', '--policy', 'lockdown', '--wait', '--poll-ms', '5']);
    expect(halted.code).toBe(4);
    expect(halted.out).toContain('-> HALTED_IN_LOG_ONLY');
    expect(halted.out).toMatch(/flipRatio is 0\.9\d+, above 0\.05/);
    expect((await cli(['status', '--policy', 'lockdown'])).code).toBe(4);

    const list = await cli(['list']);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^POLICY\s+CHANGE\s+STARTED\s+OUTCOME\s+LOG_ONLY\s+ACTIVE\s+EXECUTION/);
    expect(list.out).toMatch(/lockdown\s+create\s+\S+\s+HALTED_IN_LOG_ONLY\s+FAIL of \d+\s+-\s+promote-/);
    expect(list.out).toMatch(/readers\s+create\s+\S+\s+PROMOTED\s+PASS of \d+\s+PASS of \d+\s+promote-/);
    const one = JSON.parse((await cli(['list', '--policy', 'readers', '--json'])).out) as { policyName: string }[];
    expect(one.map((r) => r.policyName)).toEqual(['readers']);
  });

  it('approve / reject answer the pending approval through the approval URL: approvers only, recorded with who and why', async () => {
    // Signed with the caller's credentials (local identities, local/stack.ts): `approver` is listed.
    const APPROVER = { AWS_ACCESS_KEY_ID: 'approver' };
    const APPROVER_ARN = 'arn:aws:sts::123456789012:assumed-role/platform-approver/approver';
    const clock = new GatedClock(24 * 3600_000);
    p = await promotionStack(declare({ approval: { required: true, timeoutMinutes: 24 * 60 } }), undefined, { clock });
    scriptTraffic(p.stack, { allowed: 10, denied: 0.2 });
    const park = async (attempt: string) => {
      clock.resume();
      expect((await cli(['promote', '--policy', 'readers', '--attempt', attempt])).code).toBe(0);
      await p!.stack.settle();
      const s = JSON.parse((await cli(['status', '--policy', 'readers', '--json'])).out);
      expect(s).toMatchObject({ status: 'RUNNING', stage: 'AWAITING_APPROVAL', approvalPending: true, logOnly: { verdict: 'PASS' } });
      expect((await cli(['status', '--policy', 'readers'])).out).toContain(`Approval waiting until `);
      return s.executionArn as string;
    };

    const first = await park('1');
    // The operator (not an approver) and someone else are refused: nothing answered.
    for (const key of ['test', 'intruder']) {
      expect(await cli(['approve', '--policy', 'readers'], { AWS_ACCESS_KEY_ID: key })).toMatchObject({ code: 3, err: expect.stringContaining('is not an approver') });
    }
    expect(JSON.parse((await cli(['status', '--policy', 'readers', '--json'])).out)).toMatchObject({ stage: 'AWAITING_APPROVAL', approvalPending: true });
    expect(await cli(['reject', '--policy', 'readers', '--reason', 'not this week'], APPROVER)).toMatchObject({ code: 0, out: expect.stringContaining(`Rejected by ${APPROVER_ARN}`) });
    clock.resume();
    const rejected = await promotionDone(p, first);
    expect(rejected.output).toMatchObject({ outcome: 'ABORTED' });
    expect(p.stack.events.events.filter((e) => e.event['detail-type'] === 'Policy Promotion Rejected').map((e) => e.event.detail))
      .toMatchObject([{ executionArn: first, decision: 'reject', by: APPROVER_ARN, comment: 'not this week' }]);
    expect((await livePolicies(p)).readers).toMatchObject({ enforcementMode: 'LOG_ONLY' });
    expect((await cli(['status', '--execution', first])).code).toBe(4);
    expect((await cli(['reject', '--execution', first], APPROVER)).code).toBe(3);

    const second = await park('2');
    expect(JSON.parse((await cli(['approve', '--policy', 'readers', '--comment', 'looks good', '--json'], APPROVER)).out)).toEqual({ answered: 'APPROVED', by: APPROVER_ARN, executionArn: second });
    clock.resume();
    const done = await promotionDone(p, second);
    expect(done.output).toMatchObject({ outcome: 'PROMOTED' });
    expect((await livePolicies(p)).readers).toMatchObject({ enforcementMode: 'ACTIVE' });
    expect(p.stack.events.events.filter((e) => e.event['detail-type'] === 'Policy Promotion Approved').map((e) => e.event.detail))
      .toMatchObject([{ executionArn: second, decision: 'approve', by: APPROVER_ARN, comment: 'looks good' }]);
    expect((await cli(['approve', '--policy', 'readers'], APPROVER)).code).toBe(3);
  });

  it('abort in the ACTIVE bake puts the policy back to LOG_ONLY and publishes Aborted; a policy someone else changed is a conflict (exit 3)', async () => {
    const clock = new GatedClock(SETTINGS.activeBakeMinutes * 60_000);
    p = await promotionStack(declare(), undefined, { clock });
    scriptTraffic(p.stack, { allowed: 10, denied: 0.2 });
    const park = async (attempt: string) => {
      clock.resume();
      const started = JSON.parse((await cli(['promote', '--policy', 'readers', '--attempt', attempt, '--json'])).out) as { executionArn: string };
      // The clock stops when the ACTIVE bake's Wait begins (settle() would wait for the end).
      await enters(started.executionArn, 'BakeActive');
      const s = JSON.parse((await cli(['status', '--policy', 'readers', '--json'])).out);
      expect(s).toMatchObject({ status: 'RUNNING', stage: 'ACTIVE_BAKE', state: 'BakeActive', bakeSecondsLeft: SETTINGS.activeBakeMinutes * 60 });
      expect((await livePolicies(p!)).readers).toMatchObject({ enforcementMode: 'ACTIVE' });
      return s.executionArn as string;
    };

    const first = await park('1');
    const aborted = await cli(['abort', '--policy', 'readers', '--reason', 'pager went off']);
    expect(aborted.code).toBe(0);
    expect(aborted.out).toMatch(/^Aborted: .*\nPut back readers: ACTIVE \(statement \w+\) -> LOG_ONLY \(statement \w+\)$/);
    // Nothing runs any more: let time go on so that the UpdatePolicy settles.
    clock.resume();
    await p.stack.settle();
    expect((await livePolicies(p)).readers).toMatchObject({ enforcementMode: 'LOG_ONLY', statement: READERS });
    expect(JSON.parse((await cli(['status', '--execution', first, '--json'])).out)).toMatchObject({ status: 'ABORTED', outcome: 'ABORTED' });
    const events = promotionEvents(p.stack).filter((e) => e.detailType === 'Policy Promotion Aborted');
    expect(events).toHaveLength(1);
    expect(events[0].detail).toMatchObject({ policyName: 'readers', outcome: 'ABORTED', abortedBy: 'alice', reason: 'pager went off', restore: { action: 'restored' } });
    expect((await cli(['abort', '--execution', first])).code).toBe(3);

    // Someone else rewrites the policy during the next ACTIVE bake: the abort leaves it alone.
    const second = await park('2');
    const policyId = (await p.agentCore.send(new ListPoliciesCommand({ policyEngineId: ENGINE_ID }))).policies!.find((x) => x.name === 'readers')!.policyId!;
    await p.agentCore.send(new UpdatePolicyCommand({ policyEngineId: ENGINE_ID, policyId, definition: { cedar: { statement: READERS.replace('tickets___getTicket', 'tickets___listTickets') } } }));
    const conflict = await cli(['abort', '--execution', second, '--json']);
    expect(conflict.code).toBe(3);
    expect(JSON.parse(conflict.out)).toMatchObject({ restore: { action: 'conflict', policyName: 'readers' } });
    expect((await livePolicies(p)).readers.statement).toContain('tickets___listTickets');
  });
});
