/**
 * EventBridge stand-in (awsJson1_1, `X-Amz-Target: AWSEvents.<Operation>`).
 *
 * - PutEvents onto the default bus or named buses, with the real per-entry validation
 *   (ErrorCode/ErrorMessage + FailedEntryCount) and request-level ValidationException.
 * - Every event (PutEvents, `put()` from other stand-ins such as ECR, scheduled events) is kept in
 *   `events`, exactly as delivered to targets.
 * - A bus may carry a resource policy (`setBusPolicy`): a PutEvents call over HTTP is then
 *   authorized for its caller (the SigV4 access key, mapped by the identity table to a principal:
 *   ../iam/identity.ts) per ../iam/policy.ts, with the condition keys events:source and
 *   events:detail-type (EventBridge User Guide, "Using IAM policy conditions in Amazon
 *   EventBridge"). A denied entry fails with AccessDeniedException (a documented
 *   PutEventsResultEntry ErrorCode; whether AWS fails the entry or the whole request for a
 *   bus-policy denial is not documented: either way nothing reaches the bus). In-process callers
 *   (other stand-ins, the Step Functions tasks) are not authorized.
 * - Rules (`addRule`) match with EventBridge pattern semantics (pattern.ts) or fire on a schedule
 *   (schedule.ts, driven by the injected clock). Targets run asynchronously after PutEvents
 *   returns; failures are retried with exponential backoff on the clock within the rule's retry
 *   policy, then handed to the dead-letter callback. `deliveries` records every attempt chain and
 *   `whenIdle()` resolves once nothing is in flight.
 */
import { AwsError, type EmulatorRequest, type EmulatorResponse, type ResolvedOperation, type ServiceStandIn } from '../types.ts';
import type { Clock } from '../../clock.ts';
import { readTimestamp, renderJsonError, resolveJsonTarget } from '../json-protocol.ts';
import { EventPatternError, matchesValidatedPattern, validatePattern, type EventPattern } from './pattern.ts';
import { nextFiring, parseSchedule, type Schedule } from './schedule.ts';
import { transformInput, validateTransform, type InputTransformer } from './transform.ts';
import type { Caller, Identities } from '../iam/identity.ts';
import { accessDeniedMessage, authorize, parsePolicy, type PolicyDocument, type PolicyStatement } from '../iam/policy.ts';

export interface AwsEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  /** ISO-8601, second precision, e.g. 2026-01-01T00:00:00Z */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export interface EventLogEntry {
  /** clock.now() when the event entered the bus. */
  at: number;
  bus: string;
  via: 'PutEvents' | 'put' | 'schedule';
  event: AwsEvent;
}

export interface RuleTarget {
  id: string;
  /**
   * Runs the target. `input` is what AWS would send the target: the event itself, or the result
   * of `input` / `inputPath` / `inputTransformer` when one is set (at most one of them).
   */
  invoke(event: AwsEvent, input: unknown): Promise<unknown> | unknown;
  /** Constant input (any JSON value) instead of the event. */
  input?: unknown;
  /** JSONPath into the event (`$.detail`, `$.detail['image-tag']`). */
  inputPath?: string;
  inputTransformer?: InputTransformer;
}

/** A programmatic PutEvents entry (the SDK's input shape; Time as Date, epoch ms or ISO string). */
export interface PutEventsEntryInput {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: Date | number | string;
  TraceHeader?: string;
}

export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[];
}

export interface RetryPolicy {
  /** Retries after the first attempt (0-185, default 185). */
  maximumRetryAttempts: number;
  /** Give up once the event is older than this (60-86400, default 86400). */
  maximumEventAgeInSeconds: number;
}

export interface RuleOptions {
  name: string;
  /** Bus name or ARN (default `default`); created on first use, as serverless.yml does. */
  eventBus?: string;
  pattern?: EventPattern | string;
  /** `rate(...)` or `cron(...)`; schedule rules live on the default bus. */
  schedule?: string;
  target: RuleTarget;
  retryPolicy?: Partial<RetryPolicy>;
  deadLetter?: DeadLetterHandler;
  enabled?: boolean;
}

