/**
 * `autopilot redeploy --runtime ID --image URI`: what an image push does, by hand, for one runtime.
 * Same orchestration as the onImagePush handler (functions/app/redeploy.ts): pin by digest, carry
 * every other field over, retry a busy runtime, publish the outcome event, start the promotion when
 * the runtime's tracking rule names endpoints. The plan is printed (environment values redacted)
 * before anything is applied.
 */
import type { SfnAdapter } from '../../functions/adapters/sfn.ts';
import { createAdapters } from '../../functions/adapters/index.ts';
import {
  InvalidRedeployRequestError,
  redeployManually,
  resolveImage,
  trackRuleOf,
  type Log,
  type RedeployContext,
  type RuntimeOutcome,
} from '../../functions/app/redeploy.ts';
import type { FieldChange } from '../../functions/domain/diff.ts';
import { describeError } from '../../functions/domain/redeploy/outcome-events.ts';
import { lazyClients } from '../../functions/lib/clients.ts';
import { ConfigError, loadConfig, type Config } from '../../functions/lib/config/index.ts';
import { clientOptions } from '../aws.ts';
import { UsageError } from '../errors.ts';
import type { Output } from '../output.ts';
import { parseDuration, poll } from '../wait.ts';
import type { ActionContext, CliIO } from '../types.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2, declined: 3 } as const;

interface Args {
  runtime?: string;
  image?: string;
  dryRun: boolean;
  yes: boolean;
  json: boolean;
  config?: string;
  stateMachine?: string;
  stage?: string;
  wait: boolean;
  timeoutMs?: number;
  pollMs: number;
}

const RUNTIME_ID = /^[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10}$/;

function argsOf(opts: ActionContext['opts'], out: Output): Args {
  const args: Args = {
    runtime: opts.runtime as string | undefined,
    image: opts.image as string | undefined,
    dryRun: opts.dryRun === true,
    yes: opts.yes === true,
    json: out.structured,
    config: opts.config as string | undefined,
    stateMachine: opts.stateMachine as string | undefined,
    stage: opts.stage as string | undefined,
    wait: opts.wait === true,
    timeoutMs: opts.timeout === undefined ? undefined : parseDuration(String(opts.timeout), '--timeout'),
    pollMs: opts.pollMs === undefined ? 5000 : Number(opts.pollMs),
  };
  if (args.timeoutMs !== undefined && !args.wait) throw new UsageError('--timeout needs --wait');
  if (!args.runtime) throw new UsageError('missing --runtime');
  if (!args.image) throw new UsageError('missing --image');
  if (!RUNTIME_ID.test(args.runtime)) throw new UsageError('--runtime is not an AgentCore runtime id (<name>-<10 characters>)');
  if (args.stateMachine !== undefined && !STATE_MACHINE_ARN.test(args.stateMachine)) throw new UsageError('--state-machine is not a Step Functions state machine ARN');
  if (args.stage !== undefined && !STAGE.test(args.stage)) throw new UsageError('--stage is not a serverless stage name');
  return args;
}

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;
const STAGE = /^[a-zA-Z0-9-]{1,40}$/;

/** Name serverless.yml gives the runtime-promotion state machine in a stage. */
export function promotionStateMachineName(stage: string): string {
  return `agentcore-autopilot-${stage}-runtime-promotion`;
}

/** --state-machine, else $PROMOTION_STATE_MACHINE_ARN, else ListStateMachines by name; undefined when absent. */
async function findPromotionStateMachine(args: Args, env: NodeJS.ProcessEnv, sfn: SfnAdapter): Promise<string | undefined> {
  const given = args.stateMachine ?? (env.PROMOTION_STATE_MACHINE_ARN || undefined);
  if (given) return given;
  const wanted = promotionStateMachineName(args.stage ?? 'dev');
  return (await sfn.findStateMachines([wanted]))[wanted];
}

