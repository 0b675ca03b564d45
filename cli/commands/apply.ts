/**
 * `autopilot apply`: shows the drift plan, asks for confirmation (unless --yes) and applies it
 * with the same engine as the scheduled job: one lossless update per resource, bounded
 * concurrency, the cap per run and the error ratio from the config, backoff for resources that
 * keep drifting back, the policy tamper guard and the missed-push safety net. `--json` (with
 * `--yes`) prints one machine-readable document instead: plan, notes, outcomes and summary.
 */
import { actionable, applyDrift, publishDriftEvents, readDrift, type ApplyOutcome, type ApplyResult, type DriftDeps, type DriftRun } from '../../functions/app/drift.ts';
import type { Config } from '../../functions/lib/config/types.ts';
import { summarize } from '../../functions/domain/drift/report.ts';
import type { CliCommand, CliIO } from '../types.ts';
import { loadCliConfig, parseDriftArgs, renderPlan, reportError, resolveCliDriftDeps, SHARED_OPTIONS, STATE_MACHINE_HELP } from './plan.ts';

const HELP = `Usage: autopilot apply [--config FILE] [--yes] [--json] [state machine options]

Computes the drift plan (see \`autopilot plan\`), prints it, asks for confirmation and applies
it: every resource whose action is correct, redeploy, restore-enforce or needs-rollout is
updated once (read-merge-write, nothing else is touched); resources in report mode, outside the
change window or backing off are only reported, and needs-human findings (a tampering whose
last staged rollout ended without enforcing) are left to a human. A runtime correction creates a
new runtime version, which resets its managed session storage. Progress and a summary are printed.
What was found and done is published like a scheduled run (Drift Detected / Drift Corrected /
Drift Correction Failed, trigger "manual") on $AUTOPILOT_EVENT_BUS, else the config's events.busName.

Options:
  --config FILE  autopilot config (default: $AUTOPILOT_CONFIG_FILE, else ./autopilot.config.yaml)
  -y, --yes      apply without asking (required when stdin is not a terminal, and with --json)
  --json         print one JSON document: {plan, notes, outcomes, stopped, summary}; no prompt,
                 no progress lines (needs --yes)
  -h, --help     show this help

${STATE_MACHINE_HELP}

AWS: the default credential chain and region, or the local stack when AWS_ENDPOINT_URL is set.

Exit codes: 0 applied (or nothing to do), 1 error, a failed correction (e.g. a promoting
redeploy without the runtime-promotion state machine), or not confirmed.`;

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

async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseDriftArgs(argv, [...SHARED_OPTIONS, '--yes', '-y']);
  if (typeof args === 'string') {
    io.stderr(`autopilot apply: ${args}\n\n${HELP}`);
    return 1;
  }
  if (args.json && !args.yes) {
    io.stderr('autopilot apply: --json never prompts: add --yes to apply non-interactively.');
    return 1;
  }
  try {
    const config = await loadCliConfig(args, io);
    const { deps, notes } = await resolveCliDriftDeps(args, io.env);
    const driftRun = await readDrift(deps, config);
    driftRun.notes.unshift(...notes);
    const todo = actionable(driftRun.plan);

    if (args.json) {
      const nothing: ApplyResult = { outcomes: [], counts: { planned: 0, attempted: 0, corrected: 0, failed: 0, skipped: 0 } };
      const applied = todo.length === 0 ? nothing : await applyDrift(deps, driftRun);
      if (todo.length > 0) await publishManualRun(deps, config, driftRun, applied, io);
      const summary = summarize(driftRun.plan, applied.outcomes, applied.stopped);
      io.stdout(JSON.stringify({
        plan: driftRun.plan, notes: driftRun.notes, outcomes: applied.outcomes, stopped: applied.stopped, counts: applied.counts, summary,
      }, null, 2));
      return applied.counts.failed > 0 ? 1 : 0;
    }

    for (const l of renderPlan(driftRun.plan, driftRun.notes)) io.stdout(l);
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
    const applied = await applyDrift(deps, driftRun, { onProgress: (o, done, total) => io.stdout(progressLine(o, done, total)) });
    await publishManualRun(deps, config, driftRun, applied, io);
    const c = applied.counts;
    const needsHuman = driftRun.plan.counts.needsHuman;
    io.stdout('');
    io.stdout(`Apply complete: ${c.corrected} corrected, ${c.failed} failed, ${c.skipped} skipped${applied.stopped ? ` (stopped: ${applied.stopped === 'error-ratio' ? 'error ratio exceeded' : 'cap of corrections per run reached'})` : ''}${needsHuman > 0 ? `; ${needsHuman} left to a human` : ''}.`);
    return c.failed > 0 ? 1 : 0;
  } catch (err) {
    return reportError(io, 'apply', err);
  }
}

const command: CliCommand = { name: 'apply', summary: 'Correct drift: show the plan, confirm, apply (see --help)', help: HELP, run };
export default command;
