/**
 * AWS Step Functions stand-in (awsJson1_0, `X-Amz-Target: AWSStepFunctions.<Operation>`), served by
 * the emulator's HTTP core. State machines are registered from the serverless config; executions
 * run the real ASL (see engine.ts for how time, Lambda tasks and task tokens are handled).
 *
 * Operations: StartExecution, DescribeExecution, ListExecutions, StopExecution,
 * GetExecutionHistory, SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat, DescribeStateMachine,
 * ListStateMachines, DescribeStateMachineForExecution. Errors are `{__type, message}` bodies the SDK
 * maps to its exception classes (ExecutionAlreadyExists, ExecutionDoesNotExist, InvalidArn, ...).
 *
 * StartExecution is idempotent the way STANDARD workflows are: the same name and input as a
 * RUNNING execution returns that execution; a different input, or a name whose execution has
 * closed, is ExecutionAlreadyExists.
 */
import { AwsError, type EmulatorRequest, type EmulatorResponse, type ResolvedOperation, type ServiceStandIn } from '../types.ts';
import type { Clock } from '../../clock.ts';
import type { ServerlessConfig } from '../../lambda/serverless-config.ts';
import {
  Execution, MAX_PAYLOAD_BYTES, TokenRegistry, validateDefinition, type ExecutionStatus, type HistoryEvent, type PutEventsEntry, type PutEventsOutput,
} from './engine.ts';

export type { ExecutionStatus, HistoryEvent, PutEventsEntry, PutEventsOutput } from './engine.ts';

const TARGET_PREFIX = 'AWSStepFunctions.';
const DEFAULT_ACCOUNT = '123456789012';

export interface StepFunctionsStandInOptions {
  clock: Clock;
  region?: string;
  accountId?: string;
  /** Runs Lambda tasks; pass the local Lambda runner (`runner.invoke`). */
  invokeLambda?: (target: string, payload: unknown, opts?: { signal?: AbortSignal }) => Promise<unknown>;
  /** Delivers `events:putEvents` task entries (the EventBridge stand-in). */
  putEvents?: (entries: PutEventsEntry[]) => Promise<PutEventsOutput | void> | PutEventsOutput | void;
  /**
   * Check definitions with asl-validator at registration, as CreateStateMachine would (default
   * true; ~0.5 s per distinct definition, cached per process).
   */
  validateDefinitions?: boolean;
}

export interface StateMachineRegistration {
  name: string;
  /** Default: arn:aws:states:<region>:<account>:stateMachine:<name>. */
  arn?: string;
  /** ASL, as an object or JSON text. */
  definition: Record<string, unknown> | string;
  roleArn?: string;
}

interface RegisteredStateMachine {
  name: string;
  arn: string;
  definition: Record<string, unknown>;
  definitionText: string;
  roleArn: string;
  creationDate: number;
}

/** A read-only view of one execution. */
export interface ExecutionSnapshot {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  startDate: number;
  stopDate?: number;
  history: readonly HistoryEvent[];
}

const NAME_RE = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;
const SM_ARN_RE = /^arn:aws[\w-]*:states:[a-z0-9-]+:\d{12}:stateMachine:([^:]+)$/;
const EXEC_ARN_RE = /^arn:aws[\w-]*:states:[a-z0-9-]+:\d{12}:execution:([^:]+):([^:]+)$/;

export class StepFunctionsStandIn implements ServiceStandIn {
  readonly name = 'states';
  private readonly clock: Clock;
  private readonly region: string;
  private readonly accountId: string;
  private readonly opts: StepFunctionsStandInOptions;
  private readonly machines = new Map<string, RegisteredStateMachine>();
  private readonly executions = new Map<string, Execution>();
  /** Start order, for ListExecutions. */
  private readonly order: Execution[] = [];
  private readonly tokens = new TokenRegistry();

  constructor(opts: StepFunctionsStandInOptions) {
    this.opts = opts;
    this.clock = opts.clock;
    this.region = opts.region ?? 'us-east-1';
    this.accountId = opts.accountId ?? DEFAULT_ACCOUNT;
  }

