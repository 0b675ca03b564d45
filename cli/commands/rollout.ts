/**
 * `autopilot rollout start|status|approve|reject|abort`: staged Cedar policy rollouts
 * (statemachines/policy-rollout.asl.yaml) from the command line.
 */
import { ListStateMachinesCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { createAdapters, type Adapters } from '../../functions/adapters/index.ts';
import { getExecutionHistory } from '../../functions/adapters/sfn-history.ts';
import { lazyClients, type ClientOptions } from '../../functions/lib/clients.ts';
import { ConfigError } from '../../functions/lib/config/config-error.ts';
import { loadConfig } from '../../functions/lib/config/load.ts';
import { NO_ACKNOWLEDGED_MEMBERS } from '../../functions/lib/model/unknown-members.ts';
import type { Config } from '../../functions/lib/config/types.ts';
import { AutopilotError, ResourceNotFoundError } from '../../functions/lib/errors.ts';
import { now } from '../../functions/lib/time.ts';
import { buildGatewayUpdate } from '../../functions/domain/gateway-update.ts';
import type { RolloutResult, VerifyResult } from '../../functions/domain/rollout/contract.ts';
import { ApprovalRejectedError, InvalidRolloutInputError, RolloutInProgressError } from '../../functions/domain/rollout/errors.ts';
import { isRolloutOfGateway, rolloutExecutionPrefix } from '../../functions/domain/rollout/execution-name.ts';
import { rolloutProgress, type HistoryEventLike, type RolloutProgress } from '../../functions/domain/rollout/inspect.ts';
import { startPolicyRollout, validateStartRequest, type StartRolloutRequest } from '../../functions/domain/rollout/start.ts';
import { abortRollout } from '../../functions/app/rollout-abort.ts';
import { causeMessage } from '../../functions/domain/rollout/outcome.ts';
import type { RestoreReport } from '../../functions/domain/rollout/restore.ts';
import type { CliCommand, CliIO } from '../types.ts';

export const EXIT = { OK: 0, ERROR: 1, USAGE: 2, REFUSED: 3, NOT_ENFORCED: 4 } as const;

const HELP = `Usage: autopilot rollout <start|status|approve|reject|abort> [options]

Staged Cedar policy rollouts of an AgentCore gateway: LOG_ONLY -> bake -> verify -> (approval)
-> ENFORCE -> bake -> verify, with exact rollback (Step Functions state machine policy-rollout).

  start    --gateway ID [--engine ARN] [--dry-run] [--wait] [--attempt X]
           [--bake-minutes N] [--enforce-bake-minutes N] [--max-deny-ratio R] [--min-decisions N]
           [--max-bake-extensions N] [--alarm NAME]... [--approval] [--approval-timeout-minutes N]
           Starts a rollout (one per gateway; the same request again returns the running one).
           The engine defaults to the config's policyEngine.arn, else the attached engine.
           Overrides apply to this run only, on top of the config's rollout settings.
  status   --gateway ID | --execution ARN [--watch [--interval S]]
           Stage, time left in the bake, last gate figures, pending approval, outcome.
  approve  --gateway ID | --execution ARN | --token T [--by NAME] [--comment TEXT]
  reject   --gateway ID | --execution ARN | --token T [--by NAME] [--reason TEXT]
           Answers the pending approval (token from the execution, or from the
           "Policy Rollout Awaiting Approval" event). A rejection ends the rollout ABORTED.
  abort    --gateway ID | --execution ARN [--reason TEXT] [--by NAME] [--no-restore]
           Stops the execution (StopExecution); then, unless --no-restore, puts the gateway's
           policyEngineConfiguration recorded at preflight back (only that field; if someone else
           changed it meanwhile, it is left alone: CONFLICT, exit 3). Publishes Policy Rollout Aborted.

Common options:
  --json                  machine-readable output
  --config FILE           autopilot config (default: $AUTOPILOT_CONFIG_FILE, else ./autopilot.config.yaml if present)
  --state-machine ARN     the policy-rollout state machine (default: $ROLLOUT_STATE_MACHINE_ARN, else
                          agentcore-autopilot-<stage>-policy-rollout found with ListStateMachines)
  --stage STAGE           serverless stage for that lookup (default: dev)
  -h, --help              show this help

AWS access: the default credential chain and region; AWS_ENDPOINT_URL points at the local stack.

Exit codes:
  0  success (start: started or already running; --wait: ENFORCED / WOULD_PROMOTE)
  1  error: AWS or config error, no rollout found for the gateway, no such execution
  2  usage error: unknown subcommand or option, missing or invalid option value
     (e.g. --max-deny-ratio 2, --bake-minutes 0, a malformed --gateway or --execution)
  3  refused: another rollout running, the same request already ran, no approval pending,
     execution not running
  4  --wait: the rollout ended without enforcing (HALTED_IN_LOG_ONLY, ROLLED_BACK, ABORTED,
     WOULD_HALT, failed)`;

class UsageError extends Error {}
/** A usage error found after parsing (a bad option value): the message and a pointer to --help. */
class InvalidValue extends UsageError {}

interface Args {
  sub: string;
  flags: Map<string, string[]>;
}

const BOOLEAN_FLAGS = new Set(['--dry-run', '--wait', '--json', '--approval', '--watch', '--no-restore']);
const VALUE_FLAGS = new Set([
  '--gateway', '--engine', '--attempt', '--bake-minutes', '--enforce-bake-minutes', '--max-deny-ratio', '--min-decisions',
  '--max-bake-extensions', '--alarm', '--approval-timeout-minutes', '--execution', '--token', '--by', '--comment', '--reason',
  '--config', '--state-machine', '--stage', '--interval', '--poll-ms',
]);
const ALLOWED: Record<string, string[]> = {
  start: ['--gateway', '--engine', '--dry-run', '--wait', '--attempt', '--bake-minutes', '--enforce-bake-minutes', '--max-deny-ratio',
    '--min-decisions', '--max-bake-extensions', '--alarm', '--approval', '--approval-timeout-minutes', '--poll-ms'],
  status: ['--gateway', '--execution', '--watch', '--interval'],
  approve: ['--gateway', '--execution', '--token', '--by', '--comment'],
  reject: ['--gateway', '--execution', '--token', '--by', '--reason'],
  abort: ['--gateway', '--execution', '--reason', '--by', '--no-restore'],
};
const COMMON = ['--json', '--config', '--state-machine', '--stage'];

function parseArgs(argv: string[]): Args {
  const [sub, ...rest] = argv;
  if (!sub) throw new UsageError('missing subcommand (start, status, approve, reject or abort)');
  if (!ALLOWED[sub]) throw new UsageError(`unknown subcommand '${sub}'`);
  const flags = new Map<string, string[]>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (!ALLOWED[sub].includes(flag) && !COMMON.includes(flag)) {
      throw new UsageError(a.startsWith('-') ? `unknown option ${flag} for 'rollout ${sub}'` : `unexpected argument ${a}`);
    }
    if (BOOLEAN_FLAGS.has(flag)) {
      flags.set(flag, ['true']);
      continue;
    }
    if (!VALUE_FLAGS.has(flag)) throw new UsageError(`unknown option ${flag}`);
    const value = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : rest[++i];
    if (value === undefined || (value.startsWith('--') && eq < 0)) throw new UsageError(`${flag} needs a value`);
    flags.set(flag, [...(flags.get(flag) ?? []), value]);
  }
  return { sub, flags };
}

