/**
 * The five steps of the `npm start` scenario. Each step drives the system only through its public
 * entry points (ECR pushes, events on the bus, the drift schedule firing from the clock, CloudWatch
 * series, hand-made changes through the real AgentCore SDK client), lets the stack settle, then
 * checks the outcome from the emulator's state, the executions and the event log.
 */
import {
  BedrockAgentCoreControlClient, GetAgentRuntimeCommand, GetGatewayCommand, UpdateAgentRuntimeCommand, UpdateGatewayCommand,
} from '@aws-sdk/client-bedrock-agentcore-control';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { buildGatewayUpdate } from '../../functions/domain/gateway-update.ts';
import { buildRuntimeUpdate } from '../../functions/domain/runtime-update.ts';
import { REQUEST_SOURCE } from '../../functions/domain/requests/source.ts';
import {
  action, ENGINES, fireScheduleOnce, HAND_MADE_SECRET, IDS, passTime, settle, since, type ScenarioContext, type StepDefinition,
} from './harness.ts';
import { step5 } from './step-promotion.ts';
import {
  autopilotEvents, check, endpointLiveVersion, eventsOf, executionsOf, gatewayPolicy, latestVersion, outputOf, pinsDigest,
  runtimeVersions, safeCheck, shortDigest, type Check,
} from './expect.ts';

export { ENGINES, HAND_MADE_SECRET, IDS, INITIAL_DIGEST, passTime, waitFor, type ScenarioContext, type StepDefinition } from './harness.ts';

// ---------------------------------------------------------------- step 1

