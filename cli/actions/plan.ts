/**
 * `autopilot plan`: compares the declared configuration with the live runtimes and gateways and
 * prints what `apply` (and the scheduled drift job) would do. Changes nothing. Exit codes follow
 * `terraform plan -detailed-exitcode`: 0 in sync, 2 drift found, 1 error.
 */
import { createAdapters } from '../../functions/adapters/index.ts';
import { lazyClients } from '../../functions/lib/clients.ts';
import { loadConfig } from '../../functions/lib/config/load.ts';
import { configureAgentCorePacing } from '../../functions/lib/pacing.ts';
import { secretReader, secretsClients } from '../../functions/adapters/secrets.ts';
import type { Config } from '../../functions/lib/config/types.ts';
import { readDrift, type DriftDeps, type DriftRun } from '../../functions/app/drift.ts';
import type { DriftPlan, FieldPlan, ResourcePlan } from '../../functions/domain/drift/plan.ts';
import { diffConfig, type FieldChange } from '../../functions/domain/diff.ts';
import { isPlainObject } from '../../functions/domain/json.ts';
import type { Output } from '../output.ts';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { savePlan } from '../../functions/app/saved-plan.ts';
import { now } from '../../functions/lib/time.ts';
import { clientOptions } from '../aws.ts';
import type { ActionContext, CliIO } from '../types.ts';

export interface DriftArgs {
  config?: string;
  json: boolean;
  yes: boolean;
  rolloutStateMachine?: string;
  promotionStateMachine?: string;
  stage?: string;
}

/** The options plan and apply share, from commander's values. */
export function driftArgsOf(ctx: ActionContext): DriftArgs {
  const o = ctx.opts;
  return {
    config: o.config as string | undefined,
    json: ctx.out.structured,
    yes: o.yes === true,
    rolloutStateMachine: o.rolloutStateMachine as string | undefined,
    promotionStateMachine: o.promotionStateMachine as string | undefined,
    stage: o.stage as string | undefined,
  };
}

