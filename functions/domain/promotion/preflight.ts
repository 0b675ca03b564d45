/**
 * Promotion preflight and the execution names of promotions. From what the preflight task read
 * (the declaration, the live policy and its trial copy, the engine, running promotions), either a
 * named refusal (nothing changed) or the state document the state machine runs on.
 *
 * Execution names derive from (engine, policy, declared statement, attempt): the same request
 * twice names the same execution (Step Functions returns the running one or refuses a finished
 * one: ALREADY_RAN), and every promotion of one policy shares a fixed-length prefix, which the
 * "one promotion per policy" check relies on.
 */
import { createHash } from 'node:crypto';
import { CANDIDATE_SUFFIX } from '../../lib/config/defaults.ts';
import type { DeclaredPolicy, PolicyEngineDeclaration } from '../../lib/config/policies.ts';
import type { PromotionChange, PromotionContext, PromotionPlan, PromotionRequest, PromotionState, PolicySnapshot } from './contract.ts';
import { InvalidPromotionRequestError, PolicyEngineUnavailableError, PolicyNotReadyError, PromotionInProgressError } from './errors.ts';

function hash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** sha256 (12 hex) of a statement's Cedar-canonical text: how statements are compared and reported. */
export function statementHash(canonicalText: string): string {
  return hash(canonicalText, 12);
}

/** The prefix of every promotion execution of one policy (`promote-<12 hex>-`). */
export function promotionExecutionPrefix(policyEngineArn: string, policyName: string, options: { dryRun?: boolean } = {}): string {
  return `${options.dryRun ? 'dryprom' : 'promote'}-${hash(`policy:${policyEngineArn}/${policyName}`, 12)}-`;
}

/** `<prefix><policy name>-<10 hex of statement + attempt>`, at most 80 characters. */
export function promotionExecutionName(
  policyEngineArn: string,
  policyName: string,
  declaredHash: string,
  options: { dryRun?: boolean; attempt?: string } = {},
): string {
  const prefix = promotionExecutionPrefix(policyEngineArn, policyName, options);
  const request = hash(JSON.stringify([declaredHash, options.attempt ?? null]), 10);
  const room = 80 - prefix.length - 1 - request.length;
  return `${prefix}${policyName.slice(0, room)}-${request}`;
}

/** A live policy as the preflight needs it. */
export interface LivePolicy {
  policyId: string;
  name: string;
  status: string;
  enforcementMode: 'ACTIVE' | 'LOG_ONLY';
  /** null when it has no Cedar statement (e.g. a generated or Dogwood policy). */
  statementHash: string | null;
  /** The Cedar statement text (kept for a restore of a `candidate` change). */
  statement?: string;
}

export interface PromotionPreflightFacts {
  request: PromotionRequest;
  executionArn: string;
  declaration: PolicyEngineDeclaration;
  policy: DeclaredPolicy;
  /** statementHash of the declared statement. */
  declaredHash: string;
  engine: { status?: string } | null;
  live?: LivePolicy;
  /** The trial copy `<name>_next`, when it exists. */
  trial?: LivePolicy;
  /** RUNNING executions of the promotion state machine. */
  runningExecutions: { name: string; executionArn: string }[];
  /** Gateways whose decisions the gates read (resolved ids and ARNs). */
  gateways: { id: string; arn: string }[];
  eventBusName: string;
}

const SETTLING = new Set(['CREATING', 'UPDATING', 'DELETING']);
const POLL_SECONDS = 5;
const MAX_STATE_SECONDS = 365 * 24 * 3600;

function plan(settings: PolicyEngineDeclaration['promotion']): PromotionPlan {
  const readyTimeoutSeconds = settings.readyTimeoutMinutes * 60;
  const bakeSeconds = settings.bakeMinutes * 60;
  const activeBakeSeconds = settings.activeBakeMinutes * 60;
  if ((bakeSeconds + activeBakeSeconds) * (1 + settings.maxBakeExtensions) > MAX_STATE_SECONDS) {
    throw new InvalidPromotionRequestError('bakeMinutes and activeBakeMinutes with every extension exceed one year (Step Functions limit)');
  }
  return {
    bakeSeconds,
    activeBakeSeconds,
    maxBakeExtensions: settings.maxBakeExtensions,
    pollSeconds: POLL_SECONDS,
    readyTimeoutSeconds,
    maxPolls: Math.ceil(readyTimeoutSeconds / POLL_SECONDS) + 1,
    approvalRequired: settings.approval.required,
    approvalTimeoutSeconds: settings.approval.required ? settings.approval.timeoutMinutes * 60 : 1,
  };
}

