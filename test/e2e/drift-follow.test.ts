/**
 * A drift correction of a runtime is an accepted update like any other: its new version is followed
 * by the runtime-promotion state machine to a Promoted or Failed outcome (trigger `drift`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../local/stack.ts';
import { setTimeSource } from '../../functions/lib/time.ts';
import { REPO, SEED, SUPPORT, driftRuntime, fullConfig, writeConfig } from './drift-fixtures.ts';

let stack: Stack | undefined;
afterEach(async () => {
  setTimeSource(undefined);
  await stack?.close();
  stack = undefined;
});

const redeployEvents = (s: Stack) => s.events.events
  .filter((e) => e.event['detail-type'].startsWith('Runtime Redeploy'))
  .map((e) => ({ type: e.event['detail-type'], detail: e.event.detail as Record<string, any> }));

describe('drift corrections are followed', () => {
  it('a corrected runtime version is followed to READY: Promoted, trigger drift', async () => {
    stack = await startStack({ seed: SEED, configFile: writeConfig(fullConfig()) });
    setTimeSource(() => stack!.clock.now());
    await driftRuntime(stack, SUPPORT, (live) => ({ ...live, description: 'changed by hand' }));
    const result = await stack.lambda.invoke('correctDrift', { trigger: 'schedule' }) as { outcomes: { ref: string; status: string; toVersion?: string; promotionExecution?: string }[] };
    const outcome = result.outcomes.find((o) => o.ref === SUPPORT)!;
    expect(outcome).toMatchObject({ status: 'corrected', toVersion: '3', promotionExecution: `promote-${SUPPORT}-v3` });
    await stack.settle();
    const [execution] = stack.sfn.listExecutions().filter((e) => e.name === outcome.promotionExecution);
    expect(JSON.parse(execution.output!)).toMatchObject({ outcome: 'PROMOTED', version: '3', endpoints: [] });
    expect(redeployEvents(stack)).toEqual([{ type: 'Runtime Redeploy Promoted', detail: expect.objectContaining({ runtimeId: SUPPORT, trigger: 'drift', toVersion: '3' }) }]);
  });

  it('a corrected version that fails is reported Failed', async () => {
    stack = await startStack({ seed: SEED, configFile: writeConfig(fullConfig()) });
    setTimeSource(() => stack!.clock.now());
    await driftRuntime(stack, SUPPORT, (live) => ({ ...live, description: 'changed by hand' }));
    // Whatever the correction builds on this image now fails to start.
    stack.agentcore.markImageFailing(`${REPO}/support-agent@sha256:${'1'.repeat(64)}`);
    await stack.lambda.invoke('correctDrift', { trigger: 'schedule' });
    await stack.settle();
    expect(redeployEvents(stack)).toEqual([{ type: 'Runtime Redeploy Failed', detail: expect.objectContaining({ runtimeId: SUPPORT, trigger: 'drift', reason: 'version-failed' }) }]);
  });
});
