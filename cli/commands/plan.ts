/**
 * `autopilot plan`: compares the declared configuration with the live runtimes and gateways and
 * prints what `apply` (and the scheduled drift job) would do. Changes nothing. Exit codes follow
 * `terraform plan -detailed-exitcode`: 0 in sync, 2 drift found, 1 error.
 */
import { createAdapters } from '../../functions/adapters/index.ts';
import { lazyClients, type ClientOptions } from '../../functions/lib/clients.ts';
import { loadConfig } from '../../functions/lib/config/load.ts';
import { ConfigError } from '../../functions/lib/config/config-error.ts';
import type { Config } from '../../functions/lib/config/types.ts';
import { readDrift, type DriftDeps, type DriftRun } from '../../functions/app/drift.ts';
import type { DriftPlan, FieldPlan, ResourcePlan } from '../../functions/domain/drift/plan.ts';
import type { CliCommand, CliIO } from '../types.ts';

const HELP = `Usage: autopilot plan [--config FILE] [--json]

Reads every runtime and gateway the config declares and compares the declared fields with the
live ones (server-side defaults are not drift). Prints, per resource and field, the live value,
the declared one and what apply would do: correct, report-only, ignored, needs-rollout (policy
engine tampering: staged rollout), restore-enforce, redeploy (missed image push). Environment
variable values and descriptions are always shown as <redacted>. Changes nothing.

Options:
  --config FILE  autopilot config (default: $AUTOPILOT_CONFIG_FILE, else ./autopilot.config.yaml)
  --json         print the plan as JSON
  -h, --help     show this help

AWS: the default credential chain and region, or the local stack when AWS_ENDPOINT_URL is set.
ROLLOUT_STATE_MACHINE_ARN (optional) lets the plan see policy rollouts already in progress.

Exit codes: 0 in sync, 2 drift found (or a declared resource is missing), 1 error.`;

export interface DriftArgs { config?: string; json: boolean; yes: boolean }

/** Parses the options shared by plan and apply; a string is a usage error. */
export function parseDriftArgs(argv: string[], allowed: readonly string[]): DriftArgs | string {
  const args: DriftArgs = { json: false, yes: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (!allowed.includes(flag)) return a.startsWith('-') ? `unknown option ${a}` : `unexpected argument ${a}`;
    if (flag === '--config' || flag === '-c') {
      const v = inline ?? argv[++i];
      if (!v) return '--config needs a file';
      args.config = v;
    } else if (flag === '--json') args.json = true;
    else if (flag === '--yes' || flag === '-y') args.yes = true;
  }
  return args;
}

/** Drift dependencies from the CLI's environment (explicit, so `io.env` is honoured). */
export function cliDriftDeps(env: NodeJS.ProcessEnv): DriftDeps {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
  const options: ClientOptions = {
    region,
    endpoint: env.AWS_ENDPOINT_URL || undefined,
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } }
      : {}),
  };
  const adapters = createAdapters(lazyClients(options));
  const rolloutStateMachineArn = env.ROLLOUT_STATE_MACHINE_ARN || undefined;
  return {
    agentCore: adapters.agentCore, ecr: adapters.ecr, sfn: adapters.sfn,
    rolloutStateMachineArn,
    promotionStateMachineArn: env.PROMOTION_STATE_MACHINE_ARN || undefined,
    home: { account: rolloutStateMachineArn?.split(':')[4] || undefined, region },
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
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
  if (r.status === 'in-sync') return r.rolloutInProgress ? 'none (policy rollout in progress)' : 'none';
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
  out.push(`Plan: ${c.drifted} drifted (${c.fields} field${c.fields === 1 ? '' : 's'}), ${c.missing} missing, ${c.errors} unreadable, ${c.excluded} excluded, ${c.inSync} in sync; ${c.toCorrect} to correct.`);
  return out;
}

/** Prints an error the way every drift command does; returns exit code 1. */
export function reportError(io: CliIO, command: string, err: unknown): number {
  if (err instanceof ConfigError) io.stderr(`autopilot ${command}: invalid configuration\n${err.message}`);
  else io.stderr(`autopilot ${command}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  return 1;
}

/** Reads and plans; shared by apply. */
export async function planFromCli(args: DriftArgs, io: CliIO, deps?: DriftDeps): Promise<DriftRun> {
  const config = await loadCliConfig(args, io);
  return readDrift(deps ?? cliDriftDeps(io.env), config);
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseDriftArgs(argv, ['--config', '-c', '--json']);
  if (typeof args === 'string') {
    io.stderr(`autopilot plan: ${args}\n\n${HELP}`);
    return 1;
  }
  let driftRun: DriftRun;
  try {
    driftRun = await planFromCli(args, io);
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