const step1: StepDefinition = {
  n: 1,
  title: 'Image push: redeploy two tracking runtimes by digest, promote prod',
  async run(ctx) {
    const { stack } = ctx;
    const checks: Check[] = [];
    const ev0 = stack.events.events.length;
    const exec0 = new Set(stack.sfn.listExecutions().map((e) => e.executionArn));
    await passTime(ctx, 10 * 60_000, 'the stack runs as seeded; CloudWatch evaluates the error alarm (OK)');

    action(ctx, 'docker push (3 tags)', `${IDS.repository}:1.3.0`, 'one image pushed as 1.3.0, v1.3.0 and latest: one ECR event per tag');
    const push = stack.pushImage({ repository: IDS.repository, tags: ['1.3.0', 'v1.3.0', 'latest'] });
    const d13 = push.image.imageDigest;
    ctx.facts.digest13 = d13;
    action(ctx, 'duplicate delivery', `${IDS.repository}:1.3.0`, `EventBridge delivers event ${push.events[0].id.slice(0, 8)} a second time (at-least-once)`);
    stack.events.put(structuredClone(push.events[0]));
    const s1 = await settle(ctx);
    if (s1) checks.push(s1);

    checks.push(safeCheck('both tracking runtimes run the pushed digest, exactly one new version each', () => {
      const a = runtimeVersions(stack, IDS.supportAgent);
      const b = runtimeVersions(stack, IDS.supportCanary);
      const ok = a.length === 2 && b.length === 2 && pinsDigest(a[1].uri, d13) && pinsDigest(b[1].uri, d13);
      return [ok, `${IDS.supportAgent}: ${a.length} versions, latest ${a.at(-1)?.uri ?? '?'}; ${IDS.supportCanary}: ${b.length} versions, latest ${b.at(-1)?.uri ?? '?'}`];
    }));
    checks.push(safeCheck('the 3 tags and the duplicate event all resolved to the same single update per runtime', () => {
      // Concurrent deliveries of one digest send the same request with the same client token:
      // AgentCore answers the replays with the first update's version.
      const started = eventsOf(stack, 'Runtime Redeploy Started', () => true, ev0);
      const toVersions = (id: string) => [...new Set(started.filter((e) => e.event.detail.runtimeId === id).map((e) => String(e.event.detail.toVersion)))];
      const a = toVersions(IDS.supportAgent);
      const b = toVersions(IDS.supportCanary);
      return [a.length === 1 && a[0] === '2' && b.length === 1 && b[0] === '2',
        `Started events name version(s): ${IDS.supportAgent} ${a.join(', ') || '-'}, ${IDS.supportCanary} ${b.join(', ') || '-'} (${started.length} Started events for ${push.events.length + 1} deliveries)`];
    }));
    checks.push(safeCheck('the promotion moved prod to the new version', () => {
      const ex = executionsOf(stack, 'runtimePromotion', (i) => i.runtimeId === IDS.supportAgent).filter((e) => !exec0.has(e.executionArn));
      const live = endpointLiveVersion(stack, IDS.supportAgent, 'prod');
      const outcome = outputOf(ex[0]).outcome;
      return [ex.length === 1 && ex[0].status === 'SUCCEEDED' && outcome === 'PROMOTED' && live === 2,
        `${ex.length} promotion execution(s), status ${ex[0]?.status ?? '-'}, outcome ${String(outcome ?? '-')}, prod serves v${live ?? '?'}`];
    }));
    checks.push(safeCheck('"Runtime Redeploy Promoted" published for prod', () => {
      const p = eventsOf(stack, 'Runtime Redeploy Promoted', (d) => d.runtimeId === IDS.supportAgent, ev0);
      return [p.length === 1, `${p.length} promoted event(s)`];
    }));
    checks.push(safeCheck('the canary (no promote rule) had its new version followed to READY, no endpoint moved', () => {
      const ex = executionsOf(stack, 'runtimePromotion', (i) => i.runtimeId === IDS.supportCanary && Array.isArray(i.endpoints) && i.endpoints.length === 0);
      const outcome = outputOf(ex[0]).outcome;
      return [ex.length === 1 && outcome === 'PROMOTED', `${ex.length} follow-up execution(s) with no endpoints, outcome ${String(outcome ?? '-')}`];
    }));

    // The older semver push.
    const ev1 = stack.events.events.length;
    action(ctx, 'docker push (older)', `${IDS.repository}:1.2.5`, 'a late hotfix build of an older line: semver ^1.2.0 never moves down');
    const older = stack.pushImage({ repository: IDS.repository, tags: ['1.2.5'] });
    ctx.facts.digest125 = older.image.imageDigest;
    const s2 = await settle(ctx);
    if (s2) checks.push(s2);
    checks.push(safeCheck('the older semver push is refused: no runtime changes', () => {
      const a = latestVersion(stack, IDS.supportAgent);
      const b = latestVersion(stack, IDS.supportCanary);
      const ok = runtimeVersions(stack, IDS.supportAgent).length === 2 && runtimeVersions(stack, IDS.supportCanary).length === 2
        && pinsDigest(a?.uri, d13) && pinsDigest(b?.uri, d13);
      return [ok, `latest versions: ${IDS.supportAgent} v${a?.version ?? '?'}, ${IDS.supportCanary} v${b?.version ?? '?'}, both on ${shortDigest(d13)}: ${ok}`];
    }));
    checks.push(safeCheck('"Runtime Redeploy Skipped" says why (downgrade refused) for both runtimes', () => {
      const skipped = eventsOf(stack, 'Runtime Redeploy Skipped', (d) => d.digest === older.image.imageDigest, ev1);
      const runtimes = new Set(skipped.map((e) => e.event.detail.runtimeId));
      const reasons = [...new Set(skipped.map((e) => String(e.event.detail.reason)))];
      const ok = runtimes.has(IDS.supportAgent) && runtimes.has(IDS.supportCanary) && reasons.every((r) => /downgrade/i.test(r)) && reasons.length > 0;
      return [ok, `${skipped.length} skipped event(s), reasons: ${reasons.join(', ') || '-'}`];
    }));
    checks.push(safeCheck('no event went to the dead-letter queue', () => [stack.deadLetters.length === 0, `${stack.deadLetters.length} dead letter(s)${stack.deadLetters[0] ? `: ${stack.deadLetters[0].source} ${stack.deadLetters[0].error}` : ''}`]));
    void since;
    return checks;
  },
};

// ---------------------------------------------------------------- step 2

