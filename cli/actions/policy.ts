/**
 * `autopilot policy promote|status|approve|reject|abort|list`: staged promotions of declared Cedar
 * policies (statemachines/policy-promotion.asl.yaml) from the command line.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { createAdapters, type Adapters } from '../../functions/adapters/index.ts';
import { getExecutionHistory } from '../../functions/adapters/sfn-history.ts';
import { abortPromotion } from '../../functions/app/promotion-abort.ts';
import { listPromotions, isPromotionOf, promotionOutcome, type PromotionRow } from '../../functions/app/promotion-history.ts';
import { startPromotion, validatePromotionRequest, type PromotionDeps } from '../../functions/app/promotion.ts';
import { lazyClients } from '../../functions/lib/clients.ts';
import type { Config } from '../../functions/lib/config/types.ts';
import { AutopilotError, ResourceNotFoundError } from '../../functions/lib/errors.ts';
import { now } from '../../functions/lib/time.ts';
import type { PromotionRequest, PromotionResult } from '../../functions/domain/promotion/contract.ts';
import { InvalidPromotionRequestError } from '../../functions/domain/promotion/errors.ts';
import { promotionProgress, type PromotionProgress } from '../../functions/domain/promotion/inspect.ts';
import type { HistoryEvent } from '../../functions/domain/execution-progress.ts';
import { clientOptions } from '../aws.ts';
import { optionalConfig } from '../config.ts';
import { invalidInput, notFound, refused, UsageError } from '../errors.ts';
import { EXIT } from '../exit-codes.ts';
import { table } from '../output.ts';
import type { ActionContext } from '../types.ts';
import { parseDuration, poll, watchExecution } from '../wait.ts';
import { answerThroughApprovalUrl } from './approval.ts';
import { renderPromotion, renderRestore, type PromotionStatus } from './policy-render.ts';

/** Promotion outcomes a pipeline counts as success; any other (also one added later) is exit 4. */
export const SUCCESSFUL_PROMOTION_OUTCOMES: ReadonlySet<string> = new Set(['PROMOTED', 'WOULD_PROMOTE']);

function outcomeExit(outcome: string | null): number {
  return outcome === null || SUCCESSFUL_PROMOTION_OUTCOMES.has(outcome) ? EXIT.OK : EXIT.NOT_SUCCEEDED;
}

interface Env {
  adapters: Adapters;
  sfn: SFNClient;
  close(): void;
}

function clientsFrom(ctx: ActionContext): Env {
  const clients = lazyClients(clientOptions(ctx));
  return {
    adapters: createAdapters(clients),
    sfn: clients.sfn,
    close: () => {
      clients.sfn.destroy();
      clients.agentCoreControl.destroy();
    },
  };
}

/** One invocation's options and what they resolve to. */
class Call {
  private config: Promise<Config | undefined> | undefined;
  readonly ctx: ActionContext;
  readonly env: Env;
  constructor(ctx: ActionContext, env: Env) {
    this.ctx = ctx;
    this.env = env;
  }

  str(name: string): string | undefined {
    const v = this.ctx.opts[name];
    return typeof v === 'string' ? v : undefined;
  }

  flag(name: string): boolean {
    return this.ctx.opts[name] === true;
  }

  loadConfig(): Promise<Config | undefined> {
    this.config ??= optionalConfig(this.str('config'), this.ctx.io.env);
    return this.config;
  }

  /** --engine, else the config's only declared engine. */
  async engine(): Promise<string> {
    const given = this.str('engine');
    if (given) {
      if (!ENGINE_ARN.test(given)) throw new UsageError(`--engine must be a policy engine ARN (got ${JSON.stringify(given)})`);
      return given;
    }
    const engines = (await this.loadConfig())?.policyEngines ?? [];
    if (engines.length === 1) return engines[0].arn;
    throw new UsageError(engines.length === 0
      ? 'give --engine ARN (no config declares a policy engine: policyEngines)'
      : `give --engine ARN: the config declares ${engines.length} policy engines (${engines.map((e) => e.arn).join(', ')})`);
  }

