/**
 * Cedar policies of the local policy engines: CreatePolicy, GetPolicy, ListPolicies, UpdatePolicy,
 * DeletePolicy, and the policies in force at any moment (what the gateway traffic is decided by).
 *
 * Sources (AgentCore Control API model 2023-06-05 and developer guide pages):
 * - Shapes, routes, codes: model `CreatePolicy` (POST, 202), `GetPolicy`, `UpdatePolicy` (PATCH,
 *   202), `DeletePolicy` (DELETE, 202), `ListPolicies` (maxResults 1-100, default 10), `Policy`.
 *   Errors: ServiceQuotaExceeded (402), Conflict (409), ResourceNotFound (404), Validation (400).
 * - `enforcementMode` defaults to ACTIVE on create; omitted on update means unchanged
 *   (policy-test-a-policy; model `UpdatePolicyRequest`).
 * - Validation is asynchronous: 202 with CREATING/UPDATING, then ACTIVE or CREATE_FAILED /
 *   UPDATE_FAILED with `statusReasons` (policy-create-update-validation). The Cedar schema of every
 *   gateway associated with the engine is always checked; FAIL_ON_ANY_FINDINGS (the create
 *   default) adds the engine-wide analysis (overly permissive / restrictive / ineffective; finding
 *   types ALLOW_ALL, DENY_ALL... in the model's `Finding`).
 * - Names: `[A-Za-z][A-Za-z0-9_]*`, 1-48, "unique within the account" (model `CreatePolicyRequest`);
 *   ids are `<name>-[a-z0-9_]{10}`; ARN `...:policy-engine/<engineId>/policy/<policyId>` (`PolicyArn`).
 * - Quota: 1,000 policies per engine (bedrock-agentcore-limits) -> ServiceQuotaExceededException.
 * - Changes take effect "within a few seconds" (eventually consistent): here, when they settle.
 *
 * Undocumented, so the strict choice (each marked "undocumented" where it is made):
 * - Create/Update/Delete while the policy is CREATING/UPDATING/DELETING, or on an engine that is
 *   not ACTIVE: ConflictException.
 * - UpdatePolicy without `validationMode` validates as FAIL_ON_ANY_FINDINGS (the model gives no
 *   default), and every update re-validates, even one that changes only the enforcement mode.
 * - After UPDATE_FAILED, Get shows the requested definition while the previous one stays in force.
 * - `targetResourceScope` (meaning undocumented) is refused with a ValidationException.
 * - Only `definition.cedar` is evaluated locally; `policy` (Dogwood) and `policyGeneration`
 *   definitions end CREATE_FAILED here.
 */
import { parseStatement, validateStatement, type CedarIssue } from '../../../functions/lib/cedar.ts';
import { cedarSchemaFor, type GatewayTarget } from './gateway-tools.ts';
import { clone, compact, errors, iso, paginate } from './util.ts';

type Json = Record<string, unknown>;

export type EnforcementMode = 'ACTIVE' | 'LOG_ONLY';
export type PolicyStatus = 'CREATING' | 'ACTIVE' | 'UPDATING' | 'DELETING' | 'CREATE_FAILED' | 'UPDATE_FAILED' | 'DELETE_FAILED';
export type ValidationMode = 'FAIL_ON_ANY_FINDINGS' | 'IGNORE_ALL_FINDINGS';

/** What one revision of a policy decides with, from `at` on (until the next revision). */
export interface PolicyRevision {
  at: number;
  /** The Cedar statement; null once the policy is deleted. */
  statement: string | null;
  enforcementMode: EnforcementMode;
}

export interface PolicyChange {
  kind: 'create' | 'update' | 'delete';
  startedAt: number;
  settlesAt: number;
  /** statusReasons when the change fails validation (decided when it is requested). */
  failure?: string[];
}

