import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeClient, EventBridgeServiceException, InternalException, InvalidEventPatternException, PutEventsCommand, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { VirtualClock } from '../../../local/clock.ts';
import { AwsError } from '../../../local/emulator/types.ts';
import { startHttpCore, type HttpCore } from '../../../local/emulator/server.ts';
import { EventBridgeStandIn, type AwsEvent } from '../../../local/emulator/eventbridge/eventbridge.ts';
import { EcrStandIn } from '../../../local/emulator/ecr/ecr.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const MIN = 60_000;
const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' };

let clock: VirtualClock;
let eb: EventBridgeStandIn;
let core: HttpCore;
let client: EventBridgeClient;

beforeEach(async () => {
  clock = new VirtualClock({ start: T0 });
  eb = new EventBridgeStandIn({ clock });
  core = await startHttpCore({ services: [eb], clock });
  client = new EventBridgeClient({ endpoint: core.url, region: 'us-east-1', maxAttempts: 1, credentials });
});

afterEach(async () => {
  await eb.stopSchedules();
  client.destroy();
  await core.close();
});

/** Lets pending promise chains run until the clock has `n` sleepers (a retry waiting). */
async function untilSleepers(n: number): Promise<void> {
  for (let i = 0; i < 1000 && clock.pending() < n; i++) await new Promise((r) => setImmediate(r));
  expect(clock.pending()).toBeGreaterThanOrEqual(n);
}

