/** `autopilot get runtimes|gateways|engines|policies` and `autopilot describe runtime|gateway ID`. */
import { Argument, type Command } from 'commander';
import { command, type CommandSpec } from '../program.ts';
import { shared } from './drift.ts';

export const GET_KINDS = ['runtimes', 'gateways', 'engines', 'policies'] as const;
export const DESCRIBE_KINDS = ['runtime', 'gateway'] as const;

function fleetOptions(cmd: Command): void {
  shared(cmd).option('--no-drift', 'skip the drift comparison with the config (one Get per declared resource less)');
}

const NOTE = `The config (--config, else $AUTOPILOT_CONFIG_FILE, else ./autopilot.config.yaml, optional here) says
what is declared, tracked and drifted; the state machines (found by name) give the last promotion
or rollout. Environment variable values and descriptions are shown as <redacted>.`;

export const get = command({
  name: 'get',
  summary: 'List runtimes, gateways, policy engines or policies with their state',
  usage: '<runtimes|gateways|engines|policies> [--engine ARN] [--config FILE] [--no-drift]',
  description: `Lists the resources of the account and region:
  runtimes  version, status, endpoints (live/target version), live image, tracked repository and
            tag rule, drift state (declared vs live), last promotion and its outcome
  gateways  status, policy engine and mode (live and declared), drift state, last rollout outcome
  engines   status, the gateways using each engine (and in which mode), the gateways declaring it
  policies  the Cedar policies of one engine (--engine) or of every engine: status, engine`,
  options: (cmd) => {
    cmd.addArgument(new Argument('<kind>', 'what to list').choices(GET_KINDS));
    fleetOptions(cmd);
    cmd.option('--engine <arn>', 'policies: only this policy engine (ARN or id)');
  },
  notes: NOTE,
  exitCodes: [[0, 'listed'], [1, 'error (AWS, network, configuration)'], [2, 'usage error']],
  aws: true,
  action: async (ctx) => (await import('../actions/fleet.ts')).get(ctx),
} satisfies Omit<CommandSpec, 'kind'>);

export const describe = command({
  name: 'describe',
  summary: 'Show one runtime or gateway in full: live configuration, drift, endpoints, last run',
  usage: '<runtime|gateway> ID [--config FILE] [--no-drift]',
  description: `Shows one resource: what \`get\` shows, its live configuration (secrets redacted) and, when it is
declared, every drifted field (JSON pointer: live -> declared).`,
  options: (cmd) => {
    cmd.addArgument(new Argument('<kind>', 'runtime or gateway').choices(DESCRIBE_KINDS));
    cmd.argument('<id>', 'the runtime or gateway id');
    fleetOptions(cmd);
  },
  notes: NOTE,
  exitCodes: [[0, 'shown'], [1, 'error, or no such runtime or gateway'], [2, 'usage error']],
  aws: true,
  action: async (ctx) => (await import('../actions/fleet.ts')).describe(ctx),
});