/** Receives an event the rule could not deliver, with the delivery's record (attempts, errors). */
export type DeadLetterHandler = (event: AwsEvent, error: unknown, delivery: DeliveryRecord) => void | Promise<void>;

export interface Rule {
  name: string;
  arn: string;
  eventBus: string;
  pattern?: EventPattern;
  schedule?: Schedule;
  target: RuleTarget;
  retryPolicy: RetryPolicy;
  deadLetter?: DeadLetterHandler;
  enabled: boolean;
  /** clock.now() when the rule was added (anchor of rate schedules). */
  createdAt: number;
}

export type DeliveryOutcome = 'pending' | 'delivered' | 'dead-lettered' | 'dropped';

export interface DeliveryRecord {
  rule: string;
  ruleArn: string;
  targetId: string;
  eventId: string;
  /** Invocations made so far (first attempt included). */
  attempts: number;
  outcome: DeliveryOutcome;
  /** Error message of each failed attempt, in order. */
  errors: string[];
  enqueuedAt: number;
  finishedAt?: number;
  /** What the target returned on success. */
  result?: unknown;
}

export interface EventBridgeOptions {
  clock: Clock;
  account?: string;
  region?: string;
  /** Delay before retry number `retry` (1-based). Default: 1 s doubling, capped at 5 min (deterministic). */
  retryDelayMs?: (retry: number) => number;
  /** Maximum total size of the entries of one PutEvents request, in bytes (default 256 KiB). */
  maxRequestBytes?: number;
  /** Access key -> principal, to authorize PutEvents on buses with a resource policy. */
  identities?: Identities;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86_400 };
const MAX_ENTRIES = 10;

