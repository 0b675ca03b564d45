/** `autopilot events`: the local stack's bus, printed or followed. */
import { command } from '../program.ts';

export default command({
  name: 'events',
  summary: 'Print or tail the events on the local stack\'s bus (--follow)',
  usage: '[--follow] [--source S] [--detail-type T] [--bus NAME] [--limit N] [-o json]',
  description: `Prints the events on the local stack's EventBridge bus: ECR pushes, schedules, requests, and
autopilot's own outcome events (Runtime Redeploy *, Policy Rollout *, Drift *). Needs
AWS_ENDPOINT_URL pointing at the local stack (\`npm start -- --keep-running\` prints it); AWS has
no API to read a bus back.

Each line: time, source, detail-type, subject, details. The time is when the event reached the bus,
by the stack's clock, in UTC (ISO 8601, e.g. 2025-01-01T00:10:00Z): absolute, so it is the same
whenever you start \`autopilot events\` and whatever you filter. (The \`npm start\` timeline counts
its T+ times from the time on its "Local stack up" line.)

-o json prints one JSON array of {sequence, at, bus, via, event}; with --follow, a stream that has
no end, one such JSON object per line (JSON Lines).`,
  options: (cmd) => cmd
    .option('-f, --follow', 'keep printing new events until interrupted (Ctrl+C)')
    .option('--source <source>', 'only events whose source is S (e.g. agentcore-autopilot, aws.ecr)')
    .option('--detail-type <type>', 'only events whose detail-type is T (e.g. "Policy Rollout Halted")')
    .option('--bus <name>', 'only events on this bus (default: every bus)')
    .option('--limit <n>', 'print at most the last N matching events first (default: all)')
    .option('--interval <ms>', '--follow polling interval in ms (default 500)'),
  exitCodes: [
    [0, 'success (also when --follow is stopped with Ctrl+C / SIGTERM)'],
    [1, 'AWS_ENDPOINT_URL is not set, or the local stack is not reachable or answered with an error'],
    [2, 'usage error (unknown option, bad --limit / --interval)'],
  ],
  aws: true,
  action: async (ctx) => (await import('../actions/events.ts')).run(ctx),
});