const one = (a: Args, flag: string): string | undefined => a.flags.get(flag)?.at(-1);
const has = (a: Args, flag: string): boolean => a.flags.has(flag);

function num(a: Args, flag: string): number | undefined {
  const v = one(a, flag);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidValue(`${flag} must be a number (got ${JSON.stringify(v)})`);
  return n;
}

// --- AWS access ----------------------------------------------------------------------------------

interface Env {
  adapters: Adapters;
  sfn: SFNClient;
  close(): void;
}

function clientsFrom(io: CliIO, a?: Args): Env {
  const e = io.env;
  const options: ClientOptions = {
    region: e.AWS_REGION || e.AWS_DEFAULT_REGION || undefined,
    endpoint: e.AWS_ENDPOINT_URL || undefined,
    ...(e.AWS_ACCESS_KEY_ID && e.AWS_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY, ...(e.AWS_SESSION_TOKEN && { sessionToken: e.AWS_SESSION_TOKEN }) } }
      : {}),
  };
  const clients = lazyClients(options);
  return {
    // An abort restores the gateway: unknown members acknowledged in the config (if any) are honoured.
    adapters: createAdapters(clients, { agentCore: { acknowledgedMembers: async () => (a && (await configFor(a, io))?.unknownMembers.acknowledged) || NO_ACKNOWLEDGED_MEMBERS } }),
    sfn: clients.sfn,
    close: () => {
      clients.sfn.destroy();
      clients.agentCoreControl.destroy();
    },
  };
}