  // --- programmatic API ------------------------------------------------------------------------

  /** Registers (or replaces) a state machine; throws InvalidDefinition for ASL the library rejects. */
  registerStateMachine(reg: StateMachineRegistration): string {
    const arn = reg.arn ?? `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${reg.name}`;
    if (!SM_ARN_RE.test(arn)) throw new AwsError('InvalidArn', 400, `Invalid Arn: '${arn}'`);
    let definition: Record<string, unknown>;
    try {
      definition = typeof reg.definition === 'string' ? JSON.parse(reg.definition) : structuredClone(reg.definition);
    } catch (err) {
      throw new AwsError('InvalidDefinition', 400, `Invalid State Machine Definition: '${(err as Error).message}'`);
    }
    const problem = this.opts.validateDefinitions === false ? undefined : validateDefinition(definition);
    if (problem) throw new AwsError('InvalidDefinition', 400, `Invalid State Machine Definition for ${reg.name}: ${problem}`);
    this.machines.set(arn, {
      name: reg.name,
      arn,
      definition,
      definitionText: JSON.stringify(definition),
      roleArn: reg.roleArn ?? `arn:aws:iam::${this.accountId}:role/${reg.name}-role`,
      creationDate: this.clock.now(),
    });
    return arn;
  }

  /** Registers every state machine of a serverless config. */
  registerFromConfig(config: ServerlessConfig): string[] {
    return Object.values(config.stateMachines).map((m) => this.registerStateMachine({ name: m.name, arn: m.arn, definition: m.definition }));
  }