export interface PolicyRecord {
  id: string;
  name: string;
  engineId: string;
  arn: string;
  createdAt: number;
  /** What Get shows (the latest requested definition). */
  definition: Json;
  enforcementMode: EnforcementMode;
  description?: string;
  change: PolicyChange;
  /** Revisions in force over time (appended for every change that settles successfully). */
  revisions: PolicyRevision[];
  deleteAt?: number;
}

/** What the store needs from the rest of the emulator. */
export interface PolicyHost {
  now(): number;
  delays: { policyCreate: number; policyUpdate: number; policyDelete: number };
  limits: { policiesPerEngine: number };
  policyEngineArn(engineId: string): string;
  randomSuffix(): string;
  wakeAt(at: number): void;
  /** The engine, or undefined when it does not exist; `active` when its status is ACTIVE. */
  engine(engineId: string): { id: string; arn: string; active: boolean } | undefined;
  /** Targets (tools) of every gateway currently associated with the engine, where known. */
  gatewayTargetsFor(engineArn: string): GatewayTarget[][];
}

/** A policy in force at some moment. */
export interface EffectivePolicy {
  id: string;
  statement: string;
  enforcementMode: EnforcementMode;
}

function statementOf(definition: Json): string | undefined {
  const cedar = definition.cedar as { statement?: unknown } | undefined;
  return typeof cedar?.statement === 'string' ? cedar.statement : undefined;
}

function located(prefix: string, issues: CedarIssue[]): string[] {
  return issues.map((i) => `${prefix} at line ${i.line}, column ${i.column}: ${i.message}`);
}

export class PolicyStore {
  readonly policies = new Map<string, PolicyRecord>();
  private readonly host: PolicyHost;

  constructor(host: PolicyHost) {
    this.host = host;
  }

  // --- lookups and lazy status -------------------------------------------------------------------

  status(p: PolicyRecord): PolicyStatus {
    const now = this.host.now();
    const c = p.change;
    if (now < c.settlesAt) return c.kind === 'create' ? 'CREATING' : c.kind === 'update' ? 'UPDATING' : 'DELETING';
    if (c.failure) return c.kind === 'create' ? 'CREATE_FAILED' : c.kind === 'update' ? 'UPDATE_FAILED' : 'DELETE_FAILED';
    return 'ACTIVE';
  }

  private isGone(p: PolicyRecord): boolean {
    return p.deleteAt !== undefined && this.host.now() >= p.deleteAt;
  }

  /** The policy of `engineId`, unless it never existed or its deletion completed. */
  find(engineId: string, policyId: string): PolicyRecord | undefined {
    const p = this.policies.get(policyId);
    if (!p || p.engineId !== engineId || this.isGone(p)) return undefined;
    return p;
  }

  get(engineId: string, policyId: string): PolicyRecord {
    if (!this.host.engine(engineId)) throw errors.notFound(`Policy engine ${engineId} not found`);
    const p = this.find(engineId, policyId);
    if (!p) throw errors.notFound(`Policy ${policyId} not found in policy engine ${engineId}`);
    return p;
  }

  /** Policies of an engine in creation order (deleted ones gone). */
  ofEngine(engineId: string): PolicyRecord[] {
    return [...this.policies.values()].filter((p) => p.engineId === engineId && !this.isGone(p));
  }

  view(p: PolicyRecord): Json {
    const status = this.status(p);
    const settled = !['CREATING', 'UPDATING', 'DELETING'].includes(status);
    return compact({
      policyId: p.id,
      name: p.name,
      policyEngineId: p.engineId,
      createdAt: iso(p.createdAt),
      updatedAt: iso(settled ? p.change.settlesAt : p.change.startedAt),
      policyArn: p.arn,
      status,
      enforcementMode: p.enforcementMode,
      definition: clone(p.definition),
      description: p.description,
      statusReasons: settled && p.change.failure ? [...p.change.failure] : [],
    });
  }