  async stateMachineArn(): Promise<string> {
    const given = this.str('stateMachine') ?? (this.ctx.io.env.POLICY_PROMOTION_STATE_MACHINE_ARN || undefined);
    if (given) return given;
    const wanted = `agentcore-autopilot-${this.str('stage') ?? 'dev'}-policy-promotion`;
    const found = (await this.env.adapters.sfn.findStateMachines([wanted]))[wanted];
    if (found) return found;
    throw new AutopilotError(`No state machine named ${wanted}; deploy the stack or pass --state-machine ARN`);
  }

  timeoutMs(): number | undefined {
    const t = this.str('timeout');
    return t === undefined ? undefined : parseDuration(t, '--timeout');
  }

  /** The execution a status/approve/reject/abort is about: --execution, else the policy's running or newest promotion. */
  async target(): Promise<string> {
    const execution = this.str('execution');
    if (execution) {
      if (!EXECUTION_ARN.test(execution)) throw new UsageError(`--execution must be a Step Functions execution ARN (got ${JSON.stringify(execution)})`);
      return execution;
    }
    const policyName = this.str('policy');
    if (!policyName) throw new UsageError('give --policy NAME or --execution ARN');
    const engine = await this.engine();
    const arn = await this.stateMachineArn();
    const mine = (await this.env.adapters.sfn.listExecutions(arn))
      .filter((e) => e.name && isPromotionOf(e.name, engine, policyName))
      .sort((x, y) => (y.startDate?.getTime() ?? 0) - (x.startDate?.getTime() ?? 0));
    const pick = mine.find((e) => e.status === 'RUNNING') ?? mine[0];
    if (!pick?.executionArn) throw notFound(`No promotion found for policy ${policyName} of ${engine}: ${arn} has no execution for it (check the name, --engine, --stage or --state-machine)`);
    return pick.executionArn;
  }
}

const ENGINE_ARN = /^arn:aws[a-z-]*:bedrock-agentcore:[a-z0-9-]+:\d{12}:policy-engine\/[A-Za-z][A-Za-z0-9_]*-[a-z0-9_]{10}$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[^:]*:[^:]*:execution:[^:]+:.+$/;

async function readStatus(env: Env, executionArn: string): Promise<{ status: PromotionStatus; progress: PromotionProgress }> {
  let d;
  try {
    d = await env.adapters.sfn.describeExecution(executionArn);
  } catch (err) {
    if (err instanceof ResourceNotFoundError) throw notFound(`No execution ${executionArn}`);
    throw err;
  }
  const progress = promotionProgress((await getExecutionHistory(env.sfn, executionArn)) as HistoryEvent[], now().getTime());
  const input = d.input ? (JSON.parse(d.input) as Partial<PromotionRequest>) : {};
  const output = d.output ? (JSON.parse(d.output) as PromotionResult) : undefined;
  const status: PromotionStatus = {
    executionArn,
    name: d.name ?? executionArn.split(':').at(-1)!,
    status: String(d.status),
    policyEngineArn: input.policyEngineArn,
    policyName: input.policyName,
    change: output?.change ?? progress.preflight?.promotion.change ?? null,
    dryRun: input.dryRun === true,
    stage: progress.phase,
    state: progress.state,
    ...(progress.bakeSecondsLeft !== undefined && { bakeSecondsLeft: progress.bakeSecondsLeft, bakeEndsAt: new Date(progress.bakeEndsAt!).toISOString() }),
    logOnly: output?.logOnly ?? progress.logOnly,
    active: output?.active ?? progress.active,
    approvalPending: progress.approvalToken !== null,
    ...(progress.approvalDeadline !== undefined && { approvalDeadline: new Date(progress.approvalDeadline).toISOString() }),
    outcome: promotionOutcome(String(d.status), output, d.error),
    ...(output?.restore && { restore: output.restore }),
    ...(d.error !== undefined && { error: d.error }),
    ...(d.cause !== undefined && { cause: d.cause }),
  };
  return { status, progress };
}

