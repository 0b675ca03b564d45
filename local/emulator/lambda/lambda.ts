/**
 * AWS Lambda stand-in: function URLs and the one API call the CLI needs to find them.
 *
 * - `GetFunctionUrlConfig` (restJson1, `GET /2021-10-31/functions/{FunctionName}/url`, Lambda API
 *   Reference): FunctionUrl, FunctionArn, AuthType, CreationTime, LastModifiedTime, InvokeMode;
 *   ResourceNotFoundException when the function has no URL.
 * - Function URLs. On AWS each URL is its own host (`https://<url-id>.lambda-url.<region>.on.aws/`);
 *   locally they share the emulator's port under `/lambda-url/<url-id>/`. With AuthType AWS_IAM a
 *   request must be SigV4-signed (service `lambda`): the caller (identity table, ../iam/identity.ts)
 *   must be allowed lambda:InvokeFunctionUrl by the function's resource policy (its
 *   AWS::Lambda::Permission resources, FunctionUrlAuthType AWS_IAM) per ../iam/policy.ts; otherwise
 *   403 `{"Message":"Forbidden"}`. The function is invoked synchronously with the payload format 2.0
 *   event (Lambda Developer Guide, "Invoking Lambda function URLs": requestContext.authorizer.iam
 *   carries accessKey, accountId, callerId, userArn, userId); its `{statusCode, headers, body}`
 *   result is the HTTP response, another result becomes a 200 JSON body, and a function error a
 *   502 `{"Message":"Internal Server Error"}`. Signatures are not verified locally.
 */
import { createHash, randomUUID } from 'node:crypto';
import { AwsError, type EmulatorRequest, type EmulatorResponse, type ResolvedOperation, type ServiceStandIn } from '../types.ts';
import type { Clock } from '../../clock.ts';
import type { Identities } from '../iam/identity.ts';
import { authorize, parsePolicy, type PolicyStatement } from '../iam/policy.ts';

export interface FunctionUrlTarget {
  functionName: string;
  functionArn: string;
  authType: 'AWS_IAM' | 'NONE';
}

export interface LambdaStandInOptions {
  clock: Clock;
  account: string;
  region: string;
  identities: Identities;
  /** Runs a function synchronously (the local Lambda runner). */
  invoke: (functionName: string, event: unknown) => Promise<unknown>;
}

interface UrlEntry extends FunctionUrlTarget {
  urlId: string;
  createdAt: number;
  permissions: PolicyStatement[];
}

const API_PATH = /^\/2021-10-31\/functions\/([^/]+)\/url$/;
const URL_PATH = /^\/lambda-url\/([a-z0-9]{32})(\/.*)?$/;

export class LambdaStandIn implements ServiceStandIn {
  readonly name = 'lambda';
  private readonly opts: LambdaStandInOptions;
  private readonly urls = new Map<string, UrlEntry>();

  constructor(opts: LambdaStandInOptions) {
    this.opts = opts;
  }

  /** Gives a function a URL (as the AWS::Lambda::Url resource osls generates for `url:`). */
  addFunctionUrl(target: FunctionUrlTarget): string {
    const urlId = createHash('sha256').update(target.functionArn).digest('hex').slice(0, 32);
    this.urls.set(target.functionName, { ...target, urlId, createdAt: this.opts.clock.now(), permissions: [] });
    return urlId;
  }

  /** Adds a statement to a function's resource policy (an AWS::Lambda::Permission). */
  addPermission(functionName: string, permission: { Action: string; Principal: string; FunctionUrlAuthType?: string; InvokedViaFunctionUrl?: boolean }): void {
    const entry = this.urls.get(functionName);
    if (!entry) throw new Error(`lambda permission for ${functionName}: the function has no URL locally`);
    const principal = /^\d{12}$/.test(permission.Principal) || permission.Principal.startsWith('arn:') ? { AWS: permission.Principal } : '*';
    const condition = permission.FunctionUrlAuthType ? { StringEquals: { 'lambda:FunctionUrlAuthType': permission.FunctionUrlAuthType } } : undefined;
    entry.permissions.push(...parsePolicy({
      Statement: [{ Effect: 'Allow', Principal: principal, Action: permission.Action, Resource: entry.functionArn, ...(condition && { Condition: condition }) }],
    }));
  }

