// The lazily loaded adapters (functions/adapters/lazy.ts): every method of the real adapter, each
// delegating to it once its module has loaded; no client before that. The state-machine tests
// drive them through the rollout and promotion tasks; the packaging test checks that their
// clients sit in chunks the bundles load with import().
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CloudWatchAdapter } from '../../functions/adapters/cloudwatch.ts';
import { EventsAdapter } from '../../functions/adapters/events.ts';
import { lazyCloudWatchAdapter, lazyEventsAdapter, lazySfnAdapter } from '../../functions/adapters/lazy.ts';
import { SfnAdapter, sfnAdapter } from '../../functions/adapters/sfn.ts';
import { adaptersFor } from '../../functions/app/lambda-env.ts';
import { SFNClient } from '@aws-sdk/client-sfn';
import { EventPublishError } from '../../functions/lib/errors.ts';

const eventBridge = mockClient(EventBridgeClient);
const options = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

/** The methods a class defines (what a lazy adapter must offer). */
const methodsOf = (cls: { prototype: object }) => Object.getOwnPropertyNames(cls.prototype).filter((n) => n !== 'constructor').sort();

describe('lazy adapters', () => {
  beforeEach(() => eventBridge.reset());

  it('offer exactly the methods of the adapter they stand for', () => {
    for (const [lazy, cls] of [[lazyCloudWatchAdapter, CloudWatchAdapter], [lazyEventsAdapter, EventsAdapter], [lazySfnAdapter, SfnAdapter]] as const) {
      expect(Object.keys(lazy(options)).sort(), cls.name).toEqual(methodsOf(cls));
    }
  });

  it('delegate to the real adapter once loaded, with its results and its errors', async () => {
    eventBridge.on(PutEventsCommand).resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] })
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'x' }] });
    const events = lazyEventsAdapter(options);
    expect(await events.publish('Policy Rollout Succeeded', { rolloutId: 'r-1' }, { source: 'agentcore-autopilot', busName: 'b' })).toEqual(['e-1']);
    expect(eventBridge).toHaveReceivedCommandWith(PutEventsCommand, { Entries: [expect.objectContaining({ DetailType: 'Policy Rollout Succeeded', EventBusName: 'b' })] });
    await expect(events.publish('Policy Rollout Failed', {}, { source: 'agentcore-autopilot', busName: 'b' })).rejects.toBeInstanceOf(EventPublishError);
  });

  it('have no client to hand out before loading: reading it says so', () => {
    expect(() => lazySfnAdapter(options).client).toThrow(/the Step Functions adapter loads its client on first use/);
  });

  it('and the eager adapter of the same service are kept apart in a process that uses both (the local stack)', () => {
    const env = { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' };
    expect(() => adaptersFor({ sfn: lazySfnAdapter }, env).sfn.client).toThrow(TypeError);
    expect(adaptersFor({ sfn: sfnAdapter }, env).sfn.client).toBeInstanceOf(SFNClient);
    expect(adaptersFor({ sfn: lazySfnAdapter }, env).sfn).toBe(adaptersFor({ sfn: lazySfnAdapter }, env).sfn);
  });
});
