import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ListAgentRuntimesCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import {
  createAgentCoreControlClient,
  createSfnClient,
  defaultClients,
  lazyClients,
} from '../../functions/lib/clients.ts';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

interface Recorded {
  server: string;
  method: string;
  url: string;
  target: string | undefined;
}

/** A tiny HTTP endpoint that records requests and answers like the JSON/REST AWS protocols. */
function fakeAws(name: string, log: Recorded[], status = 200): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const target = req.headers['x-amz-target'] as string | undefined;
      log.push({ server: name, method: req.method ?? '', url: req.url ?? '', target });
      if (status !== 200) {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'InternalServerError', message: 'down' }));
        return;
      }
      if (target) {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ executions: [] }));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ agentRuntimes: [] }));
      }
    });
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('client factories', () => {
  const log: Recorded[] = [];
  const servers: Record<string, Server> = {
    generic: fakeAws('generic', log),
    specific: fakeAws('specific', log),
    failing: fakeAws('failing', log, 500),
  };
  const urls: Record<string, string> = {};

  beforeAll(async () => {
    for (const [name, server] of Object.entries(servers)) urls[name] = await listen(server);
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => new Promise((resolve) => s.close(resolve))));
  });
  afterEach(() => {
    log.length = 0;
    vi.unstubAllEnvs();
  });

  it('sends to AWS_ENDPOINT_URL when no per-service variable is set (SDK behaviour relied upon)', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', urls.generic);
    const client = createAgentCoreControlClient({ region: 'us-east-1', credentials });

    await client.send(new ListAgentRuntimesCommand({}));

    expect(log).toEqual([expect.objectContaining({ server: 'generic', method: 'POST', url: expect.stringMatching(/^\/runtimes\//) })]);
  });

  it('prefers AWS_ENDPOINT_URL_<SERVICE> over AWS_ENDPOINT_URL', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', urls.generic);
    vi.stubEnv('AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL', urls.specific);
    vi.stubEnv('AWS_ENDPOINT_URL_SFN', urls.specific);

    await createAgentCoreControlClient({ region: 'us-east-1', credentials }).send(new ListAgentRuntimesCommand({}));
    await createSfnClient({ region: 'us-east-1', credentials }).send(new ListExecutionsCommand({ stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:x' }));

    expect(log.map((r) => r.server)).toEqual(['specific', 'specific']);
    expect(log[1].target).toBe('AWSStepFunctions.ListExecutions');
  });

  it('lets an explicit endpoint option win over the variables', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_SFN', urls.generic);

    await createSfnClient({ region: 'us-east-1', credentials, endpoint: urls.specific }).send(new ListExecutionsCommand({}));

    expect(log.map((r) => r.server)).toEqual(['specific']);
  });

  it('makes exactly maxAttempts attempts against a failing service', async () => {
    const client = createSfnClient({ region: 'us-east-1', credentials, endpoint: urls.failing, maxAttempts: 2 });

    await expect(client.send(new ListExecutionsCommand({}))).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });

    expect(log.filter((r) => r.server === 'failing')).toHaveLength(2);
  });
});

describe('lazyClients', () => {
  it('creates a client only on first access and reuses it', () => {
    const clients = lazyClients({ region: 'eu-west-1', credentials });

    const first = clients.sfn;

    expect(clients.sfn).toBe(first);
    expect(first.config.region).toBeTypeOf('function');
  });

  it('uses the overrides instead of building clients', () => {
    const fake = createSfnClient({ region: 'us-east-1', credentials });

    const clients = lazyClients({}, { sfn: fake });

    expect(clients.sfn).toBe(fake);
    expect(clients.ecr).not.toBe(fake);
  });

  it('passes region and maxAttempts to the clients it builds', async () => {
    const clients = lazyClients({ region: 'eu-west-1', credentials, maxAttempts: 5 });

    expect(await clients.agentCoreControl.config.region()).toBe('eu-west-1');
    expect(await clients.agentCoreControl.config.maxAttempts()).toBe(5);
  });

  it('defaultClients returns one process-wide set', () => {
    expect(defaultClients()).toBe(defaultClients());
    expect(Object.keys(defaultClients()).sort()).toEqual(['agentCoreControl', 'cloudWatch', 'ecr', 'eventBridge', 'sfn']);
  });
});
