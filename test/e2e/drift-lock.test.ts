/**
 * `autopilot apply` and the scheduled drift run never act on the fleet at once: both take the
 * stack's drift lock (the DynamoDB table of resources/drift-lock.yml) through their public entry
 * points, the CLI dispatcher and the correctDrift handler on the local stack.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { main } from '../../cli/autopilot.ts';
import { startStack, type Stack } from '../../local/stack.ts';
import { LockAdapter } from '../../functions/adapters/lock.ts';
import { CLI_LEASE_MS, DriftLock } from '../../functions/app/drift-lock.ts';
import { SECRET, SEED, SUPPORT, cliIO, driftRuntime, fullConfig, getRuntime, passTime, settleResources, writeConfig } from './drift-fixtures.ts';

const TABLE = 'agentcore-autopilot-dev-drift-lock';
type RunResult = { notes: string[]; summary: { corrected: number; drifted: number }; outcomes: unknown[] };

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** A stack whose supportAgent has drifted (MODEL_ID changed by hand); the counters start after it. */
async function drifted(opts: { env?: Record<string, string> } = {}): Promise<{ s: Stack; configFile: string }> {
  const configFile = writeConfig(fullConfig({ gateways: [] }));
  const s = await startStack({ seed: SEED, configFile, ...(opts.env && { env: opts.env }) });
  stack = s;
  // Corrected once so that only the hand-made change below is drift.
  expect(await main(['apply', '--config', configFile, '--yes'], cliIO(s).io)).toBe(0);
  await settleResources(s);
  await driftRuntime(s, SUPPORT, (live) => ({ ...live, environmentVariables: { ...(live.environmentVariables as object), MODEL_ID: 'changed-by-hand' } }));
  await passTime(s); // past the correction backoff of the first apply
  // The first apply's correction started a promotion: its checks read the runtime until it ends.
  await s.settle();
  s.emulator.resetCounters();
  return { s, configFile };
}

const modelId = async (s: Stack) => ((await getRuntime(s, SUPPORT)).environmentVariables as Record<string, string>).MODEL_ID;

