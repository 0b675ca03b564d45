/**
 * The correctDrift Lambda on its serverless.yml schedule rule: the stack fires the schedule from
 * its virtual clock, the real handler runs through the Lambda runner, publishes the drift events
 * and writes one summary log line.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startStack, type Stack } from '../../../local/stack.ts';
import { VirtualClock } from '../../../local/clock.ts';
import { setTimeSource } from '../../../functions/lib/time.ts';
import { SECRET, SEED, SUPPORT, fullConfig, getRuntime, writeConfig } from '../../e2e/drift-fixtures.ts';

let stack: Stack | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  setTimeSource(undefined);
  await stack?.close();
  stack = undefined;
});

describe('correctDrift on the schedule rule', () => {
  it('is wired to a schedule and an on-demand rule', async () => {
    stack = await startStack({ seed: SEED, configFile: writeConfig(fullConfig()) });
    const rules = stack.serverless.eventRules.filter((r) => r.functionKey === 'correctDrift');
    expect(rules.some((r) => r.schedule !== undefined && JSON.stringify(r.input ?? {}).includes('schedule'))).toBe(true);
    expect(rules.some((r) => JSON.stringify(r.pattern ?? {}).includes('Drift Check Requested'))).toBe(true);
  });

  it('runs from the schedule: corrects, publishes redacted events and one summary line', async () => {
    const lines: string[] = [];
    const record = ((chunk: string) => { lines.push(String(chunk)); return true; }) as typeof process.stdout.write;
    vi.spyOn(process.stdout, 'write').mockImplementation(record);
    vi.spyOn(process.stderr, 'write').mockImplementation(record);
    // A manual clock: time moves only when the test says, so exactly one scheduled run fires.
    const clock = new VirtualClock({ mode: 'manual' });
    stack = await startStack({ seed: SEED, configFile: writeConfig(fullConfig()), schedules: true, clock, logLevel: 'DEBUG' });
    setTimeSource(() => clock.now());
    for (let i = 0; i < 24 * 60 && !stack.events.deliveries.some((d) => d.targetId === 'correctDrift'); i++) await clock.advance(60_000);
    await stack.events.whenIdle();
    // The corrected runtime's new version is followed by the promotion state machine, whose waits
    // run on this manual clock: let them pass.
    for (let i = 0; i < 60 && stack.sfn.listExecutions().some((e) => e.status === 'RUNNING'); i++) await clock.advance(15_000);
    await stack.settle();
    await stack.events.stopSchedules();
    const first = stack.events.deliveries.find((d) => d.targetId === 'correctDrift')!;
    expect(first.outcome).toBe('delivered');
    const result = first.result as { trigger: string; summary: Record<string, unknown> };
    expect(result.trigger).toBe("schedule");
    expect(result.summary).toMatchObject({ resources: 3, drifted: 2, failed: 0 });
    const delivered = stack.events.deliveries.filter((d) => d.targetId === 'correctDrift' && d.outcome === 'delivered');
    const total = (k: string) => delivered.reduce((n, d) => n + ((d.result as { summary: Record<string, number> }).summary[k] ?? 0), 0);
    expect(total('corrected')).toBe(2);
    expect(total('failed')).toBe(0);

    const types = stack.events.events.map((e) => e.event['detail-type']);
    expect(types.filter((t) => t === 'Drift Detected').length).toBeGreaterThanOrEqual(2);
    expect(types.filter((t) => t === 'Drift Corrected')).toHaveLength(2);
    const detected = stack.events.events.find((e) => e.event['detail-type'] === 'Drift Detected' && (e.event.detail as { ref: string }).ref === SUPPORT)!;
    expect(detected.event.source).toBe('agentcore-autopilot');
    expect((detected.event.detail as { diff: { path: string; to: unknown }[] }).diff).toContainEqual(
      expect.objectContaining({ path: '/environmentVariables/API_KEY', to: '<redacted>' }),
    );
    // The secret reached the runtime, but no event, result or log line.
    expect((await getRuntime(stack, SUPPORT)).environmentVariables).toMatchObject({ API_KEY: SECRET });
    expect(JSON.stringify(stack.events.events) + JSON.stringify(stack.events.deliveries) + lines.join('')).not.toContain(SECRET);
    const summaries = lines.filter((l) => l.includes('"Drift run summary"'));
    const runs = stack.events.deliveries.filter((d) => d.targetId === 'correctDrift' && d.outcome === 'delivered').length;
    expect(summaries).toHaveLength(runs);
    expect(JSON.parse(summaries[0])).toMatchObject({ level: 'INFO', message: 'Drift run summary', trigger: 'schedule', resources: 3, failed: 0 });
    expect(summaries.map((l) => JSON.parse(l).corrected).reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('refuses a malformed on-demand event without touching anything', async () => {
    stack = await startStack({ seed: SEED, configFile: writeConfig(fullConfig()) });
    await expect(stack.lambda.invoke('correctDrift', { detail: { reportOnly: 'yes' } })).rejects.toMatchObject({ name: 'InvalidEventError' });
    expect(stack.emulator.count('UpdateAgentRuntime') + stack.emulator.count('GetAgentRuntime')).toBe(0);
  });

  it("logs at the level of the stack's environment, whichever stack loaded the handler first", async () => {
    const lines: string[] = [];
    const record = ((chunk: string) => { lines.push(String(chunk)); return true; }) as typeof process.stdout.write;
    vi.spyOn(process.stdout, 'write').mockImplementation(record);
    vi.spyOn(process.stderr, 'write').mockImplementation(record);
    const invalid = { detail: { reportOnly: 'yes' } };
    stack = await startStack({ seed: SEED, configFile: writeConfig(fullConfig()), logLevel: 'DEBUG' });
    await expect(stack.lambda.invoke('correctDrift', invalid)).rejects.toMatchObject({ name: 'InvalidEventError' });
    expect(lines.filter((l) => l.includes('"Invocation failed"'))).toHaveLength(1);
    await stack.close();

    stack = await startStack({ seed: SEED, configFile: writeConfig(fullConfig()), logLevel: 'SILENT' });
    await expect(stack.lambda.invoke('correctDrift', invalid)).rejects.toMatchObject({ name: 'InvalidEventError' });
    await expect(stack.lambda.invoke('correctDrift', { trigger: 'schedule' })).resolves.toMatchObject({ trigger: 'schedule' });
    await stack.close();

    stack = await startStack({ seed: SEED, configFile: writeConfig(fullConfig()), logLevel: 'ERROR' });
    await expect(stack.lambda.invoke('correctDrift', { trigger: 'schedule' })).resolves.toMatchObject({ trigger: 'schedule' });
    await expect(stack.lambda.invoke('correctDrift', invalid)).rejects.toMatchObject({ name: 'InvalidEventError' });
    expect(lines.filter((l) => l.includes('"Invocation failed"'))).toHaveLength(2);
    expect(lines.filter((l) => l.includes('"Drift run summary"'))).toHaveLength(0);
  });
});
