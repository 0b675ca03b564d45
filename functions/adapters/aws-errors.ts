/**
 * SDK exception -> named error translation shared by every adapter. The mapping goes by the
 * exception's `name` (stable across SDK versions and what the emulator sends), then by HTTP status
 * and `$fault` for anything unlisted.
 */
import {
  AccessDeniedError,
  AwsConfigurationError,
  AwsServiceError,
  ConflictError,
  ExecutionAlreadyExistsError,
  QuotaExceededError,
  ResourceNotFoundError,
  ServiceUnavailableError,
  ThrottledError,
  ValidationRejectedError,
} from '../lib/errors.ts';
import type { AwsErrorContext, RejectedField } from '../lib/errors.ts';

type ErrorClass = new (context: AwsErrorContext, options: { cause?: unknown }) => AwsServiceError;

const BY_NAME: Record<string, ErrorClass> = {};
function register(errorClass: ErrorClass, names: string[]): void {
  for (const name of names) BY_NAME[name] = errorClass;
}
register(ResourceNotFoundError, [
  'ResourceNotFoundException', 'ResourceNotFound', 'NotFoundException', 'RepositoryNotFoundException',
  'ImageNotFoundException', 'ExecutionDoesNotExist', 'StateMachineDoesNotExist', 'ActivityDoesNotExist',
  'TaskDoesNotExist', 'TaskTimedOut', 'DashboardNotFoundError',
]);
register(ConflictError, [
  'ConflictException', 'RetryableConflictException', 'ConcurrentModificationException', 'ResourceConflict',
  'StateMachineDeleting', 'InvalidStateException', 'IllegalStatusException',
]);
register(ThrottledError, [
  'ThrottlingException', 'ThrottledException', 'Throttling', 'TooManyRequestsException',
  'RequestLimitExceeded', 'KmsThrottlingException', 'LimitExceededFault',
]);
register(ServiceUnavailableError, [
  'InternalServerException', 'ServiceException', 'InternalException', 'InternalFailure', 'InternalServiceFault',
  'InternalServiceError', 'ServerException', 'ServiceUnavailable', 'ServiceUnavailableException',
  'TimeoutError', 'RequestTimeout', 'RequestTimeoutException',
]);
register(AccessDeniedError, [
  'AccessDeniedException', 'AccessDenied', 'UnauthorizedException', 'UnrecognizedClientException',
  'ExpiredTokenException', 'InvalidClientTokenId', 'InvalidSignatureException', 'KmsAccessDeniedException',
  'SubscriptionRequiredException', 'OperationDisabledException',
]);
register(QuotaExceededError, [
  'ServiceQuotaExceededException', 'ResourceLimitExceededException', 'LimitExceededException',
  'ExecutionLimitExceeded', 'StateMachineLimitExceeded', 'ActivityLimitExceeded',
]);
register(ExecutionAlreadyExistsError, ['ExecutionAlreadyExists']);

const VALIDATION_NAMES = new Set([
  'ValidationException', 'InvalidParameterException', 'InvalidParameterValueException',
  'InvalidParameterCombinationException', 'MissingRequiredParameterException', 'MissingRequiredParameter',
  'InvalidArn', 'InvalidName', 'InvalidToken', 'InvalidOutput', 'InvalidExecutionInput', 'InvalidDefinition',
  'InvalidNextToken', 'InvalidFormatFault', 'InvalidEventPatternException', 'SerializationException',
]);

/** Node network failures: the endpoint could not be reached at all. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

interface SdkLikeError {
  name?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; requestId?: string };
  reason?: string;
  fieldList?: { name?: string; message?: string }[];
}

/**
 * Masks what an AWS validation message echoes back (`Value 'xyz' at 'field'`), keeping the field
 * path and the constraint. Rejected values can be runtime environment variable values.
 */
export function maskEchoedValues(message: string): string {
  return message
    .replace(/(value\s*)'[^']*'/gi, "$1'<redacted>'")
    .replace(/(value\s*)"[^"]*"/gi, '$1"<redacted>"')
    .slice(0, 500);
}