// --- subcommands ---------------------------------------------------------------------------------

async function promote(c: Call): Promise<number> {
  const { io, out } = c.ctx;
  const policyName = c.str('policy');
  if (!policyName) throw new UsageError('policy promote needs --policy NAME');
  const attempt = c.str('attempt');
  const pollMs = c.str('pollMs') === undefined ? 5000 : Number(c.str('pollMs'));
  const timeoutMs = c.timeoutMs();
  if (timeoutMs !== undefined && !c.flag('wait')) throw new UsageError('--timeout needs --wait');
  const policyEngineArn = await c.engine();
  const config = await c.loadConfig();
  if (!config) throw invalidInput('policy promote needs the config that declares the policy (--config FILE or $AUTOPILOT_CONFIG_FILE)');
  const request = { policyEngineArn, policyName, ...(c.flag('dryRun') && { dryRun: true }), ...(attempt !== undefined && { attempt }) };
  // Only declared policies, checked before any AWS call.
  try {
    validatePromotionRequest(request, config);
  } catch (err) {
    if (err instanceof InvalidPromotionRequestError) throw invalidInput(err.message);
    throw err;
  }
  const result = await startPromotion({ sfn: c.env.adapters.sfn, stateMachineArn: await c.stateMachineArn(), config, now }, request);
  if (!c.flag('wait')) {
    const what = { STARTED: 'Started', ALREADY_RUNNING: 'Already running', ALREADY_RAN: 'Already ran (pass --attempt to run it again)' }[result.status];
    out.result(result, () => `${what}: ${result.executionName}${result.dryRun ? ' (dry run)' : ''}\n  policy ${result.policyName}, engine ${result.policyEngineArn}\n  ${result.executionArn}`);
    return result.status === 'ALREADY_RAN' ? EXIT.REFUSED : EXIT.OK;
  }
  if (result.status === 'ALREADY_RAN' && !out.structured) io.stderr(`Already ran: ${result.executionName} (${result.executionStatus}); showing its result`);
  let last = '';
  let current: PromotionStatus | undefined;
  const done = await poll({ intervalMs: pollMs, timeoutMs, describe: () => `promotion ${result.executionName}${current ? ` (stage ${current.stage})` : ''}` }, async () => {
    const { status } = await readStatus(c.env, result.executionArn);
    current = status;
    if (status.status !== 'RUNNING') return status;
    const line = `${status.stage}${status.bakeSecondsLeft !== undefined ? `, bake ${status.bakeSecondsLeft}s left` : ''}${status.approvalPending ? ', awaiting approval' : ''}`;
    if (line !== last) io.stderr(`  ${line}`);
    last = line;
    return undefined;
  });
  out.result({ ...result, result: done }, () => renderPromotion(done));
  return outcomeExit(done.outcome);
}

async function status(c: Call): Promise<number> {
  const intervalText = c.str('interval');
  const interval = (intervalText === undefined ? 10 : Number(intervalText)) * 1000;
  if (!(interval > 0)) throw new UsageError(`--interval must be a number of seconds > 0 (got ${intervalText})`);
  const watch = c.flag('watch');
  const timeoutMs = c.timeoutMs();
  if (timeoutMs !== undefined && !watch) throw new UsageError('--timeout needs --watch');
  const executionArn = await c.target();
  const final = await watchExecution({
    ctx: c.ctx, kind: 'promotion', executionArn, watch, intervalMs: interval, timeoutMs,
    read: async () => (await readStatus(c.env, executionArn)).status,
    render: renderPromotion,
  });
  return outcomeExit(final.outcome);
}

/** Approve or reject through the stack's approval entry point (cli/actions/approval.ts): approvers only, recorded. */
async function answer(c: Call, approve: boolean): Promise<number> {
  const executionArn = await c.target();
  const read = await readStatus(c.env, executionArn);
  if (read.status.status !== 'RUNNING' || !read.progress.approvalToken) {
    throw refused(`No approval is pending for ${read.status.name} (stage ${read.status.stage}, status ${read.status.status})`);
  }
  const doc = await answerThroughApprovalUrl(c.ctx, {
    executionArn, approve, comment: c.str(approve ? 'comment' : 'reason'), url: c.str('approvalUrl'), stage: c.str('stage'),
  });
  c.ctx.out.result(doc, () => `${approve ? 'Approved' : 'Rejected'} by ${doc.by}: ${executionArn}`);
  return EXIT.OK;
}