describe('PutEvents over the real SDK (awsJson1_1)', () => {
  it('accepts entries, logs the delivered event and reports per-entry failures', async () => {
    const headers: Record<string, string | string[] | undefined>[] = [];
    core.server.prependListener('request', (req) => headers.push(req.headers));
    const out = await client.send(new PutEventsCommand({
      Entries: [
        { Source: 'autopilot.deploy', DetailType: 'Deploy Finished', Detail: JSON.stringify({ runtime: 'rt-1', ok: true }), Resources: ['arn:x'], Time: new Date(T0 - 5000) },
        { Source: 'autopilot.deploy', DetailType: 'Deploy Finished', Detail: '{not json' },
        { DetailType: 'Deploy Finished', Detail: '{}' },
        { Source: 'autopilot.deploy', Detail: '{}' },
        { Source: 'autopilot.deploy', DetailType: 'x' },
        { Source: 'aws.ecr', DetailType: 'ECR Image Action', Detail: '{}' },
        { Source: 'autopilot.deploy', DetailType: 'to-missing-bus', Detail: '{}', EventBusName: 'nope' },
      ],
    }));
    expect(headers[0]['x-amz-target']).toBe('AWSEvents.PutEvents');
    expect(headers[0]['content-type']).toBe('application/x-amz-json-1.1');
    expect(out.FailedEntryCount).toBe(6);
    expect(out.Entries!.map((e) => e.ErrorCode ?? 'ok')).toEqual([
      'ok', 'MalformedDetail', 'InvalidArgument', 'InvalidArgument', 'InvalidArgument', 'NotAuthorizedForSourceException', 'ResourceNotFoundException',
    ]);
    expect(out.Entries![2].ErrorMessage).toBe('Parameter Source is not valid. Reason: Source is a required argument.');
    expect(out.Entries![6].ErrorMessage).toBe('Event bus nope does not exist.');

    expect(eb.events).toHaveLength(1);
    const logged = eb.events[0];
    expect(logged).toMatchObject({ at: T0, bus: 'default', via: 'PutEvents' });
    expect(logged.event).toEqual({
      version: '0', id: out.Entries![0].EventId, 'detail-type': 'Deploy Finished', source: 'autopilot.deploy',
      account: '123456789012', time: '2026-01-01T11:59:55Z', region: 'us-east-1', resources: ['arn:x'],
      detail: { runtime: 'rt-1', ok: true },
    });
  });

  it('rejects requests whose entries exceed 256 KB in total (Time counts 14 bytes)', async () => {
    const detail = JSON.stringify({ blob: 'x'.repeat(128 * 1024 - 20) });
    const entry = { Source: 's', DetailType: 'd', Detail: detail };
    const size = 2 + detail.length;
    expect(size * 2).toBeLessThanOrEqual(256 * 1024);
    expect((await client.send(new PutEventsCommand({ Entries: [entry, entry] }))).FailedEntryCount).toBe(0);
    const grow = 256 * 1024 - size * 2 + 1; // one byte too many once Time adds 14 bytes
    const err = await client.send(new PutEventsCommand({ Entries: [entry, { ...entry, Detail: JSON.stringify({ blob: 'x'.repeat(128 * 1024 - 20 + grow - 14) }), Time: new Date(T0) }] })).catch((e) => e);
    expect(err).toBeInstanceOf(EventBridgeServiceException);
    expect(err.name).toBe('ValidationException');
    expect(err.message).toBe('Total size of the entries in the request is over the limit.');
    expect(eb.events).toHaveLength(2);
  });

  it('rejects requests with more than 10 entries as a ValidationException', async () => {
    const entries = Array.from({ length: 11 }, () => ({ Source: 's', DetailType: 'd', Detail: '{}' }));
    const err = await client.send(new PutEventsCommand({ Entries: entries })).catch((e) => e);
    expect(err).toBeInstanceOf(EventBridgeServiceException);
    expect(err.name).toBe('ValidationException');
    expect(err.message).toMatch(/less than or equal to 10/);
    expect(eb.events).toHaveLength(0);
  });

  it('renders a service-neutral InternalServerException as EventBridge InternalException', async () => {
    await core.close();
    core = await startHttpCore({ services: [eb], clock, faults: { before: () => new AwsError('InternalServerException', 500, 'injected') } });
    const c = new EventBridgeClient({ endpoint: core.url, region: 'us-east-1', maxAttempts: 1, credentials });
    const err = await c.send(new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd', Detail: '{}' }] })).catch((e) => e);
    c.destroy();
    expect(err).toBeInstanceOf(InternalException);
    expect(eb.events).toEqual([]);
  });

  it('routes to named buses by name or ARN', async () => {
    const arn = eb.createEventBus('autopilot');
    const seen: AwsEvent[] = [];
    eb.addRule({ name: 'on-bus', eventBus: 'autopilot', pattern: { source: ['s'] }, target: { id: 't', invoke: (e) => seen.push(e) } });
    eb.addRule({ name: 'on-default', pattern: { source: ['s'] }, target: { id: 't', invoke: () => { throw new Error('must not run'); } } });
    const out = await client.send(new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd', Detail: '{}', EventBusName: arn }] }));
    expect(out.FailedEntryCount).toBe(0);
    await eb.whenIdle();
    expect(seen).toHaveLength(1);
    expect(eb.events[0].bus).toBe('autopilot');
    expect(eb.deliveries.map((d) => [d.rule, d.outcome])).toEqual([['on-bus', 'delivered']]);
  });

  it('TestEventPattern uses the same matcher and reports invalid patterns as InvalidEventPatternException', async () => {
    const event = JSON.stringify({ id: '1', source: 'aws.ecr', 'detail-type': 'ECR Image Action', account: '1', region: 'r', time: 't', detail: { 'image-tag': 'v1' } });
    expect((await client.send(new TestEventPatternCommand({ Event: event, EventPattern: '{"detail":{"image-tag":[{"prefix":"v"}]}}' }))).Result).toBe(true);
    expect((await client.send(new TestEventPatternCommand({ Event: event, EventPattern: '{"detail":{"image-tag":[{"prefix":"x"}]}}' }))).Result).toBe(false);
    await expect(client.send(new TestEventPatternCommand({ Event: event, EventPattern: '{"source":"aws.ecr"}' })))
      .rejects.toBeInstanceOf(InvalidEventPatternException);
  });
});

describe('rules and delivery', () => {
  it('invokes matching targets asynchronously, after PutEvents has returned', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const invoked: string[] = [];
    eb.addRule({
      name: 'deploys', pattern: { source: ['autopilot.deploy'], detail: { ok: [true] } },
      target: { id: 'fn', invoke: async (e) => { invoked.push(e.id); await gate; return 'done'; } },
    });
    const out = await client.send(new PutEventsCommand({ Entries: [
      { Source: 'autopilot.deploy', DetailType: 'x', Detail: '{"ok":true}' },
      { Source: 'autopilot.deploy', DetailType: 'x', Detail: '{"ok":false}' },
    ] }));
    expect(eb.pendingDeliveries()).toBe(1); // PutEvents answered while the target is still running
    release();
    await eb.whenIdle();
    expect(invoked).toEqual([out.Entries![0].EventId]);
    expect(eb.deliveries).toEqual([expect.objectContaining({ rule: 'deploys', targetId: 'fn', attempts: 1, outcome: 'delivered', result: 'done' })]);
  });

  it('put() does not run targets synchronously', async () => {
    const seen: string[] = [];
    eb.addRule({ name: 'r', pattern: { source: ['x'] }, target: { id: 't', invoke: (e) => seen.push(e.source) } });
    eb.put({ source: 'x', 'detail-type': 'y', detail: {} });
    expect(seen).toEqual([]);
    await eb.whenIdle();
    expect(seen).toEqual(['x']);
  });

  it('retries failures with backoff on the clock, then dead-letters the event', async () => {
    const attemptsAt: number[] = [];
    const dead: { event: AwsEvent; error: unknown }[] = [];
    eb.addRule({
      name: 'flaky', pattern: { source: ['x'] }, retryPolicy: { maximumRetryAttempts: 2 },
      target: { id: 'fn', invoke: () => { attemptsAt.push(clock.now()); throw new Error(`boom ${attemptsAt.length}`); } },
      deadLetter: (event, error) => { dead.push({ event, error }); },
    });
    const put = eb.put({ source: 'x', 'detail-type': 'y', detail: { n: 1 } });

    await untilSleepers(1);
    expect(attemptsAt).toEqual([T0]);
    await clock.advance(999);
    expect(attemptsAt).toHaveLength(1); // first retry waits 1 s
    await clock.advance(1);
    await untilSleepers(1);
    expect(attemptsAt).toEqual([T0, T0 + 1000]);
    await clock.advance(2000); // second retry waits 2 s
    await eb.whenIdle();

    expect(attemptsAt).toEqual([T0, T0 + 1000, T0 + 3000]);
    expect(dead).toHaveLength(1);
    expect(dead[0].event).toEqual(put);
    expect((dead[0].error as Error).message).toBe('boom 3');
    expect(eb.deliveries[0]).toMatchObject({ attempts: 3, outcome: 'dead-lettered', errors: ['Error: boom 1', 'Error: boom 2', 'Error: boom 3'], finishedAt: T0 + 3000 });
  });

  it('succeeds on a retry and stops retrying once the event is older than maximumEventAgeInSeconds', async () => {
    clock.setMode('auto');
    let calls = 0;
    eb.addRule({ name: 'second-time-lucky', pattern: { source: ['x'] }, target: { id: 't', invoke: () => { if (++calls < 2) throw new Error('no'); return 'ok'; } } });
    eb.addRule({
      name: 'too-old', pattern: { source: ['x'] }, retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 60 },
      target: { id: 't2', invoke: () => { throw new Error('down'); } },
    });
    eb.put({ source: 'x', 'detail-type': 'y', detail: {} });
    await eb.whenIdle();
    const [lucky, old] = eb.deliveries;
    expect(lucky).toMatchObject({ outcome: 'delivered', attempts: 2 });
    // delays 1+2+4+8+16 = 31 s; the next (32 s) would exceed 60 s of event age
    expect(old).toMatchObject({ outcome: 'dropped', attempts: 6, finishedAt: T0 + 31_000 });
  });

  it('validates rules when they are added', () => {
    const target = { id: 't', invoke: () => undefined };
    expect(() => eb.addRule({ name: 'bad', pattern: { source: 'x' }, target })).toThrow(/rule bad: Event pattern is not valid/);
    expect(() => eb.addRule({ name: 'nothing', target })).toThrow(/pattern or a schedule/);
    expect(() => eb.addRule({ name: 'sched', schedule: 'rate(1 minutes)', target })).toThrow(/singular/);
    expect(() => eb.addRule({ name: 'r', pattern: { a: ['b'] }, retryPolicy: { maximumRetryAttempts: 500 }, target })).toThrow(/0-185/);
    eb.addRule({ name: 'dup', pattern: { a: ['b'] }, target });
    expect(() => eb.addRule({ name: 'dup', pattern: { a: ['b'] }, target })).toThrow(/already exists/);
  });
});