  /** StartExecution without HTTP (e.g. for EventBridge rule targets). */
  startExecution(req: { stateMachineArn: string; name?: string; input?: string }): { executionArn: string; startDate: number } {
    const sm = this.machines.get(req.stateMachineArn);
    if (!SM_ARN_RE.test(req.stateMachineArn ?? '')) throw new AwsError('InvalidArn', 400, `Invalid Arn: '${req.stateMachineArn}'`);
    if (!sm) throw new AwsError('StateMachineDoesNotExist', 400, `State Machine Does Not Exist: '${req.stateMachineArn}'`);
    const name = req.name ?? globalThis.crypto.randomUUID();
    if (!NAME_RE.test(name)) throw new AwsError('InvalidName', 400, `Invalid Name: '${name}'`);
    const input = req.input ?? '{}';
    // StartExecution `input` (model shape SensitiveData): at most 262144, counted in UTF-8 bytes.
    if (Buffer.byteLength(input, 'utf8') > MAX_PAYLOAD_BYTES) {
      throw new AwsError('ValidationException', 400, `1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to ${MAX_PAYLOAD_BYTES}`);
    }
    try {
      JSON.parse(input);
    } catch {
      throw new AwsError('InvalidExecutionInput', 400, `Invalid Execution Input: '${input.slice(0, 100)}'`);
    }
    const executionArn = `arn:aws:states:${this.region}:${this.accountId}:execution:${sm.name}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn, startDate: existing.startDate };
      }
      throw new AwsError('ExecutionAlreadyExists', 400, `Execution Already Exists: '${executionArn}'`);
    }
    const execution = new Execution({
      executionArn, name, stateMachineArn: sm.arn, stateMachineName: sm.name, roleArn: sm.roleArn, definition: sm.definition, input,
    }, {
      clock: this.clock,
      region: this.region,
      accountId: this.accountId,
      invokeLambda: this.opts.invokeLambda,
      putEvents: this.opts.putEvents,
      tokens: this.tokens,
    });
    this.executions.set(executionArn, execution);
    this.order.push(execution);
    execution.start();
    this.started.forEach((l) => l(snapshot(execution)));
    void execution.done.then(() => this.closed.forEach((l) => l(snapshot(execution))), () => undefined);
    return { executionArn, startDate: execution.startDate };
  }

  private readonly started = new Set<(e: ExecutionSnapshot) => void>();
  private readonly closed = new Set<(e: ExecutionSnapshot) => void>();

  /** Calls `started` when an execution starts and `closed` once it has stopped (e.g. to publish AWS/States metrics). */
  onExecution(listeners: { started?: (e: ExecutionSnapshot) => void; closed?: (e: ExecutionSnapshot) => void }): void {
    if (listeners.started) this.started.add(listeners.started);
    if (listeners.closed) this.closed.add(listeners.closed);
  }

  /** The execution's current state, or undefined. */
  getExecution(executionArn: string): ExecutionSnapshot | undefined {
    const e = this.executions.get(executionArn);
    return e ? snapshot(e) : undefined;
  }

  /** Resolves when the execution has stopped (its history complete). */
  async waitForExecution(executionArn: string): Promise<ExecutionSnapshot> {
    const e = this.executions.get(executionArn);
    if (!e) throw new AwsError('ExecutionDoesNotExist', 400, `Execution Does Not Exist: '${executionArn}'`);
    await e.done;
    return snapshot(e);
  }

  /** All executions, in start order. */
  listExecutions(): ExecutionSnapshot[] {
    return this.order.map(snapshot);
  }

  // --- ServiceStandIn ----------------------------------------------------------------------------

  resolve(req: EmulatorRequest): ResolvedOperation | undefined {
    if (req.method !== 'POST' || !req.target?.startsWith(TARGET_PREFIX)) return undefined;
    const operation = req.target.slice(TARGET_PREFIX.length);
    return {
      service: this.name,
      operation,
      run: async () => {
        let input: Record<string, unknown>;
        try {
          input = req.body ? JSON.parse(req.body) : {};
        } catch {
          throw new AwsError('SerializationException', 400, 'Malformed JSON request body');
        }
        return { status: 200, body: await this.dispatch(operation, input ?? {}) };
      },
    };
  }

  renderError(err: AwsError): EmulatorResponse {
    return {
      status: err.status,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': err.type },
      body: { __type: err.type, message: err.message, ...err.extra },
    };
  }

  private async dispatch(op: string, input: Record<string, unknown>): Promise<unknown> {
    switch (op) {
      case 'StartExecution': {
        const r = this.startExecution({
          stateMachineArn: requireString(input, 'stateMachineArn'),
          name: optionalString(input, 'name'),
          input: optionalString(input, 'input'),
        });
        return { executionArn: r.executionArn, startDate: epochSeconds(r.startDate) };
      }
      case 'DescribeExecution': {
        const e = this.requireExecution(requireString(input, 'executionArn'));
        return describe(e);
      }
      case 'DescribeStateMachineForExecution': {
        const e = this.requireExecution(requireString(input, 'executionArn'));
        const sm = this.machines.get(e.stateMachineArn)!;
        return { stateMachineArn: sm.arn, name: sm.name, definition: sm.definitionText, roleArn: sm.roleArn, updateDate: epochSeconds(sm.creationDate) };
      }
      case 'ListExecutions': return this.listExecutionsOp(input);
      case 'StopExecution': {
        const e = this.requireExecution(requireString(input, 'executionArn'));
        e.stop(optionalString(input, 'error'), optionalString(input, 'cause'));
        await e.done;
        return { stopDate: epochSeconds(e.stopDate ?? this.clock.now()) };
      }
      case 'GetExecutionHistory': return this.historyOp(input);
      case 'SendTaskSuccess': {
        const token = requireToken(input);
        const outputText = requireString(input, 'output');
        // SendTaskSuccess `output` (SensitiveData): at most 262144 UTF-8 bytes.
        if (Buffer.byteLength(outputText, 'utf8') > MAX_PAYLOAD_BYTES) {
          throw new AwsError('ValidationException', 400, `1 validation error detected: Value at 'output' failed to satisfy constraint: Member must have length less than or equal to ${MAX_PAYLOAD_BYTES}`);
        }
        let output: unknown;
        try {
          output = JSON.parse(outputText);
        } catch {
          throw new AwsError('InvalidOutput', 400, `Invalid Output: '${outputText.slice(0, 100)}'`);
        }
        this.answer(token, { kind: 'success', output });
        return {};
      }
      case 'SendTaskFailure': {
        const token = requireToken(input);
        const error = optionalString(input, 'error') ?? '';
        const cause = optionalString(input, 'cause') ?? '';
        if (error.length > 256) throw new AwsError('ValidationException', 400, "1 validation error detected: Value at 'error' failed to satisfy constraint: Member must have length less than or equal to 256");
        if (cause.length > 32768) throw new AwsError('ValidationException', 400, "1 validation error detected: Value at 'cause' failed to satisfy constraint: Member must have length less than or equal to 32768");
        this.answer(token, { kind: 'failure', error, cause });
        return {};
      }
      case 'SendTaskHeartbeat':
        this.answer(requireToken(input), { kind: 'heartbeat' });
        return {};
      case 'DescribeStateMachine': {
        const arn = requireString(input, 'stateMachineArn');
        if (!SM_ARN_RE.test(arn)) throw new AwsError('InvalidArn', 400, `Invalid Arn: '${arn}'`);
        const sm = this.machines.get(arn);
        if (!sm) throw new AwsError('StateMachineDoesNotExist', 400, `State Machine Does Not Exist: '${arn}'`);
        return {
          stateMachineArn: sm.arn, name: sm.name, status: 'ACTIVE', definition: sm.definitionText, roleArn: sm.roleArn,
          type: 'STANDARD', creationDate: epochSeconds(sm.creationDate),
        };
      }
      case 'ListStateMachines': {
        const all = [...this.machines.values()].map((sm) => ({
          stateMachineArn: sm.arn, name: sm.name, type: 'STANDARD', creationDate: epochSeconds(sm.creationDate),
        }));
        return paginate(all, input, 'stateMachines', 'ListStateMachines');
      }
      default:
        throw new AwsError('UnknownOperationException', 400, `The local Step Functions emulator does not implement ${op}`);
    }
  }

  private requireExecution(arn: string): Execution {
    if (!EXEC_ARN_RE.test(arn)) throw new AwsError('InvalidArn', 400, `Invalid Arn: '${arn}'`);
    const e = this.executions.get(arn);
    if (!e) throw new AwsError('ExecutionDoesNotExist', 400, `Execution Does Not Exist: '${arn}'`);
    return e;
  }

  private answer(token: string, answer: Parameters<TokenRegistry['answer']>[1]): void {
    switch (this.tokens.answer(token, answer)) {
      case 'invalid': throw new AwsError('InvalidToken', 400, "Invalid Token: 'Invalid token'");
      case 'not-waiting': throw new AwsError('TaskDoesNotExist', 400, 'Task Does Not Exist: no task is waiting for this token');
      case 'closed': throw new AwsError('TaskTimedOut', 400, "Task Timed Out: 'Provided task does not exist anymore'");
      default: break;
    }
  }

  private listExecutionsOp(input: Record<string, unknown>): unknown {
    const arn = requireString(input, 'stateMachineArn');
    if (!SM_ARN_RE.test(arn)) throw new AwsError('InvalidArn', 400, `Invalid Arn: '${arn}'`);
    if (!this.machines.has(arn)) throw new AwsError('StateMachineDoesNotExist', 400, `State Machine Does Not Exist: '${arn}'`);
    const filter = optionalString(input, 'statusFilter');
    const statuses = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];
    if (filter !== undefined && !statuses.includes(filter)) {
      throw new AwsError('ValidationException', 400, `1 validation error detected: Value '${filter}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${statuses.join(', ')}]`);
    }
    const items = this.order
      .filter((e) => e.stateMachineArn === arn && (filter === undefined || e.status === filter))
      .reverse() // newest first
      .map((e) => ({
        executionArn: e.executionArn, stateMachineArn: e.stateMachineArn, name: e.name, status: e.status,
        startDate: epochSeconds(e.startDate), stopDate: e.stopDate === undefined ? undefined : epochSeconds(e.stopDate),
      }));
    return paginate(items, input, 'executions', `ListExecutions:${arn}:${filter ?? ''}`);
  }

  private historyOp(input: Record<string, unknown>): unknown {
    const e = this.requireExecution(requireString(input, 'executionArn'));
    const includeData = input.includeExecutionData !== false;
    let events = e.history.map((h) => {
      const out: Record<string, unknown> = { timestamp: epochSeconds(h.timestamp), type: h.type, id: h.id, previousEventId: h.previousEventId };
      if (h.details) {
        const value = { ...h.details.value };
        if (!includeData) {
          for (const k of ['input', 'output', 'inputDetails', 'outputDetails', 'parameters']) delete value[k];
        }
        out[h.details.key] = value;
      }
      return out;
    });
    if (input.reverseOrder === true) events = events.reverse();
    return paginate(events, input, 'events', `GetExecutionHistory:${e.executionArn}:${input.reverseOrder === true}`);
  }
}

