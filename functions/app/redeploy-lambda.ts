/**
 * Lambda-side wiring of the redeploy handlers: the RedeployContext of one invocation, built from
 * the shared Lambda wiring (functions/app/lambda-env.ts). Handlers' default deps use this; tests
 * pass their own.
 */
import type { Context } from 'aws-lambda';
import { adaptersFor, budgetOf, configFor, homeOf } from './lambda-env.ts';
import type { Log, RedeployContext } from './redeploy.ts';

/** The default RedeployContext of an invocation. */
export async function redeployContextFor(context: Context, log: Log, env: NodeJS.ProcessEnv = process.env): Promise<RedeployContext> {
  const config = await configFor(env);
  return {
    adapters: adaptersFor(env),
    config,
    log,
    home: homeOf(context, env),
    remainingMs: budgetOf(context),
    // ECR is regional: an image pushed (or named) in another region is looked up there.
    ecrIn: (region) => adaptersFor({ ...env, AWS_REGION: region }).ecr,
    ...(env.PROMOTION_STATE_MACHINE_ARN && { promotionStateMachineArn: env.PROMOTION_STATE_MACHINE_ARN }),
  };
}
