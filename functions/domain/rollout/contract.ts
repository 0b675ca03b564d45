/**
 * The policy-rollout state machine's contract (statemachines/policy-rollout.asl.yaml): the Lambda
 * function keys its tasks reference, the state document it carries, and each task's input and
 * output. Tasks are direct Lambda ARNs, so inputs arrive as written in `Parameters` and outputs
 * are plain JSON (no `Payload` wrapping).
 */
import type { GateBaseline, GateReport, GateVerdict, MetricWindow, NextStep } from './gates.ts';
import type { RolloutPlan, RolloutSettings } from './settings.ts';
import type { EngineConfig, RestoreReport, RollbackPoint } from './restore.ts';

/** serverless.yml function keys; the ASL names them `<Key>LambdaFunction` (capitalised) in Fn::GetAtt. */
export const ROLLOUT_FUNCTION_KEYS = [
  'rolloutPreflight',
  'rolloutApplyMode',
  'rolloutCheckGateway',
  'rolloutVerify',
  'rolloutRestore',
  'rolloutPublish',
] as const;
export type RolloutFunctionKey = (typeof ROLLOUT_FUNCTION_KEYS)[number];

/** CloudFormation logical id serverless gives a function key. */
export function lambdaLogicalId(key: string): string {
  return `${key.charAt(0).toUpperCase()}${key.slice(1)}LambdaFunction`;
}

/** The gateway's mode for the requested engine before the rollout (different engine in LOG_ONLY = NONE). */
export type StartMode = 'NONE' | 'LOG_ONLY' | 'ENFORCE';

/** Execution input. */
export interface RolloutRequest {
  gatewayId: string;
  policyEngineArn: string;
  dryRun?: boolean;
  /** Overrides of the configured rollout settings for this execution. */
  settings?: Partial<RolloutSettings>;
}

/** Error output of a Catch (`ResultPath`): Step Functions' own shape. */
export interface StateError {
  Error: string;
  Cause?: string;
}

/** `rolloutPreflight` input: `{request: $, executionArn: $$.Execution.Id}`. */
export interface PreflightInput {
  request: RolloutRequest;
  executionArn: string;
}

/** What the preflight established; read-only for the rest of the execution. */
export interface RolloutContext {
  /** The execution name. */
  rolloutId: string;
  executionArn: string;
  gatewayId: string;
  gatewayArn: string;
  policyEngineArn: string;
  dryRun: boolean;
  startMode: StartMode;
  /** Where the rollout's events go (AUTOPILOT_EVENT_BUS). */
  eventBusName: string;
  settings: RolloutSettings;
  plan: RolloutPlan;
  /** The gateway's policyEngineConfiguration before any change: all a rollback restores. */
  rollbackPoint: RollbackPoint;
}

/** `rolloutApplyMode` / `rolloutRestore` output, and `rolloutCheckGateway` input/output: the readiness loop's variable. */
export interface ReadinessProgress {
  ready: boolean;
  /** Polls made so far (0 right after an update). */
  attempt: number;
  /** ISO time after which not being READY is a ReadyTimeoutError. */
  deadline: string;
  /** Gateway status seen last (absent before the first poll). */
  status?: string;
  /** When the poll saw READY/`status` (the bake window starts at the READY poll). */
  checkedAt?: string;
  /** Whether the task changed the gateway (apply/restore). */
  changed?: boolean;
}

/** `rolloutApplyMode` input. Skips the update (changed: false) when the engine is already in `mode`. */
export interface ApplyModeInput {
  gatewayId: string;
  policyEngineArn: string;
  mode: 'LOG_ONLY' | 'ENFORCE';
  readyTimeoutSeconds: number;
}

/** `rolloutCheckGateway` input. Throws GatewayUpdateFailedError, ReadyTimeoutError or RestoreNotAppliedError. */
export interface CheckGatewayInput {
  gatewayId: string;
  attempt: number;
  deadline: string;
  maxAttempts: number;
  /**
   * Restores only: once READY, the policyEngineConfiguration the gateway must show (null: none).
   * Whether an UpdateGateway without the member detaches the engine is undocumented, so it is checked.
   */
  expectPolicyEngineConfiguration?: EngineConfig | null;
}