const step2: StepDefinition = {
  n: 2,
  title: 'Drift: an env var changed and a policy engine relaxed by hand, found by the schedule and corrected',
  async run(ctx) {
    const { stack, agentcore } = ctx;
    const checks: Check[] = [];
    const ev0 = stack.events.events.length;
    const versionsBefore = runtimeVersions(stack, IDS.supportCanary).length;
    const agentVersionsBefore = runtimeVersions(stack, IDS.supportAgent).length;
    const declaredEnv = runtimeVersions(stack, IDS.supportCanary).at(-1)?.env;

    // Hand-made drift through the real SDK, exactly as someone in the console would.
    const live = await agentcore.send(new GetAgentRuntimeCommand({ agentRuntimeId: IDS.supportCanary }));
    await agentcore.send(new UpdateAgentRuntimeCommand(buildRuntimeUpdate(live as never, { environmentVariables: { set: { MODEL_ID: HAND_MADE_SECRET } } })));
    action(ctx, 'hand edit: env var', IDS.supportCanary, 'MODEL_ID changed in the console (value not shown); a new runtime version');
    const gw = await agentcore.send(new GetGatewayCommand({ gatewayIdentifier: IDS.gwSupport }));
    await agentcore.send(new UpdateGatewayCommand(buildGatewayUpdate(gw as never, { policyEngine: { mode: 'LOG_ONLY' } })));
    action(ctx, 'hand edit: policy mode', IDS.gwSupport, 'Cedar engine switched ENFORCE -> LOG_ONLY in the console (tampering)');

    // The drift schedule fires from the clock (serverless.yml `schedule`), exactly once.
    const firstNew = stack.events.events.length;
    const fired = await fireScheduleOnce(ctx);
    checks.push(check('the drift schedule fired', fired, fired ? 'Scheduled Event delivered to correctDrift' : 'no scheduled event within the budget'));
    const s = await settle(ctx);
    if (s) checks.push(s);

    checks.push(safeCheck('correctDrift ran from the schedule without error', () => {
      const scheduled = stack.events.events.slice(firstNew).filter((e) => e.via === 'schedule').map((e) => e.event.id);
      const d = stack.events.deliveries.filter((x) => scheduled.includes(x.eventId));
      return [d.length > 0 && d.every((x) => x.outcome === 'delivered'), d.map((x) => `${x.targetId}: ${x.outcome}${x.errors.length ? ` (${x.errors.at(-1)})` : ''}`).join('; ') || 'no delivery'];
    }));
    checks.push(safeCheck('drift was reported on the bus (Drift Detected)', () => {
      const detected = autopilotEvents(stack, 'Drift Detected', ev0);
      return [detected.length > 0, `${detected.length} Drift Detected event(s)`];
    }));
    checks.push(safeCheck('the env var drift was corrected: the canary runs the declared variables again', () => {
      const versions = runtimeVersions(stack, IDS.supportCanary);
      const latest = versions.at(-1);
      const same = JSON.stringify(sortKeys(latest?.env)) === JSON.stringify(sortKeys(declaredEnv));
      return [versions.length === versionsBefore + 2 && same && latest?.status === 'READY',
        `${versions.length - versionsBefore} new version(s) (hand edit + correction), latest v${latest?.version ?? '?'} ${latest?.status ?? '?'}, variables ${same ? 'match' : 'differ from'} the declaration`];
    }));
    checks.push(safeCheck('the correction kept the image (no redeploy of an older build)', () => {
      const latest = latestVersion(stack, IDS.supportCanary);
      const ok = pinsDigest(latest?.uri, ctx.facts.digest13 ?? '?') && runtimeVersions(stack, IDS.supportAgent).length === agentVersionsBefore;
      return [ok, `canary on ${latest?.uri ?? '?'}; ${IDS.supportAgent} ${runtimeVersions(stack, IDS.supportAgent).length - agentVersionsBefore} new version(s)`];
    }));
    checks.push(safeCheck('"Drift Corrected" published for the canary', () => {
      const corrected = autopilotEvents(stack, 'Drift Corrected', ev0).filter((e) => JSON.stringify(e.event.detail).includes(IDS.supportCanary));
      return [corrected.length > 0, `${corrected.length} event(s)`];
    }));
    checks.push(safeCheck('the policy tampering went through a staged rollout that re-enforced the engine', () => {
      const ex = executionsOf(stack, 'policyRollout', (i) => i.gatewayId === IDS.gwSupport);
      const pe = gatewayPolicy(stack, IDS.gwSupport);
      const outcome = outputOf(ex.at(-1)).outcome;
      return [ex.length === 1 && ex[0].status === 'SUCCEEDED' && outcome === 'ENFORCED' && pe?.mode === 'ENFORCE' && pe.arn === ENGINES.support,
        `${ex.length} rollout(s), status ${ex.at(-1)?.status ?? '-'}, outcome ${String(outcome ?? '-')}, live mode ${pe?.mode ?? '-'} (${pe?.status ?? '-'})`];
    }));
    checks.push(safeCheck('"Policy Rollout Enforced" published for gw-support', () => {
      const e = eventsOf(stack, 'Policy Rollout Enforced', (d) => d.gatewayId === IDS.gwSupport, ev0);
      return [e.length === 1, `${e.length} event(s)`];
    }));
    checks.push(safeCheck('no event went to the dead-letter queue', () => [stack.deadLetters.length === 0, `${stack.deadLetters.length} dead letter(s)`]));
    return checks;
  },
};

