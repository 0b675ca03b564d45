/**
 * The embedded AWS emulator: AgentCore Control on its real wire protocol (restJson1), plus any
 * extra stand-ins (CloudWatch, Step Functions, ...) on the same port. `npm start`, the integration
 * tests and the benchmarks point the real AWS SDK clients at `url`.
 */
import type { Clock } from '../clock.ts';
import { SystemClock } from '../clock.ts';
import { startHttpCore } from './server.ts';
import type { RequestLogEntry, ServiceStandIn } from './types.ts';
import { AgentCoreState } from './agentcore/state.ts';
import { createAgentCoreService } from './agentcore/service.ts';
import { FaultInjector, loadFaultPlan, type FaultPlan } from './faults.ts';
import { applySeed, loadSeedFile, parseSeed, seedSettings, type Seed } from './seed.ts';

export { AgentCoreState } from './agentcore/state.ts';
export { AGENTCORE_SERVICE } from './agentcore/service.ts';
export { FaultInjector, type FaultPlan, type FaultRule } from './faults.ts';
export type { Seed } from './seed.ts';

/** What an extra stand-in factory receives: the shared clock and the AgentCore state. */
export interface StandInContext {
  clock: Clock;
  state: AgentCoreState;
  faults: FaultInjector;
  account: string;
  region: string;
}

export type ServiceFactory = (ctx: StandInContext) => ServiceStandIn;

export interface EmulatorOptions {
  /** TCP port on 127.0.0.1 (default 0 = any free port). */
  port?: number;
  /** A seed object or the path of a YAML seed file. */
  seed?: Seed | string;
  /** A fault plan object or the path of a YAML fault plan. */
  faults?: FaultPlan | string;
  /** Time source for every lifecycle (default SystemClock; tests pass a VirtualClock). */
  clock?: Clock;
  /** Extra stand-ins, served after AgentCore Control on the same port. */
  services?: ServiceFactory[];
  /** Keep request bodies in the request log (default true). */
  logInputs?: boolean;
  /** Real time for the fault plan's latency and quotas (default wall time; the benchmarks compress it). */
  faultTime?: { now: () => number; sleep: (ms: number) => Promise<void> };
}

export interface Emulator {
  url: string;
  port: number;
  /** The live AgentCore Control store (tests read it; scenarios mutate it via its helpers). */
  state: AgentCoreState;
  /** Every request served, in order. */
  requests: RequestLogEntry[];
  /** Calls per `service:operation`, errors included. */
  counters: Map<string, number>;
  /** Calls of one operation (`Operation` or `service:Operation`). */
  count(operation: string): number;
  /** Clears the request log and the counters. */
  resetCounters(): void;
  /** The fault injector (change the plan at run time with setPlan/addRule/forceConflicts). */
  faults: FaultInjector;
  clock: Clock;
  /** Environment variables that point AWS SDKs and the AWS CLI at this emulator. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Starts the emulator on 127.0.0.1. */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const clock = opts.clock ?? new SystemClock();
  const seed = typeof opts.seed === 'string' ? loadSeedFile(opts.seed) : opts.seed ? parseSeed(opts.seed) : undefined;
  const state = new AgentCoreState(clock, seedSettings(seed));
  if (seed) applySeed(state, seed, clock);
  const faults = new FaultInjector(typeof opts.faults === 'string' ? loadFaultPlan(opts.faults) : opts.faults ?? {}, opts.faultTime ?? {});

  const ctx: StandInContext = { clock, state, faults, account: state.settings.account, region: state.settings.region };
  const services: ServiceStandIn[] = [createAgentCoreService(state), ...(opts.services ?? []).map((f) => f(ctx))];
  const core = await startHttpCore({ services, clock, faults, port: opts.port ?? 0, logInputs: opts.logInputs });

  return {
    url: core.url,
    port: core.port,
    state,
    requests: core.requests,
    counters: core.counters,
    count(operation: string): number {
      if (operation.includes(':')) return core.counters.get(operation) ?? 0;
      let n = 0;
      for (const [k, v] of core.counters) if (k.endsWith(`:${operation}`)) n += v;
      return n;
    },
    resetCounters(): void {
      core.requests.length = 0;
      core.counters.clear();
    },
    faults,
    clock,
    env: emulatorEnv(core.url, state.settings.region),
    close: () => core.close(),
  };
}

/** Environment for AWS SDKs / the AWS CLI: endpoint, region and dummy credentials. */
export function emulatorEnv(url: string, region = 'us-east-1'): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: url,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  };
}
