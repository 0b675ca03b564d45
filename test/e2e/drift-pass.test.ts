/**
 * A drift pass larger than one run, end to end: the scheduled correctDrift run checks what it may
 * (here `drift.resourcesPerRun`), starts the drift-scan state machine with its cursor, and the
 * machine's runs go on until every declared resource is checked, in a bounded number of runs,
 * with the corrections cap holding for the whole pass.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../local/clock.ts';
import { startStack, type Stack } from '../../local/stack.ts';
import { buildWorld, gatewayId, runtimeId, Scratch, type WorldGateway, type WorldRuntime } from '../../bench/lib/world.ts';
import { autopilotEvents, executionHistory, stateTransitions } from '../../bench/lib/stack.ts';

type Result = {
  summary: Record<string, unknown>;
  cursor: { next: number; total: number; runs: number } | null;
  pass: { run: number; from: number; to: number; total: number; continuedBy?: string };
  notes: string[];
};

let stack: Stack | undefined;
let scratch: Scratch | undefined;
afterEach(async () => {
  await stack?.close();
  scratch?.dispose();
  stack = undefined;
});

/** `runtimes` + `gateways`, every one with a drifted description, drift mode correct. */
async function fleet(runtimes: number, gateways: number, drift: Record<string, unknown>, opts: { clock?: VirtualClock } = {}): Promise<Stack> {
  const rts: WorldRuntime[] = Array.from({ length: runtimes }, (_, i) => ({ index: i, spec: { drift: 'correct', desired: { description: `declared ${i}` } } }));
  const gws: WorldGateway[] = Array.from({ length: gateways }, (_, i) => ({ index: i, spec: { drift: 'correct', desired: { description: `declared gw ${i}` } } }));
  const world = buildWorld({ runtimes: rts, gateways: gws, drift: { mode: 'correct', ...drift } });
  scratch = new Scratch();
  stack = await startStack({ seed: world.seed, configFile: scratch.writeConfig(world.config), ...(opts.clock && { clock: opts.clock }) });
  return stack;
}

const description = (s: Stack, i: number) => (s.agentcore.latest(s.agentcore.findRuntime(runtimeId(i))!).config as { description?: string }).description;
const gwDescription = (s: Stack, i: number) => (s.agentcore.gatewayView(s.agentcore.findGateway(gatewayId(i))!) as { description?: string }).description;
const driftRuns = (s: Stack) => s.lambda.invocations.filter((inv) => inv.functionKey === 'correctDrift');

describe('a drift pass larger than one run', () => {
  it('goes on in the drift-scan state machine until every resource is checked, each run where the last stopped', async () => {
    const s = await fleet(6, 2, { resourcesPerRun: 3, concurrency: 1, maxCorrectionsPerRun: 100 });
    const first = await s.lambda.invoke('correctDrift', { trigger: 'schedule' }) as Result;
    expect(first.pass).toMatchObject({ run: 1, from: 0, to: 3, total: 8 });
    expect(first.cursor).toMatchObject({ next: 3, total: 8, runs: 1 });
    expect(first.pass.continuedBy).toMatch(/^drift-\d+-schedule$/);
    expect(first.summary).toMatchObject({ resources: 3, corrected: 3 });
    await s.settle();

    // 8 resources, 3 per run: 3 runs in all, the last two by the state machine.
    expect(driftRuns(s)).toHaveLength(3);
    const execution = s.sfn.listExecutions().find((e) => e.name === first.pass.continuedBy)!;
    expect(execution.status).toBe('SUCCEEDED');
    const history = await executionHistory(s, execution.executionArn);
    expect(stateTransitions(history)).toBe(2 * 3 + 1); // two runs of ContinuePass/CarryCursor/IsPassDone, then PassDone
    // The machine's first run may ask while the run that started it is still finishing: at reserved
    // concurrency 1 Lambda throttles it, and the state's Retry tries again (as on AWS). Nothing else fails.
    const failed = history.filter((e) => e.type === 'LambdaFunctionFailed');
    for (const e of failed) expect(e.lambdaFunctionFailedEventDetails?.error).toBe('Lambda.TooManyRequestsException');
    for (let i = 0; i < 6; i++) expect(description(s, i)).toBe(`declared ${i}`);
    for (let i = 0; i < 2; i++) expect(gwDescription(s, i)).toBe(`declared gw ${i}`);
    expect(autopilotEvents(s).filter((e) => e.detailType === 'Drift Corrected')).toHaveLength(8);
    // The machine carried only the compact result (summary and cursor), never the plan.
    expect(JSON.stringify(history)).not.toMatch(/"plan"/);
  });

  it('holds maxCorrectionsPerRun for the whole pass, not per run', async () => {
    const s = await fleet(6, 0, { resourcesPerRun: 2, concurrency: 1, maxCorrectionsPerRun: 3 });
    await s.lambda.invoke('correctDrift', { trigger: 'schedule' });
    await s.settle();
    expect(driftRuns(s)).toHaveLength(3);
    const corrected = Array.from({ length: 6 }, (_, i) => description(s, i)).filter((d, i) => d === `declared ${i}`);
    expect(corrected).toHaveLength(3);
    const skipped = autopilotEvents(s).filter((e) => e.detailType === 'Drift Detected');
    expect(skipped).toHaveLength(6);
  });

  it('a scheduled run while a pass is still going on checks nothing', async () => {
    const clock = new VirtualClock({ mode: 'manual' });
    const s = await fleet(2, 0, {}, { clock });
    // A pass parked in the drift-scan machine (its run waits on a clock nobody moves).
    const arn = s.stateMachineArn('driftScan');
    s.sfn.registerStateMachine({ name: arn.split(':').pop()!, arn, definition: { StartAt: 'Park', States: { Park: { Type: 'Wait', Seconds: 3600, End: true } } } });
    s.sfn.startExecution({ stateMachineArn: arn, name: 'drift-parked', input: '{}' });
    s.emulator.resetCounters();
    const r = await s.lambda.invoke('correctDrift', { trigger: 'schedule' }) as Result;
    expect(r.summary).toMatchObject({ resources: 0 });
    expect(r.notes.join('\n')).toMatch(/drift pass is still going on \(drift-parked\)/);
    expect(s.emulator.count('GetAgentRuntime')).toBe(0);
    // An on-demand check still runs.
    const onDemand = await s.lambda.invoke('correctDrift', { 'detail-type': 'Drift Check Requested', source: 'agentcore-autopilot', detail: { reportOnly: true } }) as Result;
    expect(onDemand.summary).toMatchObject({ resources: 2 });
  });

  it('refuses a continuation whose cursor is malformed', async () => {
    const s = await fleet(2, 0, {});
    await expect(s.lambda.invoke('correctDrift', { trigger: 'schedule', scan: { cursor: { pass: 'x', next: -1 } } })).rejects.toThrow();
    expect(s.emulator.count('GetAgentRuntime')).toBe(0);
  });
});
