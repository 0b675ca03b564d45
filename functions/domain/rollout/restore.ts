/**
 * Rollback: the lossless change that puts a gateway back to the configuration recorded at
 * preflight (every UpdateGateway field compared; `name` cannot change and is never touched).
 */
import { canonicalRequestJson } from '../client-token.ts';
import { GATEWAY_OPTIONAL_FIELDS, GATEWAY_UPDATE_FIELDS } from '../gateway-update.ts';
import type { GatewayChange, GatewayFields, GatewayOptionalField } from '../gateway-update.ts';

/** The change that turns `live` back into `point` (every UpdateGateway field); null when equal. */
export function restoreChange(live: Record<string, unknown>, point: Record<string, unknown>): GatewayChange | null {
  const set: Record<string, unknown> = {};
  const unset: GatewayOptionalField[] = [];
  for (const field of GATEWAY_UPDATE_FIELDS) {
    if (field === 'name') continue;
    const recorded = point[field];
    const current = live[field];
    if (recorded === undefined) {
      if (current !== undefined && (GATEWAY_OPTIONAL_FIELDS as readonly string[]).includes(field)) unset.push(field as GatewayOptionalField);
    } else if (canonicalRequestJson(recorded) !== canonicalRequestJson(current)) {
      set[field] = recorded;
    }
  }
  if (Object.keys(set).length === 0 && unset.length === 0) return null;
  return { set: set as Partial<GatewayFields>, unset };
}