/** Entry size as EventBridge counts it: UTF-8 bytes of Source, DetailType, Detail, Resources, +14 with Time. */
export function entrySize(e: Record<string, unknown>): number {
  const bytes = (v: unknown) => (typeof v === 'string' ? Buffer.byteLength(v) : 0);
  const resources = Array.isArray(e.Resources) ? e.Resources : [];
  return (e.Time !== undefined ? 14 : 0) + bytes(e.Source) + bytes(e.DetailType) + bytes(e.Detail)
    + resources.reduce((n: number, r: unknown) => n + bytes(r), 0);
}

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class EventBridgeStandIn implements ServiceStandIn {
  readonly name = 'events';
  readonly account: string;
  readonly region: string;
  /** Every event that entered a bus, in order. */
  readonly events: EventLogEntry[] = [];
  /** One record per (event, matching rule). */
  readonly deliveries: DeliveryRecord[] = [];

  private readonly clock: Clock;
  private readonly buses = new Set<string>(['default']);
  private readonly policies = new Map<string, PolicyStatement[]>();
  private readonly identities: Identities | undefined;
  private readonly rules = new Map<string, Rule>();
  private readonly pending = new Set<Promise<void>>();
  private readonly retryDelayMs: (retry: number) => number;
  private readonly maxRequestBytes: number;
  private scheduleAbort: AbortController | undefined;
  private readonly scheduleLoops = new Set<Promise<void>>();

  constructor(opts: EventBridgeOptions) {
    this.clock = opts.clock;
    this.account = opts.account ?? '123456789012';
    this.region = opts.region ?? 'us-east-1';
    this.retryDelayMs = opts.retryDelayMs ?? ((n) => Math.min(1000 * 2 ** (n - 1), 300_000));
    this.maxRequestBytes = opts.maxRequestBytes ?? 256 * 1024;
    this.identities = opts.identities;
  }

  // ---------------------------------------------------------------- buses and rules

  createEventBus(name: string): string {
    this.buses.add(this.busName(name));
    return this.busArn(this.busName(name));
  }

  /** Attaches a resource policy to a bus (created if needed); throws for what cannot be evaluated locally. */
  setBusPolicy(nameOrArn: string, policy: string | PolicyDocument): void {
    const name = this.busName(nameOrArn);
    this.buses.add(name);
    this.policies.set(name, parsePolicy(policy));
  }

  busArn(name: string): string {
    return `arn:aws:events:${this.region}:${this.account}:event-bus/${name}`;
  }

  /** Accepts a bus name or ARN, returns the name. */
  busName(nameOrArn: string | undefined): string {
    if (!nameOrArn) return 'default';
    const m = /^arn:aws[\w-]*:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(nameOrArn);
    return m ? m[1] : nameOrArn;
  }

  addRule(opts: RuleOptions): Rule {
    if (!/^[.\-_A-Za-z0-9]{1,64}$/.test(opts.name)) throw new Error(`invalid rule name "${opts.name}": 1-64 characters of [.-_A-Za-z0-9]`);
    if (!opts.pattern && !opts.schedule) throw new Error(`rule ${opts.name}: needs an event pattern or a schedule expression`);
    const bus = this.busName(opts.eventBus);
    if (opts.schedule && bus !== 'default') throw new Error(`rule ${opts.name}: schedule expressions are only supported on the default event bus`);
    const key = `${bus}/${opts.name}`;
    if (this.rules.has(key)) throw new Error(`rule ${opts.name} already exists on event bus ${bus}`);
    const retry = { ...DEFAULT_RETRY_POLICY, ...opts.retryPolicy };
    if (!Number.isInteger(retry.maximumRetryAttempts) || retry.maximumRetryAttempts < 0 || retry.maximumRetryAttempts > 185) {
      throw new Error(`rule ${opts.name}: maximumRetryAttempts must be an integer 0-185`);
    }
    if (!Number.isInteger(retry.maximumEventAgeInSeconds) || retry.maximumEventAgeInSeconds < 60 || retry.maximumEventAgeInSeconds > 86_400) {
      throw new Error(`rule ${opts.name}: maximumEventAgeInSeconds must be an integer 60-86400`);
    }
    let pattern: EventPattern | undefined;
    if (opts.pattern !== undefined) {
      try {
        pattern = validatePattern(opts.pattern);
      } catch (e) {
        throw new Error(`rule ${opts.name}: ${(e as Error).message}`);
      }
    }
    const schedule = opts.schedule ? parseSchedule(opts.schedule) : undefined;
    try {
      validateTransform(opts.target);
    } catch (e) {
      throw new Error(`rule ${opts.name}, target ${opts.target.id}: ${(e as Error).message}`);
    }
    this.buses.add(bus);
    const rule: Rule = {
      name: opts.name,
      arn: `arn:aws:events:${this.region}:${this.account}:rule/${bus === 'default' ? '' : `${bus}/`}${opts.name}`,
      eventBus: bus,
      pattern,
      schedule,
      target: opts.target,
      retryPolicy: retry,
      deadLetter: opts.deadLetter,
      enabled: opts.enabled ?? true,
      createdAt: this.clock.now(),
    };
    this.rules.set(key, rule);
    if (schedule && this.scheduleAbort) this.startScheduleLoop(rule, this.scheduleAbort.signal);
    return rule;
  }

  removeRule(name: string, eventBus?: string): boolean {
    return this.rules.delete(`${this.busName(eventBus)}/${name}`);
  }

  listRules(): Rule[] {
    return [...this.rules.values()];
  }

  // ---------------------------------------------------------------- events

  /**
   * Puts a complete event envelope on a bus, as AWS services do (e.g. ECR's image actions).
   * Missing envelope fields are filled in. Returns the event as delivered.
   */
  put(event: Partial<AwsEvent> & { source: string; 'detail-type': string }, bus = 'default'): AwsEvent {
    const full: AwsEvent = {
      version: '0',
      id: event.id ?? crypto.randomUUID(),
      'detail-type': event['detail-type'],
      source: event.source,
      account: event.account ?? this.account,
      time: event.time ?? isoSeconds(this.clock.now()),
      region: event.region ?? this.region,
      resources: event.resources ?? [],
      detail: event.detail ?? {},
    };
    const name = this.busName(bus);
    if (!this.buses.has(name)) throw new Error(`Event bus ${name} does not exist.`);
    this.accept(full, name, 'put');
    return full;
  }

  private accept(event: AwsEvent, bus: string, via: EventLogEntry['via']): void {
    this.events.push({ at: this.clock.now(), bus, via, event });
    for (const rule of this.rules.values()) {
      if (!rule.enabled || rule.eventBus !== bus || !rule.pattern) continue;
      if (matchesValidatedPattern(rule.pattern, event)) this.enqueue(rule, event);
    }
  }

  private enqueue(rule: Rule, event: AwsEvent): void {
    const record: DeliveryRecord = {
      rule: rule.name, ruleArn: rule.arn, targetId: rule.target.id, eventId: event.id,
      attempts: 0, outcome: 'pending', errors: [], enqueuedAt: this.clock.now(),
    };
    this.deliveries.push(record);
    const p = this.deliver(rule, event, record).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async deliver(rule: Rule, event: AwsEvent, record: DeliveryRecord): Promise<void> {
    // Targets run after the producer's call has returned, as on AWS.
    await new Promise<void>((r) => setImmediate(r));
    const maxAgeMs = rule.retryPolicy.maximumEventAgeInSeconds * 1000;
    let lastError: unknown;
    for (;;) {
      record.attempts++;
      try {
        const copy = structuredClone(event);
        const input = transformInput(rule.target, copy, { ruleName: rule.name, ruleArn: rule.arn });
        record.result = await rule.target.invoke(copy, input);
        record.outcome = 'delivered';
        record.finishedAt = this.clock.now();
        return;
      } catch (err) {
        lastError = err;
        record.errors.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      }
      const retry = record.attempts; // retries made after this one would be number `retry`
      if (retry > rule.retryPolicy.maximumRetryAttempts) break;
      const delay = Math.max(0, this.retryDelayMs(retry));
      if (this.clock.now() + delay - record.enqueuedAt > maxAgeMs) break;
      await this.clock.sleep(delay);
    }
    record.finishedAt = this.clock.now();
    if (rule.deadLetter) {
      record.outcome = 'dead-lettered';
      try {
        await rule.deadLetter(structuredClone(event), lastError, record);
      } catch (err) {
        record.errors.push(`dead-letter failed: ${(err as Error).message}`);
      }
    } else {
      record.outcome = 'dropped';
    }
  }

  /**
   * Resolves when no delivery (including retries waiting on the clock) is in flight. With a manual
   * VirtualClock, a retry waiting for its backoff only finishes once the clock is advanced.
   */
  async whenIdle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Number of deliveries in flight. */
  pendingDeliveries(): number {
    return this.pending.size;
  }

  // ---------------------------------------------------------------- schedules

  /** Starts firing every schedule rule (present and future) from the clock, until stopSchedules(). */
  startSchedules(): void {
    if (this.scheduleAbort) return;
    this.scheduleAbort = new AbortController();
    for (const rule of this.rules.values()) {
      if (rule.schedule) this.startScheduleLoop(rule, this.scheduleAbort.signal);
    }
  }

  async stopSchedules(): Promise<void> {
    const ac = this.scheduleAbort;
    if (!ac) return;
    this.scheduleAbort = undefined;
    ac.abort(new Error('schedules stopped'));
    await Promise.allSettled([...this.scheduleLoops]);
  }

  private startScheduleLoop(rule: Rule, signal: AbortSignal): void {
    const schedule = rule.schedule!;
    const anchor = Math.max(rule.createdAt, this.clock.now());
    const loop = (async () => {
      let after = this.clock.now();
      while (!signal.aborted) {
        const next = nextFiring(schedule, after, anchor);
        if (next === undefined) return;
        try {
          await this.clock.sleep(next - this.clock.now(), signal);
        } catch {
          return;
        }
        if (signal.aborted) return;
        after = next;
        const key = `${rule.eventBus}/${rule.name}`;
        if (this.rules.get(key) !== rule) return; // removed meanwhile
        if (!rule.enabled) continue;
        const event: AwsEvent = {
          version: '0', id: crypto.randomUUID(), 'detail-type': 'Scheduled Event', source: 'aws.events',
          account: this.account, time: isoSeconds(next), region: this.region, resources: [rule.arn], detail: {},
        };
        this.events.push({ at: this.clock.now(), bus: rule.eventBus, via: 'schedule', event });
        this.enqueue(rule, event);
      }
    })();
    const tracked = loop.finally(() => this.scheduleLoops.delete(tracked));
    this.scheduleLoops.add(tracked);
  }

  // ---------------------------------------------------------------- wire protocol

  resolve(req: EmulatorRequest): ResolvedOperation | undefined {
    return resolveJsonTarget(req, {
      service: this.name,
      targetPrefix: 'AWSEvents',
      version: '1.1',
      operations: {
        PutEvents: (input, req) => {
          const needsCaller = this.policies.size > 0;
          const caller = needsCaller ? this.identities?.callerOf(req) : undefined;
          if (needsCaller && !caller) {
            throw new AwsError('UnrecognizedClientException', 400, 'The security token included in the request is invalid.');
          }
          return this.putEventsOp(input, caller);
        },
        TestEventPattern: (input) => this.testEventPatternOp(input),
        // Local only (AWS has no read API for a bus): `autopilot events` tails the log with it.
        LocalListEvents: (input) => this.localListEventsOp(input),
        // Local only: the stack's clock, so a CLI in another process shows bake countdowns,
        // backoff and approval times on the stack's time (which may run faster than wall time).
        LocalGetClock: () => ({ Now: this.clock.now() }),
      },
    });
  }

  renderError(err: AwsError): EmulatorResponse {
    return renderJsonError(err, { version: '1.1', aliases: { InternalServerException: 'InternalException' } });
  }

  /**
   * `AWSEvents.LocalListEvents` (not an AWS operation): the event log from `AfterSequence`
   * (exclusive; sequence = index in `events` + 1), optionally filtered by Source / DetailType / bus,
   * at most `Limit` (default 100, max 1000) entries. `NextSequence` is where the next call resumes.
   */
  private localListEventsOp(input: Record<string, unknown>): unknown {
    const after = input.AfterSequence === undefined ? 0 : Number(input.AfterSequence);
    if (!Number.isInteger(after) || after < 0) throw new AwsError('ValidationException', 400, 'AfterSequence must be a non-negative integer');
    const limit = input.Limit === undefined ? 100 : Number(input.Limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new AwsError('ValidationException', 400, 'Limit must be an integer from 1 to 1000');
    const source = typeof input.Source === 'string' ? input.Source : undefined;
    const detailType = typeof input.DetailType === 'string' ? input.DetailType : undefined;
    const bus = typeof input.EventBusName === 'string' ? this.busName(input.EventBusName) : undefined;
    const out: { Sequence: number; At: number; EventBusName: string; Via: string; Event: AwsEvent }[] = [];
    let next = after;
    for (let i = after; i < this.events.length && out.length < limit; i++) {
      next = i + 1;
      const e = this.events[i];
      if (source !== undefined && e.event.source !== source) continue;
      if (detailType !== undefined && e.event['detail-type'] !== detailType) continue;
      if (bus !== undefined && e.bus !== bus) continue;
      out.push({ Sequence: i + 1, At: e.at / 1000, EventBusName: e.bus, Via: e.via, Event: e.event });
    }
    return { Events: out, NextSequence: next, Now: this.clock.now() / 1000 };
  }

  /**
   * PutEvents for in-process callers (e.g. the Step Functions stand-in's `events:putEvents` task):
   * the same validation and per-entry results as the API, without HTTP.
   */
  putEvents(entries: PutEventsEntryInput[]): PutEventsResult {
    return this.putEventsOp({
      Entries: entries.map((e) => ({
        ...e,
        Time: e.Time instanceof Date ? e.Time.getTime() / 1000 : typeof e.Time === 'number' ? e.Time / 1000 : e.Time,
      })),
    });
  }

  private putEventsOp(input: Record<string, unknown>, caller?: Caller): PutEventsResult {
    const entries = input.Entries;
    if (!Array.isArray(entries)) {
      throw new AwsError('ValidationException', 400, "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null");
    }
    if (entries.length < 1 || entries.length > MAX_ENTRIES) {
      throw new AwsError('ValidationException', 400,
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ${entries.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_ENTRIES}`}`);
    }
    const total = entries.reduce((n: number, e: Record<string, unknown>) => n + entrySize(e), 0);
    if (total > this.maxRequestBytes) throw new AwsError('ValidationException', 400, 'Total size of the entries in the request is over the limit.');
    const now = this.clock.now();
    const results: PutEventsResult['Entries'] = [];
    const accepted: { event: AwsEvent; bus: string }[] = [];
    for (const raw of entries) {
      const out = this.checkEntry(raw as Record<string, unknown>, now);
      // A PutEvents caller's events carry the caller's account.
      if (caller && !('error' in out)) out.event.account = caller.account;
      const denied = caller && !('error' in out) ? this.denied(caller, out.bus, out.event) : undefined;
      if (denied) {
        results.push({ ErrorCode: 'AccessDeniedException', ErrorMessage: denied });
      } else if ('error' in out) {
        results.push({ ErrorCode: out.error[0], ErrorMessage: out.error[1] });
      } else {
        results.push({ EventId: out.event.id });
        accepted.push(out);
      }
    }
    for (const a of accepted) this.accept(a.event, a.bus, 'PutEvents');
    return { FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results };
  }

  /** Why the bus policy refuses this caller's event, or undefined when it may put it. */
  private denied(caller: Caller, bus: string, event: AwsEvent): string | undefined {
    const statements = this.policies.get(bus);
    if (!statements) return undefined;
    const req = {
      caller, action: 'events:PutEvents', resource: this.busArn(bus), resourceAccount: this.account,
      context: { 'events:source': event.source, 'events:detail-type': event['detail-type'] },
    };
    const decision = authorize(statements, req);
    return decision.allowed ? undefined : accessDeniedMessage(req, decision);
  }

  private checkEntry(e: Record<string, unknown>, now: number): { error: [string, string] } | { event: AwsEvent; bus: string } {
    const invalid = (field: string, reason: string): { error: [string, string] } =>
      ({ error: ['InvalidArgument', `Parameter ${field} is not valid. Reason: ${reason}`] });
    if (typeof e.Source !== 'string' || e.Source === '') return invalid('Source', 'Source is a required argument.');
    if (typeof e.DetailType !== 'string' || e.DetailType === '') return invalid('DetailType', 'DetailType is a required argument.');
    if (typeof e.Detail !== 'string' || e.Detail === '') return invalid('Detail', 'Detail is a required argument.');
    if (e.Source.toLowerCase().startsWith('aws.')) return { error: ['NotAuthorizedForSourceException', 'Not authorized for the source.'] };
    let detail: unknown;
    try {
      detail = JSON.parse(e.Detail);
    } catch {
      return { error: ['MalformedDetail', 'Detail is malformed.'] };
    }
    if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) return { error: ['MalformedDetail', 'Detail is malformed.'] };
    const resources = e.Resources === undefined ? [] : e.Resources;
    if (!Array.isArray(resources) || !resources.every((r) => typeof r === 'string')) return invalid('Resources', 'Resources must be a list of strings.');
    const bus = this.busName(typeof e.EventBusName === 'string' ? e.EventBusName : undefined);
    if (!this.buses.has(bus)) return { error: ['ResourceNotFoundException', `Event bus ${bus} does not exist.`] };
    const time = e.Time === undefined ? now : readTimestamp(e.Time);
    if (time === undefined) return invalid('Time', 'Time is not a valid timestamp.');
    return {
      bus,
      event: {
        version: '0', id: crypto.randomUUID(), 'detail-type': e.DetailType, source: e.Source, account: this.account,
        time: isoSeconds(time), region: this.region, resources: resources as string[], detail: detail as Record<string, unknown>,
      },
    };
  }

  private testEventPatternOp(input: Record<string, unknown>): unknown {
    if (typeof input.EventPattern !== 'string') throw new AwsError('ValidationException', 400, 'EventPattern is required');
    if (typeof input.Event !== 'string') throw new AwsError('ValidationException', 400, 'Event is required');
    let pattern: EventPattern;
    try {
      pattern = validatePattern(input.EventPattern);
    } catch (e) {
      if (e instanceof EventPatternError) throw new AwsError('InvalidEventPatternException', 400, e.message);
      throw e;
    }
    let event: unknown;
    try {
      event = JSON.parse(input.Event);
    } catch {
      throw new AwsError('InvalidEventPatternException', 400, 'Event is not valid JSON.');
    }
    return { Result: matchesValidatedPattern(pattern, event) };
  }
}