/** Convenience factory. */
export function createStepFunctionsStandIn(opts: StepFunctionsStandInOptions): StepFunctionsStandIn {
  return new StepFunctionsStandIn(opts);
}

// --- helpers -------------------------------------------------------------------------------------

function snapshot(e: Execution): ExecutionSnapshot {
  return {
    executionArn: e.executionArn, stateMachineArn: e.stateMachineArn, name: e.name, status: e.status, input: e.input,
    output: e.output, error: e.error, cause: e.cause, startDate: e.startDate, stopDate: e.stopDate, history: [...e.history],
  };
}

function describe(e: Execution): Record<string, unknown> {
  return {
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    name: e.name,
    status: e.status,
    startDate: epochSeconds(e.startDate),
    stopDate: e.stopDate === undefined ? undefined : epochSeconds(e.stopDate),
    input: e.input,
    inputDetails: { included: true },
    output: e.status === 'SUCCEEDED' ? e.output : undefined,
    outputDetails: e.status === 'SUCCEEDED' ? { included: true } : undefined,
    error: e.error,
    cause: e.cause,
    redriveCount: 0,
    redriveStatus: 'NOT_REDRIVABLE',
  };
}

function epochSeconds(ms: number): number {
  return ms / 1000;
}

function requireString(input: Record<string, unknown>, key: string): string {
  const v = input[key];
  if (typeof v !== 'string' || v === '') {
    throw new AwsError('ValidationException', 400, `1 validation error detected: Value at '${key}' failed to satisfy constraint: Member must not be null`);
  }
  return v;
}

