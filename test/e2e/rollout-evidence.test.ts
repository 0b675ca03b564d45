/**
 * The policy rollout against what AWS publishes and does (issue: "Policy rollouts that work on real
 * AWS"): gates read the documented projections of decisions made by Cedar on gateway traffic, an
 * absent stream is NO_EVIDENCE, an engine that permits nothing is refused before any write, a
 * missing gateway-role permission is reported with its remedy, and a rollback puts back
 * policyEngineConfiguration only (or reports a conflict). All through the real state machine and
 * handlers on the local stack.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UpdateGatewayCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from '../../local/stack.ts';
import type { VirtualClock } from '../../local/clock.ts';
import {
  ENGINE_ARN, GATEWAY_ID, OTHER_ENGINE_ARN, exampleSeed, finished, gatewayUpdates, liveGateway, rolloutEvents, rolloutStack,
  scriptTraffic, type RolloutStack,
} from './rollout-fixture.ts';

let r: RolloutStack | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

async function start(stack: RolloutStack, request: Record<string, unknown> = {}): Promise<string> {
  const result = (await stack.stack.lambda.invoke('startRollout', { gatewayId: GATEWAY_ID, ...request })) as { status: string; executionArn: string };
  expect(result.status).toBe('STARTED');
  return result.executionArn;
}

/** The example config with the support gateway's rollout settings changed. */
function configWith(rollout: Record<string, unknown>): string {
  const doc = parse(readFileSync(path.join(REPO_ROOT, 'autopilot.config.yaml'), 'utf8'));
  Object.assign(doc.gateways[0].policyEngine.rollout, rollout);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'autopilot-evidence-')), 'autopilot.config.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

/** Runs `fn` once `ms` of stack time has passed, holding the clock while it does (a hand edit mid-bake). */
function after(stack: RolloutStack, ms: number, fn: () => Promise<void>): Promise<void> {
  const clock = stack.stack.clock as VirtualClock;
  return clock.sleep(ms).then(async () => {
    const release = clock.hold();
    try {
      await fn();
    } finally {
      release();
    }
  });
}

/** A hand edit through the API: read-modify-write of the live gateway. */
async function editGateway(stack: RolloutStack, edit: (g: Record<string, any>) => void): Promise<void> {
  const live = await liveGateway(stack);
  const { gatewayArn: _a, gatewayId, gatewayUrl: _u, createdAt: _c, updatedAt: _d, status: _s, statusReasons: _r, workloadIdentityDetails: _w, webAclArn: _x, ...body } = live as Record<string, any>;
  edit(body);
  await stack.agentCore.send(new UpdateGatewayCommand({ ...body, gatewayIdentifier: gatewayId } as never));
}

describe('evidence: an absent instrument is not a zero', () => {
  it('no traffic at all: NO_EVIDENCE, the bake extended, then halted in LOG_ONLY with the stream it looked for', async () => {
    r = await rolloutStack();
    const done = await finished(r, await start(r));
    expect(done.output).toMatchObject({ outcome: 'HALTED_IN_LOG_ONLY', shadow: { verdict: 'NO_EVIDENCE', decision: 'STOP', extensionsUsed: 2 } });
    const report = done.output!.shadow!.report;
    expect(report.gates[0]).toMatchObject({ name: 'evidence', value: 'not published', passed: null, published: false });
    expect(report.reasons).toHaveLength(1);
    expect(report.reasons[0]).toMatch(new RegExp(`no policy decision stream is published for gateway ${GATEWAY_ID} in mode LOG_ONLY \\(AllowDecisions\\|DenyDecisions\\{Mode=LOG_ONLY,OperationName=AuthorizeAction,TargetResource=${GATEWAY_ID}\\}\\): check that traffic reaches the gateway`));
    expect(gatewayUpdates(r.stack).some((u) => u.mode === 'ENFORCE')).toBe(false);
  });

  it('traffic flowing, but the gates read a projection AWS never publishes ({Resource: gateway ARN}): NO_EVIDENCE', async () => {
    r = await rolloutStack({ configFile: configWith({ projections: { decisions: { Resource: '{gatewayArn}' } }, maxBakeExtensions: 0 }) });
    scriptTraffic(r.stack, { allowed: 10, denied: 0.1 });
    const done = await finished(r, await start(r));
    expect(done.output).toMatchObject({ outcome: 'HALTED_IN_LOG_ONLY', shadow: { verdict: 'NO_EVIDENCE' } });
    expect(done.output!.shadow!.report.gates[0].stream).toBe(
      'AllowDecisions|DenyDecisions{Resource=arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/gw-support-k1l2m3n4o5}',
    );
    expect(done.output!.shadow!.report.decisions).toBe(0);
  });

  it('mismatches and default denials come from the policies themselves and fail the shadow gates', async () => {
    r = await rolloutStack();
    scriptTraffic(r.stack, { allowed: 10, mismatched: 1, noDetermining: 0.5 });
    const done = await finished(r, await start(r));
    expect(done.output).toMatchObject({ outcome: 'HALTED_IN_LOG_ONLY', shadow: { verdict: 'FAIL' } });
    const gates = Object.fromEntries(done.output!.shadow!.report.gates.map((g) => [g.name, g]));
    expect(gates.mismatchErrors).toMatchObject({ passed: false, stream: `MismatchErrors{OperationName=AuthorizeAction,PolicyEnforcementMode=ACTIVE,TargetResource=${GATEWAY_ID}}`, published: true });
    expect(gates.mismatchErrors.value).toBeGreaterThanOrEqual(59);
    expect(gates.noDeterminingPolicies).toMatchObject({ passed: false, published: true });
  });
});