/** Warnings and errors of the orchestration go to stderr (names and ids only, never values). */
function cliLog(io: CliIO, json: boolean): Log {
  const emit = (level: string) => (message: unknown, extra?: unknown) => {
    if (json) return;
    const facts = extra && typeof extra === 'object' ? extra as Record<string, unknown> : {};
    const detail = ['runtimeId', 'operation', 'attempt', 'reason'].filter((k) => facts[k] !== undefined).map((k) => `${k}=${String(facts[k])}`).join(' ');
    io.stderr(`autopilot redeploy: ${level}: ${String(message)}${detail ? ` (${detail})` : ''}`);
  };
  const silent = () => undefined;
  return { debug: silent, info: silent, warn: emit('warning'), error: emit('error') } as unknown as Log;
}

const show = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v));

function changeLine(c: FieldChange): string {
  if (c.kind === 'added') return `  + ${c.path}: ${show(c.to)}`;
  if (c.kind === 'removed') return `  - ${c.path}: ${show(c.from)}`;
  return `  ~ ${c.path}: ${show(c.from)} -> ${show(c.to)}`;
}

function printNotes(io: CliIO, outcome: RuntimeOutcome): void {
  for (const note of outcome.notes ?? []) io.stderr(`autopilot redeploy: note: ${note}`);
}

function printPlan(io: CliIO, plan: RuntimeOutcome): void {
  io.stdout(`Plan for runtime ${plan.runtimeId} (live version ${plan.fromVersion ?? '?'}):`);
  for (const c of plan.changes ?? []) io.stdout(changeLine(c));
  if (plan.promotion) io.stdout(`  then promote endpoint(s) ${plan.promotion.endpoints.join(', ')} once the new version is READY`);
  else io.stdout('  no named endpoint is promoted (DEFAULT follows the new version)');
}

function printOutcome(io: CliIO, outcome: RuntimeOutcome): void {
  if (outcome.status === 'updated') {
    io.stdout(`Updated runtime ${outcome.runtimeId}: version ${outcome.fromVersion ?? '?'} -> ${outcome.toVersion ?? '?'}.`);
    const p = outcome.promotion;
    if (p?.started) io.stdout(`Promotion started: ${p.name} (endpoints ${p.endpoints.join(', ')}).`);
    else if (p) io.stderr(`autopilot redeploy: promotion not started: ${p.reason ?? 'unknown reason'}`);
  } else if (outcome.status === 'skipped') {
    io.stdout(`Nothing to do for runtime ${outcome.runtimeId}: ${outcome.message ?? outcome.reason}.`);
  } else if (outcome.status === 'failed') {
    io.stderr(`autopilot redeploy: ${outcome.runtimeId}: ${outcome.reason}: ${outcome.error?.name ?? 'Error'}${outcome.error?.message ? `: ${outcome.error.message}` : ''}`);
  }
}

async function confirm(io: CliIO): Promise<boolean | undefined> {
  if (!io.prompt) return undefined;
  const answer = (await io.prompt('Apply this change? [y/N] ')).trim().toLowerCase();
  return answer === 'y' || answer === 'yes';
}

