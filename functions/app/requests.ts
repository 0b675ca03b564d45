/**
 * The gate every request from the request bus passes before autopilot acts on it: the request
 * source, the shape, the resources it names (declared in the config only) and its settings
 * (tighten only). A refused request is logged, reported as a `Request Refused` outcome event, and
 * answered normally (no error: retrying it would change nothing); it makes no AgentCore call.
 * See functions/domain/requests/ for the rules.
 */
import { ConfigError } from '../lib/config/config-error.ts';
import { parseRolloutOverrides } from '../lib/config/rollout.ts';
import { InvalidRolloutInputError } from '../domain/rollout/errors.ts';
import { validateStartRequest, type StartRolloutRequest } from '../domain/rollout/start.ts';
import { requestRefused } from '../domain/requests/refusal.ts';
import { declaredRolloutSettings, looseningOf, undeclaredRolloutTarget, type Refusal } from '../domain/requests/scope.ts';
import { REQUEST_SOURCE } from '../domain/requests/source.ts';
import { AutopilotError } from '../lib/errors.ts';
import { refuseRequest, type RefusedRequest, type RequestGateDeps } from './request-refusal.ts';

// The refusal itself lives apart: onChangeRequest and approveRollout refuse requests too, and must
// not bundle the rollout and promotion gates (their settings schemas) for it.
export { isBusEvent, refuseRequest, type RefusedRequest, type RequestGateDeps } from './request-refusal.ts';

export const ROLLOUT_REQUEST = 'Policy Rollout Requested';

/**
 * Checks a `Policy Rollout Requested` event: the request it carries when it may be started, or the
 * refusal (already reported).
 */
export async function gateRolloutRequest(deps: RequestGateDeps, event: { 'detail-type': unknown; source?: unknown; id?: unknown; detail?: unknown }): Promise<{ request: StartRolloutRequest } | RefusedRequest> {
  const eventId = typeof event.id === 'string' ? event.id : undefined;
  const refuse = (refusal: Refusal, resource?: string) => refuseRequest(deps, requestRefused(ROLLOUT_REQUEST, refusal, { resource, eventId }));
  if (event.source !== REQUEST_SOURCE || event['detail-type'] !== ROLLOUT_REQUEST) {
    return refuse({ reason: 'invalid-request', problems: [`a rollout request is "${ROLLOUT_REQUEST}" with source ${REQUEST_SOURCE}`] });
  }
  let request: StartRolloutRequest;
  try {
    request = validateStartRequest(event.detail, deps.config);
  } catch (err) {
    if (!(err instanceof InvalidRolloutInputError)) throw err;
    const problems = Array.isArray(err.details.problems) ? (err.details.problems as string[]) : [err.message];
    return refuse({ reason: 'invalid-request', problems });
  }
  const target = undeclaredRolloutTarget(deps.config, request.gatewayId, request.policyEngineArn);
  if (target) return refuse(target, request.gatewayId);
  const declared = declaredRolloutSettings(deps.config, request.gatewayId);
  let requested;
  try {
    requested = parseRolloutOverrides(request.settings ?? {}, declared, 'settings');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return refuse({ reason: 'invalid-request', problems: err.issues.map((i) => `settings.${i.path}: ${i.message}`) }, request.gatewayId);
  }
  const loosening = looseningOf(declared, requested);
  if (loosening.length > 0) return refuse({ reason: 'loosening', problems: loosening }, request.gatewayId);
  return { request };
}

export const PROMOTION_REQUEST = 'Policy Promotion Requested';

/**
 * Checks a `Policy Promotion Requested` event: the request (a declared engine's declared policy)
 * when it may be started, or the refusal (already reported). `validate` is the promotion's own
 * request check (shape, declared engine and policy), which throws InvalidPromotionRequestError.
 */
export async function gatePromotionRequest(
  deps: RequestGateDeps, event: { 'detail-type': unknown; source?: unknown; id?: unknown; detail?: unknown }, validate: (detail: unknown) => unknown,
): Promise<{ request: unknown } | RefusedRequest> {
  const eventId = typeof event.id === 'string' ? event.id : undefined;
  if (event.source !== REQUEST_SOURCE || event['detail-type'] !== PROMOTION_REQUEST) {
    return refuseRequest(deps, requestRefused(PROMOTION_REQUEST, { reason: 'invalid-request', problems: [`a promotion request is "${PROMOTION_REQUEST}" with source ${REQUEST_SOURCE}`] }, { eventId }));
  }
  try {
    return { request: validate(event.detail) };
  } catch (err) {
    if (!(err instanceof AutopilotError) || err.name !== 'InvalidPromotionRequestError') throw err;
    const problems = Array.isArray(err.details.problems) ? (err.details.problems as string[]) : [err.message];
    const undeclared = /not declared/.test(err.message);
    const detail = event.detail as { policyEngineArn?: unknown } | undefined;
    return refuseRequest(deps, requestRefused(PROMOTION_REQUEST, { reason: undeclared ? 'undeclared-policy' : 'invalid-request', problems }, {
      eventId, ...(typeof detail?.policyEngineArn === 'string' && { resource: detail.policyEngineArn }),
    }));
  }
}
