/**
 * A reproducible fault plan for the emulator (implements server.ts's FaultHook).
 *
 * Rules match a service and an operation by glob (`*`, `Get*`). Per rule: added latency (fixed
 * and/or a random spike), a requests-per-second quota (token bucket on REAL time; beyond it a
 * ThrottlingException "Rate exceeded"), a rate of InternalServerExceptions, the next N calls
 * forced to ConflictException, or an arbitrary error at a rate or for N calls. `addMembers` makes a
 * successful response carry members the bundled service model does not know, the way a newer AWS
 * answers an older client (a field added to GetAgentRuntime next month: the SDK's parser drops it,
 * the raw body keeps it).
 *
 * Latency and quotas use real time because benchmarks measure them; every random decision comes
 * from a PRNG seeded with (plan seed, rule index, service:operation), so the same sequence of calls
 * to an operation meets the same faults on every run.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { FaultHook } from './server.ts';
import { AwsError } from './types.ts';
import { ERROR_STATUS, globToRegExp, hash32, prng } from './agentcore/util.ts';

const errorSpec = z.object({
  type: z.string().min(1),
  status: z.number().int().min(400).max(599).optional(),
  message: z.string().optional(),
  rate: z.number().min(0).max(1).optional(),
  count: z.number().int().min(0).optional(),
}).strict().refine((e) => e.rate !== undefined || e.count !== undefined, { message: 'set rate or count' });

export const faultRuleSchema = z.object({
  service: z.string().min(1).default('*'),
  operation: z.string().min(1).default('*'),
  /** Fixed latency added to every matching call, in real milliseconds. */
  latencyMs: z.number().min(0).optional(),
  /** With `probability`, add `ms` more (a latency spike). */
  spike: z.object({ probability: z.number().min(0).max(1), ms: z.number().min(0) }).strict().optional(),
  /** Requests per second allowed (token bucket per operation); beyond it ThrottlingException. */
  rps: z.number().positive().optional(),
  /** Bucket size (default: max(1, rps)). */
  burst: z.number().int().positive().optional(),
  /** Share of calls answered with InternalServerException (500). */
  errorRate: z.number().min(0).max(1).optional(),
  /** The next N matching calls get ConflictException. */
  conflicts: z.number().int().min(0).optional(),
  /** Any other error, at a rate or for the next N calls. */
  error: errorSpec.optional(),
  /**
   * Members merged into every successful JSON response body of the matching operations: dotted
   * path (`newField`, `protocolConfiguration.newMember`) -> JSON value. Intermediate objects are
   * created; an existing member is replaced.
   */
  addMembers: z.record(z.string().regex(/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/, 'must be a dotted member path'), z.unknown()).optional(),
}).strict();

export const faultPlanSchema = z.object({
  seed: z.number().int().default(1),
  rules: z.array(faultRuleSchema).default([]),
}).strict();

export type FaultRule = z.input<typeof faultRuleSchema>;
export type FaultPlan = z.input<typeof faultPlanSchema>;
type ParsedRule = z.output<typeof faultRuleSchema>;

interface RuleState {
  rule: ParsedRule;
  index: number;
  service: RegExp;
  operation: RegExp;
  conflictsLeft: number;
  errorsLeft: number;
  buckets: Map<string, { tokens: number; at: number }>;
  rngs: Map<string, () => number>;
}