function sortKeys(o: Record<string, string> | undefined): [string, string][] {
  return Object.entries(o ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
}

// ---------------------------------------------------------------- step 3

const step3: StepDefinition = {
  n: 3,
  title: 'Policy rollouts: one reaches ENFORCE, one halts in LOG_ONLY on its shadow deny ratio',
  async run(ctx) {
    const { stack } = ctx;
    const checks: Check[] = [];
    const ev0 = stack.events.events.length;
    const req0 = stack.emulator.requests.length > 0 ? stack.emulator.requests[stack.emulator.requests.length - 1].seq : 0;
    // One after the other: each rollout's bake and verification windows stay easy to read.
    for (const [gatewayId, engine, why] of [
      [IDS.gwBilling, ENGINES.billing, 'billing policies: 1.6 % of calls would be denied in shadow'],
      [IDS.gwOrders, ENGINES.orders, 'orders policies: 25 % of calls would be denied in shadow'],
    ] as const) {
      action(ctx, 'request rollout', gatewayId, `PutEvents "Policy Rollout Requested": ${why}`);
      const out = await ctx.eventBridge.send(new PutEventsCommand({
        Entries: [{ Source: REQUEST_SOURCE, EventBusName: ctx.stack.requestBus, DetailType: 'Policy Rollout Requested', Detail: JSON.stringify({ gatewayId, policyEngineArn: engine }) }],
      }));
      checks.push(check(`the bus accepted the request for ${gatewayId}`, out.FailedEntryCount === 0, `${out.FailedEntryCount ?? '?'} failed entries`));
      const s = await settle(ctx);
      if (s) checks.push(s);
    }

    checks.push(safeCheck('gw-billing: the rollout reached ENFORCE', () => {
      const ex = executionsOf(stack, 'policyRollout', (i) => i.gatewayId === IDS.gwBilling);
      const pe = gatewayPolicy(stack, IDS.gwBilling);
      const outcome = outputOf(ex.at(-1)).outcome;
      return [ex.length === 1 && outcome === 'ENFORCED' && pe?.mode === 'ENFORCE', `${ex.length} rollout(s), outcome ${String(outcome ?? '-')}, live mode ${pe?.mode ?? '-'}`];
    }));
    checks.push(safeCheck('gw-orders: the rollout halted in LOG_ONLY', () => {
      const ex = executionsOf(stack, 'policyRollout', (i) => i.gatewayId === IDS.gwOrders);
      const pe = gatewayPolicy(stack, IDS.gwOrders);
      const outcome = outputOf(ex.at(-1)).outcome;
      return [ex.length === 1 && outcome === 'HALTED_IN_LOG_ONLY' && pe?.mode === 'LOG_ONLY', `${ex.length} rollout(s), outcome ${String(outcome ?? '-')}, live mode ${pe?.mode ?? '-'}`];
    }));
    checks.push(safeCheck('gw-orders: halted because the shadow deny ratio is above the 5 % gate', () => {
      const halted = eventsOf(stack, 'Policy Rollout Halted', (d) => d.gatewayId === IDS.gwOrders, ev0);
      const shadow = halted[0]?.event.detail.shadow as { report?: { denyRatio?: number; reasons?: string[] } } | undefined;
      const ratio = shadow?.report?.denyRatio;
      return [halted.length === 1 && typeof ratio === 'number' && ratio > 0.05, `${halted.length} Halted event(s), shadow deny ratio ${typeof ratio === 'number' ? `${(ratio * 100).toFixed(1)} %` : '-'}${shadow?.report?.reasons?.[0] ? `: ${shadow.report.reasons[0]}` : ''}`];
    }));
    checks.push(safeCheck('gw-orders: ENFORCE was never sent', () => {
      const enforce = stack.emulator.requests.filter((r) => r.seq > req0 && r.operation === 'UpdateGateway' && r.path.includes(IDS.gwOrders)
        && (r.input as { policyEngineConfiguration?: { mode?: string } } | undefined)?.policyEngineConfiguration?.mode === 'ENFORCE');
      return [enforce.length === 0, `${enforce.length} UpdateGateway call(s) with ENFORCE`];
    }));
    checks.push(safeCheck('gw-billing: "Policy Rollout Enforced" published with the gate figures', () => {
      const e = eventsOf(stack, 'Policy Rollout Enforced', (d) => d.gatewayId === IDS.gwBilling, ev0);
      const shadow = e[0]?.event.detail.shadow as { verdict?: string } | undefined;
      return [e.length === 1 && shadow?.verdict === 'PASS', `${e.length} event(s), shadow verdict ${shadow?.verdict ?? '-'}`];
    }));
    return checks;
  },
};

// ---------------------------------------------------------------- step 4

const step4: StepDefinition = {
  n: 4,
  title: 'A promotion that fails verification (error alarm) and rolls back',
  async run(ctx) {
    const { stack } = ctx;
    const checks: Check[] = [];
    const ev0 = stack.events.events.length;
    const exec0 = new Set(stack.sfn.listExecutions().map((e) => e.executionArn));
    const prodBefore = endpointLiveVersion(stack, IDS.supportAgent, 'prod');
    const agentBefore = runtimeVersions(stack, IDS.supportAgent).length;

    // The new build throws errors as soon as DEFAULT traffic reaches it: the alarm trips.
    const minute = Math.floor(stack.clock.now() / 60_000) * 60_000;
    stack.cloudwatch.scriptSeries({ namespace: 'SupportAgent', metricName: 'Errors', dimensions: { Runtime: IDS.supportAgent }, from: minute - 60_000, to: minute + 3 * 3_600_000, value: 11 });
    action(ctx, 'errors climb', IDS.errorsAlarm, 'SupportAgent/Errors at 12 a minute; the alarm fires above 5');
    action(ctx, 'docker push', `${IDS.repository}:1.4.0`, 'a new minor release');
    const push = stack.pushImage({ repository: IDS.repository, tags: ['1.4.0'] });
    const d14 = push.image.imageDigest;
    ctx.facts.digest14 = d14;
    const s = await settle(ctx);
    if (s) checks.push(s);

    checks.push(safeCheck('the promotion failed verification on the alarm and rolled back', () => {
      const ex = executionsOf(stack, 'runtimePromotion', (i) => i.runtimeId === IDS.supportAgent).filter((e) => !exec0.has(e.executionArn));
      const out = outputOf(ex[0]);
      return [ex.length === 1 && out.outcome === 'ROLLED_BACK' && String(out.error ?? '').includes('Alarm'),
        `${ex.length} promotion(s), outcome ${String(out.outcome ?? '-')}, error ${String(out.error ?? '-')}`];
    }));
    checks.push(safeCheck('prod never left the previous version', () => {
      const live = endpointLiveVersion(stack, IDS.supportAgent, 'prod');
      return [live === prodBefore && live !== undefined, `prod serves v${live ?? '?'} (before: v${prodBefore ?? '?'})`];
    }));
    checks.push(safeCheck('the runtime artifact is back on the previous image', () => {
      const versions = runtimeVersions(stack, IDS.supportAgent);
      const latest = versions.at(-1);
      const tried = versions.slice(agentBefore).some((v) => pinsDigest(v.uri, d14));
      return [tried && pinsDigest(latest?.uri, ctx.facts.digest13 ?? '?') && latest?.status === 'READY',
        `new versions: ${versions.slice(agentBefore).map((v) => `v${v.version} ${shortDigest(v.uri?.split('@')[1])}`).join(', ') || '-'}; latest ${latest?.status ?? '?'}`];
    }));
    checks.push(safeCheck('"Runtime Redeploy Rolled Back" published', () => {
      const e = eventsOf(stack, 'Runtime Redeploy Rolled Back', (d) => d.runtimeId === IDS.supportAgent, ev0);
      return [e.length === 1, `${e.length} event(s)`];
    }));
    checks.push(safeCheck('the canary (no alarm gate) moved to 1.4.0', () => {
      const latest = latestVersion(stack, IDS.supportCanary);
      return [pinsDigest(latest?.uri, d14), `canary on ${latest?.uri ?? '?'}`];
    }));
    return checks;
  },
};

export const STEPS: readonly StepDefinition[] = [step1, step2, step3, step4, step5];

/** Checks over the whole run. */
export function invariantChecks(ctx: ScenarioContext, printed: string[]): Check[] {
  const { stack } = ctx;
  const everything = JSON.stringify({
    events: stack.events.events.map((e) => e.event),
    executions: stack.sfn.listExecutions().map((e) => ({ input: e.input, output: e.output, error: e.error, cause: e.cause })),
  });
  return [
    check('no environment variable value in any event or execution input/output', !everything.includes(HAND_MADE_SECRET) && !everything.includes('anthropic.claude-sonnet-4'),
      'searched every bus event and every execution input/output for the seeded and hand-made values'),
    check('no environment variable value in the printed timeline', !printed.some((l) => l.includes(HAND_MADE_SECRET) || l.includes('anthropic.claude-sonnet-4')), `${printed.length} lines searched`),
    check('no delivery went to the dead-letter queue', stack.deadLetters.length === 0, `${stack.deadLetters.length} dead letter(s)`),
    check('every execution finished', stack.sfn.listExecutions().every((e) => e.status !== 'RUNNING'), `${stack.sfn.listExecutions().length} execution(s)`),
  ];
}
