/**
 * Secrets stay out of git, packages and events: runtime environment values declared (or requested)
 * as references to Secrets Manager secrets or SSM SecureString parameters are read only when a
 * runtime is written or compared, and the values reach the runtime and nothing else: no event,
 * handler result, log line, dead letter or execution history.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { VirtualClock } from '../../local/clock.ts';
import { startStack, type Stack } from '../../local/stack.ts';
import { setTimeSource } from '../../functions/lib/time.ts';
import { SEED, SUPPORT, fullConfig, getRuntime, supportDesired, writeConfig } from './drift-fixtures.ts';

const VALUE = 'sk-live-REFERENCED-5d1e8f';
const PARAM_VALUE = 'db-PASSWORD-from-ssm-77aa';
const SM_REF = '{{resolve:secretsmanager:agentcore-autopilot/support:SecretString:apiKey}}';
const SSM_REF = '{{resolve:ssm-secure:/agentcore-autopilot/support/db-password}}';

let stack: Stack | undefined;
let lines: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  setTimeSource(undefined);
  await stack?.close();
  stack = undefined;
});

async function secretStack(env: Record<string, string>): Promise<Stack> {
  lines = [];
  const record = ((chunk: string) => { lines.push(String(chunk)); return true; }) as typeof process.stdout.write;
  vi.spyOn(process.stdout, 'write').mockImplementation(record);
  vi.spyOn(process.stderr, 'write').mockImplementation(record);
  const desired = { ...supportDesired(), environmentVariables: env };
  stack = await startStack({
    seed: SEED,
    configFile: writeConfig(fullConfig({ runtimes: [{ id: SUPPORT, drift: 'correct', desired }] })),
    logLevel: 'DEBUG',
  });
  setTimeSource(() => stack!.clock.now());
  stack.secretsManager.put('agentcore-autopilot/support', JSON.stringify({ apiKey: VALUE }));
  stack.ssm.put('/agentcore-autopilot/support/db-password', PARAM_VALUE);
  return stack;
}

/** Everything autopilot wrote or kept: events, handler results and errors, logs, dead letters, execution histories. */
function everythingWritten(s: Stack): string {
  return JSON.stringify(s.events.events) + JSON.stringify(s.events.deliveries.map((d) => [d.result, d.errors]))
    + JSON.stringify(s.lambdaAsync.invocations.map((i) => [i.result, i.errors])) + JSON.stringify(s.deadLetters)
    + JSON.stringify(s.sqs.listQueues().flatMap((q) => q.messages.map((m) => m.body)))
    + JSON.stringify(s.sfn.listExecutions().map((e) => [e.input, e.output, e.history])) + lines.join('');
}

describe('secret references', () => {
  it('drift resolves declared references in memory: corrects the runtime to the values, and nothing else ever holds them', async () => {
    const s = await secretStack({ LOG_LEVEL: 'info', API_KEY: SM_REF, DB_PASSWORD: SSM_REF });
    const first = (await s.lambda.invoke('correctDrift', { trigger: 'schedule' })) as { plan: { resources: { ref: string; fields: { path: string; to: unknown }[] }[] } };
    const support = first.plan.resources.find((r) => r.ref === SUPPORT)!;
    expect(support.fields.filter((f) => f.path.startsWith('/environmentVariables/')).map((f) => [f.path, f.to])).toEqual(expect.arrayContaining([
      ['/environmentVariables/API_KEY', '<redacted>'], ['/environmentVariables/DB_PASSWORD', '<redacted>'],
    ]));
    await s.settle();
    expect((await getRuntime(s, SUPPORT)).environmentVariables).toMatchObject({ API_KEY: VALUE, DB_PASSWORD: PARAM_VALUE });
    expect(s.secretsManager.reads).toContain('agentcore-autopilot/support');
    expect(s.ssm.reads).toContain('/agentcore-autopilot/support/db-password');

    // Compared by value: the corrected runtime is in sync, the next run writes nothing.
    const updates = s.emulator.count('UpdateAgentRuntime');
    await (s.clock as VirtualClock).advance(120_000);
    const second = (await s.lambda.invoke('correctDrift', { trigger: 'schedule' })) as { plan: { resources: { ref: string; status: string }[] } };
    expect(second.plan.resources.find((r) => r.ref === SUPPORT)?.status).toBe('in-sync');
    expect(s.emulator.count('UpdateAgentRuntime')).toBe(updates);

    const written = everythingWritten(s);
    expect(written).not.toContain(VALUE);
    expect(written).not.toContain(PARAM_VALUE);
  });

  it('a reference that cannot be read leaves the runtime out of the run, with a note, and writes nothing', async () => {
    const s = await secretStack({ API_KEY: '{{resolve:secretsmanager:agentcore-autopilot/missing}}' });
    const out = (await s.lambda.invoke('correctDrift', { trigger: 'schedule' })) as { notes: string[] };
    expect(out.notes).toEqual(expect.arrayContaining([expect.stringMatching(/runtime supportAgent-a1b2c3d4e5: secretsmanager:agentcore-autopilot\/missing could not be read \(ResourceNotFoundError\): left out of this run/)]));
    expect(s.emulator.count('UpdateAgentRuntime')).toBe(0);
  });

  it('a change request carries references: the runtime gets the value, the request, events and logs only the reference', async () => {
    const s = await secretStack({ LOG_LEVEL: 'info' });
    // supportAgent is declared: request through the request bus, as a listed principal.
    const out = await s.request('Runtime Change Requested', { runtime: { id: SUPPORT }, change: { environmentVariables: { set: { API_KEY: SM_REF, DB_PASSWORD: SSM_REF } } }, requestId: 'rotate-1' });
    expect(out.EventId).toBeTruthy();
    await s.settle();
    const live = await getRuntime(s, SUPPORT);
    expect(live.environmentVariables).toMatchObject({ API_KEY: VALUE, DB_PASSWORD: PARAM_VALUE });
    expect(s.events.events.find((e) => e.event['detail-type'] === 'Runtime Change Requested')?.event.detail).toMatchObject({ change: { environmentVariables: { set: { API_KEY: SM_REF } } } });
    const written = everythingWritten(s);
    expect(written).not.toContain(VALUE);
    expect(written).not.toContain(PARAM_VALUE);
  });

  it('a change request with a malformed reference is refused; one that cannot be read fails, writing nothing', async () => {
    const s = await secretStack({ LOG_LEVEL: 'info' });
    await s.request('Runtime Change Requested', { runtime: { id: SUPPORT }, change: { environmentVariables: { set: { API_KEY: '{{resolve:vault:x}}' } } } });
    await s.request('Runtime Change Requested', { runtime: { id: SUPPORT }, change: { environmentVariables: { set: { API_KEY: '{{resolve:ssm-secure:/agentcore-autopilot/nope}}' } } } });
    await s.settle();
    expect(s.events.events.find((e) => e.event['detail-type'] === 'Request Refused')?.event.detail).toMatchObject({
      reason: 'invalid-request', problems: [expect.stringContaining('change.environmentVariables.set.API_KEY: the secret reference is not')],
    });
    expect(s.events.events.find((e) => e.event['detail-type'] === 'Runtime Redeploy Failed')?.event.detail).toMatchObject({ reason: 'secret-unresolved' });
    expect(s.emulator.count('UpdateAgentRuntime')).toBe(0);
  });
});