describe('preflight against the policy APIs', () => {
  it('an engine with no ACTIVE permit is refused before any write: FAILED, one Policy Rollout Failed event', async () => {
    // Only the forbids stay: Cedar's default deny would then refuse every tool call once enforced.
    r = await rolloutStack({ seed: exampleSeed((s) => { s.policies = s.policies!.filter((p) => !p.statement.trimStart().startsWith('permit')); }) });
    scriptTraffic(r.stack, { allowed: 10 });
    const arn = await start(r);
    const done = await finished(r, arn);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('NoPermittingPolicyError');
    expect(gatewayUpdates(r.stack)).toEqual([]);
    const events = rolloutEvents(r.stack);
    expect(events.map((e) => e.detailType)).toEqual(['Policy Rollout Failed']);
    expect(events[0].detail).toMatchObject({ outcome: 'FAILED', gatewayId: GATEWAY_ID, policyEngineArn: ENGINE_ARN, error: { error: 'NoPermittingPolicyError' } });
    expect(events[0].detail.error.cause).toMatch(/supportPolicies-u1v2w3x4y5 has no ACTIVE policy that permits anything \(it has 2 ACTIVE forbid\): Cedar is default-deny/);
    expect(events[0].detail.error.cause).not.toMatch(/at .*\.ts|stackTrace/);
  });

  it('a gateway role without the Policy actions: the attach fails with the cause and its remedy, not "service unavailable"', async () => {
    r = await rolloutStack({
      seed: exampleSeed((s) => {
        delete (s.gateways![0] as any).config.policyEngineConfiguration;
        (s.settings as any).rolesMissingPolicyActions = { 'arn:aws:iam::123456789012:role/GatewayRole': ['AuthorizeAction', 'PartiallyAuthorizeActions'] };
      }),
    });
    scriptTraffic(r.stack, { allowed: 10 });
    const done = await finished(r, await start(r));
    expect(done.output).toMatchObject({ outcome: 'ROLLED_BACK', error: { Error: 'GatewayRolePermissionError' }, restore: { action: 'unchanged' } });
    expect(done.output!.error!.Cause).toMatch(/lacks bedrock-agentcore:AuthorizeAction and bedrock-agentcore:PartiallyAuthorizeActions .* add them to the role/);
    // Not retried as an outage: one UpdateGateway per SDK attempt, no Step Functions retries.
    const attempts = r.stack.emulator.requests.filter((q) => q.operation === 'UpdateGateway').length;
    expect(attempts).toBeLessThanOrEqual(3);
  });
});

