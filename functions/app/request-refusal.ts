/**
 * Refusing a request from the request bus: logged, reported as a `Request Refused` outcome event,
 * answered normally (see requests.ts for the gates that decide it).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { EventsAdapter } from '../adapters/events.ts';
import type { Config } from '../lib/config/types.ts';
import { REQUEST_REFUSED_DETAIL_TYPE, type RequestRefusedDetail } from '../domain/requests/refusal.ts';
import { describeError } from '../lib/middy.ts';

export interface RequestGateDeps {
  events: Pick<EventsAdapter, 'publish'>;
  config: Config;
  log: Pick<Logger, 'warn' | 'error'>;
  /** AUTOPILOT_EVENT_BUS (else the config's events.busName). */
  eventBusName?: string;
}

/** What a handler answers for a refused request. */
export interface RefusedRequest {
  status: 'REFUSED';
  refusal: RequestRefusedDetail;
}

/** Logs a refusal and publishes `Request Refused` (best effort: the refusal stands either way). */
export async function refuseRequest(deps: RequestGateDeps, detail: RequestRefusedDetail): Promise<RefusedRequest> {
  deps.log.warn('Request refused', { request: detail.request, reason: detail.reason, problems: detail.problems, resource: detail.resource, requestId: detail.requestId, eventId: detail.eventId });
  try {
    await deps.events.publish(REQUEST_REFUSED_DETAIL_TYPE, detail, { source: deps.config.events.source, busName: deps.eventBusName ?? deps.config.events.busName });
  } catch (err) {
    deps.log.error('Outcome event not published', { detailType: REQUEST_REFUSED_DETAIL_TYPE, error: describeError(err) });
  }
  return { status: 'REFUSED', refusal: detail };
}

/** An EventBridge event rather than a direct invocation payload. */
export function isBusEvent(event: unknown): event is { 'detail-type': unknown; source?: unknown; id?: unknown; detail?: unknown } {
  return typeof event === 'object' && event !== null && 'detail-type' in event;
}
