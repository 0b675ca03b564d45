/**
 * Past and running policy promotions, for `autopilot policy list`: one row per execution of the
 * policy-promotion state machine with its policy, outcome and gate figures. Reads only
 * (ListExecutions, then DescribeExecution for the rows shown).
 */
import type { SfnAdapter } from '../adapters/sfn.ts';
import type { PromotionRequest, PromotionResult, PromotionVerifyResult } from '../domain/promotion/contract.ts';
import { parseJson } from '../domain/execution-progress.ts';
import { promotionExecutionPrefix } from '../domain/promotion/preflight.ts';

export interface PromotionFigures {
  verdict: string;
  decisions: number;
  reasons: string[];
}

export interface PromotionRow {
  execution: string;
  executionArn: string;
  policyEngineArn?: string;
  policyName?: string;
  dryRun: boolean;
  status: string;
  /** PROMOTED, HALTED_IN_LOG_ONLY, ROLLED_BACK, CONFLICT, ABORTED, WOULD_PROMOTE, WOULD_HALT, ...; null while running. */
  outcome: string | null;
  change?: string;
  startedAt?: string;
  stoppedAt?: string;
  logOnly?: PromotionFigures;
  active?: PromotionFigures;
}

export interface PromotionQuery {
  /** Only promotions of this policy (of `policyEngineArn`), dry runs included. */
  policy?: { policyEngineArn: string; policyName: string };
  status?: string;
  limit?: number;
}

function figures(v: PromotionVerifyResult | null | undefined): PromotionFigures | undefined {
  return v ? { verdict: v.verdict, decisions: v.report.decisions, reasons: v.report.reasons } : undefined;
}

/** Whether an execution name is a promotion (or dry run) of the policy. */
export function isPromotionOf(name: string, policyEngineArn: string, policyName: string): boolean {
  return name.startsWith(promotionExecutionPrefix(policyEngineArn, policyName)) || name.startsWith(promotionExecutionPrefix(policyEngineArn, policyName, { dryRun: true }));
}

/** The outcome of an ended execution: its result, else what the Fail state says. */
export function promotionOutcome(status: string, output: PromotionResult | undefined, error: string | undefined): string | null {
  if (status === 'RUNNING') return null;
  if (output?.outcome) return output.outcome;
  if (status === 'FAILED' && error === 'PromotionRollbackFailedError') return 'ROLLBACK_FAILED';
  return status;
}

/** Promotion executions, newest first, with outcomes and gate figures. */
export async function listPromotions(deps: { sfn: SfnAdapter; stateMachineArn: string }, query: PromotionQuery = {}): Promise<PromotionRow[]> {
  const { policy } = query;
  const chosen = (await deps.sfn.listExecutions(deps.stateMachineArn))
    .filter((e) => !policy || (e.name !== undefined && isPromotionOf(e.name, policy.policyEngineArn, policy.policyName)))
    .filter((e) => !query.status || e.status === query.status)
    .sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0))
    .slice(0, query.limit ?? 20);
  return Promise.all(chosen.map(async (e) => {
    const d = await deps.sfn.describeExecution(e.executionArn!);
    const input = parseJson<PromotionRequest>(d.input);
    const output = parseJson<PromotionResult>(d.output);
    return {
      execution: d.name ?? e.name ?? '?',
      executionArn: e.executionArn!,
      ...(input?.policyEngineArn !== undefined && { policyEngineArn: input.policyEngineArn }),
      ...(input?.policyName !== undefined && { policyName: input.policyName }),
      dryRun: input?.dryRun === true,
      status: String(d.status),
      outcome: promotionOutcome(String(d.status), output, d.error),
      ...(output?.change !== undefined && { change: output.change }),
      ...(d.startDate && { startedAt: d.startDate.toISOString() }),
      ...(d.stopDate && { stoppedAt: d.stopDate.toISOString() }),
      ...(figures(output?.logOnly) && { logOnly: figures(output?.logOnly) }),
      ...(figures(output?.active) && { active: figures(output?.active) }),
    };
  }));
}
