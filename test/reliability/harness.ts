/**
 * The reliability suite's harness: full before/after snapshots of resources read with the real
 * SDK (GetAgentRuntime / GetGateway), leaf-by-leaf comparison with an allowance for the intended
 * change, per-digest version accounting, output capture (stdout, stderr, console) for the secret
 * checks, and the suite's figures.
 */
import { GetAgentRuntimeCommand, GetGatewayCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import type { Stack } from '../../local/stack.ts';
import { agentcoreClient } from '../../bench/lib/stack.ts';

export { autopilotEvents, countCalls, isWrite, executionHistory, sfnClient } from '../../bench/lib/stack.ts';

/** Members that change with every update or read by design (not configuration). */
const VOLATILE = new Set(['$metadata', 'agentRuntimeVersion', 'status', 'lastUpdatedAt', 'updatedAt', 'failureReason', 'statusReasons']);

export type Snapshot = Record<string, unknown>;

function strip(value: Record<string, unknown>): Snapshot {
  return Object.fromEntries(Object.entries(value).filter(([k, v]) => !VOLATILE.has(k) && v !== undefined));
}

export async function snapshotRuntime(stack: Stack, id: string): Promise<Snapshot> {
  return strip(await agentcoreClient(stack).send(new GetAgentRuntimeCommand({ agentRuntimeId: id })) as unknown as Record<string, unknown>);
}

export async function snapshotGateway(stack: Stack, id: string): Promise<Snapshot> {
  return strip(await agentcoreClient(stack).send(new GetGatewayCommand({ gatewayIdentifier: id })) as unknown as Record<string, unknown>);
}

export async function snapshotAll(stack: Stack, runtimes: string[], gateways: string[]): Promise<Map<string, Snapshot>> {
  const out = new Map<string, Snapshot>();
  for (const id of runtimes) out.set(`runtime:${id}`, await snapshotRuntime(stack, id));
  for (const id of gateways) out.set(`gateway:${id}`, await snapshotGateway(stack, id));
  return out;
}

/** Leaves of a JSON value as pointer -> JSON text (dates as ISO strings). */
export function leaves(value: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (v: unknown, p: string) => {
    if (v instanceof Date) out.set(p, JSON.stringify(v.toISOString()));
    else if (Array.isArray(v)) { if (v.length === 0) out.set(p, '[]'); v.forEach((x, i) => walk(x, `${p}/${i}`)); }
    else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
      if (keys.length === 0) out.set(p, '{}');
      for (const k of keys) walk((v as Record<string, unknown>)[k], `${p}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`);
    } else out.set(p, JSON.stringify(v));
  };
  walk(value, prefix);
  return out;
}

export interface FieldDiff {
  path: string;
  kind: 'lost' | 'altered' | 'added';
}

/** Fields of `before` lost or altered in `after`, and fields added, except under `allowed` paths. */
export function unintendedChanges(before: Snapshot, after: Snapshot, allowed: (string | RegExp)[] = []): FieldDiff[] {
  const ok = (p: string) => allowed.some((a) => (typeof a === 'string' ? p === a || p.startsWith(`${a}/`) : a.test(p)));
  const b = leaves(before);
  const a = leaves(after);
  const out: FieldDiff[] = [];
  for (const [p, v] of b) {
    if (ok(p)) continue;
    if (!a.has(p)) out.push({ path: p, kind: 'lost' });
    else if (a.get(p) !== v) out.push({ path: p, kind: 'altered' });
  }
  for (const p of a.keys()) if (!b.has(p) && !ok(p)) out.push({ path: p, kind: 'added' });
  return out;
}

/** Versions of a runtime created after `sinceVersion`, grouped by image digest. */
export function newVersionsByDigest(stack: Stack, runtimeId: string, sinceVersion: number): Map<string, number> {
  const rt = stack.agentcore.getRuntime(runtimeId);
  const out = new Map<string, number>();
  for (const v of rt.versions) {
    if (v.version <= sinceVersion) continue;
    const uri = String((v.config.agentRuntimeArtifact as { containerConfiguration?: { containerUri?: string } })?.containerConfiguration?.containerUri ?? '');
    const digest = /sha256:[0-9a-f]{64}/.exec(uri)?.[0] ?? uri;
    out.set(digest, (out.get(digest) ?? 0) + 1);
  }
  return out;
}

export function latestVersion(stack: Stack, runtimeId: string): number {
  const rt = stack.agentcore.getRuntime(runtimeId);
  return rt.versions.at(-1)?.version ?? 0;
}

// ---- output capture ---------------------------------------------------------------------------

/** Captures everything written to stdout, stderr and the console until `stop()`; passes nothing through. */
export function captureOutput(): { text: () => string; stop: () => string } {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((s) => s.write);
  streams.forEach((s) => {
    s.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      (rest.find((r) => typeof r === 'function') as (() => void) | undefined)?.();
      return true;
    }) as typeof s.write;
  });
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const consoleOriginals = methods.map((m) => console[m]);
  for (const m of methods) console[m] = (...args: unknown[]) => { chunks.push(`${args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' ')}\n`); };
  let stopped = false;
  return {
    text: () => chunks.join(''),
    stop: () => {
      if (!stopped) {
        streams.forEach((s, i) => { s.write = originals[i]; });
        methods.forEach((m, i) => { console[m] = consoleOriginals[i]; });
        stopped = true;
      }
      return chunks.join('');
    },
  };
}

export function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (x instanceof Error ? { name: x.name, message: x.message, stack: x.stack, cause: x.cause } : typeof x === 'bigint' ? String(x) : x));
  } catch {
    return String(v);
  }
}

/** Text of an error with its whole cause chain (names, messages, details). */
export function errorText(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if (e instanceof Error) {
      parts.push(`${e.name}: ${e.message} ${safeJson((e as { details?: unknown }).details ?? '')}`);
      e = e.cause;
    } else {
      parts.push(safeJson(e));
      break;
    }
  }
  return parts.join(' <- ');
}

// ---- figures ----------------------------------------------------------------------------------

export interface Figures {
  scenariosRun: number;
  faultsInjected: number;
  badInputsTried: number;
  writesOnBadInput: number;
  fieldsLost: number;
  invariantViolations: number;
  secretLeaks: number;
  [k: string]: number;
}

export function newFigures(): Figures {
  return { scenariosRun: 0, faultsInjected: 0, badInputsTried: 0, writesOnBadInput: 0, fieldsLost: 0, invariantViolations: 0, secretLeaks: 0 };
}

/** Sum of the fault injector's counters (latency spikes excluded: those are counted apart). */
export function injectedFaults(stack: Stack): { total: number; byKind: Record<string, number> } {
  const i = stack.emulator.faults.injected;
  return { total: i.throttled + i.internal + i.conflicts + i.errors, byKind: { ...i } };
}

export function printFigures(suite: string, figures: Figures): void {
  const line = Object.entries(figures).map(([k, v]) => `${k}=${v}`).join(' ');
  // eslint-disable-next-line no-console
  console.log(`[reliability] ${suite}: ${line}`);
}
