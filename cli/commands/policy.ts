/** `autopilot policy promote|status|approve|reject|abort|list`: staged promotion of declared Cedar policies. */
import { Option, type Command } from 'commander';
import { command, group, type CommandSpec } from '../program.ts';
import type { ExitCodeDoc } from '../exit-codes.ts';

/** Options every policy subcommand takes. */
function common(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'autopilot config (default: $AUTOPILOT_CONFIG_FILE, else ./autopilot.config.yaml if present)')
    .option('--state-machine <arn>', 'the policy-promotion state machine (default: $POLICY_PROMOTION_STATE_MACHINE_ARN, else agentcore-autopilot-<stage>-policy-promotion found with ListStateMachines)')
    .option('--stage <stage>', 'serverless stage for that lookup (default: dev)');
}

const POLICY = (cmd: Command) => cmd
  .option('--policy <name>', 'the declared policy')
  .option('--engine <arn>', "its policy engine (default: the config's only policyEngines entry)");

const TARGET = (cmd: Command) => POLICY(cmd).option('--execution <arn>', 'the promotion execution');

export const POLICY_EXIT_CODES: readonly ExitCodeDoc[] = [
  [0, `success (promote: started or already running; --wait: PROMOTED / WOULD_PROMOTE; status: running,
     or ended PROMOTED / WOULD_PROMOTE)`],
  [1, 'error: AWS or config error, no promotion found for the policy, no such execution'],
  [2, `usage error: unknown subcommand or option, missing or invalid option value, a policy or
     engine the config does not declare`],
  [3, `refused: the same request already ran, no approval pending, execution not running, not an
     approver (approve/reject); abort: CONFLICT (the policy was changed by someone else)`],
  [4, `promote --wait, status: the promotion ended without promoting (HALTED_IN_LOG_ONLY, ROLLED_BACK,
     CONFLICT, ABORTED, WOULD_HALT, ROLLBACK_FAILED, FAILED, TIMED_OUT, or any outcome added later)`],
  [5, '--timeout ran out before the promotion ended (it goes on)'],
];

const action = async (ctx: Parameters<CommandSpec['action']>[0]) => (await import('../actions/policy.ts')).run(ctx);

const promote = command({
  name: 'promote',
  summary: 'Start the staged promotion of a declared policy (LOG_ONLY -> ACTIVE)',
  usage: '--policy NAME [--engine ARN] [--dry-run] [--wait [--timeout D]] [--attempt X]',
  description: `Starts the staged promotion of one policy declared in the config (policyEngines): the
declared statement goes LOG_ONLY (a changed ACTIVE policy is baked as a LOG_ONLY copy <name>_next
while the old statement keeps enforcing), bakes, is verified on its LOG_ONLY metrics, goes ACTIVE,
bakes, is verified on the engine's gateways, and is put back on failure. The statement always comes
from the config; settings from the config's promotion section.`,
  options: (cmd) => {
    common(POLICY(cmd)
      .option('--dry-run', 'read the LOG_ONLY gates of a policy already in LOG_ONLY, change nothing (WOULD_PROMOTE / WOULD_HALT)')
      .option('--wait', 'wait for the outcome (progress on stderr)')
      .option('--timeout <duration>', 'with --wait: give up after this long (90s, 10m, 1h30m), exit 5')
      .option('--attempt <x>', 'run the same request again under a new attempt id'))
      .addOption(new Option('--poll-ms <ms>', 'polling interval of --wait').hideHelp());
  },
  exitCodes: POLICY_EXIT_CODES,
  aws: true,
  action,
});

const status = command({
  name: 'status',
  summary: 'Stage, time left in the bake, last gate figures, pending approval, outcome',
  usage: '--policy NAME [--engine ARN] | --execution ARN [--watch [--interval S] [--timeout D]]',
  options: (cmd) => {
    common(TARGET(cmd)
      .option('--watch', 'print again every --interval seconds until the promotion ends')
      .option('--interval <s>', 'seconds between --watch updates (default 10)')
      .option('--timeout <duration>', 'with --watch: give up after this long (90s, 10m, 1h30m), exit 5'));
  },
  exitCodes: POLICY_EXIT_CODES,
  aws: true,
  action,
});

