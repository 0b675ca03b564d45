/**
 * Aborting a running policy rollout (`autopilot rollout abort`): stop the execution, put the
 * gateway's policyEngineConfiguration back as the preflight recorded it (only that field,
 * read-merge-write; a value someone else set during the rollout is a conflict and is left alone),
 * and publish `Policy Rollout Aborted`: a stopped execution runs none of its own publish states.
 */
import type { Adapters } from '../adapters/index.ts';
import { buildGatewayUpdate } from '../domain/gateway-update.ts';
import type { RolloutState } from '../domain/rollout/contract.ts';
import { ROLLOUT_EVENT_SOURCE, rolloutEvent } from '../domain/rollout/outcome.ts';
import { planRestore, type RestoreReport } from '../domain/rollout/restore.ts';

export interface AbortDeps {
  adapters: Pick<Adapters, 'agentCore' | 'events' | 'sfn'>;
}

export interface AbortRequest {
  executionArn: string;
  /** The preflight's state document (null when the rollout never got past its preflight). */
  preflight: RolloutState | null;
  /** The latest gate figures the execution recorded. */
  shadow?: RolloutState['shadow'];
  enforce?: RolloutState['enforce'];
  reason: string;
  by: string;
  /** False: stop only, leave the gateway as it is. */
  restore: boolean;
}

export interface AbortResult {
  aborted: string;
  /** What was restored, or the conflict that stopped the restore; null when nothing was attempted. */
  restore: RestoreReport | null;
  eventIds: string[];
}

function plain(value: unknown): Record<string, unknown> {
  const { $metadata: _m, ...rest } = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  return rest;
}

/** Stops, restores (unless told not to) and reports the abort as one outcome event. */
export async function abortRollout(deps: AbortDeps, request: AbortRequest): Promise<AbortResult> {
  await deps.adapters.sfn.stopExecution(request.executionArn, { error: 'RolloutAborted', cause: `${request.by}: ${request.reason}`.slice(0, 256) });
  const state = request.preflight;
  let report: RestoreReport | null = null;
  if (request.restore && state && !state.rollout.dryRun) {
    const live = plain(await deps.adapters.agentCore.getGateway(state.rollout.gatewayId));
    const plan = planRestore(live, state.rollout.rollbackPoint, state.rollout.policyEngineArn);
    if (plan.change) await deps.adapters.agentCore.updateGateway(buildGatewayUpdate(live, plan.change));
    report = plan.report;
  }
  let eventIds: string[] = [];
  if (state && !state.rollout.dryRun) {
    const { detailType, detail } = rolloutEvent('Policy Rollout Aborted', {
      state: {
        ...state,
        shadow: request.shadow ?? state.shadow,
        enforce: request.enforce ?? state.enforce,
        error: { Error: 'RolloutAborted', Cause: `${request.by}: ${request.reason}` },
        ...(report && { restore: report }),
      },
    });
    eventIds = await deps.adapters.events.publish(detailType, { ...detail, abortedBy: request.by, reason: request.reason }, {
      source: ROLLOUT_EVENT_SOURCE,
      busName: state.rollout.eventBusName,
      resources: [state.rollout.gatewayArn],
    });
  }
  return { aborted: request.executionArn, restore: report, eventIds };
}