  /** The local URL of a function, for a request arriving at `host`. */
  urlOf(functionName: string, host: string): string | undefined {
    const entry = this.urls.get(functionName);
    return entry ? `http://${host}/lambda-url/${entry.urlId}/` : undefined;
  }

  resolve(req: EmulatorRequest): ResolvedOperation | undefined {
    if (req.target) return undefined;
    const api = API_PATH.exec(req.path);
    if (api && req.method === 'GET') {
      return { service: this.name, operation: 'GetFunctionUrlConfig', run: () => this.getFunctionUrlConfig(decodeURIComponent(api[1]), req) };
    }
    const url = URL_PATH.exec(req.path);
    if (url) return { service: this.name, operation: 'InvokeFunctionUrl', run: () => this.invokeUrl(url[1], url[2] ?? '/', req) };
    return undefined;
  }

  renderError(err: AwsError): EmulatorResponse {
    return { status: err.status, headers: { 'x-amzn-errortype': err.type }, body: { Type: err.status >= 500 ? 'Service' : 'User', message: err.message } };
  }

  private byNameOrArn(ref: string): UrlEntry | undefined {
    const name = /:function:([^:]+)/.exec(ref)?.[1] ?? ref;
    return this.urls.get(name);
  }

  private getFunctionUrlConfig(ref: string, req: EmulatorRequest): EmulatorResponse {
    const entry = this.byNameOrArn(ref);
    if (!entry) throw new AwsError('ResourceNotFoundException', 404, `The resource you requested does not exist. (Service: Lambda, Function: ${ref})`);
    const iso = new Date(entry.createdAt).toISOString();
    return {
      status: 200,
      body: {
        FunctionUrl: this.urlOf(entry.functionName, String(req.headers.host)),
        FunctionArn: entry.functionArn,
        AuthType: entry.authType,
        CreationTime: iso,
        LastModifiedTime: iso,
        InvokeMode: 'BUFFERED',
      },
    };
  }

  private async invokeUrl(urlId: string, rawPath: string, req: EmulatorRequest): Promise<EmulatorResponse> {
    const entry = [...this.urls.values()].find((e) => e.urlId === urlId);
    const forbidden: EmulatorResponse = { status: 403, headers: { 'x-amzn-errortype': 'AccessDeniedException' }, body: { Message: 'Forbidden' } };
    if (!entry) return { status: 404, body: { Message: 'Not Found' } };
    let iam: Record<string, unknown> | undefined;
    if (entry.authType === 'AWS_IAM') {
      const caller = this.opts.identities.callerOf(req);
      if (!caller) return forbidden;
      const decision = authorize(entry.permissions, {
        caller, action: 'lambda:InvokeFunctionUrl', resource: entry.functionArn, resourceAccount: this.opts.account,
        context: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' },
      });
      if (!decision.allowed) return forbidden;
      iam = { accessKey: caller.accessKeyId, accountId: caller.account, callerId: caller.accessKeyId, cognitoIdentity: null, principalOrgId: null, userArn: caller.arn, userId: caller.accessKeyId };
    }
    const now = this.opts.clock.now();
    const host = String(req.headers.host ?? 'localhost');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath,
      rawQueryString: req.query.toString(),
      headers,
      requestContext: {
        accountId: this.opts.account,
        apiId: urlId,
        ...(iam && { authorizer: { iam } }),
        domainName: host,
        domainPrefix: urlId,
        http: { method: req.method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
        requestId: randomUUID(),
        routeKey: '$default',
        stage: '$default',
        time: new Date(now).toUTCString(),
        timeEpoch: now,
      },
      body: req.body,
      isBase64Encoded: false,
    };
    let result: unknown;
    try {
      result = await this.opts.invoke(entry.functionName, event);
    } catch {
      return { status: 502, body: { Message: 'Internal Server Error' } };
    }
    if (result && typeof result === 'object' && 'statusCode' in result) {
      const r = result as { statusCode: number; headers?: Record<string, string>; body?: string };
      return { status: r.statusCode, headers: { ...(r.headers ?? {}) }, body: r.body ?? '' };
    }
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(result ?? null) };
  }
}