/** Parses a fault plan object or YAML text, with readable errors. */
export function parseFaultPlan(value: unknown, source = 'fault plan'): z.output<typeof faultPlanSchema> {
  const result = faultPlanSchema.safeParse(value ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid ${source}:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** Loads a fault plan from a YAML file. */
export function loadFaultPlan(file: string): z.output<typeof faultPlanSchema> {
  return parseFaultPlan(parseYaml(readFileSync(file, 'utf8')), file);
}

export interface FaultInjectorOptions {
  /** Real-time source for latency and quotas (ms); default performance.now. */
  now?: () => number;
  /** Real-time sleep for latency; default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

export class FaultInjector implements FaultHook {
  private seed: number;
  private rules: RuleState[] = [];
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Faults injected so far, per kind (for reports and tests). */
  readonly injected = { latency: 0, throttled: 0, internal: 0, conflicts: 0, errors: 0, members: 0 };

  constructor(plan: FaultPlan = {}, opts: FaultInjectorOptions = {}) {
    this.now = opts.now ?? (() => performance.now());
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    const parsed = parseFaultPlan(plan);
    this.seed = parsed.seed;
    for (const r of parsed.rules) this.addRule(r);
  }

  /** Replaces the whole plan (resets counters, buckets and PRNGs). */
  setPlan(plan: FaultPlan): void {
    const parsed = parseFaultPlan(plan);
    this.seed = parsed.seed;
    this.rules = [];
    for (const r of parsed.rules) this.addRule(r);
  }

  addRule(rule: FaultRule): void {
    const r = faultRuleSchema.parse(rule);
    this.rules.push({
      rule: r,
      index: this.rules.length,
      service: globToRegExp(r.service),
      operation: globToRegExp(r.operation),
      conflictsLeft: r.conflicts ?? 0,
      errorsLeft: r.error?.count ?? 0,
      buckets: new Map(),
      rngs: new Map(),
    });
  }

  /** Shorthand: the next `count` calls of `operation` get ConflictException. */
  forceConflicts(operation: string, count: number, service = '*'): void {
    this.addRule({ service, operation, conflicts: count });
  }

  clear(): void {
    this.rules = [];
  }

  private rng(rs: RuleState, key: string): () => number {
    let r = rs.rngs.get(key);
    if (!r) {
      r = prng(hash32(`${this.seed}/${rs.index}/${key}`));
      rs.rngs.set(key, r);
    }
    return r;
  }

  private takeToken(rs: RuleState, key: string): boolean {
    const rps = rs.rule.rps!;
    const burst = rs.rule.burst ?? Math.max(1, Math.floor(rps));
    const now = this.now();
    const b = rs.buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rps);
    b.at = now;
    rs.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  async before(service: string, operation: string): Promise<AwsError | undefined> {
    const key = `${service}:${operation}`;
    const matching = this.rules.filter((rs) => rs.service.test(service) && rs.operation.test(operation));
    if (matching.length === 0) return undefined;
    let delay = 0;
    let fault: AwsError | undefined;
    for (const rs of matching) {
      const { rule } = rs;
      const rand = this.rng(rs, key);
      if (rule.latencyMs) delay += rule.latencyMs;
      // Draw every random number on every call, so one fault's outcome never shifts another's.
      const spikeDraw = rand();
      const errorDraw = rand();
      const customDraw = rand();
      if (rule.spike && spikeDraw < rule.spike.probability) delay += rule.spike.ms;
      if (fault) continue;
      if (rule.rps !== undefined && !this.takeToken(rs, key)) {
        this.injected.throttled++;
        fault = new AwsError('ThrottlingException', 429, 'Rate exceeded');
      } else if (rs.conflictsLeft > 0) {
        rs.conflictsLeft--;
        this.injected.conflicts++;
        fault = new AwsError('ConflictException', 409, 'Conflict: another operation is in progress on this resource (injected)');
      } else if (rule.errorRate !== undefined && errorDraw < rule.errorRate) {
        this.injected.internal++;
        fault = new AwsError('InternalServerException', 500, 'Internal server error (injected)');
      } else if (rule.error && (rs.errorsLeft > 0 || (rule.error.rate !== undefined && customDraw < rule.error.rate))) {
        if (rs.errorsLeft > 0) rs.errorsLeft--;
        this.injected.errors++;
        const { type, status, message } = rule.error;
        fault = new AwsError(type, status ?? ERROR_STATUS[type] ?? 400, message ?? `${type} (injected)`,
          type === 'ValidationException' ? { reason: 'FieldValidationFailed' } : {});
      }
    }
    if (delay > 0) {
      this.injected.latency++;
      await this.sleep(delay);
    }
    return fault;
  }

  /** Adds the `addMembers` of every matching rule to a successful JSON object body (in place). */
  after(service: string, operation: string, body: unknown): void {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
    for (const rs of this.rules) {
      const members = rs.rule.addMembers;
      if (!members || !rs.service.test(service) || !rs.operation.test(operation)) continue;
      for (const [path, value] of Object.entries(members)) {
        const steps = path.split('.');
        let at = body as Record<string, unknown>;
        for (const step of steps.slice(0, -1)) {
          const next = at[step];
          at = (at[step] = typeof next === 'object' && next !== null && !Array.isArray(next) ? next : {}) as Record<string, unknown>;
        }
        at[steps.at(-1)!] = structuredClone(value);
      }
      this.injected.members++;
    }
  }
}