/**
 * `rolloutRestore` input: put `rollbackPoint.policyEngineConfiguration` back, read-merge-write from
 * the live gateway, unless someone else changed it (conflict: nothing written).
 */
export interface RestoreInput {
  gatewayId: string;
  policyEngineArn: string;
  rollbackPoint: RollbackPoint;
  readyTimeoutSeconds: number;
}

/** `rolloutRestore` output: the readiness loop's variable plus what was (or would have been) restored. */
export interface RestoreProgress extends ReadinessProgress {
  restore: RestoreReport;
}

/** `rolloutVerify` input. */
export interface VerifyInput {
  stage: 'SHADOW' | 'ENFORCE';
  gatewayArn: string;
  policyEngineArn: string;
  settings: RolloutSettings;
  /** Bake start (the READY poll); absent for a dry run, which looks back `bakeMinutes` from now. */
  windowStart?: string;
  /** This stage's previous verification (for the extension count); null on the first. */
  previous?: VerifyResult | null;
  /** ENFORCE only: the shadow report. */
  baseline?: GateBaseline;
  /** Dry run: never EXTEND (there is no bake to extend). */
  dryRun?: boolean;
}

/** `rolloutVerify` output, stored at `$.shadow` / `$.enforce`. */
export interface VerifyResult {
  stage: 'SHADOW' | 'ENFORCE';
  verdict: GateVerdict;
  decision: NextStep;
  extensionsUsed: number;
  window: MetricWindow;
  report: GateReport;
}

/** Stage names of `Policy Rollout Stage Passed` events. */
export type PassedStage = 'LOG_ONLY_READY' | 'SHADOW_VERIFIED' | 'ENFORCE_READY';

/**
 * `rolloutPublish` input: publishes rolloutEvent(detailType, {state, stage}); or, when the
 * preflight refused (there is no state document), `Policy Rollout Failed` from `failure`.
 */
export interface PublishInput {
  detailType: string;
  stage?: PassedStage;
  state?: RolloutState;
  failure?: { executionArn: string; request: Partial<RolloutRequest>; error: StateError };
}

/** The state document after the preflight (the preflight returns it whole, nulls included). */
export interface RolloutState {
  rollout: RolloutContext;
  ready: ReadinessProgress | null;
  shadow: VerifyResult | null;
  /** SendTaskSuccess output, or the approval step's error (ApprovalRejectedError, States.Timeout...). */
  approval: Record<string, unknown> | StateError | null;
  enforce: VerifyResult | null;
  /** Why the rollout is rolling back. */
  error: StateError | null;
  /** The restore's readiness loop variable (only on the rollback path). */
  restored?: ReadinessProgress;
  /** What the rollback restored, or the conflict that stopped it (only on the rollback path). */
  restore?: RestoreReport;
  /** Why the rollback failed (only on that path). */
  rollbackError?: StateError;
}

/** Final outcomes reported by the Succeed states (ROLLBACK_FAILED ends in a Fail state instead). */
export type RolloutOutcome = 'ENFORCED' | 'HALTED_IN_LOG_ONLY' | 'ROLLED_BACK' | 'CONFLICT' | 'ABORTED' | 'WOULD_PROMOTE' | 'WOULD_HALT';

/** Output of the final Succeed states. */
export interface RolloutResult {
  outcome: RolloutOutcome;
  rolloutId: string;
  gatewayId: string;
  policyEngineArn: string;
  dryRun: boolean;
  /** False only when the engine was already enforced and nothing was done. */
  changed?: boolean;
  shadow: VerifyResult | null;
  approval?: RolloutState['approval'];
  enforce?: VerifyResult | null;
  error?: StateError | null;
  /** ROLLED_BACK / CONFLICT: what was restored, or what someone else changed. */
  restore?: RestoreReport | null;
}
