/**
 * `autopilot redeploy --runtime ID --image URI`: what an image push does, by hand, for one runtime.
 * Same orchestration as the onImagePush handler (functions/app/redeploy.ts): pin by digest, carry
 * every other field over, retry a busy runtime, publish the outcome event, start the promotion when
 * the runtime's tracking rule names endpoints. The plan is printed (environment values redacted)
 * before anything is applied.
 */
import { ListStateMachinesCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { createAdapters } from '../../functions/adapters/index.ts';
import type { Log, RedeployContext, RuntimeOutcome } from '../../functions/app/redeploy.ts';
import {
  ImageLookupFailedError, InvalidRedeployRequestError, redeployManually, resolveImage, waitForPromotion, type PromotionEnd,
} from '../../functions/app/redeploy-manual.ts';
import type { FieldChange } from '../../functions/domain/diff.ts';
import { describeError } from '../../functions/domain/redeploy/outcome-events.ts';
import { lazyClients } from '../../functions/lib/clients.ts';
import { ConfigError, loadConfig, type Config } from '../../functions/lib/config/index.ts';
import type { CliCommand, CliIO } from '../types.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2, declined: 3, notPromoted: 4 } as const;

const HELP = `Usage: autopilot redeploy --runtime ID --image URI [--dry-run] [--yes] [--json] [--config FILE]
                          [--state-machine ARN] [--stage STAGE] [--wait [--interval SECONDS]]

Deploys a container image to one AgentCore runtime the way an ECR push does: the image is checked
like a push (inside the tracking rule's registry scope, present in its own region's registry, a
container image: an index needs a linux/arm64 image) and pinned by digest (a tag is resolved
through ECR), every other runtime field is carried over from the live runtime (read-merge-write), a
busy runtime is retried, the outcome is published on the event bus, and the runtime-promotion state
machine follows the new version (moving the endpoints the tracking rule names, if any) to a
Promoted or Failed outcome. The plan (field diff, environment variable values redacted) is printed
before anything is applied. Events say trigger "manual" and carry the digest.

A digest in the runtime's rejected list (tag autopilot:rejected-digests: a promotion rolled it back
or its version ended UPDATE_FAILED) is deployed anyway when you run this by hand; a note says so.
Pushes skip such digests until the tag is cleared.

Options:
  --runtime ID     AgentCore runtime id, e.g. supportAgent-a1b2c3d4e5 (required)
  --image URI      <account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag][@sha256:<64 hex>] (required)
  --dry-run        print the plan and change nothing
  -y, --yes        apply without asking (required when stdin is not a terminal)
  --json           print one JSON document {plan, outcome} instead of text
  --config FILE    autopilot config (default: $AUTOPILOT_CONFIG_FILE, else ./autopilot.config.yaml);
                   supplies keepTag, the promotion settings and the event bus
  --state-machine ARN
                   runtime-promotion state machine (default: $PROMOTION_STATE_MACHINE_ARN, else the
                   one named agentcore-autopilot-<stage>-runtime-promotion, found with ListStateMachines)
  --stage STAGE    serverless stage for that lookup (default: dev)
  --wait           wait for the promotion's outcome (progress on stderr); exit 4 unless Promoted
  --interval S     seconds between two looks at the promotion with --wait (default 5)
  -h, --help       show this help

Environment: the default AWS credential chain and region; AWS_ENDPOINT_URL for the local stack;
PROMOTION_STATE_MACHINE_ARN (see --state-machine).

Exit codes:
  0  applied and the promotion started (--wait: the new version was Promoted), planned
     (--dry-run), or nothing to change (already on that digest)
  1  failed: the update, a lookup, the config or the start of the promotion failed (error on stderr)
  2  usage error or invalid input, nothing was changed: bad option, bad image URI, an image outside
     the rule's registry scope, missing from its registry or not a deployable container image, no
     --yes without a terminal, no promotion state machine found
  3  not applied: the confirmation was declined
  4  --wait: the update was applied but its promotion ended Rolled Back or Failed`;

interface Args {
  runtime?: string;
  image?: string;
  dryRun: boolean;
  yes: boolean;
  json: boolean;
  wait: boolean;
  intervalSeconds: number;
  config?: string;
  stateMachine?: string;
  stage?: string;
}

const RUNTIME_ID = /^[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10}$/;

function parseArgs(argv: string[]): Args | string {
  const args: Args = { dryRun: false, yes: false, json: false, wait: false, intervalSeconds: 5 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const value = (): string | undefined => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    switch (flag) {
      case '--runtime': { const v = value(); if (!v) return '--runtime needs an id'; args.runtime = v; break; }
      case '--image': { const v = value(); if (!v) return '--image needs a URI'; args.image = v; break; }
      case '--config': { const v = value(); if (!v) return '--config needs a file'; args.config = v; break; }
      case '--state-machine': { const v = value(); if (!v) return '--state-machine needs an ARN'; args.stateMachine = v; break; }
      case '--stage': { const v = value(); if (!v) return '--stage needs a name'; args.stage = v; break; }
      case '--dry-run': args.dryRun = true; break;
      case '--yes': case '-y': args.yes = true; break;
      case '--json': args.json = true; break;
      case '--wait': args.wait = true; break;
      case '--interval': {
        const v = Number(value());
        if (!Number.isFinite(v) || v < 0.01 || v > 3600) return '--interval needs a number of seconds (0.01..3600)';
        args.intervalSeconds = v;
        break;
      }
      default:
        return a.startsWith('-') ? `unknown option ${a}` : `unexpected argument ${a}`;
    }
  }
  if (!args.runtime) return 'missing --runtime';
  if (!args.image) return 'missing --image';
  if (!RUNTIME_ID.test(args.runtime)) return '--runtime is not an AgentCore runtime id (<name>-<10 characters>)';
  if (args.stateMachine !== undefined && !STATE_MACHINE_ARN.test(args.stateMachine)) return '--state-machine is not a Step Functions state machine ARN';
  if (args.stage !== undefined && !STAGE.test(args.stage)) return '--stage is not a serverless stage name';
  return args;
}

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;
const STAGE = /^[a-zA-Z0-9-]{1,40}$/;

/** Name serverless.yml gives the runtime-promotion state machine in a stage. */
export function promotionStateMachineName(stage: string): string {
  return `agentcore-autopilot-${stage}-runtime-promotion`;
}

/** --state-machine, else $PROMOTION_STATE_MACHINE_ARN, else ListStateMachines by name; undefined when absent. */
async function findPromotionStateMachine(args: Args, env: NodeJS.ProcessEnv, sfn: SFNClient): Promise<string | undefined> {
  const given = args.stateMachine ?? (env.PROMOTION_STATE_MACHINE_ARN || undefined);
  if (given) return given;
  const wanted = promotionStateMachineName(args.stage ?? 'dev');
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListStateMachinesCommand({ nextToken }));
    const found = page.stateMachines?.find((m) => m.name === wanted);
    if (found?.stateMachineArn) return found.stateMachineArn;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
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

function clientsFor(env: NodeJS.ProcessEnv, region?: string) {
  const credentials = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
    ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }) }
    : undefined;
  return lazyClients({
    endpoint: env.AWS_ENDPOINT_URL || undefined,
    region: region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined),
    credentials,
  });
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