async function until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the drift lock between autopilot apply and the scheduled run', () => {
  it('a scheduled run while apply holds the lock only reports; apply then corrects: one write in all', async () => {
    const { s, configFile } = await drifted();
    let scheduled: RunResult | undefined;
    const t = cliIO(s);
    // apply has read and planned (under the lock) and asks; the schedule fires meanwhile.
    t.io.prompt = async () => {
      scheduled = await s.lambda.invoke('correctDrift', { trigger: 'schedule' }) as RunResult;
      return 'yes';
    };
    expect(await main(['apply', '--config', configFile], t.io)).toBe(0);
    expect(scheduled!.notes[0]).toMatch(/^the drift lock is held by autopilot apply by .+ \(pid \d+\), since \S+Z, lease until \S+Z: this run only reports; the next run corrects$/);
    expect(scheduled!.summary).toMatchObject({ drifted: 1, corrected: 0 });
    expect(scheduled!.outcomes).toEqual([]);
    expect(t.text()).toMatch(/Apply complete: 1 corrected, 0 failed, 0 skipped/);
    expect(s.emulator.count('UpdateAgentRuntime')).toBe(1);
    expect(await modelId(s)).toBe('anthropic.claude-sonnet-4');
    // Reported like any scheduled run, and released by both.
    expect(s.events.events.some((e) => e.event['detail-type'] === 'Drift Detected' && (e.event.detail as { trigger: string }).trigger === 'schedule')).toBe(true);
    expect(s.dynamodb.items(TABLE)).toEqual([]);
    expect(JSON.stringify(scheduled)).not.toContain(SECRET);
  });

  it('apply refuses (exit 3) while the scheduled run holds the lock, naming it, and reads nothing; --lock-timeout waits it out', async () => {
    const { s, configFile } = await drifted();
    // A slow scheduled run: every GetAgentRuntime takes a second of real time.
    s.emulator.faults.addRule({ service: 'bedrock-agentcore-control', operation: 'GetAgentRuntime', latencyMs: 1000 });
    const running = s.lambda.invoke('correctDrift', { trigger: 'schedule' }) as Promise<RunResult>;
    await until(() => s.dynamodb.items(TABLE).length > 0, 'the scheduled run to take the lock');

    const refused = cliIO(s);
    expect(await main(['apply', '--config', configFile, '--yes'], refused.io)).toBe(3);
    expect(refused.errors()).toMatch(/the drift lock is held by correctDrift \(request [0-9a-f-]+\), since \S+Z, lease until \S+Z; nothing was applied\. Try again when it is released, or wait for it with --lock-timeout 15m/);
    expect(refused.errors()).not.toMatch(/\n\s+at /); // one sentence, no stack trace
    expect(s.emulator.requests.filter((r) => r.operation === 'GetAgentRuntime').length).toBe(1); // the scheduled run's only

    const waiting = cliIO(s);
    const code = main(['apply', '--config', configFile, '--yes', '--lock-timeout', '60s'], waiting.io);
    const result = await running;
    expect(result.summary).toMatchObject({ drifted: 1, corrected: 1 });
    expect(await code).toBe(0);
    expect(waiting.errors()).toMatch(/Waiting up to \S+ for the drift lock, held by correctDrift/);
    expect(waiting.text()).toMatch(/Nothing to apply\./); // the scheduled run corrected it first
    expect(s.emulator.count('UpdateAgentRuntime')).toBe(1);
    expect(s.dynamodb.items(TABLE)).toEqual([]);
  });

  it('a lock lost mid-apply (its lease ran out and the scheduled run took over) stops every write: exit 1', async () => {
    const { s, configFile } = await drifted();
    let scheduled: RunResult | undefined;
    const t = cliIO(s);
    t.io.prompt = async () => {
      // The operator walks away from the prompt for longer than apply's lease.
      await passTime(s, CLI_LEASE_MS + 60_000);
      scheduled = await s.lambda.invoke('correctDrift', { trigger: 'schedule' }) as RunResult;
      return 'yes';
    };
    expect(await main(['apply', '--config', configFile], t.io)).toBe(1);
    expect(scheduled!.summary).toMatchObject({ corrected: 1 });
    expect(t.text()).toMatch(/runtime supportAgent-a1b2c3d4e5: skipped - run stopped, nothing more written: the drift lock \(table agentcore-autopilot-dev-drift-lock\) was taken over by another writer after this one's lease ran out/);
    expect(t.text()).toMatch(/Apply complete: 0 corrected, 0 failed, 1 skipped \(stopped: the drift lock could not be confirmed, nothing more was written\)/);
    expect(s.emulator.count('UpdateAgentRuntime')).toBe(1); // the scheduled run's only
  });

  it('a lock left behind by a writer that crashed blocks corrections for its lease only', async () => {
    const { s } = await drifted();
    const client = new DynamoDBClient({ endpoint: s.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const crashed = new DriftLock(new LockAdapter(client, TABLE), 'autopilot apply by carol@ci (pid 7)', CLI_LEASE_MS, () => s.clock.now());
    expect(await crashed.tryAcquire()).toEqual({ acquired: true }); // and never released
    const blocked = await s.lambda.invoke('correctDrift', { trigger: 'schedule' }) as RunResult;
    expect(blocked.notes[0]).toMatch(/held by autopilot apply by carol@ci \(pid 7\)/);
    expect(blocked.summary).toMatchObject({ drifted: 1, corrected: 0 });
    await passTime(s, CLI_LEASE_MS + 1000);
    const after = await s.lambda.invoke('correctDrift', { trigger: 'schedule' }) as RunResult;
    expect(after.summary).toMatchObject({ corrected: 1 });
    expect(s.emulator.count('UpdateAgentRuntime')).toBe(1);
    client.destroy();
  });

  it('fails closed: no lock table means apply reads nothing (exit 1), and a function without DRIFT_LOCK_TABLE only reports', async () => {
    const { s, configFile } = await drifted({ env: { DRIFT_LOCK_TABLE: '' } });
    const t = cliIO(s);
    expect(await main(['apply', '--config', configFile, '--yes', '--lock-table', 'no-such-table'], t.io)).toBe(1);
    expect(t.errors()).toMatch(/the drift lock table no-such-table does not exist: is the stack deployed to this region and stage\? Give --stage, --lock-table or \$AUTOPILOT_LOCK_TABLE\. Nothing was applied/);
    expect(s.emulator.count('GetAgentRuntime')).toBe(0);
    const run = await s.lambda.invoke('correctDrift', { trigger: 'schedule' }) as RunResult;
    expect(run.notes[0]).toBe('DRIFT_LOCK_TABLE is not set, so the drift lock cannot be taken: this run only reports');
    expect(run.summary).toMatchObject({ drifted: 1, corrected: 0 });
    expect(s.emulator.count('UpdateAgentRuntime')).toBe(0);
  });
});