async function stateMachineArn(a: Args, io: CliIO, env: Env): Promise<string> {
  const given = one(a, '--state-machine') ?? (io.env.ROLLOUT_STATE_MACHINE_ARN || undefined);
  if (given) return given;
  const wanted = `agentcore-autopilot-${one(a, '--stage') ?? 'dev'}-policy-rollout`;
  let nextToken: string | undefined;
  do {
    const page = await env.sfn.send(new ListStateMachinesCommand({ nextToken }));
    const found = page.stateMachines?.find((m) => m.name === wanted);
    if (found?.stateMachineArn) return found.stateMachineArn;
    nextToken = page.nextToken;
  } while (nextToken);
  throw new AutopilotError(`No state machine named ${wanted}; deploy the stack or pass --state-machine ARN`);
}

async function configFor(a: Args, io: CliIO): Promise<Config | undefined> {
  const file = one(a, '--config') ?? (io.env.AUTOPILOT_CONFIG_FILE || undefined);
  try {
    return await loadConfig(file, { env: io.env });
  } catch (err) {
    // Without --config / AUTOPILOT_CONFIG_FILE the config is optional (no file: no defaults from it).
    if (!file && err instanceof ConfigError && err.issues.every((i) => i.message.startsWith('configuration file does not exist'))) return undefined;
    throw err;
  }
}

/** The execution a status/approve/reject/abort is about: --execution, else the gateway's newest rollout. */
async function targetExecution(a: Args, io: CliIO, env: Env): Promise<string> {
  const execution = one(a, '--execution');
  if (execution) {
    if (!EXECUTION_ARN.test(execution)) throw new InvalidValue(`--execution must be a Step Functions execution ARN (got ${JSON.stringify(execution)})`);
    return execution;
  }
  const gatewayId = one(a, '--gateway');
  if (!gatewayId) throw new UsageError('give --gateway ID or --execution ARN');
  const arn = await stateMachineArn(a, io, env);
  const all = await env.adapters.sfn.listExecutions(arn);
  const mine = all
    .filter((e) => e.name && (isRolloutOfGateway(e.name, gatewayId) || e.name.startsWith(rolloutExecutionPrefix(gatewayId, { dryRun: true }))))
    .sort((x, y) => (y.startDate?.getTime() ?? 0) - (x.startDate?.getTime() ?? 0));
  const running = mine.find((e) => e.status === 'RUNNING');
  const pick = running ?? mine[0];
  if (!pick?.executionArn) {
    throw new NotFound(`No rollout found for gateway ${gatewayId}: ${arn} has no execution for it (check the gateway id, --stage or --state-machine)`);
  }
  return pick.executionArn;
}

const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[^:]*:[^:]*:execution:[^:]+:.+$/;

/** The operator asked for something that is not allowed now (exit 3). */
class Refused extends Error {}
/** The rollout or execution asked about does not exist (exit 1, with a clear message). */
class NotFound extends Error {}

