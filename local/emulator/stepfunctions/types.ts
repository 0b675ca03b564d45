/**
 * Types shared by the Step Functions stand-in's execution engine (engine.ts), its task runner
 * (tasks.ts), its history (history.ts) and its API (index.ts).
 */
import type { Clock } from '../../clock.ts';
import type { TokenRegistry } from './tokens.ts';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface HistoryEvent {
  id: number;
  previousEventId: number;
  /** Clock time, epoch ms. */
  timestamp: number;
  type: string;
  /** Detail member name (e.g. `stateEnteredEventDetails`) -> details, as the API returns them. */
  details?: { key: string; value: Record<string, unknown> };
}

export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  /** JSON text, as in the PutEvents API. */
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: string;
  TraceHeader?: string;
}

export interface PutEventsOutput {
  Entries?: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[];
  FailedEntryCount?: number;
}

/** What executions need from the outside world. */
export interface EngineDeps {
  clock: Clock;
  region: string;
  accountId: string;
  /** Runs a Lambda function by ARN/name (the local Lambda runner's invoke). */
  invokeLambda?: (target: string, payload: unknown, opts?: { signal?: AbortSignal }) => Promise<unknown>;
  /** Delivers EventBridge entries (the EventBridge stand-in's PutEvents). */
  putEvents?: (entries: PutEventsEntry[]) => Promise<PutEventsOutput | void> | PutEventsOutput | void;
  /** Task tokens: registered while a `.waitForTaskToken` task waits. */
  tokens: TokenRegistry;
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type StateDef = Record<string, unknown> & { Type: string };
export interface Definition { StartAt: string; States: Record<string, StateDef>; TimeoutSeconds?: number; [k: string]: unknown }
