/**
 * `autopilot rollout start|status|approve|reject|abort`: staged Cedar policy rollouts
 * (statemachines/policy-rollout.asl.yaml) from the command line.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { createAdapters, type Adapters } from '../../functions/adapters/index.ts';
import { getExecutionHistory } from '../../functions/adapters/sfn-history.ts';
import { lazyClients } from '../../functions/lib/clients.ts';
import type { Config } from '../../functions/lib/config/types.ts';
import { AutopilotError, ResourceNotFoundError } from '../../functions/lib/errors.ts';
import { now } from '../../functions/lib/time.ts';
import type { RolloutResult, VerifyResult } from '../../functions/domain/rollout/contract.ts';
import { InvalidRolloutInputError, RolloutInProgressError } from '../../functions/domain/rollout/errors.ts';
import { isRolloutOfGateway, rolloutExecutionPrefix } from '../../functions/domain/rollout/execution-name.ts';
import { NO_ACKNOWLEDGED_MEMBERS } from '../../functions/lib/model/unknown-members.ts';
import { rolloutProgress, type HistoryEventLike, type RolloutProgress } from '../../functions/domain/rollout/inspect.ts';
import { startPolicyRollout, validateStartRequest, type StartRolloutRequest } from '../../functions/domain/rollout/start.ts';
import { abortRollout } from '../../functions/app/rollout-abort.ts';
import { causeMessage } from '../../functions/domain/rollout/outcome.ts';
import type { RestoreReport } from '../../functions/domain/rollout/restore.ts';
import { clientOptions } from '../aws.ts';
import { answerThroughApprovalUrl } from './approval.ts';
import { optionalConfig } from '../config.ts';
import { notFound, refused, UsageError } from '../errors.ts';
import { rolloutOutcomeExit } from '../exit-codes.ts';
import type { ActionContext, CliIO, Options } from '../types.ts';
import { parseDuration, poll, watchExecution } from '../wait.ts';

export const EXIT = { OK: 0, ERROR: 1, USAGE: 2, REFUSED: 3, NOT_ENFORCED: 4 } as const;

/** A usage error found after parsing (a bad option value). */
class InvalidValue extends UsageError {}

export interface Args {
  sub: string;
  flags: Map<string, string[]>;
}

const FLAGS = [
  '--gateway', '--engine', '--attempt', '--bake-minutes', '--enforce-bake-minutes', '--max-deny-ratio', '--min-decisions',
  '--max-bake-extensions', '--alarm', '--approval-timeout-minutes', '--execution', '--approval-url', '--by', '--comment', '--reason',
  '--config', '--state-machine', '--stage', '--interval', '--poll-ms', '--timeout', '--status', '--limit', '--dry-run', '--wait', '--approval', '--watch',
];

const camel = (flag: string) => flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Commander's option values as the flag -> values map the subcommands read. */
export function argsOf(sub: string, opts: Options): Args {
  const flags = new Map<string, string[]>();
  for (const flag of FLAGS) {
    const v = opts[camel(flag)];
    if (v === undefined || v === false) continue;
    flags.set(flag, v === true ? ['true'] : Array.isArray(v) ? v.map(String) : [String(v)]);
  }
  if (opts.restore === false) flags.set('--no-restore', ['true']);
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

export interface Env {
  adapters: Adapters;
  sfn: SFNClient;
  close(): void;
}

export function clientsFrom(ctx: ActionContext, a?: Args): Env {
  const clients = lazyClients(clientOptions(ctx));
  return {
    // An abort restores the gateway: unknown members acknowledged in the config (if any) are honoured.
    adapters: createAdapters(clients, { agentCore: { acknowledgedMembers: async () => (a && (await configFor(a, ctx.io))?.unknownMembers.acknowledged) || NO_ACKNOWLEDGED_MEMBERS } }),
    sfn: clients.sfn,
    close: () => {
      clients.sfn.destroy();
      clients.agentCoreControl.destroy();
    },
  };
}

export async function stateMachineArn(a: Args, io: CliIO, env: Env): Promise<string> {
  const given = one(a, '--state-machine') ?? (io.env.ROLLOUT_STATE_MACHINE_ARN || undefined);
  if (given) return given;
  const wanted = `agentcore-autopilot-${one(a, '--stage') ?? 'dev'}-policy-rollout`;
  const found = (await env.adapters.sfn.findStateMachines([wanted]))[wanted];
  if (found) return found;
  throw new AutopilotError(`No state machine named ${wanted}; deploy the stack or pass --state-machine ARN`);
}

async function configFor(a: Args, io: CliIO): Promise<Config | undefined> {
  return optionalConfig(one(a, '--config'), io.env);
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
    throw notFound(`No rollout found for gateway ${gatewayId}: ${arn} has no execution for it (check the gateway id, --stage or --state-machine)`);
  }
  return pick.executionArn;
}

