/**
 * The execution history of the Step Functions stand-in, built as AWS writes it (see engine.ts), and
 * the service quotas that concern it: 25,000 events per execution, 256 KiB per state input/output.
 */
import type { Clock } from '../../clock.ts';
import { queryReferencePath } from './jsonpath.ts';
import type { HistoryEvent } from './types.ts';

/** Payload quota of a state's input/output and of a task result: 256 KiB of UTF-8 JSON. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
/** Execution history quota of a standard workflow (hard). */
export const MAX_HISTORY_EVENTS = 25_000;

export const jsonBytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v ?? null) ?? 'null', 'utf8');

const DETAILLESS = new Set([
  'LambdaFunctionStarted', 'ParallelStateStarted', 'ParallelStateSucceeded', 'ParallelStateFailed',
  'MapStateSucceeded', 'MapStateFailed', 'ExecutionAborted',
]);

function detailKey(type: string): string {
  if (type.endsWith('StateEntered')) return 'stateEnteredEventDetails';
  if (type.endsWith('StateExited')) return 'stateExitedEventDetails';
  return `${type[0].toLowerCase()}${type.slice(1)}EventDetails`;
}

interface SideEvent { type: string; details?: Record<string, unknown>; at: number }

/**
 * Builds the AWS-style history from the library's (asynchronously delivered) event log and the
 * events the task handlers record synchronously; handler events wait until their state's
 * `…StateEntered` has been written, so the order matches AWS.
 */
export class HistoryRecorder {
  readonly events: HistoryEvent[] = [];
  private readonly active = new Map<string, number>();
  private readonly buffered = new Map<string, SideEvent[]>();
  private readonly clock: Clock;
  private readonly originalTypes: Map<string, string>;
  private readonly mapItemsPaths: Map<string, string>;
  private readonly onLimit: (error: string, cause: string) => void;
  private limited = false;

  constructor(clock: Clock, originalTypes: Map<string, string>, mapItemsPaths: Map<string, string>, onLimit: (error: string, cause: string) => void) {
    this.clock = clock;
    this.originalTypes = originalTypes;
    this.mapItemsPaths = mapItemsPaths;
    this.onLimit = onLimit;
  }

  /** Calls the limit hook once: the execution fails, and nothing but its terminal event is recorded after. */
  limit(error: string, cause: string): void {
    if (this.limited) return;
    this.limited = true;
    this.onLimit(error, cause);
  }

  add(type: string, details?: Record<string, unknown>, at = this.clock.now()): void {
    const terminal = type.startsWith('Execution');
    if (!terminal && (this.limited || this.events.length >= MAX_HISTORY_EVENTS - 1)) {
      this.limit('States.Runtime', `The execution history reached the quota of ${MAX_HISTORY_EVENTS} events.`);
      return;
    }
    const last = this.events.at(-1);
    const ev: HistoryEvent = {
      id: this.events.length + 1,
      previousEventId: last ? last.id : 0,
      timestamp: Math.max(at, last?.timestamp ?? at),
      type,
    };
    if (details && !DETAILLESS.has(type)) ev.details = { key: detailKey(type), value: details };
    this.events.push(ev);
  }

  /** An event produced inside a state (task scheduling, Lambda results, ...). */
  side(stateName: string, type: string, details?: Record<string, unknown>): void {
    if ((this.active.get(stateName) ?? 0) > 0) {
      this.add(type, details);
      return;
    }
    const list = this.buffered.get(stateName) ?? [];
    list.push({ type, details, at: this.clock.now() });
    this.buffered.set(stateName, list);
  }

  private flush(stateName: string): void {
    const list = this.buffered.get(stateName);
    if (!list) return;
    this.buffered.delete(stateName);
    for (const e of list) this.add(e.type, e.details, e.at);
  }

  flushAll(): void {
    for (const name of [...this.buffered.keys()]) this.flush(name);
  }

  onLibraryEvent(ev: Record<string, unknown>): void {
    const state = ev.state as { name: string; type: string; input?: unknown; output?: unknown } | undefined;
    const type = state ? (this.originalTypes.get(state.name) ?? state.type) : '';
    switch (ev.type) {
      case 'StateEntered': {
        const bytes = jsonBytes(state!.input);
        if (bytes > MAX_PAYLOAD_BYTES) this.limit('States.DataLimitExceeded', `The input of state ${state!.name} is ${bytes} bytes, more than the ${MAX_PAYLOAD_BYTES}-byte payload quota.`);
        this.add(`${type}StateEntered`, { name: state!.name, input: JSON.stringify(state!.input ?? null), inputDetails: { truncated: false } });
        if (type === 'Parallel') this.add('ParallelStateStarted');
        if (type === 'Map') {
          const items = queryReferencePath(this.mapItemsPaths.get(state!.name) ?? '$', state!.input);
          this.add('MapStateStarted', { length: Array.isArray(items) ? items.length : 0 });
        }
        this.active.set(state!.name, (this.active.get(state!.name) ?? 0) + 1);
        this.flush(state!.name);
        break;
      }
      case 'StateExited': {
        this.flush(state!.name);
        if (type === 'Parallel') this.add('ParallelStateSucceeded');
        if (type === 'Map') this.add('MapStateSucceeded');
        const bytes = jsonBytes(state!.output);
        if (bytes > MAX_PAYLOAD_BYTES) this.limit('States.DataLimitExceeded', `The output of state ${state!.name} is ${bytes} bytes, more than the ${MAX_PAYLOAD_BYTES}-byte payload quota.`);
        this.add(`${type}StateExited`, { name: state!.name, output: JSON.stringify(state!.output ?? null), outputDetails: { truncated: false } });
        this.active.set(state!.name, Math.max(0, (this.active.get(state!.name) ?? 0) - 1));
        break;
      }
      case 'StateFailed':
        this.flush(state!.name);
        if (type === 'Parallel') this.add('ParallelStateFailed');
        if (type === 'Map') this.add('MapStateFailed');
        break;
      case 'StateCaught':
        this.active.set(state!.name, Math.max(0, (this.active.get(state!.name) ?? 0) - 1));
        break;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const parent = ev.parentState as { name: string };
        this.add(ev.type, { name: parent.name, index: ev.index });
        break;
      }
      default:
        // ExecutionStarted/terminal events are written by the execution itself; StateRetried and
        // ParallelBranch* have no AWS counterpart.
        break;
    }
  }
}
