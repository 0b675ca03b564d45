/**
 * `autopilot redeploy --runtime ID --image URI`: what an image push does, by hand, for one runtime.
 * Same orchestration as the onImagePush handler (functions/app/redeploy.ts): pin by digest, carry
 * every other field over, retry a busy runtime, publish the outcome event, start the promotion when
 * the runtime's tracking rule names endpoints. The plan is printed (environment values redacted)
 * before anything is applied.
 */
import { ListStateMachinesCommand, type SFNClient } from '@aws-sdk/client-sfn';
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
import { configureAgentCorePacing } from '../../functions/lib/pacing.ts';
import { ConfigError, loadConfig, type Config } from '../../functions/lib/config/index.ts';
import type { CliCommand, CliIO } from '../types.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2, declined: 3 } as const;

const HELP = `Usage: autopilot redeploy --runtime ID --image URI [--dry-run] [--yes] [--json] [--config FILE]
                          [--state-machine ARN] [--stage STAGE]

Deploys a container image to one AgentCore runtime the way an ECR push does: the image is pinned
by digest (a tag-only URI is resolved through ECR DescribeImages), every other runtime field is
carried over from the live runtime (read-merge-write), a busy runtime is retried, the outcome is
published on the event bus, and when the runtime's tracking rule names endpoints the
runtime-promotion state machine is started. The plan (field diff, environment variable values
redacted) is printed before anything is applied. Events say trigger "manual" and carry the digest.

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
                   one named agentcore-autopilot-<stage>-runtime-promotion, found with ListStateMachines);
                   looked up only when the runtime's tracking rule has \`promote\`
  --stage STAGE    serverless stage for that lookup (default: dev)
  -h, --help       show this help

Environment: the default AWS credential chain and region; AWS_ENDPOINT_URL for the local stack;
PROMOTION_STATE_MACHINE_ARN (see --state-machine).

Exit codes:
  0  applied (and the promotion started when the rule promotes), planned (--dry-run), or nothing
     to change (already on that digest)
  1  failed: the update, a lookup, the config or the start of the promotion failed (error on stderr)
  2  usage error or invalid input (bad option, bad image URI, unknown tag, no --yes without a
     terminal, the rule promotes but no promotion state machine was found: nothing was changed)
  3  not applied: the confirmation was declined`;

interface Args {
  runtime?: string;
  image?: string;
  dryRun: boolean;
  yes: boolean;
  json: boolean;
  config?: string;
  stateMachine?: string;
  stage?: string;
}

const RUNTIME_ID = /^[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10}$/;

function parseArgs(argv: string[]): Args | string {
  const args: Args = { dryRun: false, yes: false, json: false };
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

function clientsFor(env: NodeJS.ProcessEnv) {
  const credentials = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
    ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }) }
    : undefined;
  return lazyClients({
    endpoint: env.AWS_ENDPOINT_URL || undefined,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
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
    configureAgentCorePacing(config.quotas);
  } catch (err) {
    io.stderr(`autopilot redeploy: ${err instanceof ConfigError ? err.message : `cannot load the config: ${(err as Error).message}`}`);
    return EXIT.failed;
  }
  const started = Date.now();
  const clients = clientsFor(io.env);
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
      arn = await findPromotionStateMachine(args, io.env, clients.sfn);
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
  if (args.json) out({ plan, outcome });
  else printOutcome(io, outcome);
  if (outcome.status === 'failed') return EXIT.failed;
  // The update stands, but a promoting rule's promotion did not start: say so in the exit code.
  return outcome.promotion !== undefined && !outcome.promotion.started ? EXIT.failed : EXIT.ok;
}

const command: CliCommand = {
  name: 'redeploy',
  summary: 'Deploy an image to one runtime by hand (pinned by digest, lossless, with promotion)',
  help: HELP,
  run,
};

export default command;
