import { describe, expect, it } from 'vitest';
import { SFNClient } from '@aws-sdk/client-sfn';
import { AgentCoreAdapter, SfnAdapter, createAdapters } from '../../functions/adapters/index.ts';
import { lazyClients } from '../../functions/lib/clients.ts';

describe('createAdapters', () => {
  it('wraps the given clients, building each adapter once and only when used', () => {
    const sfnClient = new SFNClient({ region: 'us-east-1' });
    const clients = lazyClients({ region: 'us-east-1' }, { sfn: sfnClient });
    let agentCoreBuilt = false;
    const watched = new Proxy(clients, {
      get: (target, key) => {
        if (key === 'agentCoreControl') agentCoreBuilt = true;
        return Reflect.get(target, key);
      },
    });

    const adapters = createAdapters(watched);

    expect(adapters.sfn).toBeInstanceOf(SfnAdapter);
    expect(adapters.sfn.client).toBe(sfnClient);
    expect(adapters.sfn).toBe(adapters.sfn);
    expect(agentCoreBuilt).toBe(false);
    expect(adapters.agentCore).toBeInstanceOf(AgentCoreAdapter);
    expect(agentCoreBuilt).toBe(true);
  });
});