describe('rollback restores only what the rollout changed', () => {
  it('a hand edit of the description during the shadow bake survives ENFORCE', async () => {
    r = await rolloutStack();
    scriptTraffic(r.stack, { allowed: 10, denied: 0.1 });
    const edited = after(r, 20 * 60_000, () => editGateway(r!, (g) => { g.description = 'Support tools (edited by hand)'; }));
    const done = await finished(r, await start(r));
    await edited;
    expect(done.output?.outcome).toBe('ENFORCED');
    const live = await liveGateway(r);
    expect(live).toMatchObject({ description: 'Support tools (edited by hand)', policyEngineConfiguration: { arn: ENGINE_ARN, mode: 'ENFORCE' } });
    // The edit landed before the switch, and the switch carried it (read-merge-write).
    const enforce = gatewayUpdates(r.stack).find((u) => u.mode === 'ENFORCE')!;
    expect(enforce.input.description).toBe('Support tools (edited by hand)');
  });

  it('a hand edit of the description during the ENFORCE bake survives the rollback (policyEngineConfiguration alone goes back)', async () => {
    r = await rolloutStack();
    scriptTraffic(r.stack, { allowed: 10, denied: 0.1 });
    r.stack.cloudwatch.scriptAlarm('support-gateway-errors', [{ at: '-1m', state: 'OK' }, { at: '+70m', state: 'ALARM' }]);
    const edited = after(r, 65 * 60_000, () => editGateway(r!, (g) => { g.description = 'Edited during the enforce bake'; g.exceptionLevel = undefined; }));
    const done = await finished(r, await start(r, { settings: { alarms: ['support-gateway-errors'] } }));
    await edited;
    expect(done.output).toMatchObject({ outcome: 'ROLLED_BACK', restore: { action: 'restored', from: { mode: 'ENFORCE' }, to: { mode: 'LOG_ONLY' } } });
    const live = await liveGateway(r);
    expect(live.description).toBe('Edited during the enforce bake');
    expect(live.exceptionLevel).toBeUndefined();
    expect(live.policyEngineConfiguration).toEqual({ arn: ENGINE_ARN, mode: 'LOG_ONLY' });
    const restoreUpdate = gatewayUpdates(r.stack).at(-1)!;
    expect(restoreUpdate).toMatchObject({ mode: 'LOG_ONLY', input: { description: 'Edited during the enforce bake' } });
    expect(restoreUpdate.input.exceptionLevel).toBeUndefined();
    const last = rolloutEvents(r.stack).at(-1)!;
    expect(last.detail.restore).toEqual({ action: 'restored', field: 'policyEngineConfiguration', from: { arn: ENGINE_ARN, mode: 'ENFORCE' }, to: { arn: ENGINE_ARN, mode: 'LOG_ONLY' } });
  });

  it('someone else changes policyEngineConfiguration during the rollout: CONFLICT, nothing overwritten, one Conflict event', async () => {
    r = await rolloutStack();
    scriptTraffic(r.stack, { allowed: 10, denied: 0.1 });
    r.stack.cloudwatch.scriptAlarm('support-gateway-errors', [{ at: '-1m', state: 'OK' }, { at: '+70m', state: 'ALARM' }]);
    const edited = after(r, 65 * 60_000, () => editGateway(r!, (g) => { g.policyEngineConfiguration = { arn: OTHER_ENGINE_ARN, mode: 'LOG_ONLY' }; }));
    const done = await finished(r, await start(r, { settings: { alarms: ['support-gateway-errors'] } }));
    await edited;
    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toMatchObject({
      outcome: 'CONFLICT',
      restore: { action: 'conflict', from: { arn: OTHER_ENGINE_ARN, mode: 'LOG_ONLY' }, to: { arn: ENGINE_ARN, mode: 'LOG_ONLY' } },
    });
    expect((await liveGateway(r)).policyEngineConfiguration).toEqual({ arn: OTHER_ENGINE_ARN, mode: 'LOG_ONLY' });
    // The rollout's own updates: ENFORCE only (the restore wrote nothing).
    expect(gatewayUpdates(r.stack).filter((u) => u.mode === 'ENFORCE' || u.input.policyEngineConfiguration?.arn === ENGINE_ARN).map((u) => u.mode)).toEqual(['ENFORCE']);
    const events = rolloutEvents(r.stack);
    expect(events.at(-1)).toMatchObject({ detailType: 'Policy Rollout Conflict', detail: { outcome: 'CONFLICT', restore: { action: 'conflict' } } });
    expect(events.filter((e) => e.detail.outcome !== null)).toHaveLength(1);
  });
});