  list(engineId: string, input: Json, defaultPageSize: number): Json {
    if (!this.host.engine(engineId)) throw errors.notFound(`Policy engine ${engineId} not found`);
    if (input.targetResourceScope !== undefined) {
      // Undocumented filter semantics: refused rather than guessed.
      throw errors.fields([{ name: 'targetResourceScope', message: 'is not supported by the local emulator (its filter semantics are undocumented)' }]);
    }
    const { page, nextToken } = paginate(this.ofEngine(engineId), input, `ListPolicies/${engineId}`, defaultPageSize);
    return compact({ policies: page.map((p) => this.view(p)), nextToken });
  }

  // --- validation ----------------------------------------------------------------------------------

  /** statusReasons of a definition that fails validation on this engine; undefined when it passes. */
  private validationFailure(engineArn: string, definition: Json, mode: ValidationMode): string[] | undefined {
    const statement = statementOf(definition);
    if (statement === undefined) {
      return ['The local emulator evaluates Cedar statements (definition.cedar) only'];
    }
    const parsed = parseStatement(statement);
    if (!parsed.ok) return located('Cedar parse error', parsed.issues);
    // Schema checks run for every associated gateway, whatever the validation mode.
    for (const targets of this.host.gatewayTargetsFor(engineArn)) {
      if (targets.length === 0) continue;
      const issues = validateStatement(statement, cedarSchemaFor(targets));
      if (issues.length > 0) return located('Schema validation failed', issues);
    }
    if (mode === 'FAIL_ON_ANY_FINDINGS') {
      const { effect, json } = parsed.policy;
      const unscoped = json.principal.op === 'All' && json.action.op === 'All' && json.resource.op === 'All' && json.conditions.length === 0;
      if (unscoped && effect === 'permit') return ['Finding ALLOW_ALL: the policy allows every action for every principal (use IGNORE_ALL_FINDINGS to accept it)'];
      if (unscoped && effect === 'forbid') return ['Finding DENY_ALL: the policy denies every action for every principal'];
    }
    return undefined;
  }

  // --- operations ----------------------------------------------------------------------------------

  private activeEngine(engineId: string): { id: string; arn: string; active: boolean } {
    const engine = this.host.engine(engineId);
    if (!engine) throw errors.notFound(`Policy engine ${engineId} not found`);
    // Undocumented: a change on an engine that is not ACTIVE is refused as a conflict.
    if (!engine.active) throw errors.conflict(`Policy engine ${engineId} is not ACTIVE`);
    return engine;
  }

  private busy(p: PolicyRecord): void {
    const status = this.status(p);
    // Undocumented: changing a policy while it is changing is refused as a conflict.
    if (status === 'CREATING' || status === 'UPDATING' || status === 'DELETING') {
      throw errors.conflict(`Policy ${p.id} is ${status}; wait until it settles before changing it`);
    }
  }

  create(input: Json): Json {
    const engineId = input.policyEngineId as string;
    const engine = this.activeEngine(engineId);
    const name = input.name as string;
    if ([...this.policies.values()].some((p) => p.name === name && !this.isGone(p))) {
      throw errors.conflict(`A policy named ${name} already exists`);
    }
    if (this.ofEngine(engineId).length >= this.host.limits.policiesPerEngine) {
      throw errors.quota(`Policy engine ${engineId} already holds the maximum number of policies`);
    }
    const now = this.host.now();
    const id = `${name}-${this.host.randomSuffix()}`;
    const definition = clone(input.definition as Json);
    const enforcementMode = (input.enforcementMode as EnforcementMode | undefined) ?? 'ACTIVE';
    const failure = this.validationFailure(engine.arn, definition, (input.validationMode as ValidationMode | undefined) ?? 'FAIL_ON_ANY_FINDINGS');
    const settlesAt = now + this.host.delays.policyCreate;
    const p: PolicyRecord = {
      id, name, engineId, arn: `${engine.arn}/policy/${id}`, createdAt: now, definition, enforcementMode,
      description: input.description as string | undefined,
      change: { kind: 'create', startedAt: now, settlesAt, failure },
      revisions: failure ? [] : [{ at: settlesAt, statement: statementOf(definition)!, enforcementMode }],
    };
    this.policies.set(id, p);
    this.host.wakeAt(settlesAt);
    return this.view(p);
  }

