/**
 * Expectations of the scenario: named checks read from the emulator's state, the executions and
 * the event log. A check never throws: a missing resource or an unexpected shape is a failed
 * check with a reason, so every step reports everything it could verify.
 */
import type { AwsEvent, EventLogEntry } from '../emulator/eventbridge/eventbridge.ts';
import type { ExecutionSnapshot } from '../emulator/stepfunctions/index.ts';
import type { Stack } from '../stack.ts';

export interface Check {
  name: string;
  ok: boolean;
  /** What was seen (names, versions, digests, counts; never configuration values). */
  detail: string;
}

export function check(name: string, ok: boolean, detail = ''): Check {
  return { name, ok, detail };
}

/** Runs `fn`; an exception becomes a failed check. */
export function safeCheck(name: string, fn: () => Check | [boolean, string]): Check {
  try {
    const r = fn();
    return Array.isArray(r) ? check(name, r[0], r[1]) : r;
  } catch (err) {
    return check(name, false, `could not check: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------- emulator state readers

export interface RuntimeVersionView {
  version: number;
  uri: string | undefined;
  status: string;
  env: Record<string, string> | undefined;
}

export function runtimeVersions(stack: Stack, runtimeId: string): RuntimeVersionView[] {
  const rt = stack.agentcore.findRuntime(runtimeId);
  if (!rt) return [];
  return rt.versions.map((v) => {
    const cfg = v.config as unknown as Record<string, unknown>;
    const artifact = cfg.agentRuntimeArtifact as { containerConfiguration?: { containerUri?: string } } | undefined;
    return {
      version: v.version,
      uri: artifact?.containerConfiguration?.containerUri,
      status: String(stack.agentcore.versionStatus(v)),
      env: cfg.environmentVariables as Record<string, string> | undefined,
    };
  });
}

export function latestVersion(stack: Stack, runtimeId: string): RuntimeVersionView | undefined {
  return runtimeVersions(stack, runtimeId).at(-1);
}

export function endpointLiveVersion(stack: Stack, runtimeId: string, endpoint: string): number | undefined {
  const rt = stack.agentcore.findRuntime(runtimeId);
  if (!rt) return undefined;
  return stack.agentcore.findEndpoint(rt, endpoint)?.liveVersion;
}

export function gatewayPolicy(stack: Stack, gatewayId: string): { mode?: string; arn?: string; status: string } | undefined {
  const gw = stack.agentcore.findGateway(gatewayId);
  if (!gw) return undefined;
  const pe = gw.config.policyEngineConfiguration;
  return { mode: pe?.mode, arn: pe?.arn, status: String(stack.agentcore.gatewayStatus(gw)) };
}

/** `repo@sha256:…` pins `digest` (tag before the digest allowed). */
export function pinsDigest(uri: string | undefined, digest: string): boolean {
  return typeof uri === 'string' && uri.endsWith(`@${digest}`);
}

export function shortDigest(digest: string | undefined): string {
  return digest ? `${digest.slice(0, 19)}…` : '?';
}

// ---------------------------------------------------------------- executions and events

export function executionsOf(stack: Stack, machineKey: string, filter: (input: Record<string, unknown>) => boolean = () => true): ExecutionSnapshot[] {
  const arn = stack.stateMachineArn(machineKey);
  return stack.sfn.listExecutions().filter((e) => {
    if (e.stateMachineArn !== arn) return false;
    try {
      return filter(JSON.parse(e.input) as Record<string, unknown>);
    } catch {
      return false;
    }
  }).sort((a, b) => a.startDate - b.startDate);
}

export function outputOf(e: ExecutionSnapshot | undefined): Record<string, unknown> {
  if (!e?.output) return {};
  try {
    return JSON.parse(e.output) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export function eventsOf(stack: Stack, detailType: string, filter: (d: Record<string, unknown>, e: AwsEvent) => boolean = () => true, since = 0): EventLogEntry[] {
  return stack.events.events.slice(since).filter((x) => x.event['detail-type'] === detailType && filter(x.event.detail ?? {}, x.event));
}

/** Events from our own source whose detail-type starts with `prefix`. */
export function autopilotEvents(stack: Stack, prefix: string, since = 0): EventLogEntry[] {
  return stack.events.events.slice(since).filter((x) => x.event.source === 'agentcore-autopilot' && x.event['detail-type'].startsWith(prefix));
}

/** Whether any string inside `value` (deep) mentions `id`. */
export function mentions(value: unknown, id: string): boolean {
  return JSON.stringify(value ?? null).includes(id);
}