/** Drift dependencies from the CLI's environment (explicit, so `io.env` is honoured); state machines as given. */
export function cliDriftDeps(ctx: Pick<ActionContext, 'io' | 'opts'>, args: Pick<DriftArgs, 'config' | 'rolloutStateMachine' | 'promotionStateMachine'> = {}): DriftDeps {
  const env = ctx.io.env;
  const options = clientOptions(ctx);
  const region = options.region;
  // Corrections honour the unknown members the config acknowledges (read when a Get first needs them).
  const acknowledgedMembers = async () => (await loadConfig(args.config, { env })).unknownMembers.acknowledged;
  const adapters = createAdapters(lazyClients(options), { agentCore: { acknowledgedMembers } });
  const rolloutStateMachineArn = args.rolloutStateMachine || env.ROLLOUT_STATE_MACHINE_ARN || undefined;
  const promotionStateMachineArn = args.promotionStateMachine || env.PROMOTION_STATE_MACHINE_ARN || undefined;
  const policyPromotionStateMachineArn = env.POLICY_PROMOTION_STATE_MACHINE_ARN || undefined;
  return {
    agentCore: adapters.agentCore, ecr: adapters.ecr, sfn: adapters.sfn, events: adapters.events,
    rolloutStateMachineArn,
    promotionStateMachineArn,
    policyPromotionStateMachineArn,
    home: { account: (rolloutStateMachineArn ?? promotionStateMachineArn)?.split(':')[4] || undefined, region },
    // The stack's clock when the CLI follows one (backoff windows, change windows), else the system's.
    now: () => now().getTime(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    // Secret references in the config are read with the operator's credentials, in memory only.
    readSecret: secretReader(secretsClients(options)),
  };
}

/**
 * The CLI's drift dependencies with both state machines resolved: option, else variable, else
 * ListStateMachines by the stack's names (`agentcore-autopilot-<stage>-policy-rollout` /
 * `-runtime-promotion`). What stays unknown is said in the returned notes.
 */
export async function resolveCliDriftDeps(args: DriftArgs, ctx: Pick<ActionContext, 'io' | 'opts'>): Promise<{ deps: DriftDeps; notes: string[] }> {
  const env = ctx.io.env;
  const deps = cliDriftDeps(ctx, args);
  const notes: string[] = [];
  if (deps.rolloutStateMachineArn && deps.promotionStateMachineArn && deps.policyPromotionStateMachineArn) return { deps, notes };
  const stage = args.stage || env.AUTOPILOT_STAGE || 'dev';
  const names = {
    rollout: `agentcore-autopilot-${stage}-policy-rollout`,
    promotion: `agentcore-autopilot-${stage}-runtime-promotion`,
    policyPromotion: `agentcore-autopilot-${stage}-policy-promotion`,
  };
  const found: { rollout?: string; promotion?: string; policyPromotion?: string } = {};
  try {
    const arns = await deps.sfn.findStateMachines([names.rollout, names.promotion, names.policyPromotion]);
    found.rollout = arns[names.rollout];
    found.promotion = arns[names.promotion];
    found.policyPromotion = arns[names.policyPromotion];
  } catch (err) {
    notes.push(`could not look up the state machines (${err instanceof Error ? `${err.name}: ${err.message}` : String(err)})`);
  }
  deps.rolloutStateMachineArn ??= found.rollout;
  deps.promotionStateMachineArn ??= found.promotion;
  deps.policyPromotionStateMachineArn ??= found.policyPromotion;
  deps.home.account ??= (deps.rolloutStateMachineArn ?? deps.promotionStateMachineArn)?.split(':')[4] || undefined;
  // What an unknown state machine means is said by the plan where it matters (a watched gateway,
  // a promoting redeploy), not here.
  return { deps, notes };
}

export async function loadCliConfig(args: DriftArgs, io: CliIO): Promise<Config> {
  const config = await loadConfig(args.config, { env: io.env, warn: (warning) => io.stderr(`warning: ${warning}`) });
  // The CLI shares the account's quotas with the deployed functions: pace it the same way.
  configureAgentCorePacing(config.quotas);
  return config;
}

/** The config file the CLI reads (as loadConfig resolves it) and its bytes, for saved plans. */
export async function configFileOf(args: DriftArgs, io: CliIO): Promise<{ file: string; text: string }> {
  const file = path.resolve(args.config ?? (io.env.AUTOPILOT_CONFIG_FILE || 'autopilot.config.yaml'));
  return { file, text: await readFile(file, 'utf8') };
}

/** Where the CLI talks to, recorded in a saved plan. */
export function targetOf(ctx: Pick<ActionContext, 'io' | 'opts'>): { region?: string; endpoint?: string } {
  const o = clientOptions(ctx);
  return { ...(o.region && { region: o.region }), ...(o.endpoint && { endpoint: o.endpoint }) };
}

const show = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v));

const MARKS = { added: ['+', 'green'], removed: ['-', 'red'], changed: ['~', 'yellow'] } as const;

/**
 * One line per JSON pointer, terraform-like: an object-valued field (e.g. the policy engine
 * configuration) is shown leaf by leaf, `/policyEngineConfiguration/mode: "LOG_ONLY" -> "ENFORCE"`.
 * + added, - removed, ~ changed (coloured on a terminal); the action when it is not `correct`.
 */
export function fieldLines(f: FieldPlan, out?: Output): string[] {
  const leaves: FieldChange[] = isPlainObject(f.from) && isPlainObject(f.to)
    ? diffConfig(f.from, f.to).map((c) => ({ ...c, path: `${f.path}${c.path}` }))
    : [{ path: f.path, kind: f.from === undefined ? 'added' : f.to === undefined ? 'removed' : 'changed', from: f.from, to: f.to }];
  const tag = f.action === 'correct' ? '' : `  [${f.action}]`;
  return leaves.map((c) => {
    const [mark, colour] = f.action === 'report-only' || f.action === 'ignored' ? (['!', 'gray'] as const) : MARKS[c.kind];
    const text = c.kind === 'added' ? `${c.path}: ${show(c.to)}` : c.kind === 'removed' ? `${c.path}: ${show(c.from)} -> (absent)` : `${c.path}: ${show(c.from)} -> ${show(c.to)}`;
    return `    ${out ? out.paint(colour, mark) : mark} ${text}${tag}`;
  });
}

function actionText(r: ResourcePlan): string {
  if (r.status === 'in-sync') return r.rolloutInProgress ? 'none (policy rollout in progress or unknown)' : 'none';
  if (r.status === 'missing') return 'none (drift never creates resources)';
  return r.action;
}

