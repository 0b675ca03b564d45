/**
 * The one middy stack every Lambda uses: Lambda context in the logs (keys reset per invocation),
 * the log level of the invocation's environment (followEnvironmentLogLevel),
 * optional schema parsing of the event at the edge, and one error log line per failed invocation
 * before the error is rethrown unchanged (its `name` is what the state machines' Retry/Catch match).
 */
import middy from '@middy/core';
import type { MiddyfiedHandler } from '@middy/core';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import type { ZodMiniType } from 'zod/mini';
import { AutopilotError, InvalidEventError } from './errors.ts';
import { followEnvironmentLogLevel } from './logger.ts';

export interface MiddlewareOptions<TEvent> {
  logger: Logger;
  /** Parses (and may transform) the raw event; the handler receives the parsed value. */
  schema?: ZodMiniType<TEvent>;
}

/** What a failed invocation logs: never the stack or cause messages (they can echo inputs). */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { name: typeof error, message: 'non-Error value thrown' };
  const described: Record<string, unknown> = { name: error.name, message: error.message };
  if (error instanceof AutopilotError && Object.keys(error.details).length > 0) described.details = error.details;
  if (error.cause instanceof Error) described.causeName = error.cause.name;
  return described;
}

/** Formats zod issues as `path: message` (zod messages state the expectation, not the value). */
function formatIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string[] {
  return issues.map((issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`);
}

/** Wraps a handler in the standard middleware stack. */
export function withMiddleware<TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
  options: MiddlewareOptions<TEvent>,
): MiddyfiedHandler<TEvent, TResult, Error, Context> {
  const { logger, schema } = options;
  const wrapped = middy<TEvent, TResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    // After injectLambdaContext, whose `before` puts the level back to the one at creation.
    .use({ before: () => followEnvironmentLogLevel(logger) })
    // Registered after injectLambdaContext so its onError runs first, while the context keys are set.
    .use({
      onError: (request) => {
        logger.error('Invocation failed', { error: describeError(request.error) });
      },
    });
  if (schema) {
    wrapped.use({
      before: (request) => {
        const result = schema.safeParse(request.event);
        if (!result.success) throw new InvalidEventError(formatIssues(result.error.issues));
        request.event = result.data;
      },
    });
  }
  return wrapped.handler((event, context) => handler(event, context));
}
