/** `autopilot plan` and `autopilot apply`: drift between the config and the live resources. */
import { Option, type Command } from 'commander';
import { command } from '../program.ts';

const GROUP = 'State machines (found once per run):';
const LOCK_GROUP = 'Drift lock (shared with the scheduled run):';

/** The options plan and apply share. */
export function shared(cmd: Command): Command {
  cmd.option('-c, --config <file>', 'autopilot config (default: $AUTOPILOT_CONFIG_FILE, else ./autopilot.config.yaml)');
  cmd.addOption(new Option('--rollout-state-machine <arn>', `policy-rollout state machine (default: $ROLLOUT_STATE_MACHINE_ARN,
else agentcore-autopilot-<stage>-policy-rollout via ListStateMachines). Needed to see rollouts in
progress and to start one; when it is unknown (or its executions cannot be listed) no policy
engine mode is acted on`).helpGroup(GROUP));
  cmd.addOption(new Option('--promotion-state-machine <arn>', `runtime-promotion state machine (default: $PROMOTION_STATE_MACHINE_ARN,
else agentcore-autopilot-<stage>-runtime-promotion). Needed by a missed-push redeploy whose
tracking rule promotes; without it that redeploy fails (nothing is written) and apply exits 1`).helpGroup(GROUP));
  cmd.addOption(new Option('--stage <stage>', 'serverless stage for those lookups (default: $AUTOPILOT_STAGE, else dev)').helpGroup(GROUP));
  return cmd;
}

const AWS_NOTE = 'AWS: the default credential chain and region, or the local stack when AWS_ENDPOINT_URL is set.';

export const plan = command({
  name: 'plan',
  summary: 'Show drift between the config and the live runtimes/gateways (exit 2 = drift)',
  usage: '[--config FILE] [-out FILE] [state machine options]',
  description: `Reads every runtime and gateway the config declares and compares the declared fields with the
live ones (server-side defaults are not drift). Prints, per resource and field, the live value,
the declared one and what apply would do: correct, report-only, ignored, needs-rollout (policy
engine tampering: staged rollout), restore-enforce, redeploy (missed image push), needs-human
(tampering whose last staged rollout ended without enforcing under the same declaration: drift
does not start it again). Environment variable values and descriptions are always shown as
<redacted>. Changes nothing. -o json prints the plan as one document (with "notes").`,
  options: (cmd) => {
    shared(cmd).option('--out <file>', 'also save the plan to FILE (also spelled -out FILE): `autopilot apply FILE` applies exactly it');
  },
  notes: `A saved plan holds the redacted plan, the config's digest and, per resource to change, its live
version and update time (no values). ${AWS_NOTE}`,
  usageExitCode: 1,
  exitCodes: [
    [0, 'in sync'],
    [1, 'error (also a usage error: 2 is taken by drift, as in terraform plan -detailed-exitcode)'],
    [2, 'drift found (or a declared resource is missing)'],
  ],
  aws: true,
  action: async (ctx) => (await import('../actions/plan.ts')).run(ctx),
});

export const apply = command({
  name: 'apply',
  summary: 'Correct drift: show the plan, confirm (or --yes), apply with progress',
  usage: '[PLANFILE | --config FILE [--yes]] [--lock-timeout D] [state machine options]',
  description: `Computes the drift plan (see \`autopilot plan\`), prints it, asks for confirmation and applies
it (or, given PLANFILE, applies exactly that reviewed plan): every resource whose action is correct,
redeploy, restore-enforce or needs-rollout is updated once (read-merge-write, nothing else is
touched); resources in report mode, outside the change window or backing off are only reported, and needs-human findings (a tampering whose
last staged rollout ended without enforcing) are left to a human. A runtime correction creates a
new runtime version, which resets its managed session storage. Progress and a summary are printed.
What was found and done is published like a scheduled run (Drift Detected / Drift Corrected /
Drift Correction Failed, trigger "manual") on $AUTOPILOT_EVENT_BUS, else the config's events.busName.
apply holds the stack's drift lock (a DynamoDB item, the same one the scheduled drift run takes)
from before it reads until it is done, and confirms it before every write: an apply and the
scheduled run never act on the fleet at once. A scheduled run that finds it held only reports.`,
  args: [['[planfile]', 'a plan saved by `autopilot plan -out FILE`: applied exactly, without asking, or refused']],
  options: (cmd) => {
    shared(cmd).option('-y, --yes', 'apply without asking (required when stdin is not a terminal, and with -o json)');
    cmd.addOption(new Option('--lock-timeout <duration>', 'wait this long (90s, 15m) for the drift lock when another writer holds it (default: do not wait, exit 3)').helpGroup(LOCK_GROUP));
    cmd.addOption(new Option('--lock-table <name>', 'the drift lock\'s DynamoDB table (default: $AUTOPILOT_LOCK_TABLE, else agentcore-autopilot-<stage>-drift-lock)').helpGroup(LOCK_GROUP));
  },
  notes: `-o json (with --yes) prints one JSON document: {plan, notes, outcomes, stopped, summary}; no prompt,
no progress lines.
${AWS_NOTE}`,
  exitCodes: [
    [0, 'applied (or nothing to do)'],
    [1, 'error, a failed correction (e.g. a promoting redeploy without the runtime-promotion state machine), the drift lock lost mid-apply or its table missing, or not confirmed'],
    [2, 'usage error'],
    [3, 'refused, nothing was applied: the drift lock is held by another writer (past --lock-timeout), or PLANFILE no longer applies (the config changed, a resource to change moved since the plan, or the plan would now do something else)'],
  ],
  aws: true,
  action: async (ctx) => (await import('../actions/apply.ts')).run(ctx),
});