/** The plan as a readable table. */
export function renderPlan(plan: DriftPlan, notes: readonly string[] = [], out?: Output): string[] {
  const rows = plan.resources.map((r) => [r.ref, r.kind, r.status, actionText(r)]);
  const head = ['RESOURCE', 'KIND', 'STATUS', 'ACTION'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cols: string[]) => cols.map((c, i) => (i === cols.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  const paint = out;
  const lines = [line(head)];
  plan.resources.forEach((r, i) => {
    lines.push(line(rows[i]));
    if (r.id && r.id !== r.ref) lines.push(`    id: ${r.id}`);
    if (r.reason) lines.push(`    reason: ${r.reason}`);
    if (r.tamper) {
      lines.push(`    !! TAMPERING: policy engine ${r.tamper.live === 'DETACHED' ? 'is detached' : `runs ${r.tamper.live}`} while ${r.tamper.declared} is declared (response: ${r.tamper.response === 'rollout' ? 'staged rollout to ENFORCE' : 'restore ENFORCE at once'})`);
    }
    if (r.previousRollout) {
      lines.push(`    !! NEEDS A HUMAN: the last staged rollout ${r.previousRollout.executionName} ended ${r.previousRollout.outcome}; drift will not start it again under this declaration`);
    }
    if (r.redeploy) lines.push(`    missed image push: live ${r.redeploy.fromUri ?? '(none)'} is behind ${r.redeploy.toUri}${r.redeploy.tag ? ` (tag ${r.redeploy.tag})` : ''}`);
    if (r.kind === 'runtime' && r.status === 'drifted') {
      lines.push(r.createsVersion
        ? `    note: correcting creates a new runtime version (from version ${r.liveVersion ?? '?'}); this resets managed session storage`
        : '    note: a correction would create a new runtime version (resets managed session storage)');
    }
    for (const f of r.fields) lines.push(...fieldLines(f, paint));
    for (const name of r.undeclaredEnv ?? []) {
      lines.push(`    ${paint ? paint.paint('gray', '!') : '!'} /environmentVariables/${name}: "<redacted>"  [not declared (added by hand?): reported only, apply keeps it]`);
    }
  });
  for (const n of notes) lines.push(`warning: ${n}`);
  const c = plan.counts;
  lines.push('');
  lines.push(`Plan: ${c.drifted} drifted (${c.fields} field${c.fields === 1 ? '' : 's'}), ${c.missing} missing, ${c.errors} unreadable, ${c.excluded} excluded, ${c.inSync} in sync; ${c.toCorrect} to correct${c.needsHuman > 0 ? `; ${c.needsHuman} need${c.needsHuman === 1 ? 's' : ''} a human` : ''}.`);
  return lines;
}

/** Reads and plans; shared by apply. The notes of the state-machine lookup come first. */
export async function planFromCli(args: DriftArgs, ctx: ActionContext): Promise<{ run: DriftRun; deps: DriftDeps }> {
  const config = await loadCliConfig(args, ctx.io);
  const { deps, notes } = await resolveCliDriftDeps(args, ctx);
  const run = await readDrift(deps, config);
  run.notes.unshift(...notes);
  return { run, deps };
}

export async function run(ctx: ActionContext): Promise<number> {
  const { io } = ctx;
  const args = driftArgsOf(ctx);
  const driftRun = (await planFromCli(args, ctx)).run;
  const { plan, notes } = driftRun;
  const outFile = ctx.opts.out as string | undefined;
  if (outFile !== undefined) {
    const saved = savePlan(driftRun, await configFileOf(args, io), targetOf(ctx), new Date());
    await writeFile(outFile, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
  }
  ctx.out.result({ ...plan, notes }, () => renderPlan(plan, notes, ctx.out));
  if (outFile !== undefined) {
    io.stderr(`Saved the plan to ${outFile}: \`autopilot apply ${outFile}\` applies exactly it (and refuses if anything moved).`);
  }
  if (plan.counts.errors > 0) {
    if (!args.json) io.stderr(`autopilot plan: ${plan.counts.errors} resource(s) could not be read`);
    return 1;
  }
  return plan.inSync ? 0 : 2;
}