  /** A policy created already settled (seeds). */
  seed(opts: { engineId: string; name: string; id?: string; statement: string; enforcementMode?: EnforcementMode; description?: string; at: number }): PolicyRecord {
    const engine = this.host.engine(opts.engineId);
    if (!engine) throw new Error(`policy engine ${opts.engineId} is not seeded`);
    const id = opts.id ?? `${opts.name}-${this.host.randomSuffix()}`;
    const enforcementMode = opts.enforcementMode ?? 'ACTIVE';
    const p: PolicyRecord = {
      id, name: opts.name, engineId: opts.engineId, arn: `${engine.arn}/policy/${id}`, createdAt: opts.at,
      definition: { cedar: { statement: opts.statement } }, enforcementMode, description: opts.description,
      change: { kind: 'create', startedAt: opts.at, settlesAt: opts.at },
      revisions: [{ at: opts.at, statement: opts.statement, enforcementMode }],
    };
    this.policies.set(id, p);
    return p;
  }

  update(input: Json): Json {
    const engineId = input.policyEngineId as string;
    const engine = this.activeEngine(engineId);
    const p = this.get(engineId, input.policyId as string);
    this.busy(p);
    const now = this.host.now();
    const definition = input.definition !== undefined ? clone(input.definition as Json) : p.definition;
    const enforcementMode = (input.enforcementMode as EnforcementMode | undefined) ?? p.enforcementMode;
    const failure = this.validationFailure(engine.arn, definition, (input.validationMode as ValidationMode | undefined) ?? 'FAIL_ON_ANY_FINDINGS');
    const settlesAt = now + this.host.delays.policyUpdate;
    p.definition = definition;
    p.enforcementMode = enforcementMode;
    if (input.description !== undefined) {
      // UpdatedDescription: `{}` clears the description, `{optionalValue}` sets it.
      p.description = (input.description as { optionalValue?: string }).optionalValue;
    }
    p.change = { kind: 'update', startedAt: now, settlesAt, failure };
    if (!failure) p.revisions.push({ at: settlesAt, statement: statementOf(definition)!, enforcementMode });
    this.host.wakeAt(settlesAt);
    return this.view(p);
  }

  delete(engineId: string, policyId: string): Json {
    this.activeEngine(engineId);
    const p = this.get(engineId, policyId);
    this.busy(p);
    const now = this.host.now();
    const settlesAt = now + this.host.delays.policyDelete;
    p.change = { kind: 'delete', startedAt: now, settlesAt };
    p.deleteAt = settlesAt;
    p.revisions.push({ at: settlesAt, statement: null, enforcementMode: p.enforcementMode });
    this.host.wakeAt(settlesAt);
    return this.view(p);
  }

  // --- what decides traffic ------------------------------------------------------------------------

  /** The engine's policies in force at time `t` (their latest revision at or before `t`). */
  effectiveAt(engineId: string, t: number): EffectivePolicy[] {
    const out: EffectivePolicy[] = [];
    for (const p of this.policies.values()) {
      if (p.engineId !== engineId) continue;
      let current: PolicyRevision | undefined;
      for (const r of p.revisions) if (r.at <= t) current = r;
      if (current && current.statement !== null) out.push({ id: p.id, statement: current.statement, enforcementMode: current.enforcementMode });
    }
    return out;
  }

  /** The next moment after `t` at which any policy of the engine changes (Infinity when none). */
  nextChangeAfter(engineId: string, t: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const p of this.policies.values()) {
      if (p.engineId !== engineId) continue;
      for (const r of p.revisions) if (r.at > t && r.at < next) next = r.at;
    }
    return next;
  }
}
