/**
 * `autopilot plan`: compares the declared configuration with the live runtimes and gateways and
 * prints what `apply` (and the scheduled drift job) would do. Changes nothing. Exit codes follow
 * `terraform plan -detailed-exitcode`: 0 in sync, 2 drift found, 1 error.
 */
import { ListStateMachinesCommand } from '@aws-sdk/client-sfn';
import { createAdapters } from '../../functions/adapters/index.ts';
import { callAws } from '../../functions/adapters/aws-errors.ts';
import { lazyClients, type ClientOptions } from '../../functions/lib/clients.ts';
import { loadConfig } from '../../functions/lib/config/load.ts';
import { ConfigError } from '../../functions/lib/config/config-error.ts';
import type { Config } from '../../functions/lib/config/types.ts';
import { readDrift, type DriftDeps, type DriftRun } from '../../functions/app/drift.ts';
import type { DriftPlan, FieldPlan, ResourcePlan } from '../../functions/domain/drift/plan.ts';
import type { CliCommand, CliIO } from '../types.ts';

/** The state-machine options and variables plan and apply share (in both --help texts). */
export const STATE_MACHINE_HELP = `State machines (found once per run):
  --rollout-state-machine ARN    policy-rollout state machine (default: $ROLLOUT_STATE_MACHINE_ARN,
                                 else agentcore-autopilot-<stage>-policy-rollout via ListStateMachines).
                                 Needed to see rollouts in progress and to start one; when it is
                                 unknown (or its executions cannot be listed) no policy engine mode
                                 is acted on
  --promotion-state-machine ARN  runtime-promotion state machine (default: $PROMOTION_STATE_MACHINE_ARN,
                                 else agentcore-autopilot-<stage>-runtime-promotion). Needed by a
                                 missed-push redeploy whose tracking rule promotes; without it that
                                 redeploy fails (nothing is written) and apply exits 1
  --stage STAGE                  serverless stage for those lookups (default: $AUTOPILOT_STAGE, else dev)`;

const HELP = `Usage: autopilot plan [--config FILE] [--json] [state machine options]

Reads every runtime and gateway the config declares and compares the declared fields with the
live ones (server-side defaults are not drift). Prints, per resource and field, the live value,
the declared one and what apply would do: correct, report-only, ignored, needs-rollout (policy
engine tampering: staged rollout), restore-enforce, redeploy (missed image push), needs-human
(tampering whose last staged rollout ended without enforcing under the same declaration: drift
does not start it again). Environment variable values and descriptions are always shown as
<redacted>. Changes nothing.

Options:
  --config FILE  autopilot config (default: $AUTOPILOT_CONFIG_FILE, else ./autopilot.config.yaml)
  --json         print the plan as JSON (with "notes")
  -h, --help     show this help

${STATE_MACHINE_HELP}

AWS: the default credential chain and region, or the local stack when AWS_ENDPOINT_URL is set.

Exit codes: 0 in sync, 2 drift found (or a declared resource is missing), 1 error.`;

export interface DriftArgs {
  config?: string;
  json: boolean;
  yes: boolean;
  rolloutStateMachine?: string;
  promotionStateMachine?: string;
  stage?: string;
}

const VALUE_OPTIONS: Record<string, keyof DriftArgs> = {
  '--config': 'config', '-c': 'config',
  '--rollout-state-machine': 'rolloutStateMachine', '--promotion-state-machine': 'promotionStateMachine', '--stage': 'stage',
};
/** Options every drift command accepts besides its own. */
export const SHARED_OPTIONS = ['--config', '-c', '--json', '--rollout-state-machine', '--promotion-state-machine', '--stage'];

/** Parses the options shared by plan and apply; a string is a usage error. */
export function parseDriftArgs(argv: string[], allowed: readonly string[]): DriftArgs | string {
  const args: DriftArgs = { json: false, yes: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (!allowed.includes(flag)) return a.startsWith('-') ? `unknown option ${a}` : `unexpected argument ${a}`;
    const key = VALUE_OPTIONS[flag];
    if (key) {
      const v = inline ?? argv[++i];
      if (!v || (inline === undefined && v.startsWith('--'))) return `${flag} needs ${flag.startsWith('-c') || flag === '--config' ? 'a file' : 'a value'}`;
      (args as unknown as Record<string, string>)[key] = v;
    } else if (flag === '--json') args.json = true;
    else if (flag === '--yes' || flag === '-y') args.yes = true;
  }
  return args;
}