async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    io.stderr(`autopilot redeploy: ${args}\n\n${HELP}`);
    return EXIT.usage;
  }
  const out = (doc: unknown) => io.stdout(JSON.stringify(doc, null, 2));

  let config: Config;
  try {
    config = await loadConfig(args.config, { env: io.env });
  } catch (err) {
    io.stderr(`autopilot redeploy: ${err instanceof ConfigError ? err.message : `cannot load the config: ${(err as Error).message}`}`);
    return EXIT.failed;
  }
  const started = Date.now();
  const clients = clientsFor(io.env);
  const ctx: RedeployContext = {
    adapters: createAdapters(clients, { agentCore: { acknowledgedMembers: config.unknownMembers.acknowledged } }),
    config,
    log: cliLog(io, args.json),
    remainingMs: () => 120_000 - (Date.now() - started),
    home: { region: io.env.AWS_REGION || io.env.AWS_DEFAULT_REGION || undefined },
    // ECR is regional: an image in another region is looked up there.
    ecrIn: (region) => createAdapters(clientsFor(io.env, region)).ecr,
  };
  const runtimeId = args.runtime as string;

  // Every accepted update is followed by the promotion state machine: found before anything is
  // written, or nothing is.
  let arn: string | undefined;
  try {
    arn = await findPromotionStateMachine(args, io.env, clients.sfn);
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

/** --wait: polls the promotion until it stops; one progress line per status change on stderr. */
async function waitFor(io: CliIO, ctx: RedeployContext, executionArn: string, args: Args): Promise<PromotionEnd> {
  let last = '';
  return waitForPromotion(ctx.adapters.sfn, executionArn, {
    intervalMs: args.intervalSeconds * 1000,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    onPoll: (status) => {
      if (status !== last && !args.json) io.stderr(`autopilot redeploy: promotion ${executionArn.split(':').at(-1)}: ${status}`);
      last = status;
    },
  });
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

const command: CliCommand = {
  name: 'redeploy',
  summary: 'Deploy an image to one runtime by hand (pinned by digest, lossless, with promotion)',
  help: HELP,
  run,
};

export default command;
