/**
 * The emulator's HTTP core: one loopback port, many AWS service stand-ins. It reads the request,
 * asks each stand-in in turn whether the request is theirs, applies the fault plan, records the
 * request, and renders errors in the owning service's protocol.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AwsError, type EmulatorRequest, type EmulatorResponse, type RequestLogEntry, type ServiceStandIn,
} from './types.ts';
import type { Clock } from '../clock.ts';

/** Decides, per request, whether to inject a fault before the service runs. */
export interface FaultHook {
  /** Called before the operation runs: may wait (latency) and may return an error to send instead. */
  before(service: string, operation: string): Promise<AwsError | undefined> | AwsError | undefined;
  /** Called with a successful response's body before it is sent: may add to it (in place). */
  after?(service: string, operation: string, body: unknown): void;
}

export interface HttpCoreOptions {
  services: ServiceStandIn[];
  clock: Clock;
  faults?: FaultHook;
  port?: number;
  host?: string;
  /** Keep the parsed input of each request in the log (default true). */
  logInputs?: boolean;
}

export interface HttpCore {
  url: string;
  port: number;
  server: Server;
  requests: RequestLogEntry[];
  /** Calls per `service:operation` (errors included). */
  counters: Map<string, number>;
  close(): Promise<void>;
}

export async function startHttpCore(opts: HttpCoreOptions): Promise<HttpCore> {
  const requests: RequestLogEntry[] = [];
  const counters = new Map<string, number>();
  let seq = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch((err) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `emulator error: ${(err as Error).message}` }));
      }
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const target = req.headers['x-amz-target'];
    const er: EmulatorRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      target: Array.isArray(target) ? target[0] : target,
    };

    let owner: ServiceStandIn | undefined;
    let resolved;
    for (const s of opts.services) {
      resolved = s.resolve(er);
      if (resolved) { owner = s; break; }
    }
    if (!owner || !resolved) {
      send(res, {
        status: 404,
        headers: { 'x-amzn-errortype': 'UnknownOperationException' },
        body: { __type: 'UnknownOperationException', message: `no emulated operation for ${er.method} ${er.path}${er.target ? ` (${er.target})` : ''}` },
      });
      return;
    }

    const key = `${resolved.service}:${resolved.operation}`;
    counters.set(key, (counters.get(key) ?? 0) + 1);
    const entry: RequestLogEntry = {
      seq: ++seq, at: opts.clock.now(), service: resolved.service, operation: resolved.operation,
      method: er.method, path: er.path, status: 0,
    };
    if (opts.logInputs !== false && er.body) {
      try { entry.input = JSON.parse(er.body); } catch { /* not JSON: the service reports it */ }
    }
    requests.push(entry);

    let out: EmulatorResponse;
    try {
      const injected = await opts.faults?.before(resolved.service, resolved.operation);
      if (injected) {
        entry.injected = true;
        throw injected;
      }
      out = await resolved.run();
      if (out.status < 300 && out.body !== undefined) opts.faults?.after?.(resolved.service, resolved.operation, out.body);
    } catch (err) {
      const aws = err instanceof AwsError
        ? err
        : new AwsError('InternalServerException', 500, `emulator failure: ${(err as Error).message}`);
      if (!(err instanceof AwsError)) console.error(err);
      entry.error = aws.type;
      out = owner.renderError(aws);
    }
    entry.status = out.status;
    send(res, out);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  // Keep-alive sockets from SDK clients must not hold close() open.
  server.keepAliveTimeout = 1000;
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    requests,
    counters,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function send(res: ServerResponse, out: EmulatorResponse): void {
  const headers: Record<string, string> = { ...(out.headers ?? {}) };
  let payload = '';
  if (out.body !== undefined) {
    payload = typeof out.body === 'string' ? out.body : JSON.stringify(out.body);
    headers['content-type'] ??= 'application/json';
  }
  headers['content-length'] = String(Buffer.byteLength(payload));
  headers['x-amzn-requestid'] ??= cryptoRandomId();
  res.writeHead(out.status, headers);
  res.end(payload);
}

function cryptoRandomId(): string {
  return globalThis.crypto.randomUUID();
}
