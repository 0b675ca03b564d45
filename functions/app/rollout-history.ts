/**
 * Past and running policy rollouts, for `autopilot rollout list` and `rollout history`: one row per
 * execution of the policy-rollout state machine with its gateway, outcome and gate figures. Reads
 * only (ListExecutions, then DescribeExecution for the rows shown).
 */
import type { SfnAdapter } from '../adapters/sfn.ts';
import { parseJson } from '../domain/execution-progress.ts';
import type { RolloutResult, VerifyResult } from '../domain/rollout/contract.ts';
import { isRolloutOfGateway, rolloutExecutionPrefix } from '../domain/rollout/execution-name.ts';

export interface GateFigures {
  verdict: string;
  decisions: number;
  denyRatio: number;
  reasons: string[];
}

export interface RolloutRow {
  execution: string;
  executionArn: string;
  gatewayId?: string;
  policyEngineArn?: string;
  dryRun: boolean;
  status: string;
  /** ENFORCED, HALTED_IN_LOG_ONLY, ROLLED_BACK, ABORTED, WOULD_PROMOTE, WOULD_HALT, ...; null while running. */
  outcome: string | null;
  startedAt?: string;
  stoppedAt?: string;
  shadow?: GateFigures;
  enforce?: GateFigures;
}

export interface RolloutQuery {
  /** Only this gateway's rollouts (dry runs included). */
  gatewayId?: string;
  /** Only executions in this Step Functions status (RUNNING, SUCCEEDED, FAILED, ABORTED, TIMED_OUT). */
  status?: string;
  /** Newest first, at most this many (default 20). */
  limit?: number;
}

function figures(v: VerifyResult | null | undefined): GateFigures | undefined {
  if (!v) return undefined;
  return { verdict: v.verdict, decisions: v.report.decisions, denyRatio: v.report.denyRatio, reasons: v.report.reasons };
}

/** Rollout executions, newest first, with outcomes and gate figures. */
export async function listRollouts(deps: { sfn: SfnAdapter; stateMachineArn: string }, query: RolloutQuery = {}): Promise<RolloutRow[]> {
  const { gatewayId } = query;
  const all = await deps.sfn.listExecutions(deps.stateMachineArn);
  const chosen = all
    .filter((e) => !gatewayId || (e.name !== undefined && (isRolloutOfGateway(e.name, gatewayId) || e.name.startsWith(rolloutExecutionPrefix(gatewayId, { dryRun: true })))))
    .filter((e) => !query.status || e.status === query.status)
    .sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0))
    .slice(0, query.limit ?? 20);
  return Promise.all(chosen.map(async (e) => {
    const d = await deps.sfn.describeExecution(e.executionArn!);
    const input = parseJson<{ gatewayId?: string; policyEngineArn?: string; dryRun?: boolean }>(d.input) ?? {};
    const output = parseJson<RolloutResult>(d.output);
    const failed = d.status === 'FAILED' && d.error === 'RollbackFailedError' ? 'ROLLBACK_FAILED' : String(d.status);
    return {
      execution: d.name ?? e.name ?? '?',
      executionArn: e.executionArn!,
      ...(input.gatewayId !== undefined && { gatewayId: input.gatewayId }),
      ...(input.policyEngineArn !== undefined && { policyEngineArn: input.policyEngineArn }),
      dryRun: input.dryRun === true,
      status: String(d.status),
      outcome: d.status === 'RUNNING' ? null : output?.outcome ?? failed,
      ...(d.startDate && { startedAt: d.startDate.toISOString() }),
      ...(d.stopDate && { stoppedAt: d.stopDate.toISOString() }),
      ...(figures(output?.shadow) && { shadow: figures(output?.shadow) }),
      ...(figures(output?.enforce) && { enforce: figures(output?.enforce) }),
    };
  }));
}