export async function run(cli: ActionContext): Promise<number> {
  const { io } = cli;
  const args = argsOf(cli.opts, cli.out);
  const out = (doc: unknown) => cli.out.document(doc);

  let config: Config;
  try {
    config = await loadConfig(args.config, { env: io.env });
  } catch (err) {
    io.stderr(`autopilot redeploy: ${err instanceof ConfigError ? err.message : `cannot load the config: ${(err as Error).message}`}`);
    return EXIT.failed;
  }
  const started = Date.now();
  const clients = lazyClients(clientOptions(cli));
  const ctx: RedeployContext = {
    adapters: createAdapters(clients),
    config,
    log: cliLog(io, args.json),
    remainingMs: () => 120_000 - (Date.now() - started),
  };
  const runtimeId = args.runtime as string;

  // A promoting rule needs its state machine: found before anything is written, or nothing is.
  if (trackRuleOf(config, runtimeId)?.promote !== undefined) {
    let arn: string | undefined;
    try {
      arn = await findPromotionStateMachine(args, io.env, ctx.adapters.sfn);
    } catch (err) {
      const e = describeError(err);
      io.stderr(`autopilot redeploy: looking up the promotion state machine failed: ${e.name}${e.message ? `: ${e.message}` : ''}`);
      return EXIT.failed;
    }
    if (arn === undefined) {
      io.stderr(
        `autopilot redeploy: runtime ${runtimeId}'s tracking rule promotes endpoints, but no promotion state machine was found ` +
          `(no --state-machine, no PROMOTION_STATE_MACHINE_ARN, no state machine named ${promotionStateMachineName(args.stage ?? 'dev')}); ` +
          'deploy the stack, or pass --state-machine ARN or --stage. Nothing was changed.',
      );
      return EXIT.usage;
    }
    ctx.promotionStateMachineArn = arn;
  }

  let image;
  try {
    image = await resolveImage(ctx, args.image as string, trackRuleOf(config, runtimeId)?.keepTag ?? false);
  } catch (err) {
    const usage = err instanceof InvalidRedeployRequestError;
    const e = describeError(err);
    io.stderr(`autopilot redeploy: ${usage ? e.message : `image lookup failed: ${e.name}${e.message ? `: ${e.message}` : ''}`}`);
    return usage ? EXIT.usage : EXIT.failed;
  }

  const plan = await redeployManually(ctx, { runtimeId, image, dryRun: true });
  if (!args.json) printNotes(io, plan);
  if (plan.status === 'failed') {
    if (args.json) out({ plan });
    else printOutcome(io, plan);
    return EXIT.failed;
  }
  if (plan.status === 'skipped' || args.dryRun) {
    if (args.json) out({ plan });
    else if (plan.status === 'skipped') printOutcome(io, plan);
    else {
      printPlan(io, plan);
      io.stdout('Dry run: nothing was changed.');
    }
    return EXIT.ok;
  }

  if (!args.json) printPlan(io, plan);
  if (!args.yes) {
    const ok = await confirm(io);
    if (ok === undefined) {
      io.stderr('autopilot redeploy: refusing to apply without confirmation: pass --yes (stdin is not a terminal)');
      if (args.json) out({ plan });
      return EXIT.usage;
    }
    if (!ok) {
      io.stderr('autopilot redeploy: not applied.');
      if (args.json) out({ plan });
      return EXIT.declined;
    }
  }

  const outcome = await redeployManually(ctx, { runtimeId, image, dryRun: false });
  if (!args.json) printOutcome(io, outcome);
  const promotionArn = outcome.promotion?.started ? outcome.promotion.executionArn : undefined;
  if (outcome.status !== 'updated' || !args.wait || !promotionArn) {
    if (args.wait && outcome.status === 'updated' && !outcome.promotion) io.stderr('autopilot redeploy: nothing to wait for: the tracking rule promotes no endpoint');
    if (args.json) out({ plan, outcome });
    if (outcome.status === 'failed') return EXIT.failed;
    // The update stands, but a promoting rule's promotion did not start: say so in the exit code.
    return outcome.promotion !== undefined && !outcome.promotion.started ? EXIT.failed : EXIT.ok;
  }
  // --wait: the promotion's own outcome (PROMOTED, ROLLED_BACK, FAILED) decides the exit code.
  const promotion = await poll({ intervalMs: args.pollMs, timeoutMs: args.timeoutMs, describe: () => `promotion ${outcome.promotion!.name}` }, async () => {
    const d = await ctx.adapters.sfn.describeExecution(promotionArn);
    if (d.status === 'RUNNING') return undefined;
    const result = d.output ? (JSON.parse(d.output) as { outcome?: string; reason?: string; message?: string }) : {};
    return { status: String(d.status), outcome: result.outcome ?? String(d.status), ...(result.reason && { reason: result.reason }), ...(d.error && { error: d.error }) };
  });
  if (args.json) out({ plan, outcome, promotion });
  else {
    const line = `Promotion ${outcome.promotion!.name}: ${promotion.outcome}${promotion.reason ? ` (${promotion.reason})` : ''}.`;
    if (promotion.outcome === 'PROMOTED') io.stdout(line);
    else io.stderr(`autopilot redeploy: ${line}`);
  }
  return promotion.outcome === 'PROMOTED' ? EXIT.ok : EXIT_NOT_SUCCEEDED;
}

const EXIT_NOT_SUCCEEDED = 4;