/** Drift dependencies from the CLI's environment (explicit, so `io.env` is honoured); state machines as given. */
export function cliDriftDeps(env: NodeJS.ProcessEnv, args: Pick<DriftArgs, 'config' | 'rolloutStateMachine' | 'promotionStateMachine'> = {}): DriftDeps {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
  const options: ClientOptions = {
    region,
    endpoint: env.AWS_ENDPOINT_URL || undefined,
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } }
      : {}),
  };
  // Corrections honour the unknown members the config acknowledges (read when a Get first needs them).
  const acknowledgedMembers = async () => (await loadConfig(args.config, { env })).unknownMembers.acknowledged;
  const adapters = createAdapters(lazyClients(options), { agentCore: { acknowledgedMembers } });
  const rolloutStateMachineArn = args.rolloutStateMachine || env.ROLLOUT_STATE_MACHINE_ARN || undefined;
  const promotionStateMachineArn = args.promotionStateMachine || env.PROMOTION_STATE_MACHINE_ARN || undefined;
  return {
    agentCore: adapters.agentCore, ecr: adapters.ecr, sfn: adapters.sfn, events: adapters.events,
    rolloutStateMachineArn,
    promotionStateMachineArn,
    home: { account: (rolloutStateMachineArn ?? promotionStateMachineArn)?.split(':')[4] || undefined, region },
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
}

/**
 * The CLI's drift dependencies with both state machines resolved: option, else variable, else
 * ListStateMachines by the stack's names (`agentcore-autopilot-<stage>-policy-rollout` /
 * `-runtime-promotion`). What stays unknown is said in the returned notes.
 */
export async function resolveCliDriftDeps(args: DriftArgs, env: NodeJS.ProcessEnv): Promise<{ deps: DriftDeps; notes: string[] }> {
  const deps = cliDriftDeps(env, args);
  const notes: string[] = [];
  if (deps.rolloutStateMachineArn && deps.promotionStateMachineArn) return { deps, notes };
  const stage = args.stage || env.AUTOPILOT_STAGE || 'dev';
  const names = { rollout: `agentcore-autopilot-${stage}-policy-rollout`, promotion: `agentcore-autopilot-${stage}-runtime-promotion` };
  const found: { rollout?: string; promotion?: string } = {};
  try {
    let nextToken: string | undefined;
    do {
      const page = await callAws({ service: 'sfn', operation: 'ListStateMachines' }, () => deps.sfn.client.send(new ListStateMachinesCommand({ nextToken })));
      for (const m of page.stateMachines ?? []) {
        if (m.name === names.rollout) found.rollout = m.stateMachineArn;
        if (m.name === names.promotion) found.promotion = m.stateMachineArn;
      }
      nextToken = page.nextToken;
    } while (nextToken && !(found.rollout && found.promotion));
  } catch (err) {
    notes.push(`could not look up the state machines (${err instanceof Error ? `${err.name}: ${err.message}` : String(err)})`);
  }
  deps.rolloutStateMachineArn ??= found.rollout;
  deps.promotionStateMachineArn ??= found.promotion;
  deps.home.account ??= (deps.rolloutStateMachineArn ?? deps.promotionStateMachineArn)?.split(':')[4] || undefined;
  // What an unknown state machine means is said by the plan where it matters (a watched gateway,
  // a promoting redeploy), not here.
  return { deps, notes };
}

export async function loadCliConfig(args: DriftArgs, io: CliIO): Promise<Config> {
  return loadConfig(args.config, { env: io.env });
}

const show = (v: unknown): string => (v === undefined ? '(absent)' : typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v));

function fieldLine(f: FieldPlan): string {
  const mark = f.action === 'report-only' ? '!' : f.action === 'ignored' ? '-' : '~';
  return `    ${mark} ${f.path}: ${show(f.from)} -> ${show(f.to)}${f.action === 'correct' ? '' : `  [${f.action}]`}`;
}

