/** `autopilot rollout start|status|approve|reject|abort`: staged Cedar policy rollouts. */
import { Option, type Command } from 'commander';
import { collect, command, group, type CommandSpec } from '../program.ts';
import type { ExitCodeDoc } from '../exit-codes.ts';

/** Options every rollout subcommand takes. */
function common(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'autopilot config (default: $AUTOPILOT_CONFIG_FILE, else ./autopilot.config.yaml if present)')
    .option('--state-machine <arn>', 'the policy-rollout state machine (default: $ROLLOUT_STATE_MACHINE_ARN, else agentcore-autopilot-<stage>-policy-rollout found with ListStateMachines)')
    .option('--stage <stage>', 'serverless stage for that lookup (default: dev)');
}

const TARGET = (cmd: Command) => cmd
  .option('--gateway <id>', "the gateway (its running rollout, else its newest)")
  .option('--execution <arn>', 'the rollout execution');

export const ROLLOUT_EXIT_CODES: readonly ExitCodeDoc[] = [
  [0, `success (start: started or already running; --wait: ENFORCED / WOULD_PROMOTE; status: running,
     or ended ENFORCED / WOULD_PROMOTE)`],
  [1, 'error: AWS or config error, no rollout found for the gateway, no such execution'],
  [2, `usage error: unknown subcommand or option, missing or invalid option value
     (e.g. --max-deny-ratio 2, --bake-minutes 0, a malformed --gateway or --execution)`],
  [3, `refused: another rollout running, the same request already ran, no approval pending,
     execution not running; abort: CONFLICT (the engine configuration was changed by someone else)`],
  [4, `start --wait, status: the rollout ended without enforcing (HALTED_IN_LOG_ONLY, ROLLED_BACK,
     ABORTED, WOULD_HALT, ROLLBACK_FAILED, FAILED, TIMED_OUT, or any outcome added later)`],
  [5, '--timeout ran out before the rollout ended (it goes on)'],
];

const action = async (ctx: Parameters<CommandSpec['action']>[0]) => (await import('../actions/rollout.ts')).run(ctx);

const start = command({
  name: 'start',
  summary: 'Start a rollout (one per gateway; the same request again returns the running one)',
  usage: '--gateway ID [--engine ARN] [--dry-run] [--wait [--timeout D]] [--attempt X] [setting overrides]',
  description: `Starts a staged rollout of the gateway's policy engine. The engine defaults to the config's
policyEngine.arn, else the attached engine. Overrides apply to this run only, on top of the config's
rollout settings.`,
  options: (cmd) => {
    common(cmd
      .option('--gateway <id>', 'the gateway (required)')
      .option('--engine <arn>', 'the policy engine')
      .option('--dry-run', 'run the gates, change no mode (outcome WOULD_PROMOTE / WOULD_HALT)')
      .option('--wait', 'wait for the outcome (progress on stderr)')
      .option('--timeout <duration>', 'with --wait: give up after this long (90s, 10m, 1h30m), exit 5')
      .option('--attempt <x>', 'run the same request again under a new attempt id')
      .option('--bake-minutes <n>', 'LOG_ONLY bake')
      .option('--enforce-bake-minutes <n>', 'ENFORCE bake')
      .option('--max-deny-ratio <r>', 'highest deny ratio that passes (0..1)')
      .option('--min-decisions <n>', 'fewest decisions a verdict needs')
      .option('--max-bake-extensions <n>', 'bake extensions while decisions are too few')
      .option('--alarm <name>', 'CloudWatch alarm that must be OK (repeatable)', collect)
      .option('--approval', 'wait for a human approval before ENFORCE')
      .option('--approval-timeout-minutes <n>', 'how long the approval waits'))
      .addOption(new Option('--poll-ms <ms>', 'polling interval of --wait').hideHelp());
  },
  exitCodes: ROLLOUT_EXIT_CODES,
  aws: true,
  action,
});

const status = command({
  name: 'status',
  summary: 'Stage, time left in the bake, last gate figures, pending approval, outcome',
  usage: '--gateway ID | --execution ARN [--watch [--interval S] [--timeout D]]',
  options: (cmd) => {
    common(TARGET(cmd)
      .option('--watch', 'print again every --interval seconds until the rollout ends')
      .option('--interval <s>', 'seconds between --watch updates (default 10)')
      .option('--timeout <duration>', 'with --watch: give up after this long (90s, 10m, 1h30m), exit 5'));
  },
  exitCodes: ROLLOUT_EXIT_CODES,
  aws: true,
  action,
});

