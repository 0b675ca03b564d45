/**
 * Shared plumbing for the stand-ins of services the AWS SDK talks to over the awsJson1_0 /
 * awsJson1_1 protocols: the operation is named by `X-Amz-Target: <Prefix>.<Operation>`, the body
 * is JSON (`application/x-amz-json-1.x`), timestamps travel as epoch-seconds numbers, and errors
 * come back as `{"__type": "<Shape>", "message": "..."}` (plus `x-amzn-query-error: Code;Sender`
 * for query-compatible services such as CloudWatch, whose SDK maps the legacy query code back to
 * the typed exception class).
 */
import { AwsError, type EmulatorRequest, type EmulatorResponse, type ResolvedOperation } from './types.ts';

export type JsonProtocolVersion = '1.0' | '1.1';

/**
 * One operation handler: receives the parsed JSON input (and the raw request, for the few
 * operations that read a header: the caller's credentials, the Host of a queue URL), returns the
 * JSON output object.
 */
export type JsonOperation = (input: Record<string, unknown>, req: EmulatorRequest) => Promise<unknown> | unknown;

export interface JsonServiceSpec {
  /** Stand-in name used in logs and fault plans, e.g. `events`. */
  service: string;
  /** `X-Amz-Target` prefix, e.g. `AWSEvents`. */
  targetPrefix: string;
  version: JsonProtocolVersion;
  operations: Record<string, JsonOperation>;
}

export function jsonContentType(version: JsonProtocolVersion): string {
  return `application/x-amz-json-${version}`;
}

/**
 * Resolves a request addressed to `spec.targetPrefix`. Unknown operations of this service resolve
 * to an operation that fails with `UnknownOperationException`; a body that is not a JSON object
 * fails with `SerializationException`, as the real endpoints do.
 */
export function resolveJsonTarget(req: EmulatorRequest, spec: JsonServiceSpec): ResolvedOperation | undefined {
  if (!req.target) return undefined;
  const dot = req.target.lastIndexOf('.');
  if (dot < 0 || req.target.slice(0, dot) !== spec.targetPrefix) return undefined;
  const operation = req.target.slice(dot + 1);
  const handler = Object.hasOwn(spec.operations, operation) ? spec.operations[operation] : undefined;
  return {
    service: spec.service,
    operation,
    run: async (): Promise<EmulatorResponse> => {
      if (req.method !== 'POST') {
        throw new AwsError('UnknownOperationException', 404, `${req.method} is not supported by the ${spec.targetPrefix} JSON protocol`);
      }
      if (!handler) throw new AwsError('UnknownOperationException', 400, `operation ${operation} is not emulated`);
      let input: unknown = {};
      if (req.body.trim() !== '') {
        try {
          input = JSON.parse(req.body);
        } catch {
          throw new AwsError('SerializationException', 400, 'Start of structure or map found where not expected, or body is not valid JSON');
        }
      }
      if (input === null || typeof input !== 'object' || Array.isArray(input)) {
        throw new AwsError('SerializationException', 400, 'request body must be a JSON object');
      }
      const output = await handler(input as Record<string, unknown>, req);
      return jsonResponse(output ?? {}, spec.version);
    },
  };
}

export function jsonResponse(body: unknown, version: JsonProtocolVersion, status = 200): EmulatorResponse {
  return { status, headers: { 'content-type': jsonContentType(version) }, body: JSON.stringify(body) };
}

export interface QueryErrorCode {
  /** Legacy awsQuery error code, e.g. `InvalidParameterValue`. */
  code: string;
  /** `Sender` for client faults, `Receiver` for server faults. */
  fault?: 'Sender' | 'Receiver';
}

export interface JsonErrorOptions {
  version: JsonProtocolVersion;
  /**
   * For query-compatible services: shape name -> legacy query code. When set, every error gets an
   * `x-amzn-query-error` header (shapes missing from the map use their own name as the code).
   */
  queryCompat?: Record<string, QueryErrorCode>;
  /**
   * Service-neutral error names (e.g. the fault plan's `InternalServerException`) -> this service's
   * own shape (e.g. CloudWatch's `InternalServiceFault`), so the SDK builds the typed exception.
   */
  aliases?: Record<string, string>;
}

/** Renders an AwsError the way awsJson services do; `err.extra` fields are merged into the body. */
export function renderJsonError(original: AwsError, opts: JsonErrorOptions): EmulatorResponse {
  const alias = opts.aliases?.[original.type];
  const err = alias ? new AwsError(alias, original.status, original.message, original.extra) : original;
  const headers: Record<string, string> = {
    'content-type': jsonContentType(opts.version),
    'x-amzn-errortype': err.type,
  };
  if (opts.queryCompat) {
    const q = opts.queryCompat[err.type];
    const fault = q?.fault ?? (err.status >= 500 ? 'Receiver' : 'Sender');
    headers['x-amzn-query-error'] = `${q?.code ?? err.type};${fault}`;
  }
  return { status: err.status, headers, body: JSON.stringify({ ...err.extra, __type: err.type, message: err.message }) };
}

/** Epoch milliseconds -> the awsJson wire form (epoch seconds, fractional when needed). */
export function toEpochSeconds(ms: number): number {
  return ms / 1000;
}

/** Reads an awsJson timestamp input (epoch seconds number or ISO/RFC string) as epoch ms. */
export function readTimestamp(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return Math.round(value * 1000);
  if (typeof value === 'string') {
    if (/^-?\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return t;
  }
  return undefined;
}

/** Opaque, tamper-evident pagination tokens: base64url JSON tied to a request fingerprint. */
export function encodeToken(payload: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

export function decodeToken(token: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Parses a relative (`-3600s`, `+2h`, `30m`, `1d`, `0`) or absolute (ISO) time against `now`. */
export function parseTimeSpec(spec: string | number, now: number): number {
  if (typeof spec === 'number') return now + spec * 1000;
  const m = /^([+-]?)(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(spec.trim());
  if (m) {
    const unit = m[3] ?? 's';
    const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : 86_400_000;
    const ms = Number(m[2]) * factor;
    return now + (m[1] === '-' ? -ms : ms);
  }
  const t = Date.parse(spec);
  if (Number.isNaN(t)) throw new Error(`invalid time "${spec}": use a relative offset like -3600s, +2h, 30m or an ISO timestamp`);
  return t;
}