function actionText(r: ResourcePlan): string {
  if (r.status === 'in-sync') return r.rolloutInProgress ? 'none (policy rollout in progress or unknown)' : 'none';
  if (r.status === 'missing') return 'none (drift never creates resources)';
  return r.action;
}

/** The plan as a readable table. */
export function renderPlan(plan: DriftPlan, notes: readonly string[] = []): string[] {
  const rows = plan.resources.map((r) => [r.ref, r.kind, r.status, actionText(r)]);
  const head = ['RESOURCE', 'KIND', 'STATUS', 'ACTION'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cols: string[]) => cols.map((c, i) => (i === cols.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  const out = [line(head)];
  plan.resources.forEach((r, i) => {
    out.push(line(rows[i]));
    if (r.id && r.id !== r.ref) out.push(`    id: ${r.id}`);
    if (r.reason) out.push(`    reason: ${r.reason}`);
    if (r.tamper) {
      out.push(`    !! TAMPERING: policy engine ${r.tamper.live === 'DETACHED' ? 'is detached' : `runs ${r.tamper.live}`} while ${r.tamper.declared} is declared (response: ${r.tamper.response === 'rollout' ? 'staged rollout to ENFORCE' : 'restore ENFORCE at once'})`);
    }
    if (r.previousRollout) {
      out.push(`    !! NEEDS A HUMAN: the last staged rollout ${r.previousRollout.executionName} ended ${r.previousRollout.outcome}; drift will not start it again under this declaration`);
    }
    if (r.redeploy) out.push(`    missed image push: live ${r.redeploy.fromUri ?? '(none)'} is behind ${r.redeploy.toUri}${r.redeploy.tag ? ` (tag ${r.redeploy.tag})` : ''}`);
    if (r.kind === 'runtime' && r.status === 'drifted') {
      out.push(r.createsVersion
        ? `    note: correcting creates a new runtime version (from version ${r.liveVersion ?? '?'}); this resets managed session storage`
        : '    note: a correction would create a new runtime version (resets managed session storage)');
    }
    for (const f of r.fields) out.push(fieldLine(f));
  });
  for (const n of notes) out.push(`warning: ${n}`);
  const c = plan.counts;
  out.push('');
  out.push(`Plan: ${c.drifted} drifted (${c.fields} field${c.fields === 1 ? '' : 's'}), ${c.missing} missing, ${c.errors} unreadable, ${c.excluded} excluded, ${c.inSync} in sync; ${c.toCorrect} to correct${c.needsHuman > 0 ? `; ${c.needsHuman} need${c.needsHuman === 1 ? 's' : ''} a human` : ''}.`);
  return out;
}

/** Prints an error the way every drift command does; returns exit code 1. */
export function reportError(io: CliIO, command: string, err: unknown): number {
  if (err instanceof ConfigError) io.stderr(`autopilot ${command}: invalid configuration\n${err.message}`);
  else io.stderr(`autopilot ${command}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  return 1;
}

/** Reads and plans; shared by apply. The notes of the state-machine lookup come first. */
export async function planFromCli(args: DriftArgs, io: CliIO): Promise<{ run: DriftRun; deps: DriftDeps }> {
  const config = await loadCliConfig(args, io);
  const { deps, notes } = await resolveCliDriftDeps(args, io.env);
  const run = await readDrift(deps, config);
  run.notes.unshift(...notes);
  return { run, deps };
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseDriftArgs(argv, SHARED_OPTIONS);
  if (typeof args === 'string') {
    io.stderr(`autopilot plan: ${args}\n\n${HELP}`);
    return 1;
  }
  let driftRun: DriftRun;
  try {
    driftRun = (await planFromCli(args, io)).run;
  } catch (err) {
    return reportError(io, 'plan', err);
  }
  const { plan, notes } = driftRun;
  if (args.json) io.stdout(JSON.stringify({ ...plan, notes }, null, 2));
  else for (const l of renderPlan(plan, notes)) io.stdout(l);
  if (plan.counts.errors > 0) {
    if (!args.json) io.stderr(`autopilot plan: ${plan.counts.errors} resource(s) could not be read`);
    return 1;
  }
  return plan.inSync ? 0 : 2;
}

const command: CliCommand = { name: 'plan', summary: 'Show drift between the config and the live runtimes/gateways (exit 2 = drift)', help: HELP, run };
export default command;
