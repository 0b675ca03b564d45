/**
 * AWS Secrets Manager stand-in (awsJson1_1, `X-Amz-Target: secretsmanager.<Operation>`, the
 * protocol @aws-sdk/client-secrets-manager speaks): CreateSecret, PutSecretValue, GetSecretValue,
 * DescribeSecret. Secret ARNs end in `-` plus six random characters, as AWS makes them; a secret is
 * found by name, full ARN or partial ARN (without the suffix). GetSecretValue answers the version
 * staged AWSCURRENT unless VersionId or VersionStage is given (both must then agree);
 * ResourceNotFoundException otherwise. Sources: AWS Secrets Manager API Reference (GetSecretValue,
 * CreateSecret, PutSecretValue), User Guide "Secret versions" (AWSCURRENT, AWSPREVIOUS).
 * Resource policies and KMS are not modelled (every caller may read every secret locally).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AwsError, type EmulatorRequest, type EmulatorResponse, type ResolvedOperation, type ServiceStandIn } from '../types.ts';
import type { Clock } from '../../clock.ts';
import { renderJsonError, resolveJsonTarget, toEpochSeconds } from '../json-protocol.ts';

interface Version { id: string; value: string; stages: string[]; createdAt: number }
interface Secret { name: string; arn: string; createdAt: number; versions: Version[] }

export interface SecretsManagerOptions {
  clock: Clock;
  account?: string;
  region?: string;
}

const NAME = /^[\w/+=.@-]{1,512}$/;

export class SecretsManagerStandIn implements ServiceStandIn {
  readonly name = 'secretsmanager';
  readonly account: string;
  readonly region: string;
  private readonly clock: Clock;
  private readonly secrets = new Map<string, Secret>();
  /** Every GetSecretValue answered (secret name), for tests of where resolution happens. */
  readonly reads: string[] = [];

  constructor(opts: SecretsManagerOptions) {
    this.clock = opts.clock;
    this.account = opts.account ?? '123456789012';
    this.region = opts.region ?? 'us-east-1';
  }

  /** Creates a secret, or stores a new AWSCURRENT version of an existing one; returns its ARN. */
  put(name: string, value: string): string {
    const existing = this.secrets.get(name);
    if (existing) {
      this.addVersion(existing, value);
      return existing.arn;
    }
    if (!NAME.test(name)) throw new AwsError('ValidationException', 400, 'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
    const secret: Secret = {
      name,
      arn: `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${name}-${randomBytes(3).toString('hex')}`,
      createdAt: this.clock.now(),
      versions: [],
    };
    this.addVersion(secret, value);
    this.secrets.set(name, secret);
    return secret.arn;
  }

  private addVersion(secret: Secret, value: string): Version {
    // The current version becomes AWSPREVIOUS; the previous one loses its label.
    for (const v of secret.versions) v.stages = v.stages.filter((s) => s !== 'AWSCURRENT' && s !== 'AWSPREVIOUS');
    const current = secret.versions.at(-1);
    if (current) current.stages.push('AWSPREVIOUS');
    const version = { id: randomUUID(), value, stages: ['AWSCURRENT'], createdAt: this.clock.now() };
    secret.versions.push(version);
    return version;
  }

  private find(secretId: unknown): Secret {
    if (typeof secretId !== 'string' || secretId === '') throw new AwsError('InvalidParameterException', 400, 'SecretId is required.');
    const byName = this.secrets.get(secretId);
    if (byName) return byName;
    for (const s of this.secrets.values()) {
      // Full ARN, or a partial ARN without the random suffix.
      if (s.arn === secretId || s.arn.replace(/-[0-9a-f]{6}$/, '') === secretId) return s;
    }
    throw new AwsError('ResourceNotFoundException', 400, "Secrets Manager can't find the specified secret.");
  }

  resolve(req: EmulatorRequest): ResolvedOperation | undefined {
    return resolveJsonTarget(req, {
      service: this.name,
      targetPrefix: 'secretsmanager',
      version: '1.1',
      operations: {
        CreateSecret: (i) => {
          if (typeof i.Name !== 'string') throw new AwsError('InvalidParameterException', 400, 'Name is required.');
          if (this.secrets.has(i.Name)) throw new AwsError('ResourceExistsException', 400, `The operation failed because the secret ${i.Name} already exists.`);
          const arn = this.put(i.Name, String(i.SecretString ?? ''));
          return { ARN: arn, Name: i.Name, VersionId: this.secrets.get(i.Name)!.versions.at(-1)!.id };
        },
        PutSecretValue: (i) => {
          const s = this.find(i.SecretId);
          const v = this.addVersion(s, String(i.SecretString ?? ''));
          return { ARN: s.arn, Name: s.name, VersionId: v.id, VersionStages: v.stages };
        },
        GetSecretValue: (i) => this.getSecretValue(i),
        DescribeSecret: (i) => {
          const s = this.find(i.SecretId);
          return { ARN: s.arn, Name: s.name, CreatedDate: toEpochSeconds(s.createdAt), VersionIdsToStages: Object.fromEntries(s.versions.map((v) => [v.id, v.stages])) };
        },
      },
    });
  }

  private getSecretValue(input: Record<string, unknown>): unknown {
    const s = this.find(input.SecretId);
    const stage = typeof input.VersionStage === 'string' ? input.VersionStage : undefined;
    const id = typeof input.VersionId === 'string' ? input.VersionId : undefined;
    const version = id !== undefined
      ? s.versions.find((v) => v.id === id && (stage === undefined || v.stages.includes(stage)))
      : s.versions.find((v) => v.stages.includes(stage ?? 'AWSCURRENT'));
    if (!version) throw new AwsError('ResourceNotFoundException', 400, "Secrets Manager can't find the specified secret value for the given version.");
    this.reads.push(s.name);
    return { ARN: s.arn, Name: s.name, VersionId: version.id, SecretString: version.value, VersionStages: version.stages, CreatedDate: toEpochSeconds(version.createdAt) };
  }

  renderError(err: AwsError): EmulatorResponse {
    return renderJsonError(err, { version: '1.1', aliases: { InternalServerException: 'InternalServiceError' } });
  }
}
