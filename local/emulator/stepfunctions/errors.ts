/**
 * Errors as the ASL sees them (Error/Cause), the library's own States.Timeout class, and how a
 * Lambda function's error reaches Step Functions.
 */
import { StateMachine } from 'aws-local-stepfunctions';

/** An error as the ASL sees it: `name` is the Error (matched by ErrorEquals), `message` the Cause. */
export function stateError(name: string, cause: string): Error {
  const e = new Error(cause);
  e.name = name;
  return e;
}

let statesTimeoutCtor: (new () => Error) | undefined;

/**
 * aws-local-stepfunctions excludes its own StatesTimeoutError from `States.TaskFailed` (as AWS
 * does for States.Timeout) by `instanceof`, and does not export the class. We get it once from a
 * 1 ms probe run so that clock-driven timeouts are that class too.
 */
export async function loadStatesTimeoutClass(): Promise<void> {
  if (statesTimeoutCtor) return;
  const probe = new StateMachine(
    { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:probe', TimeoutSeconds: 0.001, End: true } } } as never,
    { validationOptions: { noValidate: true } },
  );
  const run = probe.run({}, { overrides: { taskResourceLocalHandlers: { T: () => new Promise<never>(() => {}) } } });
  try {
    await run.result;
  } catch (err) {
    const cause = (err as Error).cause as Error | undefined;
    if (cause?.name === 'States.Timeout') statesTimeoutCtor = cause.constructor as new () => Error;
  }
  if (!statesTimeoutCtor) throw new Error('aws-local-stepfunctions: could not obtain its States.Timeout error class');
}

export function timeoutError(name: 'States.Timeout' | 'States.HeartbeatTimeout', cause: string): Error {
  const e = statesTimeoutCtor ? new statesTimeoutCtor() : new Error();
  e.name = name;
  e.message = cause;
  return e;
}

/** How AWS reports a Lambda function error to Step Functions: Error = errorType, Cause = JSON. */
export function lambdaStateError(err: unknown): Error {
  // An error of the Lambda service itself (a throttled Invoke) is `Lambda.<Exception>` to Step Functions
  // (Step Functions Developer Guide, "Handle transient Lambda service exceptions": Lambda.TooManyRequestsException, ...).
  if ((err as { serviceError?: boolean })?.serviceError === true) return stateError(`Lambda.${(err as Error).name}`, (err as Error).message);
  const name = (err as Error)?.name || 'Error';
  const message = (err as Error)?.message ?? String(err);
  const trace = typeof (err as Error)?.stack === 'string' ? (err as Error).stack!.split('\n') : [];
  return stateError(name, JSON.stringify({ errorType: name, errorMessage: message, trace }));
}

/** True for a States.Timeout / States.HeartbeatTimeout of the library's class (not a States.TaskFailed). */
export function isStatesTimeout(err: unknown): err is Error {
  return statesTimeoutCtor !== undefined && err instanceof statesTimeoutCtor;
}
