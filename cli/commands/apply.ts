/**
 * `autopilot apply`: shows the drift plan, asks for confirmation (unless --yes) and applies it
 * with the same engine as the scheduled job: one lossless update per resource, bounded
 * concurrency, the cap per run and the error ratio from the config, backoff for resources that
 * keep drifting back, the policy tamper guard and the missed-push safety net.
 */
import { actionable, applyDrift, type ApplyOutcome } from '../../functions/app/drift.ts';
import type { CliCommand, CliIO } from '../types.ts';
import { cliDriftDeps, loadCliConfig, parseDriftArgs, renderPlan, reportError } from './plan.ts';
import { readDrift } from '../../functions/app/drift.ts';

const HELP = `Usage: autopilot apply [--config FILE] [--yes]

Computes the drift plan (see \`autopilot plan\`), prints it, asks for confirmation and applies
it: every resource whose action is correct, redeploy, restore-enforce or needs-rollout is
updated once (read-merge-write, nothing else is touched); resources in report mode, outside the
change window or backing off are only reported. A runtime correction creates a new runtime
version, which resets its managed session storage. Progress and a summary are printed.

Options:
  --config FILE  autopilot config (default: $AUTOPILOT_CONFIG_FILE, else ./autopilot.config.yaml)
  -y, --yes      apply without asking (required when stdin is not a terminal)
  -h, --help     show this help

AWS: the default credential chain and region, or the local stack when AWS_ENDPOINT_URL is set.
Starting a staged policy rollout needs ROLLOUT_STATE_MACHINE_ARN.

Exit codes: 0 applied (or nothing to do), 1 error, a failed correction, or not confirmed.`;

function progressLine(o: ApplyOutcome, done: number, total: number): string {
  const what = o.status === 'corrected' ? 'corrected' : o.status === 'failed' ? 'FAILED' : 'skipped';
  const detail = o.status === 'failed' ? `${o.error?.name}: ${o.error?.message}` : o.reason;
  const versions = o.fromVersion && o.toVersion ? ` (version ${o.fromVersion} -> ${o.toVersion})` : '';
  return `[${done}/${total}] ${o.kind} ${o.ref}: ${what}${versions}${detail ? ` - ${detail}` : ''}`;
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseDriftArgs(argv, ['--config', '-c', '--yes', '-y']);
  if (typeof args === 'string') {
    io.stderr(`autopilot apply: ${args}\n\n${HELP}`);
    return 1;
  }
  try {
    const config = await loadCliConfig(args, io);
    const deps = cliDriftDeps(io.env);
    const driftRun = await readDrift(deps, config);
    for (const l of renderPlan(driftRun.plan, driftRun.notes)) io.stdout(l);
    const todo = actionable(driftRun.plan);
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
    const result = await applyDrift(deps, driftRun, { onProgress: (o, done, total) => io.stdout(progressLine(o, done, total)) });
    const c = result.counts;
    io.stdout('');
    io.stdout(`Apply complete: ${c.corrected} corrected, ${c.failed} failed, ${c.skipped} skipped${result.stopped ? ` (stopped: ${result.stopped === 'error-ratio' ? 'error ratio exceeded' : 'cap of corrections per run reached'})` : ''}.`);
    return c.failed > 0 ? 1 : 0;
  } catch (err) {
    return reportError(io, 'apply', err);
  }
}

const command: CliCommand = { name: 'apply', summary: 'Correct drift: show the plan, confirm, apply (see --help)', help: HELP, run };
export default command;
