/**
 * `autopilot redeploy --runtime ID --image URI`: what an image push does, by hand, for one runtime.
 * Same orchestration as the onImagePush handler (functions/app/redeploy.ts): pin by digest, carry
 * every other field over, retry a busy runtime, publish the outcome event, start the promotion when
 * the runtime's tracking rule names endpoints. The plan is printed (environment values redacted)
 * before anything is applied.
 */
import { createAdapters } from '../../functions/adapters/index.ts';
import type { SfnAdapter } from '../../functions/adapters/sfn.ts';
import type { Log, RedeployContext, RuntimeOutcome } from '../../functions/app/redeploy.ts';
import {
  ImageLookupFailedError, InvalidRedeployRequestError, redeployManually, resolveImage, waitForPromotion, type PromotionEnd,
} from '../../functions/app/redeploy-manual.ts';
import type { FieldChange } from '../../functions/domain/diff.ts';
import { describeError } from '../../functions/domain/redeploy/outcome-events.ts';
import { lazyClients } from '../../functions/lib/clients.ts';
import { ConfigError, loadConfig, type Config } from '../../functions/lib/config/index.ts';
import { clientOptions } from '../aws.ts';
import { timedOut, UsageError } from '../errors.ts';
import type { Output } from '../output.ts';
import type { ActionContext, CliIO } from '../types.ts';
import { formatDuration, parseDuration } from '../wait.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2, declined: 3, notPromoted: 4 } as const;

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
  intervalSeconds: number;
  timeoutMs?: number;
}

const RUNTIME_ID = /^[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10}$/;

function argsOf(opts: ActionContext['opts'], out: Output): Args {
  const interval = opts.interval === undefined ? 5 : Number(opts.interval);
  if (!Number.isFinite(interval) || interval < 0.01 || interval > 3600) throw new UsageError('--interval needs a number of seconds (0.01..3600)');
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
    intervalSeconds: interval,
    timeoutMs: opts.timeout === undefined ? undefined : parseDuration(String(opts.timeout), '--timeout'),
  };
  if (!args.runtime) throw new UsageError('missing --runtime');
  if (!args.image) throw new UsageError('missing --image');
  if (!RUNTIME_ID.test(args.runtime)) throw new UsageError('--runtime is not an AgentCore runtime id (<name>-<10 characters>)');
  if (args.stateMachine !== undefined && !STATE_MACHINE_ARN.test(args.stateMachine)) throw new UsageError('--state-machine is not a Step Functions state machine ARN');
  if (args.stage !== undefined && !STAGE.test(args.stage)) throw new UsageError('--stage is not a serverless stage name');
  if (args.timeoutMs !== undefined && !args.wait) throw new UsageError('--timeout needs --wait');
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

/** Clients as the CLI's global options say, in another region when given (ECR is regional). */
function clientsFor(cli: Pick<ActionContext, 'io' | 'opts'>, region?: string) {
  const options = clientOptions(cli);
  return lazyClients({ ...options, ...(region && { region }) });
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
  if (plan.promotion && plan.promotion.endpoints.length > 0) io.stdout(`  then promote endpoint(s) ${plan.promotion.endpoints.join(', ')} once the new version is READY`);
  else io.stdout('  then follow the new version to READY; no named endpoint is promoted (DEFAULT follows the new version)');
}

