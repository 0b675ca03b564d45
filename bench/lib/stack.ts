/**
 * Helpers over the local stack for the benchmarks and the reliability suite: SDK clients pointed
 * at the emulator, request-log accounting (reads, writes, per operation), the autopilot events on
 * the bus, execution histories.
 */
import { BedrockAgentCoreControlClient } from '@aws-sdk/client-bedrock-agentcore-control';
import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from '@aws-sdk/client-sfn';
import type { Stack } from '../../local/stack.ts';
import type { RequestLogEntry } from '../../local/emulator/types.ts';

export const AGENTCORE_SERVICE = 'bedrock-agentcore-control';

export function clientConfig(stack: Stack) {
  return {
    endpoint: stack.url,
    region: stack.env.AWS_REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // The harness's own reads must never be retried into a different answer.
    maxAttempts: 1,
  };
}

export function agentcoreClient(stack: Stack): BedrockAgentCoreControlClient {
  return new BedrockAgentCoreControlClient(clientConfig(stack));
}

export function sfnClient(stack: Stack): SFNClient {
  return new SFNClient(clientConfig(stack));
}

/** Operations that change something (AgentCore mutations, executions started, tasks answered). */
const WRITE_OPERATION = /^(Create|Update|Delete|Tag|Untag|Put(?!Events)|StartExecution|StopExecution|SendTask|SetAlarm)/;

export function isWrite(r: Pick<RequestLogEntry, 'operation'>): boolean {
  return WRITE_OPERATION.test(r.operation);
}

export interface CallCounts {
  total: number;
  agentcore: number;
  writes: number;
  /** PutEvents calls (outcome reports). */
  events: number;
  byOperation: Record<string, number>;
  injected: number;
}

/** Counts the requests logged since `from` (a request log index). */
export function countCalls(stack: Stack, from = 0): CallCounts {
  const out: CallCounts = { total: 0, agentcore: 0, writes: 0, events: 0, byOperation: {}, injected: 0 };
  for (const r of stack.emulator.requests.slice(from)) {
    out.total++;
    if (r.service === AGENTCORE_SERVICE) out.agentcore++;
    if (isWrite(r)) out.writes++;
    if (r.operation === 'PutEvents') out.events++;
    if (r.injected) out.injected++;
    const k = `${r.service}:${r.operation}`;
    out.byOperation[k] = (out.byOperation[k] ?? 0) + 1;
  }
  return out;
}

/** The autopilot's own events on the bus since `from` (an event log index). */
export function autopilotEvents(stack: Stack, from = 0): { detailType: string; detail: Record<string, unknown> }[] {
  return stack.events.events.slice(from)
    .filter((e) => e.event.source !== 'aws.ecr' && !/Requested$/.test(e.event['detail-type']))
    .map((e) => ({ detailType: e.event['detail-type'], detail: e.event.detail }));
}

/** Every history event of an execution, through the SFN client (paginated). */
export async function executionHistory(stack: Stack, executionArn: string): Promise<HistoryEvent[]> {
  const sfn = sfnClient(stack);
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** State transitions as Step Functions bills them: one per state entered. */
export function stateTransitions(history: readonly HistoryEvent[]): number {
  return history.filter((e) => e.type?.endsWith('StateEntered')).length;
}