// --- status ------------------------------------------------------------------------------------

export interface RolloutStatus {
  executionArn: string;
  name: string;
  status: string;
  gatewayId: string | undefined;
  policyEngineArn: string | undefined;
  dryRun: boolean;
  stage: RolloutProgress['phase'];
  state: string | undefined;
  bakeSecondsLeft?: number;
  bakeEndsAt?: string;
  shadow: VerifyResult | null;
  enforce: VerifyResult | null;
  approvalPending: boolean;
  approvalDeadline?: string;
  outcome: string | null;
  /** ROLLED_BACK / CONFLICT: what the rollback restored, or what someone else changed. */
  restore?: RestoreReport | null;
  error?: string;
  cause?: string;
}

async function readStatus(env: Env, executionArn: string): Promise<{ status: RolloutStatus; token: string | null; progress: RolloutProgress }> {
  let d;
  try {
    d = await env.adapters.sfn.describeExecution(executionArn);
  } catch (err) {
    if (err instanceof ResourceNotFoundError) throw new NotFound(`No execution ${executionArn}`);
    throw err;
  }
  const events = (await getExecutionHistory(env.sfn, executionArn)) as HistoryEventLike[];
  const progress = rolloutProgress(events, now().getTime());
  const input = d.input ? (JSON.parse(d.input) as { gatewayId?: string; policyEngineArn?: string; dryRun?: boolean }) : {};
  const output = d.output ? (JSON.parse(d.output) as RolloutResult) : undefined;
  const status: RolloutStatus = {
    executionArn,
    name: d.name ?? executionArn.split(':').at(-1)!,
    status: String(d.status),
    gatewayId: input.gatewayId,
    policyEngineArn: input.policyEngineArn,
    dryRun: input.dryRun === true,
    stage: progress.phase,
    state: progress.state,
    ...(progress.bakeSecondsLeft !== undefined && { bakeSecondsLeft: progress.bakeSecondsLeft, bakeEndsAt: new Date(progress.bakeEndsAt!).toISOString() }),
    shadow: output?.shadow ?? progress.shadow,
    enforce: output?.enforce ?? progress.enforce,
    approvalPending: progress.approvalToken !== null,
    ...(progress.approvalDeadline !== undefined && { approvalDeadline: new Date(progress.approvalDeadline).toISOString() }),
    outcome: output?.outcome ?? (d.status === 'RUNNING' ? null : d.status === 'FAILED' && d.error === 'RollbackFailedError' ? 'ROLLBACK_FAILED' : String(d.status)),
    ...(output?.restore && { restore: output.restore }),
    ...(d.error !== undefined && { error: d.error }),
    ...(d.cause !== undefined && { cause: d.cause }),
  };
  return { status, token: progress.approvalToken, progress };
}

