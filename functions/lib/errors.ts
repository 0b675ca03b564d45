/**
 * Named errors. An error's `name` is a contract: the state machines' Retry/Catch `ErrorEquals`
 * match on it, and a test keeps the two in sync. Names end in `Error`; the original error, when
 * there is one, travels as `cause`. Messages never contain secret values.
 */
export class AutopilotError extends Error {
  /** Extra, non-secret, machine-readable facts (field names, ids). */
  readonly details: Record<string, unknown>;
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? {};
  }
}

/** Facts every translated AWS error carries (never request or response bodies). */
export interface AwsErrorContext {
  /** Short service key, e.g. `bedrock-agentcore-control`, `sfn`. */
  service: string;
  /** SDK operation, e.g. `UpdateAgentRuntime`. */
  operation: string;
  /** Identifier of the resource concerned, when one is known (id, name or ARN; never a value). */
  resource?: string;
  /** The SDK exception's own name, e.g. `ThrottlingException`. */
  awsErrorName?: string;
  httpStatus?: number;
  requestId?: string;
}

/**
 * An AWS call failed. Adapters throw one of the subclasses below; the SDK exception travels as
 * `cause`. The message names the service, operation and exception, never the SDK's own message
 * (validation messages can echo the rejected values).
 */
export class AwsServiceError extends AutopilotError {
  readonly service: string;
  readonly operation: string;
  readonly resource: string | undefined;
  readonly awsErrorName: string | undefined;
  readonly httpStatus: number | undefined;
  /** Whether trying again later can succeed (throttling, 5xx, conflicts with an update in progress). */
  readonly retryable: boolean = false;
  constructor(context: AwsErrorContext, options: { cause?: unknown; message?: string; details?: Record<string, unknown> } = {}) {
    const what = context.resource ? ` on ${context.resource}` : '';
    super(options.message ?? `${context.service} ${context.operation}${what} failed: ${context.awsErrorName ?? 'unknown error'}`, {
      cause: options.cause,
      details: { ...context, ...options.details },
    });
    this.service = context.service;
    this.operation = context.operation;
    this.resource = context.resource;
    this.awsErrorName = context.awsErrorName;
    this.httpStatus = context.httpStatus;
  }
}

/** The resource (runtime, gateway, execution, repository, image...) does not exist. */
export class ResourceNotFoundError extends AwsServiceError {}

/** The resource is being changed by someone else (e.g. UPDATING); retry with backoff. */
export class ConflictError extends AwsServiceError {
  override readonly retryable: boolean = true;
}

/** The service throttled the call even after the SDK's own retries. */
export class ThrottledError extends AwsServiceError {
  override readonly retryable: boolean = true;
}

/** The service is failing (5xx) or unreachable. */
export class ServiceUnavailableError extends AwsServiceError {
  override readonly retryable: boolean = true;
}

/** The SDK could not even send the call: no region, no credentials found, ... (fix the environment). */
export class AwsConfigurationError extends AwsServiceError {}

/** The caller lacks permission, or its credentials are invalid or expired. */
export class AccessDeniedError extends AwsServiceError {}

/** An account quota or service limit was hit (ServiceQuotaExceeded, LimitExceeded...). */
export class QuotaExceededError extends AwsServiceError {}

/** One rejected field of a request: its name and what was wrong (values masked). */
export interface RejectedField {
  name: string;
  message: string;
}

/** The service rejected the request as invalid. `fieldList` says which fields (names only in the message). */
export class ValidationRejectedError extends AwsServiceError {
  readonly reason: string | undefined;
  readonly fieldList: RejectedField[];
  constructor(
    context: AwsErrorContext,
    options: { cause?: unknown; reason?: string; fieldList?: RejectedField[] } = {},
  ) {
    const fieldList = options.fieldList ?? [];
    const fields = fieldList.length > 0 ? ` (fields: ${fieldList.map((f) => f.name).join(', ')})` : '';
    const reason = options.reason ? ` [${options.reason}]` : '';
    const what = context.resource ? ` on ${context.resource}` : '';
    super(context, {
      cause: options.cause,
      message: `${context.service} ${context.operation}${what} rejected the request${reason}${fields}`,
      details: { reason: options.reason, fields: fieldList.map((f) => f.name) },
    });
    this.reason = options.reason;
    this.fieldList = fieldList;
  }
}

/** More than one resource matches a name that should identify exactly one. */
export class AmbiguousResourceError extends AutopilotError {}

/** Step Functions already has an execution with this name (and different input, or it is closed). */
export class ExecutionAlreadyExistsError extends AwsServiceError {}

/** EventBridge did not accept some entries of a PutEvents call. */
export class EventPublishError extends AutopilotError {
  /** Per failed entry: its index among the events being published, detail-type and EventBridge's error code. */
  readonly failures: { index: number; detailType: string; errorCode: string }[];
  /** Events of the same publish call that were accepted before (or beside) the failures. */
  readonly publishedCount: number;
  constructor(
    failures: { index: number; detailType: string; errorCode: string }[],
    options: { cause?: unknown; publishedCount?: number } = {},
  ) {
    const codes = [...new Set(failures.map((f) => f.errorCode))].join(', ');
    super(`EventBridge rejected ${failures.length} event(s): ${codes}`, {
      cause: options.cause,
      details: { failures, publishedCount: options.publishedCount ?? 0 },
    });
    this.failures = failures;
    this.publishedCount = options.publishedCount ?? 0;
  }
}

/** An event is larger than EventBridge accepts (256 KB per entry). */
export class EventTooLargeError extends AutopilotError {}

/** A Lambda event did not match the handler's schema. */
export class InvalidEventError extends AutopilotError {
  /** `path: message` per problem. Zod messages describe the expected shape, not the received value. */
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`Invalid event: ${issues.join('; ')}`, { details: { issues } });
    this.issues = issues;
  }
}
