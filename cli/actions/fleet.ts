/** `autopilot get ...` and `autopilot describe ...`: the fleet as the use case in functions/app/fleet.ts reads it. */
import { readDrift } from '../../functions/app/drift.ts';
import {
  describeGateway, describeRuntime, listEngineRows, listGatewayRows, listRuntimeRows,
  type FleetDeps, type LastRun, type RuntimeRow,
} from '../../functions/app/fleet.ts';
import { ResourceNotFoundError } from '../../functions/lib/errors.ts';
import { optionalConfig } from '../config.ts';
import { notFound } from '../errors.ts';
import { table, type Output } from '../output.ts';
import type { ActionContext } from '../types.ts';
import { driftArgsOf, resolveCliDriftDeps } from './plan.ts';


async function fleetDeps(ctx: ActionContext): Promise<FleetDeps> {
  const args = driftArgsOf(ctx);
  const { deps } = await resolveCliDriftDeps(args, ctx);
  const config = await optionalConfig(args.config, ctx.io.env);
  const drift = config && ctx.opts.drift !== false ? (await readDrift(deps, config)).plan : undefined;
  return {
    agentCore: deps.agentCore, sfn: deps.sfn, config, drift,
    rolloutStateMachineArn: deps.rolloutStateMachineArn, promotionStateMachineArn: deps.promotionStateMachineArn,
  };
}

/** `repo@sha256:0123456789ab…` instead of 64 hex digits; the registry host dropped. */
function shortImage(uri: string | undefined): string {
  if (!uri) return '-';
  const path = uri.replace(/^[^/]+\//, '');
  return path.replace(/@sha256:([0-9a-f]{12})[0-9a-f]+$/, '@sha256:$1…');
}

const last = (r: LastRun | undefined) => (r ? `${r.outcome ?? r.status} (${r.startedAt?.replace(/\.\d+Z$/, 'Z') ?? '?'})` : '-');

function driftCell(out: Output, drift: string): string {
  if (drift === 'drifted' || drift === 'missing' || drift === 'error') return out.paint('yellow', drift);
  return drift;
}

function endpointsCell(r: RuntimeRow): string {
  const named = r.endpoints.filter((e) => e.name !== 'DEFAULT');
  if (named.length === 0) return '-';
  return named.map((e) => `${e.name}=${e.liveVersion ?? '?'}${e.targetVersion && e.targetVersion !== e.liveVersion ? `->${e.targetVersion}` : ''}`).join(',');
}

export async function get(ctx: ActionContext): Promise<number> {
  const kind = ctx.args[0];
  const deps = await fleetDeps(ctx);
  const { out } = ctx;
  if (kind === 'runtimes') {
    const rows = await listRuntimeRows(deps);
    out.result(rows, () => table(
      ['ID', 'VERSION', 'STATUS', 'ENDPOINTS', 'DRIFT', 'TRACKS', 'LAST PROMOTION', 'IMAGE'],
      rows.map((r) => [r.id, r.version ?? '-', r.status ?? '-', endpointsCell(r), driftCell(out, r.drift),
        r.track ? `${r.track.repository} ${r.track.rule}` : '-', last(r.lastPromotion), shortImage(r.image)]),
    ));
  } else if (kind === 'gateways') {
    const rows = await listGatewayRows(deps);
    out.result(rows, () => table(
      ['ID', 'STATUS', 'ENGINE MODE', 'DECLARED MODE', 'DRIFT', 'LAST ROLLOUT', 'POLICY ENGINE'],
      rows.map((g) => [g.id, g.status ?? '-', g.policyEngine?.mode ?? 'DETACHED', g.declaredPolicyEngine?.mode ?? '-', driftCell(out, g.drift),
        last(g.lastRollout), g.policyEngine?.arn.split('/').at(-1) ?? '-']),
    ));
  } else if (kind === 'engines') {
    const rows = await listEngineRows(deps);
    out.result(rows, () => table(
      ['ID', 'NAME', 'STATUS', 'GATEWAYS (MODE)', 'DECLARED BY'],
      rows.map((e) => [e.id, e.name, e.status ?? '-', e.gateways.map((g) => `${g.id} (${g.mode})`).join(', ') || '-', e.declaredBy.join(', ') || '-']),
    ));
  } else {
    return getPolicies(ctx, deps);
  }
  return 0;
}

/** `get policies`: every Cedar policy of one engine (--engine ARN or id) or of every engine (ListPolicies). */
async function getPolicies(ctx: ActionContext, deps: FleetDeps): Promise<number> {
  const engines = await deps.agentCore.listPolicyEngines();
  const wanted = ctx.opts.engine as string | undefined;
  const chosen = wanted ? engines.filter((e) => e.policyEngineArn === wanted || e.policyEngineId === wanted) : engines;
  if (wanted && chosen.length === 0) throw notFound(`No policy engine ${wanted}`);
  const rows = (await Promise.all(chosen.map(async (e) => (await deps.agentCore.listPolicies(e.policyEngineId!)).map((p) => ({
    engine: e.policyEngineId!,
    id: p.policyId ?? '?',
    name: p.name ?? '?',
    status: String(p.status ?? '?'),
    ...(p.enforcementMode !== undefined && { enforcementMode: String(p.enforcementMode) }),
    ...(p.statusReasons && p.statusReasons.length > 0 && { statusReasons: p.statusReasons }),
    ...(p.updatedAt instanceof Date && { updatedAt: p.updatedAt.toISOString() }),
  }))))).flat();
  ctx.out.result(rows, () => table(['ENGINE', 'NAME', 'STATUS', 'MODE', 'ID'], rows.map((p) => [p.engine, p.name, p.status, p.enforcementMode ?? '-', p.id])));
  return 0;
}

export async function describe(ctx: ActionContext): Promise<number> {
  const [kind, id] = ctx.args;
  const deps = await fleetDeps(ctx);
  const { out } = ctx;
  try {
    const detail = kind === 'runtime' ? await describeRuntime(deps, id) : await describeGateway(deps, id);
    out.result(detail, () => {
      const lines: string[] = [];
      const { live, driftFields, ...row } = detail as typeof detail & { endpoints?: unknown };
      for (const [k, v] of Object.entries(row)) {
        if (v === undefined) continue;
        lines.push(`${`${k}:`.padEnd(22)}${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
      }
      lines.push('', 'Drifted fields (live -> declared):');
      if (driftFields.length === 0) lines.push(detail.declared ? '  none' : '  (not declared in the config)');
      for (const f of driftFields) lines.push(`  ${out.paint('yellow', '~')} ${f.path}: ${JSON.stringify(f.from) ?? '(absent)'} -> ${JSON.stringify(f.to) ?? '(absent)'}`);
      lines.push('', 'Live configuration:');
      for (const l of JSON.stringify(live, null, 2).split('\n')) lines.push(`  ${l}`);
      return lines;
    });
    return 0;
  } catch (err) {
    if (err instanceof ResourceNotFoundError) throw notFound(`No ${kind} ${id}`);
    throw err;
  }
}
