/**
 * AWS Systems Manager Parameter Store stand-in (awsJson1_1, `X-Amz-Target: AmazonSSM.<Operation>`,
 * the protocol @aws-sdk/client-ssm speaks): PutParameter and GetParameter. A SecureString's value
 * is answered in clear only with WithDecryption true; otherwise an opaque ciphertext stands in for
 * the KMS-encrypted value AWS returns. `Name:<version>` selects a version (ParameterVersionNotFound
 * when it does not exist); ParameterNotFound for an unknown name. Sources: AWS Systems Manager API
 * Reference (GetParameter, PutParameter), User Guide "Working with parameter versions". KMS keys
 * and parameter policies are not modelled.
 */
import { createHash } from 'node:crypto';
import { AwsError, type EmulatorRequest, type EmulatorResponse, type ResolvedOperation, type ServiceStandIn } from '../types.ts';
import type { Clock } from '../../clock.ts';
import { renderJsonError, resolveJsonTarget, toEpochSeconds } from '../json-protocol.ts';

export type ParameterType = 'String' | 'StringList' | 'SecureString';
interface Version { version: number; value: string; modifiedAt: number }
interface Parameter { name: string; type: ParameterType; versions: Version[] }

export interface SsmOptions {
  clock: Clock;
  account?: string;
  region?: string;
}

const NAME = /^[a-zA-Z0-9_.\-/]{1,2048}$/;

export class SsmStandIn implements ServiceStandIn {
  readonly name = 'ssm';
  readonly account: string;
  readonly region: string;
  private readonly clock: Clock;
  private readonly parameters = new Map<string, Parameter>();
  /** Every decrypted GetParameter answered (parameter name), for tests of where resolution happens. */
  readonly reads: string[] = [];

  constructor(opts: SsmOptions) {
    this.clock = opts.clock;
    this.account = opts.account ?? '123456789012';
    this.region = opts.region ?? 'us-east-1';
  }

  /** Puts a parameter (a new version when it exists; its type cannot change). Returns the version. */
  put(name: string, value: string, type: ParameterType = 'SecureString'): number {
    if (!NAME.test(name)) throw new AwsError('ValidationException', 400, 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore).');
    const existing = this.parameters.get(name);
    if (existing && existing.type !== type) throw new AwsError('HierarchyTypeMismatchException', 400, 'The parameter type cannot be changed.');
    const p = existing ?? { name, type, versions: [] };
    p.versions.push({ version: p.versions.length + 1, value, modifiedAt: this.clock.now() });
    this.parameters.set(name, p);
    return p.versions.length;
  }

  private arnOf(name: string): string {
    return `arn:aws:ssm:${this.region}:${this.account}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
  }

  resolve(req: EmulatorRequest): ResolvedOperation | undefined {
    return resolveJsonTarget(req, {
      service: this.name,
      targetPrefix: 'AmazonSSM',
      version: '1.1',
      operations: {
        PutParameter: (i) => {
          if (typeof i.Name !== 'string' || typeof i.Value !== 'string') throw new AwsError('ValidationException', 400, 'Name and Value are required.');
          if (this.parameters.has(i.Name) && i.Overwrite !== true) throw new AwsError('ParameterAlreadyExists', 400, 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
          return { Version: this.put(i.Name, i.Value, (i.Type as ParameterType | undefined) ?? 'String'), Tier: 'Standard' };
        },
        GetParameter: (i) => this.getParameter(i),
      },
    });
  }

  private getParameter(input: Record<string, unknown>): unknown {
    if (typeof input.Name !== 'string') throw new AwsError('ValidationException', 400, 'Name is required.');
    const m = /^(.*?)(?::(\d+))?$/.exec(input.Name)!;
    const p = this.parameters.get(m[1]);
    if (!p) throw new AwsError('ParameterNotFound', 400, '');
    const v = m[2] === undefined ? p.versions.at(-1)! : p.versions.find((x) => x.version === Number(m[2]));
    if (!v) throw new AwsError('ParameterVersionNotFound', 400, `Systems Manager could not find version ${m[2]} of ${m[1]}.`);
    const decrypt = input.WithDecryption === true;
    if (p.type === 'SecureString' && decrypt) this.reads.push(p.name);
    const value = p.type === 'SecureString' && !decrypt
      ? `AQICAH${createHash('sha256').update(`${p.name}:${v.version}`).digest('base64')}`
      : v.value;
    return {
      Parameter: {
        Name: input.Name, Type: p.type, Value: value, Version: v.version, LastModifiedDate: toEpochSeconds(v.modifiedAt),
        ARN: this.arnOf(p.name), DataType: 'text', ...(m[2] !== undefined && { Selector: `:${m[2]}` }),
      },
    };
  }

  renderError(err: AwsError): EmulatorResponse {
    return renderJsonError(err, { version: '1.1', aliases: { InternalServerException: 'InternalServerError' } });
  }
}
