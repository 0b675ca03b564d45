/**
 * `autopilot rollout` through the CLI's `main`, against the local stack (AWS_ENDPOINT_URL in the
 * command's environment), running the real state machine and handlers.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../cli/autopilot.ts';
import type { CliIO } from '../../cli/types.ts';
import {
  ENGINE_ARN, GATEWAY_ID, GatedClock, finished, gatewayUpdates, liveGateway, rolloutEvents, rolloutStack, scriptTraffic, type RolloutStack,
} from '../e2e/rollout-fixture.ts';

let r: RolloutStack | undefined;

/** The real bin in a child process (async: the stack answers from this process). */
function runBin(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(fileURLToPath(new URL('../../cli/bin/autopilot', import.meta.url)), args, { env: { PATH: '/usr/bin:/bin', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
afterEach(async () => {
  await r?.close();
  r = undefined;
});

async function cli(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
    env: { ...(r ? r.stack.env : {}), AUTOPILOT_CONFIG_FILE: r?.stack.configFile ?? '', USER: 'alice', ...env },
    isTTY: false,
  };
  const code = await main(['rollout', ...argv], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('autopilot rollout', () => {
  it('--help lists the subcommands and exit codes; usage errors exit 2 with no AWS call', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const word of ['start', 'status', 'approve', 'reject', 'abort', 'Exit codes', '--bake-minutes', '--dry-run', '--wait']) {
      expect(help.out).toContain(word);
    }
    expect((await cli([])).code).toBe(2);
    expect((await cli(['launch'])).err).toContain("unknown subcommand 'launch'");
    const noGateway = await cli(['start']);
    expect(noGateway.code).toBe(2);
    expect(noGateway.err).toContain('--gateway');
    expect((await cli(['start', '--gateway', GATEWAY_ID, '--bake-minutes', 'soon'])).err).toContain('--bake-minutes must be a number');
    expect((await cli(['status', '--bogus'])).code).toBe(2);
    expect(help.out).toMatch(/1 +error: .*no rollout found for the gateway/);
    expect(help.out).toMatch(/2 +usage error: .*invalid option value/);
    expect(help.out).toMatch(/3 +refused: /);
  });

  it('start --wait runs to ENFORCED; the same request again is refused as already ran (exit 3); bad option values exit 2', async () => {
    r = await rolloutStack();
    scriptTraffic(r.stack, { allowed: 10, denied: 0.1 });
    const run = await cli(['start', '--gateway', GATEWAY_ID, '--bake-minutes', '20', '--enforce-bake-minutes', '10', '--wait', '--poll-ms', '5']);
    expect(run.code).toBe(0);
    expect(run.out).toContain('-> ENFORCED');
    expect(run.out).toMatch(/Shadow +PASS \(PROCEED\): \d+ decisions, deny ratio 0\.\d+%/);
    expect((await liveGateway(r)).policyEngineConfiguration).toEqual({ arn: ENGINE_ARN, mode: 'ENFORCE' });

    const again = await cli(['start', '--gateway', GATEWAY_ID, '--bake-minutes', '20', '--enforce-bake-minutes', '10', '--json']);
    expect(again.code).toBe(3);
    expect(JSON.parse(again.out)).toMatchObject({ status: 'ALREADY_RAN', executionStatus: 'SUCCEEDED' });

    const executions = r.stack.sfn.listExecutions().length;
    const bad = await cli(['start', '--gateway', GATEWAY_ID, '--max-deny-ratio', '7', '--attempt', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('autopilot rollout start: invalid option value: --max-deny-ratio: must be at most 1');
    expect(bad.err).toContain("Run 'autopilot rollout start --help'");
    const several = await cli(['start', '--gateway', GATEWAY_ID, '--bake-minutes', '0', '--attempt', 'x y', '--json']);
    expect(several.code).toBe(2);
    expect(JSON.parse(several.out)).toEqual({
      error: 'UsageError',
      message: 'invalid option value: --attempt must be 1-40 letters, digits, or . _ : -; --bake-minutes: must be at least 1',
    });
    const badIds = await cli(['start', '--gateway', 'not a gateway', '--engine', 'nope']);
    expect(badIds.code).toBe(2);
    expect(badIds.err).toContain('--gateway must be a gateway id; --engine must be a policy engine ARN');
    // Nothing started for any of them.
    expect(r.stack.sfn.listExecutions()).toHaveLength(executions);
  });

  it('status of an unknown gateway or execution is "not found" (exit 1), not a refusal', async () => {
    r = await rolloutStack();
    const unknown = await cli(['status', '--gateway', 'gw-unknown-a1b2c3d4e5']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe(`autopilot rollout status: No rollout found for gateway gw-unknown-a1b2c3d4e5: ${r.stateMachineArn} has no execution for it (check the gateway id, --stage or --state-machine)`);
    const json = await cli(['approve', '--gateway', 'gw-unknown-a1b2c3d4e5', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({ error: 'NotFound' });
    const missing = `${r.stateMachineArn.replace(':stateMachine:', ':execution:')}:nope`;
    const noExecution = await cli(['status', '--execution', missing]);
    expect(noExecution.code).toBe(1);
    expect(noExecution.err).toBe(`autopilot rollout status: No execution ${missing}`);
    const garbage = await cli(['abort', '--execution', 'garbage']);
    expect(garbage.code).toBe(2);
    expect(garbage.err).toContain('--execution must be a Step Functions execution ARN (got "garbage")');
    expect((await cli(['status', '--gateway', GATEWAY_ID, '--interval', '0'])).code).toBe(2);
  });

  it('status shows the stage, time left in the bake and the last figures', async () => {
    // Freeze time at the 45-minute shadow bake, then at the approval.
    const clock = new GatedClock(45 * 60_000);
    r = await rolloutStack({ clock });
    scriptTraffic(r.stack, { allowed: 10, denied: 0.1 });
    const started = await cli(['start', '--gateway', GATEWAY_ID, '--bake-minutes', '45', '--approval', '--json']);
    expect(started.code).toBe(0);
    const { executionArn } = JSON.parse(started.out) as { executionArn: string };
    // The clock stopped when the bake's Wait began.
    for (let i = 0; i < 500 && r.stack.sfn.getExecution(executionArn)!.history.at(-1)?.type !== 'WaitStateEntered'; i++) {
      await new Promise((res) => setTimeout(res, 5));
    }

    const baking = await cli(['status', '--gateway', GATEWAY_ID, '--json']);
    expect(baking.code).toBe(0);
    expect(JSON.parse(baking.out)).toMatchObject({ status: 'RUNNING', stage: 'SHADOW_BAKE', state: 'BakeShadow', bakeSecondsLeft: 45 * 60, approvalPending: false });
    await clock.inner.advance(15 * 60_000);
    const human = await cli(['status', '--gateway', GATEWAY_ID]);
    expect(human.out).toContain('Stage    SHADOW_BAKE (BakeShadow)');
    expect(human.out).toContain('Bake     30m 00s left');
    // Another process (the CLI as people run it) counts down on the stack's clock, not its own.
    const child = await runBin(['rollout', 'status', '--gateway', GATEWAY_ID, '-o', 'json'], { ...r.stack.env, AUTOPILOT_CONFIG_FILE: r.stack.configFile });
    expect(child.code).toBe(0);
    const seen = JSON.parse(child.stdout) as { stage: string; bakeSecondsLeft: number };
    expect(seen.stage).toBe('SHADOW_BAKE');
    // The stack's 30 minutes, less the few wall seconds between reading its clock and computing.
    expect(seen.bakeSecondsLeft).toBeGreaterThan(30 * 60 - 15);
    expect(seen.bakeSecondsLeft).toBeLessThanOrEqual(30 * 60);

    // Let the bake finish; the approval (60 min by default) then runs out unanswered.
    clock.resume();
    const done = await finished(r, executionArn);
    expect(done.output).toMatchObject({ outcome: 'ABORTED', approval: { Error: 'States.Timeout' } });
    const final = await cli(['status', '--execution', executionArn]);
    expect(final.out).toContain('Status   SUCCEEDED -> ABORTED');
    expect(final.out).toMatch(/Shadow +PASS \(PROCEED\): [\d.]+ decisions, deny ratio 0\.\d+%/);
    // Every figure names the stream it was read from.
    expect(final.out).toMatch(new RegExp(`denyRatio +[0-9.]+ +DenyDecisions\\{Mode=LOG_ONLY,OperationName=AuthorizeAction,TargetResource=${GATEWAY_ID}\\}`));
    expect(gatewayUpdates(r.stack)).toEqual([]);
  });

  it('approve / reject answer the pending approval; abort stops and restores', async () => {
    const clock = new GatedClock(24 * 3600_000);
    r = await rolloutStack({ clock });
    scriptTraffic(r.stack, { allowed: 10, denied: 0.1 });
    const args = ['--gateway', GATEWAY_ID, '--approval', '--approval-timeout-minutes', String(24 * 60)];
    const startAndPark = async (attempt: string) => {
      clock.resume();
      expect((await cli(['start', ...args, '--attempt', attempt])).code).toBe(0);
      await r!.stack.settle();
      const status = JSON.parse((await cli(['status', '--gateway', GATEWAY_ID, '--json'])).out);
      expect(status).toMatchObject({ status: 'RUNNING', stage: 'AWAITING_APPROVAL', approvalPending: true, shadow: { verdict: 'PASS' } });
      expect(status.shadow.report.decisions).toBeGreaterThanOrEqual(590);
      return status.executionArn as string;
    };

    // Approvals go through the approval URL, signed with the caller's credentials: only listed
    // approvers are answered (the local identity `approver`), and the rollout records who answered.
    const APPROVER = { AWS_ACCESS_KEY_ID: 'approver' };
    const APPROVER_ARN = 'arn:aws:sts::123456789012:assumed-role/platform-approver/approver';

    // Rejected: ABORTED, nothing enforced. The operator (not an approver) is refused first.
    const first = await startAndPark('1');
    const notApprover = await cli(['reject', '--execution', first, '--reason', 'not today']);
    expect(notApprover).toMatchObject({ code: 3, err: expect.stringContaining('is not an approver') });
    expect((await cli(['reject', '--execution', first, '--reason', 'not today'], APPROVER)).code).toBe(0);
    clock.resume();
    const rejected = await finished(r, first);
    expect(rejected.output).toMatchObject({ outcome: 'ABORTED', approval: { Error: 'ApprovalRejectedError' } });
    expect(JSON.parse((rejected.output!.approval as { Cause: string }).Cause)).toMatchObject({ rejectedBy: APPROVER_ARN, reason: 'not today' });
    expect((await cli(['reject', '--execution', first], APPROVER)).code).toBe(3);

    // Aborted while waiting: it changed nothing, so nothing is restored.
    await startAndPark('2');
    const aborted = await cli(['abort', '--gateway', GATEWAY_ID, '--json']);
    expect(aborted.code).toBe(0);
    expect(JSON.parse(aborted.out).restore).toMatchObject({ action: 'unchanged', field: 'policyEngineConfiguration' });
    expect(JSON.parse((await cli(['status', '--gateway', GATEWAY_ID, '--json'])).out).status).toBe('ABORTED');
    // A stopped execution runs none of its own publish states: the abort publishes its outcome.
    const abortedEvents = rolloutEvents(r.stack).filter((e) => e.detailType === 'Policy Rollout Aborted' && e.detail.rolloutId === JSON.parse(aborted.out).aborted.split(':').at(-1));
    expect(abortedEvents).toHaveLength(1);
    expect(abortedEvents[0].detail).toMatchObject({ outcome: 'ABORTED', abortedBy: 'alice', error: { error: 'RolloutAborted' }, restore: { action: 'unchanged' } });
    expect((await cli(['abort', '--gateway', GATEWAY_ID])).code).toBe(3);
    expect(gatewayUpdates(r.stack)).toEqual([]);

    // Approved: ENFORCED, with who and why.
    const third = await startAndPark('3');
    const approved = await cli(['approve', '--gateway', GATEWAY_ID, '--comment', 'looks good'], APPROVER);
    expect(approved).toMatchObject({ code: 0, out: expect.stringContaining(`Approved by ${APPROVER_ARN}`) });
    clock.resume();
    const done = await finished(r, third);
    expect(done.output).toMatchObject({ outcome: 'ENFORCED', approval: { approved: true, answer: { approvedBy: APPROVER_ARN, comment: 'looks good' } } });
    expect((await cli(['approve', '--gateway', GATEWAY_ID], APPROVER)).code).toBe(3);
  });

  it('exit codes mean the outcome: a halted rollout is 4 for start --wait and status; --timeout is 5', async () => {
    r = await rolloutStack();
    scriptTraffic(r.stack, { allowed: 10, denied: 10 });
    const halted = await cli(['start', '--gateway', GATEWAY_ID, '--bake-minutes', '20', '--wait', '--poll-ms', '5']);
    expect(halted.code).toBe(4);
    expect(halted.out).toContain('-> HALTED_IN_LOG_ONLY');
    const status = await cli(['status', '--gateway', GATEWAY_ID, '-o', 'json']);
    expect(status.code).toBe(4);
    expect(JSON.parse(status.out)).toMatchObject({ outcome: 'HALTED_IN_LOG_ONLY' });
    expect((await cli(['status', '--gateway', GATEWAY_ID, '--timeout', '1m'])).code).toBe(2); // --timeout needs --watch

    // rollout history / list: the outcome and the gate figures of each rollout.
    const history = await cli(['history', '--gateway', GATEWAY_ID]);
    expect(history.code).toBe(0);
    expect(history.out).toMatch(/^STARTED\s+OUTCOME\s+SHADOW\s+ENFORCE\s+EXECUTION/);
    expect(history.out).toMatch(/HALTED_IN_LOG_ONLY\s+FAIL 50\.0% of \d+\s+-\s+rollout-/);
    const list = JSON.parse((await cli(['list', '-o', 'json'])).out) as { gatewayId: string; outcome: string; shadow: { verdict: string; denyRatio: number } }[];
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ gatewayId: GATEWAY_ID, outcome: 'HALTED_IN_LOG_ONLY', shadow: { verdict: 'FAIL', denyRatio: 0.5 } });
    expect((await cli(['history'])).code).toBe(2);
    expect(JSON.parse((await cli(['list', '--status', 'running', '--json'])).out)).toEqual([]);
  });

  it('status --watch --timeout gives up with exit 5 while the rollout goes on', async () => {
    const clock = new GatedClock(45 * 60_000);
    r = await rolloutStack({ clock });
    scriptTraffic(r.stack, { allowed: 10, denied: 0.1 });
    const started = JSON.parse((await cli(['start', '--gateway', GATEWAY_ID, '--bake-minutes', '45', '--json'])).out) as { executionArn: string };
    const watched = await cli(['status', '--execution', started.executionArn, '--watch', '--interval', '0.01', '--timeout', '100ms', '--json']);
    expect(watched.code).toBe(5);
    expect(JSON.parse(watched.out)).toMatchObject({ error: 'Timeout' });
    expect(watched.err).toMatch(/timed out after 100ms waiting for rollout .* \(stage [A-Z_]+\); it goes on/);
    expect(r.stack.sfn.getExecution(started.executionArn)!.status).toBe('RUNNING');
    const bad = await cli(['status', '--execution', started.executionArn, '--watch', '--timeout', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--timeout must be a duration such as 90s, 10m or 1h30m (got "soon")');
    clock.resume();
  });
});
