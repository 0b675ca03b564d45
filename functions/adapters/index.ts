/**
 * All adapters over one client set. Handlers' `defaultDeps()` can use
 * `createAdapters(defaultClients())`; clients are still only built when an adapter first uses them.
 */
import type { AwsClients } from '../lib/clients.ts';
import { AgentCoreAdapter, type AgentCoreAdapterOptions } from './agentcore.ts';
import { CloudWatchAdapter } from './cloudwatch.ts';
import { EcrAdapter } from './ecr.ts';
import { EventsAdapter } from './events.ts';
import { SfnAdapter } from './sfn.ts';

export { AgentCoreAdapter, CloudWatchAdapter, EcrAdapter, EventsAdapter, SfnAdapter };

export interface Adapters {
  readonly agentCore: AgentCoreAdapter;
  readonly cloudWatch: CloudWatchAdapter;
  readonly ecr: EcrAdapter;
  readonly events: EventsAdapter;
  readonly sfn: SfnAdapter;
}

/** One adapter per service; each is built, with its client, on first access. */
export function createAdapters(clients: AwsClients, options: { agentCore?: AgentCoreAdapterOptions } = {}): Adapters {
  const builders: { [K in keyof Adapters]: () => Adapters[K] } = {
    agentCore: () => new AgentCoreAdapter(clients.agentCoreControl, options.agentCore),
    cloudWatch: () => new CloudWatchAdapter(clients.cloudWatch),
    ecr: () => new EcrAdapter(clients.ecr),
    events: () => new EventsAdapter(clients.eventBridge),
    sfn: () => new SfnAdapter(clients.sfn),
  };
  const built: Partial<Record<keyof Adapters, unknown>> = {};
  const adapters = {} as Adapters;
  for (const key of Object.keys(builders) as (keyof Adapters)[]) {
    Object.defineProperty(adapters, key, { enumerable: true, get: () => (built[key] ??= builders[key]()) });
  }
  return adapters;
}