const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[^:]*:[^:]*:execution:[^:]+:.+$/;


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
    if (err instanceof ResourceNotFoundError) throw notFound(`No execution ${executionArn}`);
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

async function start(a: Args, io: CliIO, env: Env, json: boolean, ctx: ActionContext): Promise<number> {
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
    if (json) ctx.out.document(result);
    else {
      const what = { STARTED: 'Started', ALREADY_RUNNING: 'Already running', ALREADY_RAN: 'Already ran (pass --attempt to run it again)' }[result.status];
      io.stdout(`${what}: ${result.executionName}${result.dryRun ? ' (dry run)' : ''}\n  gateway ${result.gatewayId}, engine ${result.policyEngineArn}\n  ${result.executionArn}`);
    }
    return result.status === 'ALREADY_RAN' ? EXIT.REFUSED : EXIT.OK;
  }
  if (result.status === 'ALREADY_RAN' && !json) io.stderr(`Already ran: ${result.executionName} (${result.executionStatus}); showing its result`);
  const pollMs = num(a, '--poll-ms') ?? 5000;
  const timeoutMs = timeoutOf(a);
  let last = '';
  let current: RolloutStatus | undefined;
  const done = await poll({ intervalMs: pollMs, timeoutMs, describe: () => `rollout ${result.executionName}${current ? ` (stage ${current.stage})` : ''}` }, async () => {
    const { status } = await readStatus(env, result.executionArn);
    current = status;
    if (status.status !== 'RUNNING') return status;
    const line = `${status.stage}${status.bakeSecondsLeft !== undefined ? `, bake ${duration(status.bakeSecondsLeft)} left` : ''}${status.approvalPending ? ', awaiting approval' : ''}`;
    if (line !== last) io.stderr(`  ${line}`);
    last = line;
    return undefined;
  });
  if (json) ctx.out.document({ ...result, result: done });
  else io.stdout(render(done));
  return rolloutOutcomeExit(done.outcome);
}

function timeoutOf(a: Args): number | undefined {
  const t = one(a, '--timeout');
  return t === undefined ? undefined : parseDuration(t, '--timeout');
}

async function status(a: Args, io: CliIO, env: Env, json: boolean, ctx: ActionContext): Promise<number> {
  const interval = (num(a, '--interval') ?? 10) * 1000;
  if (!(interval > 0)) throw new InvalidValue(`--interval must be a number of seconds > 0 (got ${one(a, '--interval')})`);
  const watch = has(a, '--watch');
  const timeoutMs = timeoutOf(a);
  if (timeoutMs !== undefined && !watch) throw new InvalidValue('--timeout needs --watch');
  const executionArn = await targetExecution(a, io, env);
  const final = await watchExecution({
    ctx, kind: 'rollout', executionArn, watch, intervalMs: interval, timeoutMs,
    read: async () => (await readStatus(env, executionArn)).status,
    render,
  });
  // Like kubectl rollout status: a rollout that ended without its goal is not a success.
  return rolloutOutcomeExit(final.outcome);
}

/** Approve or reject through the stack's approval entry point (cli/actions/approval.ts). */
async function answer(a: Args, io: CliIO, env: Env, json: boolean, approve: boolean, ctx: ActionContext): Promise<number> {
  const executionArn = await targetExecution(a, io, env);
  const out = await answerThroughApprovalUrl(ctx, { executionArn, approve, comment: one(a, approve ? '--comment' : '--reason'), url: one(a, '--approval-url'), stage: one(a, '--stage') });
  if (json) ctx.out.document(out);
  else io.stdout(`${approve ? 'Approved' : 'Rejected'} by ${out.by}: ${executionArn}`);
  return EXIT.OK;
}

async function abort(a: Args, io: CliIO, env: Env, json: boolean, ctx: ActionContext): Promise<number> {
  const executionArn = await targetExecution(a, io, env);
  const before = await readStatus(env, executionArn);
  if (before.status.status !== 'RUNNING') throw refused(`${before.status.name} is not running (${before.status.status})`);
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
  if (json) ctx.out.document(result);
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

/** Runs one rollout subcommand. */
export async function run(ctx: ActionContext): Promise<number> {
  const sub = ctx.command.split(' ').at(-1)!;
  const args = argsOf(sub, ctx.opts);
  const { io } = ctx;
  const json = ctx.out.structured;
  const env = clientsFrom(ctx, args);
  try {
    switch (sub) {
      case 'start': return await start(args, io, env, json, ctx);
      case 'status': return await status(args, io, env, json, ctx);
      case 'approve': return await answer(args, io, env, json, true, ctx);
      case 'reject': return await answer(args, io, env, json, false, ctx);
      case 'list': case 'history': return await (await import('./rollout-history.ts')).run(args, env, ctx);
      default: return await abort(args, io, env, json, ctx);
    }
  } catch (err) {
    if (err instanceof RolloutInProgressError) throw refused(err.message);
    throw err;
  } finally {
    env.close();
  }
}