function printOutcome(io: CliIO, outcome: RuntimeOutcome): void {
  if (outcome.status === 'updated') {
    io.stdout(`Updated runtime ${outcome.runtimeId}: version ${outcome.fromVersion ?? '?'} -> ${outcome.toVersion ?? '?'}.`);
    const p = outcome.promotion;
    if (p?.started) io.stdout(`Promotion started: ${p.name} (${p.endpoints.length > 0 ? `endpoints ${p.endpoints.join(', ')}` : 'follows the new version to READY'}).`);
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
  const clients = clientsFor(cli);
  const homeRegion = clientOptions(cli).region;
  const ctx: RedeployContext = {
    adapters: createAdapters(clients, { agentCore: { acknowledgedMembers: config.unknownMembers.acknowledged } }),
    config,
    log: cliLog(io, args.json),
    remainingMs: () => 120_000 - (Date.now() - started),
    home: { region: homeRegion },
    // ECR is regional: an image in another region is looked up there.
    ecrIn: (region) => createAdapters(clientsFor(cli, region)).ecr,
  };
  const runtimeId = args.runtime as string;

  // Every accepted update is followed by the promotion state machine: found before anything is
  // written, or nothing is.
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
      `autopilot redeploy: no runtime-promotion state machine was found to follow the new version of ${runtimeId} ` +
        `(no --state-machine, no PROMOTION_STATE_MACHINE_ARN, no state machine named ${promotionStateMachineName(args.stage ?? 'dev')}); ` +
        'deploy the stack, or pass --state-machine ARN or --stage. Nothing was changed.',
    );
    return EXIT.usage;
  }
  ctx.promotionStateMachineArn = arn;
  // The stack's account is the home account (what an empty registry list in a rule allows).
  ctx.home = { ...ctx.home, account: arn.split(':')[4] };

  let image;
  try {
    image = await resolveImage(ctx, runtimeId, args.image as string);
  } catch (err) {
    const usage = err instanceof InvalidRedeployRequestError;
    const e = describeError(err);
    io.stderr(`autopilot redeploy: ${usage ? `refused, nothing was changed: ${e.message}` : err instanceof ImageLookupFailedError ? `${e.message}; nothing was changed` : `image lookup failed: ${e.name}${e.message ? `: ${e.message}` : ''}`}`);
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
  if (outcome.status === 'failed') {
    if (args.json) out({ plan, outcome });
    return EXIT.failed;
  }
  // The update stands, but its promotion did not start: say so in the exit code.
  if (outcome.status === 'updated' && !outcome.promotion?.started) {
    if (args.json) out({ plan, outcome });
    return EXIT.failed;
  }
  if (!args.wait || outcome.promotion?.executionArn === undefined) {
    if (args.json) out({ plan, outcome });
    return EXIT.ok;
  }
  const end = await waitFor(io, ctx, outcome.promotion.executionArn, args);
  if (args.json) out({ plan, outcome, promotion: end });
  else printPromotionEnd(io, outcome, end);
  return end.status === 'SUCCEEDED' && end.outcome === 'PROMOTED' ? EXIT.ok : EXIT.notPromoted;
}

/** --wait: polls the promotion until it stops (or --timeout runs out: exit 5); progress on stderr. */
async function waitFor(io: CliIO, ctx: RedeployContext, executionArn: string, args: Args): Promise<PromotionEnd> {
  let last = '';
  const started = Date.now();
  const expired = () => args.timeoutMs !== undefined && Date.now() - started >= args.timeoutMs;
  const end = await waitForPromotion(ctx.adapters.sfn, executionArn, {
    intervalMs: args.intervalSeconds * 1000,
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, args.timeoutMs === undefined ? ms : Math.max(0, args.timeoutMs - (Date.now() - started))))),
    deadline: expired,
    onPoll: (status) => {
      if (status !== last && !args.json) io.stderr(`autopilot redeploy: promotion ${executionArn.split(':').at(-1)}: ${status}`);
      last = status;
    },
  });
  if (end.status === 'RUNNING' || end.status === 'PENDING_REDRIVE') {
    throw timedOut(`timed out after ${formatDuration(args.timeoutMs ?? 0)} waiting for promotion ${executionArn.split(':').at(-1)}; it goes on`);
  }
  return end;
}

function printPromotionEnd(io: CliIO, outcome: RuntimeOutcome, end: PromotionEnd): void {
  const endpoints = outcome.promotion?.endpoints ?? [];
  if (end.outcome === 'PROMOTED') {
    io.stdout(endpoints.length > 0
      ? `Promoted: endpoint(s) ${endpoints.join(', ')} now serve version ${outcome.toVersion}.`
      : `Promoted: version ${outcome.toVersion} is READY and serving DEFAULT.`);
  } else {
    const what = end.outcome ? end.outcome.replace('_', ' ').toLowerCase() : `execution ${end.status.toLowerCase()}`;
    io.stderr(`autopilot redeploy: promotion of version ${outcome.toVersion} ${what}${end.error ? ` (${end.error})` : ''}`);
  }
}