describe('target input', () => {
  const event = () => eb.put({ source: 'aws.ecr', 'detail-type': 'ECR Image Action', detail: { 'repository-name': 'support-agent', 'image-tag': 'v2', size: 7 } });

  it('passes the event, a constant input, an inputPath selection or an inputTransformer rendering', async () => {
    const got: Record<string, unknown> = {};
    const target = (id: string, extra: Record<string, unknown> = {}) => ({ id, ...extra, invoke: (_e: AwsEvent, input: unknown) => { got[id] = input; } });
    eb.addRule({ name: 'plain', pattern: { source: ['aws.ecr'] }, target: target('plain') });
    eb.addRule({ name: 'constant', pattern: { source: ['aws.ecr'] }, target: target('constant', { input: { mode: 'drift-check' } }) });
    eb.addRule({ name: 'path', pattern: { source: ['aws.ecr'] }, target: target('path', { inputPath: "$.detail['image-tag']" }) });
    eb.addRule({
      name: 'xform', pattern: { source: ['aws.ecr'] },
      target: target('xform', { inputTransformer: {
        inputPathsMap: { repo: '$.detail.repository-name', tag: '$.detail.image-tag', size: '$.detail.size', detail: '$.detail' },
        inputTemplate: '{"image": "<repo>:<tag>", "size": <size>, "detail": <detail>, "rule": "<aws.events.rule-name>", "note": "<b>bold</b>"}',
      } }),
    });
    eb.addRule({
      name: 'text', pattern: { source: ['aws.ecr'] },
      target: target('text', { inputTransformer: { inputPathsMap: { tag: '$.detail.image-tag' }, inputTemplate: '"pushed <tag>"' } }),
    });
    const e = event();
    await eb.whenIdle();
    expect(got.plain).toEqual(e);
    expect(got.constant).toEqual({ mode: 'drift-check' });
    expect(got.path).toBe('v2');
    expect(got.xform).toEqual({ image: 'support-agent:v2', size: 7, detail: e.detail, rule: 'xform', note: '<b>bold</b>' });
    expect(got.text).toBe('pushed v2');
  });

  it('rejects conflicting or malformed input settings when the rule is added', () => {
    const invoke = () => undefined;
    expect(() => eb.addRule({ name: 'a', pattern: { x: ['y'] }, target: { id: 't', invoke, input: {}, inputPath: '$.detail' } })).toThrow(/only one of/);
    expect(() => eb.addRule({ name: 'b', pattern: { x: ['y'] }, target: { id: 't', invoke, inputPath: 'detail' } })).toThrow(/must start with \$/);
    expect(() => eb.addRule({ name: 'c', pattern: { x: ['y'] }, target: { id: 't', invoke, inputTransformer: { inputPathsMap: { a: '$.detail' }, inputTemplate: '{"a": <a>, "b": <b>}' } } }))
      .toThrow(/placeholder <b> is not defined in inputPathsMap/);
  });
});

