/**
 * Contracts between the emulator's HTTP core (server.ts) and the AWS service stand-ins that plug
 * into it. One port serves every service: AgentCore Control by its REST paths, the JSON-protocol
 * services (Step Functions, EventBridge, CloudWatch, ECR) by their `X-Amz-Target` header.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../clock.ts';

export interface EmulatorRequest {
  method: string;
  /** Raw path (still URI-encoded), without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Raw body text ('' when none). */
  body: string;
  /** `X-Amz-Target` header, when present (JSON protocols). */
  target?: string;
}

export interface EmulatorResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON unless it is already a string. Omitted (empty body) when undefined. */
  body?: unknown;
}

/** An AWS error in service-neutral form; each service renders it in its own protocol. */
export class AwsError extends Error {
  readonly type: string;
  readonly status: number;
  readonly extra: Record<string, unknown>;
  constructor(type: string, status: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = type;
    this.type = type;
    this.status = status;
    this.extra = extra;
  }
}

/** A request resolved to one operation of one service, ready to run. */
export interface ResolvedOperation {
  service: string;
  operation: string;
  run(): Promise<EmulatorResponse> | EmulatorResponse;
}

export interface ServiceStandIn {
  /** Service key used in the request log, counters and fault plans, e.g. `bedrock-agentcore-control`. */
  readonly name: string;
  /** Returns the operation this request is for, or undefined when the request is not for this service. */
  resolve(req: EmulatorRequest): ResolvedOperation | undefined;
  /** Renders an error in this service's wire protocol. */
  renderError(err: AwsError): EmulatorResponse;
}

export interface RequestLogEntry {
  seq: number;
  /** Virtual time (clock.now()) when the request arrived. */
  at: number;
  service: string;
  operation: string;
  method: string;
  path: string;
  status: number;
  /** Error type when the response was an error. */
  error?: string;
  /** True when the response was produced by the fault plan rather than the service. */
  injected?: boolean;
  /** Parsed JSON body of the request, when it had one. */
  input?: unknown;
}

export interface EmulatorContext {
  clock: Clock;
}
