import { resolve } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Clock } from '../../../local/clock.ts';
import { startHttpCore, type HttpCore } from '../../../local/emulator/server.ts';
import { StepFunctionsStandIn, type PutEventsEntry } from '../../../local/emulator/stepfunctions/index.ts';
import { createLambdaRunner, type LambdaRunner } from '../../../local/lambda/runner.ts';
import { loadServerlessConfig, type ServerlessConfig } from '../../../local/lambda/serverless-config.ts';

export const FIXTURE = resolve(import.meta.dirname, '../../fixtures/serverless/basic/serverless.yml');

export interface Stack {
  core: HttpCore;
  sfn: SFNClient;
  standIn: StepFunctionsStandIn;
  runner: LambdaRunner;
  config: ServerlessConfig;
  putEvents: PutEventsEntry[][];
  close(): Promise<void>;
}

/** The Step Functions stand-in on the real HTTP core, with the fixture service's functions and state machines. */
export async function startStack(clock: Clock): Promise<Stack> {
  const config = loadServerlessConfig(FIXTURE, { env: {} });
  const putEvents: PutEventsEntry[][] = [];
  let url = '';
  const runner = createLambdaRunner({
    config,
    env: {
      get AWS_ENDPOINT_URL() { return url; },
      AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'us-east-1',
    },
  });
  const standIn = new StepFunctionsStandIn({
    clock,
    invokeLambda: (target, payload, opts) => runner.invoke(target, payload, opts),
    putEvents: (entries) => { putEvents.push(entries); },
  });
  standIn.registerFromConfig(config);
  const core = await startHttpCore({ services: [standIn], clock });
  url = core.url;
  const sfn = new SFNClient({ endpoint: core.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  return {
    core, sfn, standIn, runner, config, putEvents,
    async close() { sfn.destroy(); await core.close(); },
  };
}

/** Polls until `fn` returns a truthy value (real time). */
export async function until<T>(fn: () => T | Promise<T>, timeoutMs = 5000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}
