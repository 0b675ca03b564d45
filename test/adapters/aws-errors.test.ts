import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  AutopilotError,
  AwsServiceError,
  ConflictError,
  ExecutionAlreadyExistsError,
  QuotaExceededError,
  ResourceNotFoundError,
  ServiceUnavailableError,
  ThrottledError,
  ValidationRejectedError,
} from '../../functions/lib/errors.ts';
import { callAws, maskEchoedValues, translateAwsError } from '../../functions/adapters/aws-errors.ts';

const context = { service: 'bedrock-agentcore-control', operation: 'UpdateAgentRuntime', resource: 'rt-1' };

/** What an SDK v3 service exception looks like once deserialised. */
function sdkError(name: string, status: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} message`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, requestId: 'req-123' },
    ...extra,
  });
}

describe('translateAwsError', () => {
  it.each([
    ['ResourceNotFoundException', 404, ResourceNotFoundError],
    ['ConflictException', 409, ConflictError],
    ['RetryableConflictException', 409, ConflictError],
    ['ConcurrentModificationException', 409, ConflictError],
    ['ThrottlingException', 429, ThrottledError],
    ['ThrottledException', 429, ThrottledError],
    ['InternalServerException', 500, ServiceUnavailableError],
    ['ServiceException', 500, ServiceUnavailableError],
    ['AccessDeniedException', 403, AccessDeniedError],
    ['ServiceQuotaExceededException', 402, QuotaExceededError],
    ['ResourceLimitExceededException', 400, QuotaExceededError],
    ['ExecutionAlreadyExists', 400, ExecutionAlreadyExistsError],
    ['ExecutionDoesNotExist', 400, ResourceNotFoundError],
    ['RepositoryNotFoundException', 400, ResourceNotFoundError],
    ['ImageNotFoundException', 400, ResourceNotFoundError],
    ['ValidationException', 400, ValidationRejectedError],
    ['InvalidParameterException', 400, ValidationRejectedError],
  ])('maps %s (HTTP %i) to %o', (name, status, expected) => {
    const cause = sdkError(name, status);

    const error = translateAwsError(cause, context);

    expect(error).toBeInstanceOf(expected);
    expect(error).toBeInstanceOf(AwsServiceError);
    expect(error).toBeInstanceOf(AutopilotError);
    expect(error.name).toBe(expected.name);
    expect(error.cause).toBe(cause);
    expect(error.awsErrorName).toBe(name);
    expect(error.details).toMatchObject({ service: context.service, operation: 'UpdateAgentRuntime', resource: 'rt-1', requestId: 'req-123' });
  });

  it('falls back on the HTTP status and $fault for exceptions it does not know', () => {
    expect(translateAwsError(sdkError('BrandNewThrottle', 429), context)).toBeInstanceOf(ThrottledError);
    expect(translateAwsError(sdkError('BrandNewMissing', 404), context)).toBeInstanceOf(ResourceNotFoundError);
    expect(translateAwsError(sdkError('BrandNewClash', 409), context)).toBeInstanceOf(ConflictError);
    expect(translateAwsError(sdkError('BrandNewOutage', 503), context)).toBeInstanceOf(ServiceUnavailableError);
    expect(translateAwsError(sdkError('BrandNewBadInput', 400), context)).toBeInstanceOf(ValidationRejectedError);
    const other = translateAwsError(sdkError('Teapot', 418), context);
    expect(other.constructor).toBe(AwsServiceError);
  });

  it('treats network failures as ServiceUnavailableError', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' });

    expect(translateAwsError(refused, context)).toBeInstanceOf(ServiceUnavailableError);
  });

  it('marks throttling, outages and conflicts retryable, and the rest not', () => {
    expect(translateAwsError(sdkError('ThrottlingException', 429), context).retryable).toBe(true);
    expect(translateAwsError(sdkError('InternalServerException', 500), context).retryable).toBe(true);
    expect(translateAwsError(sdkError('ConflictException', 409), context).retryable).toBe(true);
    expect(translateAwsError(sdkError('ValidationException', 400), context).retryable).toBe(false);
    expect(translateAwsError(sdkError('ResourceNotFoundException', 404), context).retryable).toBe(false);
  });

  it('keeps ValidationException reason and fields, masking echoed values and keeping them out of the message', () => {
    const secret = 'sk-live-123456';
    const cause = sdkError('ValidationException', 400, {
      message: `Value '${secret}' at 'environmentVariables.API_KEY' failed to satisfy constraint`,
      reason: 'FieldValidationFailed',
      fieldList: [{ name: 'environmentVariables.API_KEY', message: `Value '${secret}' is too long` }, { name: 'roleArn', message: 'must be an ARN' }],
    });

    const error = translateAwsError(cause, context) as ValidationRejectedError;

    expect(error).toBeInstanceOf(ValidationRejectedError);
    expect(error.reason).toBe('FieldValidationFailed');
    expect(error.fieldList).toEqual([
      { name: 'environmentVariables.API_KEY', message: "Value '<redacted>' is too long" },
      { name: 'roleArn', message: 'must be an ARN' },
    ]);
    expect(error.message).toContain('environmentVariables.API_KEY, roleArn');
    expect(error.message).toContain('FieldValidationFailed');
    expect(JSON.stringify({ message: error.message, details: error.details, fields: error.fieldList })).not.toContain(secret);
  });

  it('never copies the SDK message into its own', () => {
    const error = translateAwsError(sdkError('ConflictException', 409, { message: 'secret-ish text' }), context);

    expect(error.message).toBe('bedrock-agentcore-control UpdateAgentRuntime on rt-1 failed: ConflictException');
  });

  it('returns already translated errors unchanged', () => {
    const once = translateAwsError(sdkError('ThrottlingException', 429), context);

    expect(translateAwsError(once, { service: 'x', operation: 'y' })).toBe(once);
  });
});

describe('callAws', () => {
  it('returns the result or throws the translated error', async () => {
    await expect(callAws(context, async () => 7)).resolves.toBe(7);
    await expect(callAws(context, async () => { throw sdkError('ThrottlingException', 429); })).rejects.toBeInstanceOf(ThrottledError);
  });
});

describe('maskEchoedValues', () => {
  it('masks single- and double-quoted values after "Value" and caps the length', () => {
    expect(maskEchoedValues(`1 validation error: Value 'abc' at 'x'`)).toBe(`1 validation error: Value '<redacted>' at 'x'`);
    expect(maskEchoedValues('value "abc" invalid')).toBe('value "<redacted>" invalid');
    expect(maskEchoedValues('x'.repeat(2000))).toHaveLength(500);
  });
});

describe('client-side failures keep the SDK\'s own explanation', () => {
  it('reports a missing region from the real SDK as a configuration error saying what to set', async () => {
    const { BedrockAgentCoreControlClient, GetAgentRuntimeCommand } = await import('@aws-sdk/client-bedrock-agentcore-control');
    const { AwsConfigurationError } = await import('../../functions/lib/errors.ts');
    const client = new BedrockAgentCoreControlClient({ region: undefined, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const saved = { r: process.env.AWS_REGION, d: process.env.AWS_DEFAULT_REGION };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    try {
      const err = await callAws({ service: 'bedrock-agentcore-control', operation: 'GetAgentRuntime', resource: 'rt-1' },
        () => client.send(new GetAgentRuntimeCommand({ agentRuntimeId: 'rt-1' }))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AwsConfigurationError);
      expect((err as Error).message).toMatch(/GetAgentRuntime on rt-1 could not be sent: .*[Rr]egion is missing.*set AWS_REGION/);
    } finally {
      if (saved.r !== undefined) process.env.AWS_REGION = saved.r;
      if (saved.d !== undefined) process.env.AWS_DEFAULT_REGION = saved.d;
      client.destroy();
    }
  });

  it('reports missing credentials as a configuration error, not as access denied', async () => {
    const { AwsConfigurationError } = await import('../../functions/lib/errors.ts');
    const noCreds = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    const err = translateAwsError(noCreds, context);
    expect(err).toBeInstanceOf(AwsConfigurationError);
    expect(err).not.toBeInstanceOf(AccessDeniedError);
    expect(err.message).toContain('Could not load credentials from any providers');
  });

  it('keeps the message of another client-side failure, echoed values masked', () => {
    const odd = new Error("Value 'secret-value-123' at 'environmentVariables' could not be serialized");
    const err = translateAwsError(odd, context);
    expect(err.message).toContain("Error: Value '<redacted>' at 'environmentVariables' could not be serialized");
    expect(err.message).not.toContain('secret-value-123');
  });
});