async function abort(c: Call): Promise<number> {
  const { io, out } = c.ctx;
  const executionArn = await c.target();
  const before = await readStatus(c.env, executionArn);
  if (before.status.status !== 'RUNNING') throw refused(`${before.status.name} is not running (${before.status.status})`);
  const deps: PromotionDeps = {
    adapters: c.env.adapters,
    // A restore never writes the declared statement (it puts back what the promotion found).
    loadConfig: async () => {
      const config = await c.loadConfig();
      if (!config) throw new AutopilotError('no config');
      return config;
    },
    now,
    // The CLI prints its own result; the task's logs are not for the operator.
    logger: new Logger({ logLevel: 'SILENT' }),
  };
  const result = await abortPromotion(deps, {
    executionArn,
    state: before.progress.preflight,
    logOnly: before.status.logOnly,
    active: before.status.active,
    reason: c.str('reason') ?? 'aborted from the CLI',
    by: c.str('by') ?? io.env.USER ?? 'autopilot CLI',
    restore: c.ctx.opts.restore !== false,
  });
  out.result(result, () => `Aborted: ${executionArn}\n${renderRestore(result.restore)}`);
  return result.restore?.action === 'conflict' ? EXIT.REFUSED : EXIT.OK;
}

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];
const at = (iso: string | undefined) => iso?.replace(/\.\d+Z$/, 'Z') ?? '-';

async function list(c: Call): Promise<number> {
  const { out } = c.ctx;
  const status = c.str('status')?.toUpperCase();
  if (status !== undefined && !STATUSES.includes(status)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')} (got ${JSON.stringify(status)})`);
  const limitText = c.str('limit');
  if (limitText !== undefined && !/^[1-9]\d*$/.test(limitText)) throw new UsageError(`--limit must be a positive whole number (got ${JSON.stringify(limitText)})`);
  const policyName = c.str('policy');
  const policy = policyName ? { policyEngineArn: await c.engine(), policyName } : undefined;
  const rows = await listPromotions({ sfn: c.env.adapters.sfn, stateMachineArn: await c.stateMachineArn() }, {
    ...(policy && { policy }), ...(status && { status }), limit: limitText === undefined ? 20 : Number(limitText),
  });
  const outcome = (r: PromotionRow) => r.outcome === null ? 'RUNNING' : out.paint(SUCCESSFUL_PROMOTION_OUTCOMES.has(r.outcome) ? 'green' : 'red', r.outcome);
  const gate = (f: PromotionRow['logOnly']) => f ? `${f.verdict} of ${f.decisions}` : '-';
  out.result(rows, () => rows.length === 0 ? ['No promotions.'] : table(
    ['POLICY', 'CHANGE', 'STARTED', 'OUTCOME', 'LOG_ONLY', 'ACTIVE', 'EXECUTION'],
    rows.map((r) => [r.policyName ?? '?', r.change ?? '-', at(r.startedAt), `${outcome(r)}${r.dryRun ? ' (dry run)' : ''}`, gate(r.logOnly), gate(r.active), r.execution]),
  ));
  return EXIT.OK;
}

/** Runs one `policy` subcommand. */
export async function run(ctx: ActionContext): Promise<number> {
  const sub = ctx.command.split(' ').at(-1)!;
  const env = clientsFrom(ctx);
  const c = new Call(ctx, env);
  try {
    switch (sub) {
      case 'promote': return await promote(c);
      case 'status': return await status(c);
      case 'approve': return await answer(c, true);
      case 'reject': return await answer(c, false);
      case 'list': return await list(c);
      default: return await abort(c);
    }
  } finally {
    env.close();
  }
}