describe('programmatic putEvents (for in-process callers)', () => {
  it('validates like the API and accepts Date times', () => {
    const out = eb.putEvents([
      { Source: 'autopilot.sfn', DetailType: 'Rollout Step', Detail: '{"step":1}', Time: new Date(T0 - 1000) },
      { Source: 'autopilot.sfn', DetailType: 'Rollout Step', Detail: '[1]' },
    ]);
    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries[1]).toEqual({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' });
    expect(eb.events[0].event).toMatchObject({ id: out.Entries[0].EventId, time: '2026-01-01T11:59:59Z', detail: { step: 1 } });
    expect(() => eb.putEvents([])).toThrow(/greater than or equal to 1/);
  });
});

describe('schedules', () => {
  it('fires rate and cron rules from the virtual clock and stops on request', async () => {
    const fired: { rule: string; time: string; resources: string[]; at: number }[] = [];
    const target = (rule: string) => ({ id: rule, invoke: (e: AwsEvent) => { fired.push({ rule, time: e.time, resources: e.resources, at: clock.now() }); } });
    const rate = eb.addRule({ name: 'every-5', schedule: 'rate(5 minutes)', target: target('every-5') });
    eb.addRule({ name: 'quarter', schedule: 'cron(0/15 * * * ? *)', target: target('quarter') });
    eb.startSchedules();
    await clock.advance(16 * MIN);
    await eb.whenIdle();
    expect(fired.map((f) => `${f.rule}@${f.time}`).sort()).toEqual([
      'every-5@2026-01-01T12:05:00Z', 'every-5@2026-01-01T12:10:00Z', 'every-5@2026-01-01T12:15:00Z', 'quarter@2026-01-01T12:15:00Z',
    ]);
    expect(fired.find((f) => f.rule === 'every-5')!.resources).toEqual([rate.arn]);
    expect(rate.arn).toBe('arn:aws:events:us-east-1:123456789012:rule/every-5');
    const scheduled = eb.events.filter((e) => e.via === 'schedule');
    expect(scheduled[0].event).toMatchObject({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} });

    // rules added while running are scheduled too
    eb.addRule({ name: 'late', schedule: 'rate(1 minute)', target: target('late') });
    await clock.advance(MIN);
    await eb.whenIdle();
    expect(fired.at(-1)!.rule).toBe('late');

    await eb.stopSchedules();
    const count = fired.length;
    expect(clock.pending()).toBe(0);
    await clock.advance(60 * MIN);
    await eb.whenIdle();
    expect(fired).toHaveLength(count);
  });

  it('runs a day of schedules in auto mode', async () => {
    clock.setMode('auto');
    let n = 0;
    eb.addRule({ name: 'hourly', schedule: 'cron(0 * * * ? *)', target: { id: 't', invoke: () => { n++; } } });
    eb.startSchedules();
    await clock.sleep(24 * 60 * MIN + MIN); // 13:00 today ... 12:00 tomorrow
    await eb.whenIdle();
    expect(n).toBe(24);
  });
});

