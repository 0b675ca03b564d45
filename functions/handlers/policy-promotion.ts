/**
 * The policy-promotion state machine's Lambda tasks (statemachines/policy-promotion.asl.yaml):
 * preflight, write (stage / promote / restore), checkPolicy, verify, publish; and `startPromotion`
 * (CLI, drift, EventBridge `Policy Promotion Requested`). Thin wrappers over
 * functions/app/promotion.ts; their error names are what the ASL's Retry/Catch match.
 */
import type { Context } from 'aws-lambda';
import * as promotion from '../app/promotion.ts';
import type { PromotionDeps } from '../app/promotion.ts';
import { gatePromotionRequest, isBusEvent } from '../app/requests.ts';
import { InvalidPromotionRequestError } from '../domain/promotion/errors.ts';
import { createLogger } from '../lib/logger.ts';
import { withMiddleware } from '../lib/middy.ts';
import { policyTaskDepsFor } from '../app/policy-task-deps.ts';

type Task<I, O> = (event: I, context: Context) => Promise<O>;

const logger = createLogger();

/** The request inside an EventBridge event (its `detail`), or the direct invocation payload itself. */
export function promotionRequestOf(event: unknown): unknown {
  if (typeof event === 'object' && event !== null && 'detail-type' in event) {
    const e = event as { 'detail-type': unknown; detail?: unknown };
    if (e['detail-type'] !== promotion.PROMOTION_REQUESTED_DETAIL_TYPE) {
      throw new InvalidPromotionRequestError(`Unexpected event detail-type ${JSON.stringify(e['detail-type'])}; expected "${promotion.PROMOTION_REQUESTED_DETAIL_TYPE}"`);
    }
    return e.detail;
  }
  return event;
}

/** The task handlers over `deps` (default: AWS clients from the environment, resolved per invocation). */
export function createHandlers(deps?: PromotionDeps) {
  const log = deps?.logger ?? logger;
  const wrap = <I, O>(task: (d: PromotionDeps, input: I) => Promise<O>): Task<I, O> =>
    withMiddleware<I, O>((event) => task(deps ?? policyTaskDepsFor(log, 'POLICY_PROMOTION_STATE_MACHINE_ARN'), event), { logger: log }) as unknown as Task<I, O>;
  return {
    preflight: wrap(promotion.preflight),
    write: wrap(promotion.write),
    checkPolicy: wrap(promotion.checkPolicy),
    verify: wrap(promotion.verify),
    publish: wrap(promotion.publish),
    start: wrap(async (d: PromotionDeps, event: unknown) => {
      if (!d.stateMachineArn) throw new InvalidPromotionRequestError('POLICY_PROMOTION_STATE_MACHINE_ARN is not set');
      const config = await d.loadConfig();
      let request: unknown = event;
      // A request from the bus passes the request gate (functions/app/requests.ts): refused, reported, no retry.
      if (isBusEvent(event)) {
        const gated = await gatePromotionRequest({ events: d.adapters.events, config, log: d.logger, eventBusName: d.eventBusName }, event,
          (detail) => promotion.validatePromotionRequest(detail, config));
        if ('status' in gated) return gated;
        request = gated.request;
      }
      const result = await promotion.startPromotion({ sfn: d.adapters.sfn, stateMachineArn: d.stateMachineArn, config, now: d.now }, promotionRequestOf(request));
      d.logger.info('Policy promotion start', { status: result.status, executionName: result.executionName, policy: result.policyName });
      return result;
    }),
  };
}

/** House style alias. */
export const createHandler = createHandlers;

export const { preflight, write, checkPolicy, verify, publish, start } = createHandlers();