function snapshot(p: LivePolicy | undefined, keepStatement: boolean): PolicySnapshot {
  if (!p) return { policyId: null, statementHash: null, enforcementMode: null };
  return { policyId: p.policyId, statementHash: p.statementHash, enforcementMode: p.enforcementMode, ...(keepStatement && p.statement !== undefined && { statement: p.statement }) };
}

/** What the promotion changes (see PromotionChange), or a refusal. */
export function promotionChange(live: LivePolicy | undefined, declaredHash: string): PromotionChange {
  if (!live) return 'create';
  if (SETTLING.has(live.status)) throw new PolicyNotReadyError(`Policy ${live.name} is ${live.status}; waiting for it to settle`, { details: { status: live.status } });
  if (live.status === 'UPDATE_FAILED' || live.status === 'DELETE_FAILED') {
    // After UPDATE_FAILED, which statement is in force is undocumented: a person decides.
    throw new InvalidPromotionRequestError(`Policy ${live.name} is ${live.status}: which statement is in force is not known; fix it by hand (or delete it) before promoting`);
  }
  if (live.status === 'CREATE_FAILED') return 'update';
  if (live.enforcementMode === 'LOG_ONLY') return live.statementHash === declaredHash ? 'mode' : 'update';
  return live.statementHash === declaredHash ? 'none' : 'candidate';
}

/** Checks the preconditions and returns the initial state document; throws a named error instead. */
export function promotionPreflight(f: PromotionPreflightFacts): PromotionState {
  const { request, declaration, policy } = f;
  const dryRun = request.dryRun === true;
  if (policy.mode !== 'ACTIVE') {
    throw new InvalidPromotionRequestError(`Policy ${policy.name} is declared ${policy.mode}: a promotion takes a policy to ACTIVE (drift writes LOG_ONLY policies directly)`);
  }
  if (!f.engine) throw new PolicyEngineUnavailableError(`Policy engine ${declaration.arn} does not exist`);
  if (f.engine.status !== 'ACTIVE') throw new PolicyEngineUnavailableError(`Policy engine ${declaration.arn} is ${String(f.engine.status)}, not ACTIVE`);
  if (f.gateways.length === 0) {
    throw new InvalidPromotionRequestError(`No gateway uses policy engine ${declaration.arn} in the config: declare it on a gateway or set policyEngines[].promotion.gateways, so the promotion has decisions to verify`);
  }
  const change = promotionChange(f.live, f.declaredHash);
  const trialName = change === 'candidate' ? `${policy.name}${CANDIDATE_SUFFIX}` : policy.name;
  if (change === 'candidate' && f.trial && SETTLING.has(f.trial.status)) {
    throw new PolicyNotReadyError(`Policy ${trialName} is ${f.trial.status}; waiting for it to settle`);
  }
  if (change === 'candidate' && f.trial && f.trial.enforcementMode === 'ACTIVE') {
    throw new InvalidPromotionRequestError(`The trial copy ${trialName} is ACTIVE: it must only ever be LOG_ONLY; delete it by hand`);
  }
  if (dryRun) {
    const staged = change === 'candidate' ? f.trial : f.live;
    if (!staged || staged.enforcementMode !== 'LOG_ONLY' || staged.statementHash !== f.declaredHash) {
      throw new InvalidPromotionRequestError(`Nothing to dry-run: ${trialName} is not in LOG_ONLY with the declared statement (a dry run reads the gates over the last bake of a policy already in LOG_ONLY)`);
    }
  } else {
    const prefix = promotionExecutionPrefix(declaration.arn, policy.name);
    const others = f.runningExecutions.filter((e) => e.name.startsWith(prefix) && e.executionArn !== f.executionArn);
    if (others.length > 0) {
      throw new PromotionInProgressError(`Another promotion of policy ${policy.name} is running: ${others.map((e) => e.name).join(', ')}`, {
        details: { executions: others.map((e) => e.executionArn) },
      });
    }
  }
  const promotion: PromotionContext = {
    promotionId: f.executionArn.slice(f.executionArn.lastIndexOf(':') + 1),
    executionArn: f.executionArn,
    policyEngineArn: declaration.arn,
    policyEngineId: declaration.arn.slice(declaration.arn.lastIndexOf('/') + 1),
    policyName: policy.name,
    trialName,
    statementHash: f.declaredHash,
    validationMode: policy.validationMode,
    change,
    dryRun,
    before: snapshot(f.live, change === 'candidate'),
    gateways: f.gateways,
    eventBusName: f.eventBusName,
    settings: structuredClone(declaration.promotion),
    plan: plan(declaration.promotion),
  };
  return { promotion, staged: null, logOnly: null, approval: null, active: null, error: null };
}