function optionalString(input: Record<string, unknown>, key: string): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new AwsError('ValidationException', 400, `1 validation error detected: Value at '${key}' must be a string`);
  return v;
}

function requireToken(input: Record<string, unknown>): string {
  const token = requireString(input, 'taskToken');
  if (token.length > 2048) throw new AwsError('ValidationException', 400, "1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must have length less than or equal to 2048");
  return token;
}

/** maxResults (0 or absent = 100, at most 1000) and opaque nextToken bound to the listing. */
function paginate<T>(items: T[], input: Record<string, unknown>, key: string, scope: string): Record<string, unknown> {
  const max = input.maxResults === undefined || input.maxResults === 0 ? 100 : Number(input.maxResults);
  if (!Number.isInteger(max) || max < 0 || max > 1000) {
    throw new AwsError('ValidationException', 400, "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000");
  }
  let offset = 0;
  const next = optionalString(input, 'nextToken');
  if (next !== undefined) {
    let parsed: { scope?: string; offset?: number } | undefined;
    try {
      parsed = JSON.parse(Buffer.from(next, 'base64url').toString('utf8'));
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.scope !== scope || typeof parsed.offset !== 'number') {
      throw new AwsError('InvalidToken', 400, `Invalid Token: '${next.slice(0, 40)}'`);
    }
    offset = parsed.offset;
  }
  const page = items.slice(offset, offset + max);
  const out: Record<string, unknown> = { [key]: page };
  if (offset + max < items.length) {
    out.nextToken = Buffer.from(JSON.stringify({ scope, offset: offset + max })).toString('base64url');
  }
  return out;
}
