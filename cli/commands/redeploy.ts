/** `autopilot redeploy --runtime ID --image URI`: what an image push does, by hand, for one runtime. */
import { Option } from 'commander';
import { command } from '../program.ts';

export default command({
  name: 'redeploy',
  summary: 'Deploy an image to one runtime by hand (pinned by digest, lossless, with promotion)',
  usage: '--runtime ID --image URI [--dry-run] [--yes] [--wait [--timeout D]] [--config FILE] [--state-machine ARN] [--stage STAGE]',
  description: `Deploys a container image to one AgentCore runtime the way an ECR push does: the image is pinned
by digest (a tag-only URI is resolved through ECR DescribeImages), every other runtime field is
carried over from the live runtime (read-merge-write), a busy runtime is retried, the outcome is
published on the event bus, and when the runtime's tracking rule names endpoints the
runtime-promotion state machine is started. The plan (field diff, environment variable values
redacted) is printed before anything is applied. Events say trigger "manual" and carry the digest.

A digest in the runtime's rejected list (tag autopilot:rejected-digests: a promotion rolled it back
or its version ended UPDATE_FAILED) is deployed anyway when you run this by hand; a note says so.
Pushes skip such digests until the tag is cleared.`,
  options: (cmd) => cmd
    .option('--runtime <id>', 'AgentCore runtime id, e.g. supportAgent-a1b2c3d4e5 (required)')
    .option('--image <uri>', '<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag][@sha256:<64 hex>] (required)')
    .option('--dry-run', 'print the plan and change nothing')
    .option('-y, --yes', 'apply without asking (required when stdin is not a terminal)')
    .option('--wait', 'wait for the promotion outcome (PROMOTED, ROLLED_BACK, FAILED)')
    .option('--timeout <duration>', 'with --wait: give up after this long (90s, 10m, 1h30m), exit 5')
    .addOption(new Option('--poll-ms <ms>', 'polling interval of --wait').hideHelp())
    .option('--config <file>', 'autopilot config (default: $AUTOPILOT_CONFIG_FILE, else ./autopilot.config.yaml); supplies keepTag, the promotion settings and the event bus')
    .option('--state-machine <arn>', 'runtime-promotion state machine (default: $PROMOTION_STATE_MACHINE_ARN, else agentcore-autopilot-<stage>-runtime-promotion via ListStateMachines); looked up only when the rule has `promote`')
    .option('--stage <stage>', 'serverless stage for that lookup (default: dev)'),
  notes: `Environment: the default AWS credential chain and region; AWS_ENDPOINT_URL for the local stack;
PROMOTION_STATE_MACHINE_ARN (see --state-machine).
-o json prints one document {plan, outcome} (with --wait also {promotion}).`,
  exitCodes: [
    [0, 'applied (and the promotion started when the rule promotes), planned (--dry-run), or nothing to change (already on that digest)'],
    [1, 'failed: the update, a lookup, the config or the start of the promotion failed (error on stderr)'],
    [2, 'usage error or invalid input (bad option, bad image URI, unknown tag, no --yes without a terminal, the rule promotes but no promotion state machine was found: nothing was changed)'],
    [3, 'not applied: the confirmation was declined'],
    [4, '--wait: the promotion did not promote (ROLLED_BACK or FAILED)'],
    [5, '--wait --timeout: the promotion had not ended in time (it goes on)'],
  ],
  aws: true,
  action: async (ctx) => (await import('../actions/redeploy.ts')).run(ctx),
});
