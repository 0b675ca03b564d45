/**
 * Step Functions execution history (GetExecutionHistory, every page) and the rollout readings
 * built on it: state-transition counts (the cost benchmark) and live progress (`autopilot rollout
 * status`).
 */
import { paginateGetExecutionHistory } from '@aws-sdk/client-sfn';
import type { GetExecutionHistoryCommandOutput, HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { countTransitions } from '../domain/rollout/inspect.ts';
import type { HistoryEventLike } from '../domain/rollout/inspect.ts';
import { collectPages } from './aws-errors.ts';

/** Every history event of an execution, oldest first. */
export async function getExecutionHistory(client: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  return collectPages(
    { service: 'sfn', operation: 'GetExecutionHistory', resource: executionArn },
    paginateGetExecutionHistory({ client, pageSize: 1000 }, { executionArn, includeExecutionData: true }),
    (page: GetExecutionHistoryCommandOutput) => page.events,
  );
}

/**
 * State transitions an execution used (states entered plus task retries), read from its history.
 * A successful rollout with default settings uses the same number whatever its bake length.
 */
export async function countStateTransitions(client: SFNClient, executionArn: string): Promise<number> {
  return countTransitions((await getExecutionHistory(client, executionArn)) as HistoryEventLike[]);
}
