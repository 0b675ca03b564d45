/** `autopilot redeploy --runtime ID --image URI`: what an image push does, by hand, for one runtime. */
import { command } from '../program.ts';

export default command({
  name: 'redeploy',
  summary: 'Deploy an image to one runtime by hand (pinned by digest, lossless, with promotion)',
  usage: '--runtime ID --image URI [--dry-run] [--yes] [--wait [--interval S] [--timeout D]] [--config FILE] [--state-machine ARN] [--stage STAGE]',
  description: `Deploys a container image to one AgentCore runtime the way an ECR push does: the image is checked
like a push (inside the tracking rule's registry scope, present in its own region's registry, a
container image: an index needs a linux/arm64 image) and pinned by digest (a tag is resolved
through ECR), every other runtime field is carried over from the live runtime (read-merge-write), a
busy runtime is retried, the outcome is published on the event bus, and the runtime-promotion state
machine follows the new version (moving the endpoints the tracking rule names, if any) to a
Promoted or Failed outcome. The plan (field diff, environment variable values redacted) is printed
before anything is applied. Events say trigger "manual" and carry the digest.

A digest in the runtime's rejected list (tag autopilot:rejected-digests: a promotion rolled it back
or its version ended UPDATE_FAILED) is deployed anyway when you run this by hand; a note says so.
Pushes skip such digests until the tag is cleared.`,
  options: (cmd) => cmd
    .option('--runtime <id>', 'AgentCore runtime id, e.g. supportAgent-a1b2c3d4e5 (required)')
    .option('--image <uri>', '<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag][@sha256:<64 hex>] (required)')
    .option('--dry-run', 'print the plan and change nothing')
    .option('-y, --yes', 'apply without asking (required when stdin is not a terminal)')
    .option('--wait', "wait for the promotion's outcome (progress on stderr); exit 4 unless Promoted")
    .option('--interval <seconds>', 'seconds between two looks at the promotion with --wait (default 5)')
    .option('--timeout <duration>', 'with --wait: give up after this long (90s, 10m, 1h30m), exit 5')
    .option('--config <file>', 'autopilot config (default: $AUTOPILOT_CONFIG_FILE, else ./autopilot.config.yaml); supplies keepTag, the promotion settings and the event bus')
    .option('--state-machine <arn>', 'runtime-promotion state machine (default: $PROMOTION_STATE_MACHINE_ARN, else agentcore-autopilot-<stage>-runtime-promotion via ListStateMachines)')
    .option('--stage <stage>', 'serverless stage for that lookup (default: dev)'),
  notes: `Environment: the default AWS credential chain and region; AWS_ENDPOINT_URL for the local stack;
PROMOTION_STATE_MACHINE_ARN (see --state-machine).
-o json prints one document {plan, outcome} (with --wait also {promotion}).`,
  exitCodes: [
    [0, 'applied and the promotion started (--wait: the new version was Promoted), planned (--dry-run), or nothing to change (already on that digest)'],
    [1, 'failed: the update, a lookup, the config or the start of the promotion failed (error on stderr)'],
    [2, `usage error or invalid input, nothing was changed: bad option, bad image URI, an image outside the rule's registry scope,
     missing from its registry or not a deployable container image, no --yes without a terminal, no promotion state machine found`],
    [3, 'not applied: the confirmation was declined'],
    [4, '--wait: the update was applied but its promotion ended Rolled Back or Failed'],
    [5, '--wait --timeout: the promotion had not ended in time (it goes on)'],
  ],
  aws: true,
  action: async (ctx) => (await import('../actions/redeploy.ts')).run(ctx),
});