const APPROVAL_URL = (cmd: Command) => cmd.option('--approval-url <url>', "the stack's approval URL (default: $AUTOPILOT_APPROVAL_URL, else the approveRollout function's URL)");

const approve = command({
  name: 'approve',
  summary: 'Answer the pending approval: go on to ACTIVE',
  usage: '--policy NAME [--engine ARN] | --execution ARN [--comment TEXT] [--approval-url URL]',
  description: `Answers the pending approval through the stack's approval entry point, signed with
your credentials: only the approverPrincipals are answered, and the promotion records who approved.`,
  options: (cmd) => {
    common(APPROVAL_URL(TARGET(cmd))
      .option('--comment <text>', 'recorded with the approval'));
  },
  exitCodes: POLICY_EXIT_CODES,
  aws: true,
  action,
});

const reject = command({
  name: 'reject',
  summary: 'Answer the pending approval: end the promotion ABORTED (the policy stays LOG_ONLY)',
  usage: '--policy NAME [--engine ARN] | --execution ARN [--reason TEXT] [--approval-url URL]',
  description: 'Answers the pending approval with a rejection (approverPrincipals only, recorded with who rejected).',
  options: (cmd) => {
    common(APPROVAL_URL(TARGET(cmd))
      .option('--reason <text>', 'recorded with the rejection'));
  },
  exitCodes: POLICY_EXIT_CODES,
  aws: true,
  action,
});

const abort = command({
  name: 'abort',
  summary: 'Stop the promotion and put the policy back as the promotion found it',
  usage: '--policy NAME [--engine ARN] | --execution ARN [--reason TEXT] [--by NAME] [--no-restore]',
  description: `Stops the execution (StopExecution); then, unless --no-restore, puts the policy back
(an ACTIVE policy the promotion switched goes back to LOG_ONLY; a candidate's previous statement is
written back), only if it is still as the promotion left it: if someone else changed it meanwhile it
is left alone (CONFLICT, exit 3). Publishes Policy Promotion Aborted.`,
  options: (cmd) => {
    common(TARGET(cmd)
      .option('--reason <text>', 'recorded as the cause')
      .option('--by <name>', 'who aborts (default: $USER)')
      .option('--no-restore', 'leave the policy as it is'));
  },
  exitCodes: POLICY_EXIT_CODES,
  aws: true,
  action,
});

const list = command({
  name: 'list',
  summary: 'Promotions (newest first): policy, outcome, LOG_ONLY and ACTIVE gate figures',
  usage: '[--policy NAME [--engine ARN]] [--status S] [--limit N]',
  options: (cmd) => {
    common(POLICY(cmd)
      .option('--status <status>', 'only executions in this state: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED')
      .option('--limit <n>', 'at most N promotions (default 20)'));
  },
  exitCodes: [[0, 'listed'], [1, 'error'], [2, 'usage error']],
  aws: true,
  action,
});

export default group({
  name: 'policy',
  summary: 'Staged promotion of declared Cedar policies: promote, status, approve, reject, abort, list',
  description: `Staged promotion of one declared Cedar policy: LOG_ONLY -> bake -> verify -> (approval) -> ACTIVE
-> bake -> verify, put back on failure (Step Functions state machine policy-promotion).

  promote  --policy NAME [--engine ARN] [--dry-run] [--wait [--timeout D]] [--attempt X]
  status   --policy NAME [--engine ARN] | --execution ARN [--watch [--interval S] [--timeout D]]
  approve  --policy NAME | --execution ARN [--comment TEXT] [--approval-url URL]
  reject   --policy NAME | --execution ARN [--reason TEXT] [--approval-url URL]
  abort    --policy NAME | --execution ARN [--reason TEXT] [--by NAME] [--no-restore]
  list     [--policy NAME [--engine ARN]] [--status S] [--limit N]`,
  notes: 'AWS access: the default credential chain and region; AWS_ENDPOINT_URL points at the local stack.',
  exitCodes: POLICY_EXIT_CODES,
  commands: [promote, status, approve, reject, abort, list],
});
