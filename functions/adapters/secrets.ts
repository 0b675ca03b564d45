/**
 * Reading what a secret reference names (functions/domain/secrets/refs.ts): Secrets Manager
 * GetSecretValue (SecretString, optionally one JSON key) and Systems Manager GetParameter
 * WithDecryption (SecureString only). Values are returned to the caller and nowhere else: never
 * logged, never part of an error (errors name the reference). A separate module from the common
 * adapters, so only the functions that resolve references bundle these clients, and the clients
 * load on the first read (secrets-sdk.ts): a config without references never loads them.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { SecretRefError, SecretUnresolvedError, describeRef, valueOf, type SecretReader, type SecretRef } from '../domain/secrets/refs.ts';
import type { ClientOptions } from '../lib/clients.ts';
import { callAws } from './aws-errors.ts';

export { SecretUnresolvedError };

/** The SDK modules, loaded on the first read (see secrets-sdk.ts). */
const sdk = () => import('./secrets-sdk.ts');

export interface SecretsClients {
  secretsManager(): Promise<SecretsManagerClient>;
  ssm(): Promise<SSMClient>;
}

/** Clients for the reader, built (and their SDK modules loaded) on first use. */
export function secretsClients(options: ClientOptions = {}): SecretsClients {
  const config = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  let sm: Promise<SecretsManagerClient> | undefined;
  let ssm: Promise<SSMClient> | undefined;
  return {
    secretsManager: () => (sm ??= sdk().then((m) => new m.SecretsManagerClient(config))),
    ssm: () => (ssm ??= sdk().then((m) => new m.SSMClient(config))),
  };
}

/** A SecretReader over the clients; failures become SecretUnresolvedError (cause kept, value never). */
export function secretReader(clients: SecretsClients): SecretReader {
  return async (ref: SecretRef): Promise<string> => {
    try {
      const { GetParameterCommand, GetSecretValueCommand } = await sdk();
      if (ref.kind === 'secretsmanager') {
        const client = await clients.secretsManager();
        const out = await callAws({ service: 'secretsmanager', operation: 'GetSecretValue', resource: ref.secretId }, () =>
          client.send(new GetSecretValueCommand({
            SecretId: ref.secretId,
            ...(ref.versionStage && { VersionStage: ref.versionStage }),
            ...(ref.versionId && { VersionId: ref.versionId }),
          })),
        );
        if (typeof out.SecretString !== 'string') throw new SecretUnresolvedError(`${describeRef(ref)} has no SecretString (binary secrets are not supported)`);
        return valueOf(ref, out.SecretString);
      }
      const client = await clients.ssm();
      const out = await callAws({ service: 'ssm', operation: 'GetParameter', resource: ref.name }, () =>
        client.send(new GetParameterCommand({ Name: ref.version ? `${ref.name}:${ref.version}` : ref.name, WithDecryption: true })),
      );
      if (out.Parameter?.Type !== 'SecureString') throw new SecretUnresolvedError(`${describeRef(ref)} is not a SecureString parameter`);
      return out.Parameter.Value ?? '';
    } catch (err) {
      if (err instanceof SecretUnresolvedError) throw err;
      if (err instanceof SecretRefError) throw new SecretUnresolvedError(err.message);
      throw new SecretUnresolvedError(`${describeRef(ref)} could not be read (${(err as Error).name})`, { cause: err });
    }
  };
}