function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${String(s).padStart(2, '0')}s`;
}

function gateLine(label: string, v: VerifyResult | null): string {
  if (!v) return `${label.padEnd(9)}-`;
  const r = v.report;
  const ratio = `${(r.denyRatio * 100).toFixed(2)}%`;
  const ext = v.extensionsUsed > 0 ? `, ${v.extensionsUsed} extension(s)` : '';
  const pad = ' '.repeat(9);
  const reasons = r.reasons.length > 0 ? `\n${pad}${r.reasons.join('\n' + pad)}` : '';
  // Every figure names the one stream it was read from (never a sum of overlapping projections).
  const streams = r.gates.filter((g) => g.stream).map((g) => `${pad}${g.name.padEnd(22)}${g.value === null ? '-' : String(g.value).padEnd(8)} ${g.stream}${g.published === false ? ' (not published)' : ''}`);
  const tools = r.toolList
    ? [`${pad}tool listings (per tool, not in the deny ratio): ${r.toolList.allow} shown, ${r.toolList.deny} filtered out over ${r.toolList.tools.length} tool(s)`]
    : [];
  return [`${label.padEnd(9)}${v.verdict} (${v.decision}${ext}): ${r.decisions} decisions, deny ratio ${ratio}, window ${v.window.start} .. ${v.window.end}${reasons}`, ...streams, ...tools].join('\n');
}

function render(s: RolloutStatus): string {
  const lines = [
    `Rollout  ${s.name}${s.dryRun ? ' (dry run)' : ''}`,
    `Gateway  ${s.gatewayId ?? '?'}   engine ${s.policyEngineArn ?? '?'}`,
    `Status   ${s.status}${s.outcome ? ` -> ${s.outcome}` : ''}`,
    `Stage    ${s.stage}${s.state ? ` (${s.state})` : ''}`,
  ];
  if (s.bakeSecondsLeft !== undefined) lines.push(`Bake     ${duration(s.bakeSecondsLeft)} left (ends ${s.bakeEndsAt})`);
  lines.push(gateLine('Shadow', s.shadow), gateLine('Enforce', s.enforce));
  if (s.approvalPending) {
    lines.push(`Approval waiting${s.approvalDeadline ? ` until ${s.approvalDeadline}` : ''}: autopilot rollout approve|reject --execution ${s.executionArn}`);
  }
  if (s.restore) {
    const r = s.restore;
    lines.push(r.action === 'conflict'
      ? `Conflict policyEngineConfiguration was changed by someone else during the rollout (now ${JSON.stringify(r.from)}): left as it is, not restored to ${JSON.stringify(r.to)}`
      : `Restore  policyEngineConfiguration ${r.action === 'restored' ? `${JSON.stringify(r.from)} -> ${JSON.stringify(r.to)}` : 'unchanged'}`);
  }
  if (s.error) lines.push(`Error    ${s.error}${s.cause ? `: ${causeMessage(s.cause)}` : ''}`);
  return lines.join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- subcommands ---------------------------------------------------------------------------------

/** Request fields (validateStartRequest's problem paths) -> the flags that set them. */
const FIELD_FLAGS: [RegExp, string][] = [
  [/^gatewayId\b/, '--gateway'], [/^policyEngineArn\b/, '--engine'], [/^attempt\b/, '--attempt'],
  [/^settings\.bakeMinutes\b:?/, '--bake-minutes:'], [/^settings\.enforceBakeMinutes\b:?/, '--enforce-bake-minutes:'],
  [/^settings\.maxDenyRatio\b:?/, '--max-deny-ratio:'], [/^settings\.minDecisions\b:?/, '--min-decisions:'],
  [/^settings\.maxBakeExtensions\b:?/, '--max-bake-extensions:'], [/^settings\.alarms\S*?:?(?= )/, '--alarm:'],
  [/^settings\.approval\.timeoutMinutes\b:?/, '--approval-timeout-minutes:'],
];

function asFlagProblem(problem: string): string {
  for (const [re, flag] of FIELD_FLAGS) if (re.test(problem)) return problem.replace(re, flag);
  return problem;
}

async function start(a: Args, io: CliIO, env: Env, json: boolean): Promise<number> {
  const gatewayId = one(a, '--gateway');
  if (!gatewayId) throw new UsageError('rollout start needs --gateway ID');
  const settings: Record<string, unknown> = {};
  const map: [string, string][] = [
    ['--bake-minutes', 'bakeMinutes'], ['--enforce-bake-minutes', 'enforceBakeMinutes'], ['--max-deny-ratio', 'maxDenyRatio'],
    ['--min-decisions', 'minDecisions'], ['--max-bake-extensions', 'maxBakeExtensions'],
  ];
  for (const [flag, key] of map) {
    const v = num(a, flag);
    if (v !== undefined) settings[key] = v;
  }
  if (has(a, '--alarm')) settings.alarms = a.flags.get('--alarm');
  const approvalTimeout = num(a, '--approval-timeout-minutes');
  if (has(a, '--approval') || approvalTimeout !== undefined) {
    settings.approval = { ...(has(a, '--approval') && { required: true }), ...(approvalTimeout !== undefined && { timeoutMinutes: approvalTimeout }) };
  }
  const request: StartRolloutRequest = {
    gatewayId,
    ...(one(a, '--engine') !== undefined && { policyEngineArn: one(a, '--engine') }),
    ...(has(a, '--dry-run') && { dryRun: true }),
    ...(one(a, '--attempt') !== undefined && { attempt: one(a, '--attempt') }),
    ...(Object.keys(settings).length > 0 && { settings }),
  };
  const config = await configFor(a, io);
  try {
    validateStartRequest(request, config);
  } catch (err) {
    if (!(err instanceof InvalidRolloutInputError)) throw err;
    const problems = (err.details?.problems as string[] | undefined) ?? [err.message];
    throw new InvalidValue(`invalid option value: ${problems.map(asFlagProblem).join('; ')}`);
  }
  const result = await startPolicyRollout(
    { sfn: env.adapters.sfn, agentCore: env.adapters.agentCore, stateMachineArn: await stateMachineArn(a, io, env), config, now },
    request,
  );
  if (!has(a, '--wait')) {
    if (json) io.stdout(JSON.stringify(result, null, 2));
    else {
      const what = { STARTED: 'Started', ALREADY_RUNNING: 'Already running', ALREADY_RAN: 'Already ran (pass --attempt to run it again)' }[result.status];
      io.stdout(`${what}: ${result.executionName}${result.dryRun ? ' (dry run)' : ''}\n  gateway ${result.gatewayId}, engine ${result.policyEngineArn}\n  ${result.executionArn}`);
    }
    return result.status === 'ALREADY_RAN' ? EXIT.REFUSED : EXIT.OK;
  }
  if (result.status === 'ALREADY_RAN' && !json) io.stderr(`Already ran: ${result.executionName} (${result.executionStatus}); showing its result`);
  const pollMs = num(a, '--poll-ms') ?? 5000;
  let last = '';
  for (;;) {
    const { status } = await readStatus(env, result.executionArn);
    if (status.status !== 'RUNNING') {
      if (json) io.stdout(JSON.stringify({ ...result, result: status }, null, 2));
      else io.stdout(render(status));
      return status.outcome === 'ENFORCED' || status.outcome === 'WOULD_PROMOTE' ? EXIT.OK : EXIT.NOT_ENFORCED;
    }
    const line = `${status.stage}${status.bakeSecondsLeft !== undefined ? `, bake ${duration(status.bakeSecondsLeft)} left` : ''}${status.approvalPending ? ', awaiting approval' : ''}`;
    if (!json && line !== last) io.stderr(`  ${line}`);
    last = line;
    await sleep(pollMs);
  }
}

async function status(a: Args, io: CliIO, env: Env, json: boolean): Promise<number> {
  const interval = (num(a, '--interval') ?? 10) * 1000;
  if (!(interval > 0)) throw new InvalidValue(`--interval must be a number of seconds > 0 (got ${one(a, '--interval')})`);
  const executionArn = await targetExecution(a, io, env);
  for (;;) {
    const { status: s } = await readStatus(env, executionArn);
    io.stdout(json ? JSON.stringify(s, null, 2) : render(s));
    if (!has(a, '--watch') || s.status !== 'RUNNING') return EXIT.OK;
    await sleep(interval);
    if (!json) io.stdout('');
  }
}

async function answer(a: Args, io: CliIO, env: Env, json: boolean, approve: boolean): Promise<number> {
  let token = one(a, '--token');
  let executionArn: string | undefined;
  if (!token) {
    executionArn = await targetExecution(a, io, env);
    const read = await readStatus(env, executionArn);
    if (read.status.status !== 'RUNNING' || !read.token) {
      throw new Refused(`No approval is pending for ${read.status.name} (stage ${read.status.stage}, status ${read.status.status})`);
    }
    token = read.token;
  }
  const by = one(a, '--by') ?? io.env.USER ?? 'unknown';
  if (approve) {
    await env.adapters.sfn.sendTaskSuccess(token, { approvedBy: by, comment: one(a, '--comment') ?? null, at: now().toISOString() });
  } else {
    const reason = one(a, '--reason') ?? 'rejected';
    await env.adapters.sfn.sendTaskFailure(token, { error: new ApprovalRejectedError('x').name, cause: `${by}: ${reason}`.slice(0, 256) });
  }
  const out = { answered: approve ? 'APPROVED' : 'REJECTED', by, ...(executionArn && { executionArn }) };
  io.stdout(json ? JSON.stringify(out, null, 2) : `${approve ? 'Approved' : 'Rejected'}${executionArn ? `: ${executionArn}` : ''}`);
  return EXIT.OK;
}

async function abort(a: Args, io: CliIO, env: Env, json: boolean): Promise<number> {
  const executionArn = await targetExecution(a, io, env);
  const before = await readStatus(env, executionArn);
  if (before.status.status !== 'RUNNING') throw new Refused(`${before.status.name} is not running (${before.status.status})`);
  const result = await abortRollout({ adapters: env.adapters }, {
    executionArn,
    preflight: before.progress.preflight,
    shadow: before.status.shadow,
    enforce: before.status.enforce,
    reason: one(a, '--reason') ?? 'aborted from the CLI',
    by: one(a, '--by') ?? io.env.USER ?? 'autopilot CLI',
    restore: !has(a, '--no-restore'),
  });
  const r = result.restore;
  if (json) io.stdout(JSON.stringify(result, null, 2));
  else {
    const what = !r || r.action === 'unchanged'
      ? 'Gateway policyEngineConfiguration unchanged'
      : r.action === 'restored'
        ? `Restored policyEngineConfiguration: ${JSON.stringify(r.from)} -> ${JSON.stringify(r.to)}`
        : `CONFLICT: policyEngineConfiguration was changed by someone else during the rollout (now ${JSON.stringify(r.from)}); left as it is, not restored to ${JSON.stringify(r.to)}`;
    io.stdout(`Aborted: ${executionArn}\n${what}`);
  }
  return r?.action === 'conflict' ? EXIT.REFUSED : EXIT.OK;
}

async function run(argv: string[], io: CliIO): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    io.stderr(`autopilot rollout: ${(err as Error).message}\n\n${HELP}`);
    return EXIT.USAGE;
  }
  const json = has(args, '--json');
  const env = clientsFrom(io, args);
  try {
    switch (args.sub) {
      case 'start': return await start(args, io, env, json);
      case 'status': return await status(args, io, env, json);
      case 'approve': return await answer(args, io, env, json, true);
      case 'reject': return await answer(args, io, env, json, false);
      default: return await abort(args, io, env, json);
    }
  } catch (err) {
    const e = err as Error;
    if (err instanceof InvalidValue) {
      if (json) io.stdout(JSON.stringify({ error: 'UsageError', message: e.message }, null, 2));
      io.stderr(`autopilot rollout ${args.sub}: ${e.message}\nRun 'autopilot rollout --help' for usage.`);
      return EXIT.USAGE;
    }
    if (err instanceof UsageError) {
      io.stderr(`autopilot rollout ${args.sub}: ${e.message}\n\n${HELP}`);
      return EXIT.USAGE;
    }
    const refused = err instanceof Refused || err instanceof RolloutInProgressError;
    const plain = err instanceof Refused || err instanceof NotFound;
    const name = err instanceof Refused ? 'Refused' : err instanceof NotFound ? 'NotFound' : e.name;
    if (json) io.stdout(JSON.stringify({ error: name, message: e.message }, null, 2));
    io.stderr(`autopilot rollout ${args.sub}: ${plain ? '' : `${e.name}: `}${e.message}`);
    return refused ? EXIT.REFUSED : EXIT.ERROR;
  } finally {
    env.close();
  }
}

const command: CliCommand = {
  name: 'rollout',
  summary: 'Staged policy rollouts: start, status, approve, reject, abort',
  help: HELP,
  run,
};

export default command;
