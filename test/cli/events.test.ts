/**
 * `autopilot events` against a real local stack: the bus log through the local-only
 * LocalListEvents operation, filters, JSON output, --follow in a child process stopped by SIGINT,
 * and the errors when no local stack is there.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../../cli/autopilot.ts';
import { listLocalEvents } from '../../cli/actions/events.ts';
import { REPO_ROOT, startStack, type Stack } from '../../local/stack.ts';

const fixture = fileURLToPath(new URL('../fixtures/serverless/basic/serverless.yml', import.meta.url));

function io(env: Record<string, string | undefined>) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (l: string) => void out.push(l), stderr: (l: string) => void err.push(l), env, isTTY: false } };
}

describe('autopilot events', () => {
  let stack: Stack;
  let bus: EventBridgeClient;
  beforeAll(async () => {
    stack = await startStack({ serverlessFile: fixture, validateDefinitions: false, seed: { ecr: { repositories: [{ name: 'support-agent' }] } } });
    bus = new EventBridgeClient({ endpoint: stack.url, region: stack.env.AWS_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    stack.pushImage({ repository: 'support-agent', tags: ['1.3.0'] });
    await bus.send(new PutEventsCommand({
      Entries: [
        { Source: 'agentcore-autopilot', DetailType: 'Policy Rollout Halted', Detail: JSON.stringify({ gatewayId: 'gw-orders-h5j6k7l8m9', stage: 'HALTED', shadow: { stage: 'SHADOW', verdict: 'FAIL', report: { denyRatio: 0.25, decisions: 2400, reasons: ['denyRatio is 0.25, > 0.05'] } } }) },
        { Source: 'agentcore-autopilot', DetailType: 'Runtime Redeploy Started', Detail: JSON.stringify({ runtimeId: 'supportAgent-a1b2c3d4e5', fromVersion: '1', toVersion: '2', digest: `sha256:${'a'.repeat(64)}` }) },
        { Source: 'someone.else', DetailType: 'Unrelated', Detail: '{}' },
      ],
    }));
    await stack.settle();
  });
  afterAll(async () => {
    bus?.destroy();
    await stack?.close();
  });

  it('lists every event on the bus, readable, in order', async () => {
    const { out, io: cli } = io({ AWS_ENDPOINT_URL: stack.url });
    expect(await main(['events'], cli)).toBe(0);
    expect(out).toHaveLength(stack.events.events.length);
    expect(out).toHaveLength(4);
    expect(out[0]).toMatch(/aws\.ecr\s+ECR Image Action\s+support-agent:1\.3\.0/);
    expect(out[1]).toMatch(/Policy Rollout Halted\s+gw-orders-h5j6k7l8m9.*deny 25\.0% of 2400/);
    expect(out[2]).toMatch(/Runtime Redeploy Started\s+supportAgent-a1b2c3d4e5\s+v1 -> v2/);
  });

  it('prints absolute UTC times (the stack clock), the same whatever the filter', async () => {
    const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
    const all = io({ AWS_ENDPOINT_URL: stack.url });
    expect(await main(['events'], all.io)).toBe(0);
    expect(all.out.map((l) => l.slice(0, l.indexOf('  ')))).toEqual(stack.events.events.map((e) => iso(e.at)));
    for (const line of all.out) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  \S/);
    expect(all.out.join('\n')).not.toContain('T+');

    // Filtered or limited, in another reader: the same event has the same line, time included.
    const halted = io({ AWS_ENDPOINT_URL: stack.url });
    expect(await main(['events', '--detail-type', 'Policy Rollout Halted'], halted.io)).toBe(0);
    expect(halted.out).toEqual([all.out[1]]);
    const last = io({ AWS_ENDPOINT_URL: stack.url });
    expect(await main(['events', '--source', 'agentcore-autopilot', '--limit', '1'], last.io)).toBe(0);
    expect(last.out).toEqual([all.out[2]]);
    const help = io({});
    expect(await main(['events', '--help'], help.io)).toBe(0);
    expect(help.out.join('\n')).toMatch(/in UTC \(ISO 8601/);
  });

  it('filters by source and detail-type; -o json is one document, -o yaml too', async () => {
    type Rec = { sequence: number; via: string; event: { source: string; 'detail-type': string; detail: Record<string, unknown> } };
    const { out, io: cli } = io({ AWS_ENDPOINT_URL: stack.url });
    expect(await main(['events', '--json', '--source', 'agentcore-autopilot'], cli)).toBe(0);
    const parsed = JSON.parse(out.join('\n')) as Rec[];
    expect(parsed.map((p) => p.event['detail-type'])).toEqual(['Policy Rollout Halted', 'Runtime Redeploy Started']);
    expect(parsed.every((p) => p.via === 'PutEvents' && p.event.source === 'agentcore-autopilot')).toBe(true);
    expect(parsed[0].event.detail.gatewayId).toBe('gw-orders-h5j6k7l8m9');

    const one = io({ AWS_ENDPOINT_URL: stack.url });
    expect(await main(['events', '-o', 'json', '--detail-type=ECR Image Action'], one.io)).toBe(0);
    expect(one.out).toHaveLength(1);
    expect(JSON.parse(one.out[0])[0].event.detail['image-tag']).toBe('1.3.0');

    const last = io({ AWS_ENDPOINT_URL: stack.url });
    expect(await main(['events', '--limit', '1', '--json'], last.io)).toBe(0);
    expect((JSON.parse(last.out.join('\n')) as Rec[]).map((r) => r.event.source)).toEqual(['someone.else']);

    const yaml = io({ AWS_ENDPOINT_URL: stack.url });
    expect(await main(['events', '--limit', '1', '-o', 'yaml'], yaml.io)).toBe(0);
    expect(parse(yaml.out.join('\n'))).toEqual(JSON.parse(last.out.join('\n')));
  });

  it('pages the log with AfterSequence / NextSequence', async () => {
    const first = await listLocalEvents(stack.url, { Limit: 2 });
    expect(first.Events.map((e) => e.Sequence)).toEqual([1, 2]);
    const rest = await listLocalEvents(stack.url, { AfterSequence: first.NextSequence });
    expect(rest.Events.map((e) => e.Sequence)).toEqual([3, 4]);
    const none = await listLocalEvents(stack.url, { AfterSequence: rest.NextSequence });
    expect(none.Events).toEqual([]);
    expect(none.NextSequence).toBe(rest.NextSequence);
    await expect(listLocalEvents(stack.url, { AfterSequence: -1 })).rejects.toThrow(/ValidationException: AfterSequence/);
  });

  it('follows new events until interrupted, then exits 0', async () => {
    const child = spawn(process.execPath, [`${REPO_ROOT}/cli/autopilot.ts`, 'events', '--follow', '--json', '--source', 'agentcore-autopilot', '--interval', '50'], {
      env: { ...process.env, AWS_ENDPOINT_URL: stack.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const until = async (pred: () => boolean) => {
      const deadline = Date.now() + 15_000;
      while (!pred() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return pred();
    };
    expect(await until(() => stdout.split('\n').filter(Boolean).length >= 2)).toBe(true);
    await bus.send(new PutEventsCommand({ Entries: [{ Source: 'agentcore-autopilot', DetailType: 'Drift Detected', Detail: JSON.stringify({ resourceId: 'gw-support-k1l2m3n4o5' }) }] }));
    expect(await until(() => stdout.includes('Drift Detected'))).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l).event['detail-type']);
    expect(lines).toEqual(['Policy Rollout Halted', 'Runtime Redeploy Started', 'Drift Detected']);
  });

  it('explains what is missing without a local stack', async () => {
    const none = io({});
    expect(await main(['events'], none.io)).toBe(1);
    expect(none.err.join('\n')).toMatch(/AWS_ENDPOINT_URL is not set/);

    const gone = io({ AWS_ENDPOINT_URL: 'http://127.0.0.1:1' });
    expect(await main(['events'], gone.io)).toBe(1);
    expect(gone.err.join('\n')).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1 \(AWS_ENDPOINT_URL\): connection refused \(ECONNREFUSED\)/);
  });

  it('refuses bad options with exit 2 and documents itself', async () => {
    const bad = io({ AWS_ENDPOINT_URL: stack.url });
    expect(await main(['events', '--limit', 'zero'], bad.io)).toBe(2);
    expect(bad.err.join('\n')).toMatch(/--limit needs a positive whole number/);
    const unknown = io({ AWS_ENDPOINT_URL: stack.url });
    expect(await main(['events', '--tail'], unknown.io)).toBe(2);
    const help = io({});
    expect(await main(['events', '--help'], help.io)).toBe(0);
    expect(help.out.join('\n')).toMatch(/--follow[\s\S]*Exit codes/);
  });
});
