/**
 * The policy-rollout state machine's Lambda tasks (statemachines/policy-rollout.asl.yaml): preflight,
 * applyMode, checkGateway, verify, restore, publish. Thin wrappers over functions/app/rollout.ts;
 * their error names are what the ASL's Retry/Catch match.
 */
import type { Context } from 'aws-lambda';
import * as rollout from '../app/rollout.ts';
import type { RolloutDeps } from '../app/rollout.ts';
import { createLogger } from '../lib/logger.ts';
import { withMiddleware } from '../lib/middy.ts';
import { policyTaskDepsFor } from '../app/policy-task-deps.ts';

export type { RolloutDeps };

type Task<I, O> = (event: I, context: Context) => Promise<O>;
/** The Lambda handler of a use case `(deps, input) => Promise<output>`. */
type TaskOf<F> = F extends (deps: RolloutDeps, input: infer I) => Promise<infer O> ? Task<I, O> : never;

export interface RolloutHandlers {
  preflight: TaskOf<typeof rollout.preflight>;
  applyMode: TaskOf<typeof rollout.applyMode>;
  checkGateway: TaskOf<typeof rollout.checkGateway>;
  verify: TaskOf<typeof rollout.verify>;
  restore: TaskOf<typeof rollout.restore>;
  publish: TaskOf<typeof rollout.publish>;
}

const logger = createLogger();

/** The six task handlers over `deps` (default: AWS clients from the environment, resolved per invocation). */
export function createHandlers(deps?: RolloutDeps): RolloutHandlers {
  const log = deps?.logger ?? logger;
  const wrap = <I, O>(task: (d: RolloutDeps, input: I) => Promise<O>): Task<I, O> =>
    withMiddleware<I, O>((event) => task(deps ?? policyTaskDepsFor(log, 'ROLLOUT_STATE_MACHINE_ARN'), event), { logger: log }) as unknown as Task<I, O>;
  return {
    preflight: wrap(rollout.preflight),
    applyMode: wrap(rollout.applyMode),
    checkGateway: wrap(rollout.checkGateway),
    verify: wrap(rollout.verify),
    restore: wrap(rollout.restore),
    publish: wrap(rollout.publish),
  };
}

/** House style alias: `createHandler(deps)` returns the set of task handlers. */
export const createHandler = createHandlers;

export const { preflight, applyMode, checkGateway, verify, restore, publish } = createHandlers();