const APPROVAL_URL = (cmd: Parameters<typeof TARGET>[0]) => cmd.option('--approval-url <url>', "the stack's approval URL (default: $AUTOPILOT_APPROVAL_URL, else the approveRollout function's URL)");

const approve = command({
  name: 'approve',
  summary: 'Answer the pending approval: go on to ENFORCE',
  usage: '--gateway ID | --execution ARN [--comment TEXT] [--approval-url URL]',
  description: `Answers the pending approval through the stack's approval entry point, signed with
your credentials: only the approverPrincipals are answered, and the rollout records who approved.`,
  options: (cmd) => {
    common(APPROVAL_URL(TARGET(cmd))
      .option('--comment <text>', 'recorded with the approval'));
  },
  exitCodes: ROLLOUT_EXIT_CODES,
  aws: true,
  action,
});

const reject = command({
  name: 'reject',
  summary: 'Answer the pending approval: end the rollout ABORTED',
  usage: '--gateway ID | --execution ARN [--reason TEXT] [--approval-url URL]',
  description: 'Answers the pending approval with a rejection (approverPrincipals only, recorded with who rejected): the rollout ends ABORTED.',
  options: (cmd) => {
    common(APPROVAL_URL(TARGET(cmd))
      .option('--reason <text>', 'recorded with the rejection'));
  },
  exitCodes: ROLLOUT_EXIT_CODES,
  aws: true,
  action,
});

const abort = command({
  name: 'abort',
  summary: 'Stop the rollout and restore the recorded gateway configuration',
  usage: '--gateway ID | --execution ARN [--reason TEXT] [--by NAME] [--no-restore]',
  description: `Stops the execution (StopExecution); then, unless --no-restore, puts the gateway's
policyEngineConfiguration recorded at preflight back (only that field; if someone else changed it
meanwhile, it is left alone: CONFLICT, exit 3). Publishes Policy Rollout Aborted.`,
  options: (cmd) => {
    common(TARGET(cmd)
      .option('--reason <text>', 'recorded as the cause')
      .option('--by <name>', 'who aborts (default: $USER)')
      .option('--no-restore', 'leave the gateway configuration as it is'));
  },
  exitCodes: ROLLOUT_EXIT_CODES,
  aws: true,
  action,
});

const list = command({
  name: 'list',
  summary: 'Rollouts of every gateway (newest first): outcome and gate figures',
  usage: '[--gateway ID] [--status S] [--limit N]',
  options: (cmd) => {
    common(cmd
      .option('--gateway <id>', 'only this gateway')
      .option('--status <status>', 'only executions in this state: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED')
      .option('--limit <n>', 'at most N rollouts (default 20)'));
  },
  exitCodes: [[0, 'listed'], [1, 'error'], [2, 'usage error']],
  aws: true,
  action,
});

const history = command({
  name: 'history',
  summary: 'One gateway\'s rollouts (newest first): outcome, shadow and enforce gate figures',
  usage: '--gateway ID [--limit N]',
  options: (cmd) => {
    common(cmd
      .option('--gateway <id>', 'the gateway (required)')
      .option('--limit <n>', 'at most N rollouts (default 20)'));
  },
  exitCodes: [[0, 'listed'], [1, 'error'], [2, 'usage error']],
  aws: true,
  action,
});

export default group({
  name: 'rollout',
  summary: 'Staged policy rollouts: start, status, approve, reject, abort, list, history',
  description: `Staged Cedar policy rollouts of an AgentCore gateway: LOG_ONLY -> bake -> verify -> (approval)
-> ENFORCE -> bake -> verify, with exact rollback (Step Functions state machine policy-rollout).

  start    --gateway ID [--engine ARN] [--dry-run] [--wait [--timeout D]] [--attempt X]
           [--bake-minutes N] [--enforce-bake-minutes N] [--max-deny-ratio R] [--min-decisions N]
           [--max-bake-extensions N] [--alarm NAME]... [--approval] [--approval-timeout-minutes N]
  status   --gateway ID | --execution ARN [--watch [--interval S] [--timeout D]]
  approve  --gateway ID | --execution ARN [--comment TEXT] [--approval-url URL]
  reject   --gateway ID | --execution ARN [--reason TEXT] [--approval-url URL]
  abort    --gateway ID | --execution ARN [--reason TEXT] [--by NAME] [--no-restore]
  list     [--gateway ID] [--status S] [--limit N]
  history  --gateway ID [--limit N]`,
  notes: 'AWS access: the default credential chain and region; AWS_ENDPOINT_URL points at the local stack.',
  exitCodes: ROLLOUT_EXIT_CODES,
  commands: [start, status, approve, reject, abort, list, history],
});