describe('ECR push -> EventBridge -> rule -> target', () => {
  it('delivers one ECR Image Action per tag to a rule that resolves the tag through the real ECR client', async () => {
    await core.close();
    const ecr = new EcrStandIn({ clock, emit: (e) => eb.put(e) });
    ecr.seed({ repositories: [{ name: 'support-agent' }, { name: 'other' }] });
    core = await startHttpCore({ services: [eb, ecr], clock });
    const ecrClient = new ECRClient({ endpoint: core.url, region: 'us-east-1', maxAttempts: 1, credentials });

    const resolved: { tag: string; digest: string | undefined }[] = [];
    eb.addRule({
      name: 'redeploy-on-push',
      pattern: { source: ['aws.ecr'], 'detail-type': ['ECR Image Action'], detail: { 'action-type': ['PUSH'], result: ['SUCCESS'], 'repository-name': ['support-agent'], 'image-tag': [{ 'anything-but': { prefix: 'dev-' } }] } },
      target: {
        id: 'redeploy',
        invoke: async (e) => {
          const tag = e.detail['image-tag'] as string;
          const out = await ecrClient.send(new DescribeImagesCommand({ repositoryName: e.detail['repository-name'] as string, imageIds: [{ imageTag: tag }] }));
          resolved.push({ tag, digest: out.imageDetails![0].imageDigest });
        },
      },
    });

    const pushed = ecr.push({ repository: 'support-agent', tags: ['v2', 'latest', 'dev-7'] });
    ecr.push({ repository: 'other', tags: ['v2'] });
    await eb.whenIdle();
    ecrClient.destroy();

    expect(eb.events.map((e) => e.event.detail['image-tag'])).toEqual(['v2', 'latest', 'dev-7', 'v2']);
    expect(resolved.sort((a, b) => a.tag.localeCompare(b.tag))).toEqual([
      { tag: 'latest', digest: pushed.image.imageDigest },
      { tag: 'v2', digest: pushed.image.imageDigest },
    ]);
    expect(eb.deliveries.every((d) => d.outcome === 'delivered')).toBe(true);
  });
});
