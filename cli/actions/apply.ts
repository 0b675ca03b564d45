/**
 * `autopilot apply`: shows the drift plan, asks for confirmation (unless --yes) and applies it
 * with the same engine as the scheduled job: one lossless update per resource, bounded
 * concurrency, the cap per run and the error ratio from the config, backoff for resources that
 * keep drifting back, the policy tamper guard and the missed-push safety net. `--json` (with
 * `--yes`) prints one machine-readable document instead: plan, notes, outcomes and summary.
 * It holds the drift lock (./drift-lock.ts) from before the read to the end, as the scheduled run
 * does, so the two never act on the fleet at once; every write first confirms the lock.
 */
import { actionable, applyDrift, publishDriftEvents, readDrift, type ApplyOutcome, type ApplyResult, type DriftDeps, type DriftRun } from '../../functions/app/drift.ts';
import type { Config } from '../../functions/lib/config/types.ts';
import { summarize } from '../../functions/domain/drift/report.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { checkSavedPlan, parseSavedPlan, SavedPlanRefusedError, type SavedPlan } from '../../functions/app/saved-plan.ts';
import { CliError, invalidInput, refused, UsageError } from '../errors.ts';
import type { ActionContext, CliIO } from '../types.ts';
import { configFileOf, driftArgsOf, loadCliConfig, renderPlan, resolveCliDriftDeps, targetOf } from './plan.ts';
import { takeApplyLock } from './drift-lock.ts';
import type { DriftLock } from '../../functions/app/drift-lock.ts';

/** A saved plan that cannot be applied as reviewed is refused (exit 3), every reason listed. */
function refusedIfStale<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SavedPlanRefusedError) throw refused(`the saved plan was not applied: ${err.problems.join('; ')}. Nothing was changed: run \`autopilot plan -out FILE\` again`);
    throw err;
  }
}

function progressLine(o: ApplyOutcome, done: number, total: number): string {
  const what = o.status === 'corrected' ? 'corrected' : o.status === 'failed' ? 'FAILED' : 'skipped';
  const detail = o.status === 'failed' ? `${o.error?.name}: ${o.error?.message}` : o.reason;
  const versions = o.fromVersion && o.toVersion ? ` (version ${o.fromVersion} -> ${o.toVersion})` : '';
  return `[${done}/${total}] ${o.kind} ${o.ref}: ${what}${versions}${detail ? ` - ${detail}` : ''}`;
}

/** What an apply by hand did goes onto the bus like a scheduled run's, with trigger `manual`. */
async function publishManualRun(deps: DriftDeps, config: Config, run: DriftRun, applied: ApplyResult, io: CliIO): Promise<void> {
  if (!deps.events) return;
  await publishDriftEvents(deps.events, config, run, applied.outcomes, 'manual', {
    busName: io.env.AUTOPILOT_EVENT_BUS || undefined,
    onError: (detailType, count, err) => io.stderr(`warning: could not publish ${count} "${detailType}" event(s): ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`),
  });
}

export async function run(ctx: ActionContext): Promise<number> {
  const { io } = ctx;
  const args = driftArgsOf(ctx);
  const planFile = ctx.args[0];
  if (planFile === undefined && args.json && !args.yes) throw new CliError('NotConfirmed', '--json (or -o yaml) never prompts: add --yes to apply non-interactively', 1);
  let saved: SavedPlan | undefined;
  if (planFile !== undefined) {
    let text: string;
    try {
      text = await readFile(planFile, 'utf8');
    } catch (err) {
      throw invalidInput(`cannot read the plan file ${planFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    saved = refusedIfStale(() => parseSavedPlan(text, planFile));
    if (args.config !== undefined && path.resolve(args.config) !== saved.config.file) throw new UsageError('a saved plan names its config: give PLANFILE or --config, not both');
    args.config = saved.config.file;
    args.yes = true; // the plan was reviewed when it was saved
  }
  const config = await loadCliConfig(args, io);
  const { deps, notes } = await resolveCliDriftDeps(args, ctx);
  const lock = await takeApplyLock(ctx);
  try {
    return await applyLocked(ctx, args, config, deps, notes, saved, lock);
  } finally {
    // A lock that is no longer ours (taken over after its lease ran out) is not released; a
    // release that fails leaves it to run out its lease.
    await lock.release().catch(() => false);
  }
}

function stoppedText(stopped: ApplyResult['stopped']): string {
  return stopped === 'error-ratio' ? 'error ratio exceeded' : stopped === 'lock-lost' ? 'the drift lock could not be confirmed, nothing more was written' : 'cap of corrections per run reached';
}

async function applyLocked(
  ctx: ActionContext, args: ReturnType<typeof driftArgsOf>, config: Config, deps: DriftDeps, notes: string[], saved: SavedPlan | undefined, lock: DriftLock,
): Promise<number> {
  const { io } = ctx;
  const guard = () => lock.guard();
  const driftRun = await readDrift(deps, config);
  driftRun.notes.unshift(...notes);
  if (saved) {
    const current = await configFileOf(args, io);
    refusedIfStale(() => checkSavedPlan(saved, driftRun, { configText: current.text, target: targetOf(ctx) }));
  }
  const todo = actionable(driftRun.plan);

  if (args.json) {
    const nothing: ApplyResult = { outcomes: [], counts: { planned: 0, attempted: 0, corrected: 0, failed: 0, skipped: 0 } };
    const applied = todo.length === 0 ? nothing : await applyDrift(deps, driftRun, { guard });
    if (todo.length > 0) await publishManualRun(deps, config, driftRun, applied, io);
    const summary = summarize(driftRun.plan, applied.outcomes, applied.stopped);
    ctx.out.document({
      plan: driftRun.plan, notes: driftRun.notes, outcomes: applied.outcomes, stopped: applied.stopped, counts: applied.counts, summary,
    });
    return applied.counts.failed > 0 || applied.stopped === 'lock-lost' ? 1 : 0;
  }

  for (const l of renderPlan(driftRun.plan, driftRun.notes, ctx.out)) io.stdout(l);
  if (todo.length === 0) {
    io.stdout('\nNothing to apply.');
    return 0;
  }
  const versions = todo.filter((r) => r.kind === 'runtime').length;
  if (!args.yes) {
    if (!io.prompt) {
      io.stderr('autopilot apply: refusing to apply without confirmation: stdin is not a terminal. Re-run with --yes to apply non-interactively.');
      return 1;
    }
    const answer = await io.prompt(`\nApply ${todo.length} correction(s)${versions > 0 ? ` (${versions} new runtime version(s): managed session storage is reset)` : ''}? Only 'yes' is accepted: `);
    if (answer.trim().toLowerCase() !== 'yes') {
      io.stderr('Apply cancelled.');
      return 1;
    }
  }
  io.stdout('');
  const applied = await applyDrift(deps, driftRun, { guard, onProgress: (o, done, total) => io.stdout(progressLine(o, done, total)) });
  await publishManualRun(deps, config, driftRun, applied, io);
  const c = applied.counts;
  const needsHuman = driftRun.plan.counts.needsHuman;
  io.stdout('');
  io.stdout(`Apply complete: ${c.corrected} corrected, ${c.failed} failed, ${c.skipped} skipped${applied.stopped ? ` (stopped: ${stoppedText(applied.stopped)})` : ''}${needsHuman > 0 ? `; ${needsHuman} left to a human` : ''}.`);
  return c.failed > 0 || applied.stopped === 'lock-lost' ? 1 : 0;
}
