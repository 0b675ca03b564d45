/**
 * One verification step of the state machine (`rolloutVerify`): the window to read, and, once the
 * figures are in, the report and what to do next.
 */
import type { VerifyInput, VerifyResult } from './contract.ts';
import { evaluateEnforceGates, evaluateShadowGates, nextStep, verifyWindow } from './gates.ts';
import type { MetricWindow, WindowFigures } from './gates.ts';
import { InvalidRolloutInputError } from './errors.ts';
import { resourceIdOf } from './projections.ts';

/** The gateway engine mode a stage's figures are read under. */
export function stageMode(stage: VerifyInput['stage']): 'LOG_ONLY' | 'ENFORCE' {
  return stage === 'SHADOW' ? 'LOG_ONLY' : 'ENFORCE';
}

/** The window this verification reads (bake start -> now; a dry run looks back bakeMinutes). */
export function windowForVerify(input: VerifyInput, now: Date): MetricWindow {
  return verifyWindow({ now, startedAt: input.windowStart ?? null, lookbackSeconds: input.settings.bakeMinutes * 60 });
}

/** Gates the figures of `window` for the input's stage and decides PROCEED / EXTEND / STOP. */
export function verifyResult(input: VerifyInput, figures: WindowFigures, window: MetricWindow): VerifyResult {
  let report;
  const ctx = { gatewayId: resourceIdOf(input.gatewayArn), mode: stageMode(input.stage) };
  if (input.stage === 'SHADOW') {
    report = evaluateShadowGates(figures, input.settings, ctx);
  } else {
    if (!input.baseline) throw new InvalidRolloutInputError('An ENFORCE verification needs the shadow baseline');
    report = evaluateEnforceGates(figures, input.baseline, input.settings, ctx);
  }
  const used = input.previous?.extensionsUsed ?? 0;
  const max = input.dryRun ? 0 : input.settings.maxBakeExtensions;
  const { decision, extensionsUsed } = nextStep(report.verdict, used, max);
  return { stage: input.stage, verdict: report.verdict, decision, extensionsUsed, window, report };
}
