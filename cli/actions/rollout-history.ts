/** `autopilot rollout list` and `rollout history --gateway ID`: rollouts with outcomes and gate figures. */
import { listRollouts, type GateFigures, type RolloutRow } from '../../functions/app/rollout-history.ts';
import { UsageError } from '../errors.ts';
import { table } from '../output.ts';
import type { ActionContext } from '../types.ts';
import { stateMachineArn, type Args, type Env } from './rollout.ts';

const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

function gate(f: GateFigures | undefined): string {
  return f ? `${f.verdict} ${(f.denyRatio * 100).toFixed(1)}% of ${f.decisions}` : '-';
}

const at = (iso: string | undefined) => iso?.replace(/\.\d+Z$/, 'Z') ?? '-';

export async function run(a: Args, env: Env, ctx: ActionContext): Promise<number> {
  const gatewayId = a.flags.get('--gateway')?.at(-1);
  if (a.sub === 'history' && !gatewayId) throw new UsageError('rollout history needs --gateway ID');
  const status = a.flags.get('--status')?.at(-1)?.toUpperCase();
  if (status !== undefined && !STATUSES.includes(status)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')} (got ${JSON.stringify(status)})`);
  const limitText = a.flags.get('--limit')?.at(-1);
  if (limitText !== undefined && !/^[1-9]\d*$/.test(limitText)) throw new UsageError(`--limit must be a positive whole number (got ${JSON.stringify(limitText)})`);
  const rows: RolloutRow[] = await listRollouts(
    { sfn: env.adapters.sfn, stateMachineArn: await stateMachineArn(a, ctx.io, env) },
    { gatewayId, status, limit: limitText === undefined ? 20 : Number(limitText) },
  );
  const { out } = ctx;
  const outcome = (r: RolloutRow) => {
    const text = r.outcome ?? 'RUNNING';
    return r.outcome === null ? text : ['ENFORCED', 'WOULD_PROMOTE'].includes(text) ? out.paint('green', text) : out.paint('red', text);
  };
  out.result(rows, () => rows.length === 0 ? ['No rollouts.'] : table(
    [...(a.sub === 'list' ? ['GATEWAY'] : []), 'STARTED', 'OUTCOME', 'SHADOW', 'ENFORCE', 'EXECUTION'],
    rows.map((r) => [...(a.sub === 'list' ? [r.gatewayId ?? '?'] : []), at(r.startedAt), `${outcome(r)}${r.dryRun ? ' (dry run)' : ''}`, gate(r.shadow), gate(r.enforce), r.execution]),
  ));
  return 0;
}
