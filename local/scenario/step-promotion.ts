/**
 * Step 5 of the `npm start` scenario: a new Cedar policy declared in the config is promoted from
 * LOG_ONLY to ACTIVE through the request bus (`Policy Promotion Requested`), its gates read from
 * the policy metrics the emulator publishes for real traffic decided by Cedar.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { REQUEST_SOURCE } from '../../functions/domain/requests/source.ts';
import { check, eventsOf, executionsOf, outputOf, safeCheck, type Check } from './expect.ts';
import { action, ENGINES, settle, type StepDefinition } from './harness.ts';

const POLICY = 'readers';

export const step5: StepDefinition = {
  n: 5,
  title: 'Policy promotion: a new declared Cedar policy goes LOG_ONLY, passes its gates, then ACTIVE',
  async run(ctx) {
    const { stack } = ctx;
    const checks: Check[] = [];
    const ev0 = stack.events.events.length;
    action(ctx, 'request promotion', POLICY, 'PutEvents "Policy Promotion Requested": the policy the config declares, not yet live');
    const out = await ctx.eventBridge.send(new PutEventsCommand({
      Entries: [{
        Source: REQUEST_SOURCE, EventBusName: stack.requestBus, DetailType: 'Policy Promotion Requested',
        Detail: JSON.stringify({ policyEngineArn: ENGINES.support, policyName: POLICY }),
      }],
    }));
    checks.push(check('the bus accepted the promotion request', out.FailedEntryCount === 0, `${out.FailedEntryCount ?? '?'} failed entries`));
    const s = await settle(ctx);
    if (s) checks.push(s);

    const live = () => stack.agentcore.policies.ofEngine(ENGINES.support.split('/').pop()!).find((p) => p.name === POLICY);
    checks.push(safeCheck(`${POLICY}: the promotion ended PROMOTED`, () => {
      const ex = executionsOf(stack, 'policyPromotion', (i) => i.policyName === POLICY);
      const o = outputOf(ex.at(-1));
      return [ex.length === 1 && o.outcome === 'PROMOTED' && o.change === 'create', `${ex.length} promotion(s), outcome ${String(o.outcome ?? '-')}, change ${String(o.change ?? '-')}`];
    }));
    checks.push(safeCheck(`${POLICY}: live and ACTIVE`, () => {
      const p = live();
      return [p?.enforcementMode === 'ACTIVE', p ? `${p.id} ${p.enforcementMode}` : 'not found'];
    }));
    checks.push(safeCheck('LOG_ONLY gates: it matched traffic and flipped nothing', () => {
      const passed = eventsOf(stack, 'Policy Promotion Stage Passed', (d) => d.policyName === POLICY && d.stage === 'LOG_ONLY_VERIFIED', ev0);
      const gates = Object.fromEntries(((passed[0]?.event.detail.logOnly as { report?: { gates?: { name: string; value: unknown }[] } } | undefined)?.report?.gates ?? []).map((g) => [g.name, g.value]));
      return [passed.length === 1 && Number(gates.matches) >= 20 && gates.flipRatio === 0, `matches ${String(gates.matches ?? '-')}, flipRatio ${String(gates.flipRatio ?? '-')}`];
    }));
    checks.push(safeCheck('every stage published, ending with "Policy Promotion Promoted"', () => {
      const types = stack.events.events.slice(ev0).map((e) => e.event['detail-type']).filter((t) => t.startsWith('Policy Promotion') && t !== 'Policy Promotion Requested');
      return [types.at(-1) === 'Policy Promotion Promoted' && types[0] === 'Policy Promotion Started', types.join(', ')];
    }));
    return checks;
  },
};