/** Translates anything an SDK call threw into a named `AwsServiceError` subclass, keeping it as `cause`. */
export function translateAwsError(err: unknown, context: Omit<AwsErrorContext, 'awsErrorName' | 'httpStatus' | 'requestId'>): AwsServiceError {
  if (err instanceof AwsServiceError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkLikeError;
  const awsErrorName = e.name ?? typeof err;
  const httpStatus = e.$metadata?.httpStatusCode;
  const full: AwsErrorContext = { ...context, awsErrorName, httpStatus, requestId: e.$metadata?.requestId };

  if (httpStatus === undefined && isConfigurationProblem(awsErrorName, err)) {
    const what = context.resource ? ` on ${context.resource}` : '';
    return new AwsConfigurationError(full, {
      cause: err,
      message: `${context.service} ${context.operation}${what} could not be sent: ${sdkMessage(err)} (set AWS_REGION and credentials, or AWS_ENDPOINT_URL for the local stack)`,
    });
  }
  if (VALIDATION_NAMES.has(awsErrorName)) {
    const fieldList: RejectedField[] = (e.fieldList ?? []).map((f) => ({
      name: String(f.name ?? ''),
      message: maskEchoedValues(String(f.message ?? '')),
    }));
    return new ValidationRejectedError(full, { cause: err, reason: e.reason, fieldList });
  }
  const byName = BY_NAME[awsErrorName];
  if (byName) return new byName(full, { cause: err });
  if (httpStatus === 429) return new ThrottledError(full, { cause: err });
  if (httpStatus === 404) return new ResourceNotFoundError(full, { cause: err });
  if (httpStatus === 409) return new ConflictError(full, { cause: err });
  if (httpStatus === 401 || httpStatus === 403) return new AccessDeniedError(full, { cause: err });
  if (e.$fault === 'server' || (httpStatus !== undefined && httpStatus >= 500)) return new ServiceUnavailableError(full, { cause: err });
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) {
    const what = context.resource ? ` on ${context.resource}` : '';
    return new ServiceUnavailableError(full, { cause: err, message: `${context.service} ${context.operation}${what} failed: endpoint unreachable (${e.code})` });
  }
  if (httpStatus === 400) return new ValidationRejectedError(full, { cause: err, reason: awsErrorName });
  if (httpStatus === undefined && sdkMessage(err)) {
    // Failed before any response (client side): the SDK's own words are the only clue.
    const what = context.resource ? ` on ${context.resource}` : '';
    return new AwsServiceError(full, { cause: err, message: `${context.service} ${context.operation}${what} failed: ${awsErrorName}: ${sdkMessage(err)}` });
  }
  return new AwsServiceError(full, { cause: err });
}

/** No region, or no credentials anywhere in the provider chain. */
function isConfigurationProblem(name: string, err: unknown): boolean {
  return name === 'CredentialsProviderError' || /region is missing|could not load credentials/i.test(sdkMessage(err));
}

/** The error's message, echoed values masked, bounded. */
function sdkMessage(err: unknown): string {
  return err instanceof Error && err.message ? maskEchoedValues(err.message).slice(0, 300) : '';
}

/** Runs one SDK call, translating whatever it throws. */
export async function callAws<T>(
  context: Omit<AwsErrorContext, 'awsErrorName' | 'httpStatus' | 'requestId'>,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw translateAwsError(err, context);
  }
}

/** Drains an SDK paginator (all pages) into one array, translating errors. */
export async function collectPages<P, T>(
  context: Omit<AwsErrorContext, 'awsErrorName' | 'httpStatus' | 'requestId'>,
  pages: AsyncIterable<P>,
  items: (page: P) => T[] | undefined,
): Promise<T[]> {
  const all: T[] = [];
  try {
    for await (const page of pages) all.push(...(items(page) ?? []));
  } catch (err) {
    throw translateAwsError(err, context);
  }
  return all;
}
