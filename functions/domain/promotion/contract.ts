/**
 * The policy-promotion state machine's contract (statemachines/policy-promotion.asl.yaml): a
 * declared Cedar policy goes LOG_ONLY, bakes, is verified on its LOG_ONLY metrics, goes ACTIVE,
 * bakes, is verified on the engine's gateways, and returns to what it was on failure.
 *
 * The state carries ids, hashes and figures, never the statement: every task reads the declared
 * statement from the packaged config and checks its hash against the one the preflight recorded.
 */
import type { GateReport, GateVerdict, NextStep } from '../rollout/gates.ts';
import type { MetricWindow } from '../rollout/metric-queries.ts';
import type { PromotionSettings } from '../../lib/config/policies.ts';

/** serverless.yml function keys of the promotion tasks. */
export const PROMOTION_FUNCTION_KEYS = [
  'promotionPreflight',
  'promotionWrite',
  'promotionCheckPolicy',
  'promotionVerify',
  'promotionPublish',
] as const;

/** Execution input (the start builds it; the statement itself comes from the config). */
export interface PromotionRequest {
  policyEngineArn: string;
  policyName: string;
  dryRun?: boolean;
  /** A new attempt after a finished promotion of the same statement. */
  attempt?: string;
}

/**
 * What the promotion changes:
 * - `create`: the policy does not exist: created in LOG_ONLY, then switched to ACTIVE;
 * - `mode`: it exists in LOG_ONLY with the declared statement: only switched to ACTIVE;
 * - `update`: it exists in LOG_ONLY with another statement: updated (still LOG_ONLY), then ACTIVE;
 * - `candidate`: it exists ACTIVE with another statement: the new statement is baked as a LOG_ONLY
 *   copy (`<name>_next`) while the old one keeps enforcing, then written into the policy;
 * - `none`: it is ACTIVE with the declared statement already.
 */
export type PromotionChange = 'create' | 'mode' | 'update' | 'candidate' | 'none';

/** The policy as the promotion found it (what a restore puts back). */
export interface PolicySnapshot {
  policyId: string | null;
  /** sha256 (12 hex) of the Cedar-canonical statement; null when the policy did not exist. */
  statementHash: string | null;
  enforcementMode: 'ACTIVE' | 'LOG_ONLY' | null;
  /** The statement itself, kept only when a restore must write it back (a `candidate` change). */
  statement?: string;
}

export interface PromotionContext {
  promotionId: string;
  executionArn: string;
  policyEngineArn: string;
  policyEngineId: string;
  policyName: string;
  /** The name the LOG_ONLY stage is baked under (`<name>_next` for a candidate). */
  trialName: string;
  /** Hash of the declared statement (as written in the config, trimmed). */
  statementHash: string;
  validationMode: 'FAIL_ON_ANY_FINDINGS' | 'IGNORE_ALL_FINDINGS';
  change: PromotionChange;
  dryRun: boolean;
  before: PolicySnapshot;
  /** Gateways whose decisions the gates read. */
  gateways: { id: string; arn: string }[];
  eventBusName: string;
  settings: PromotionSettings;
  plan: PromotionPlan;
}

/** The whole numbers the state machine waits and counts with. */
export interface PromotionPlan {
  bakeSeconds: number;
  activeBakeSeconds: number;
  maxBakeExtensions: number;
  pollSeconds: number;
  readyTimeoutSeconds: number;
  maxPolls: number;
  approvalRequired: boolean;
  approvalTimeoutSeconds: number;
}

/** `promotionWrite` actions. */
export type WriteAction = 'stage' | 'promote' | 'restore';

export interface WriteInput {
  action: WriteAction;
  promotion: PromotionContext;
}

/** `promotionWrite` / `promotionCheckPolicy` output: the readiness loop's variable. */
export interface PolicyProgress {
  ready: boolean;
  attempt: number;
  deadline: string;
  /** The policy the loop waits for (the trial copy while staging). */
  policyName: string;
  policyId: string | null;
  status?: string;
  checkedAt?: string;
  changed?: boolean;
  /** `restore` only: what was put back, or the conflict that stopped it. */
  restore?: PolicyRestoreReport;
}

export interface CheckPolicyInput {
  policyEngineId: string;
  policyName: string;
  attempt: number;
  deadline: string;
  maxAttempts: number;
  /** Restores: what the policy must show once settled (mode; statement hash). */
  expect?: { enforcementMode: 'ACTIVE' | 'LOG_ONLY'; statementHash: string | null } | null;
}

export interface PolicyRestoreReport {
  action: 'restored' | 'unchanged' | 'conflict';
  policyName: string;
  from: { enforcementMode: string | null; statementHash: string | null };
  to: { enforcementMode: string | null; statementHash: string | null };
}

export interface PromotionVerifyInput {
  stage: 'LOG_ONLY' | 'ACTIVE';
  promotion: PromotionContext;
  /** The policy whose metrics are read (the trial copy in LOG_ONLY). */
  policyId: string | null;
  windowStart?: string;
  previous?: PromotionVerifyResult | null;
  /** ACTIVE only: the gateways' deny ratio during the LOG_ONLY bake. */
  baseline?: { denyRatio: number; decisions: number };
  dryRun?: boolean;
}

export interface PromotionVerifyResult {
  stage: 'LOG_ONLY' | 'ACTIVE';
  verdict: GateVerdict;
  decision: NextStep;
  extensionsUsed: number;
  window: MetricWindow;
  report: GateReport;
}

export type PromotionOutcome = 'PROMOTED' | 'HALTED_IN_LOG_ONLY' | 'ROLLED_BACK' | 'CONFLICT' | 'ABORTED' | 'WOULD_PROMOTE' | 'WOULD_HALT';

export interface StateError {
  Error: string;
  Cause?: string;
}

/** The state document after the preflight. */
export interface PromotionState {
  promotion: PromotionContext;
  staged: PolicyProgress | null;
  logOnly: PromotionVerifyResult | null;
  approval: Record<string, unknown> | StateError | null;
  active: PromotionVerifyResult | null;
  error: StateError | null;
  restored?: PolicyProgress;
  restore?: PolicyRestoreReport;
  rollbackError?: StateError;
}

export interface PromotionResult {
  outcome: PromotionOutcome;
  promotionId: string;
  policyEngineArn: string;
  policyName: string;
  change: PromotionChange;
  dryRun: boolean;
  logOnly: PromotionVerifyResult | null;
  active?: PromotionVerifyResult | null;
  restore?: PolicyRestoreReport | null;
  error?: StateError | null;
}
