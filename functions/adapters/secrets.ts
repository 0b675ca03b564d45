/**
 * Reading what a secret reference names (functions/domain/secrets/refs.ts): Secrets Manager
 * GetSecretValue (SecretString, optionally one JSON key) and Systems Manager GetParameter
 * WithDecryption (SecureString only). Values are returned to the caller and nowhere else: never
 * logged, never part of an error (errors name the reference). A separate module from the common
 * adapters, so only the functions that resolve references bundle these clients.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { SecretRefError, SecretUnresolvedError, describeRef, valueOf, type SecretReader, type SecretRef } from '../domain/secrets/refs.ts';
import type { ClientOptions } from '../lib/clients.ts';
import { callAws } from './aws-errors.ts';

export { SecretUnresolvedError };

export interface SecretsClients {
  secretsManager: SecretsManagerClient;
  ssm: SSMClient;
}

/** Clients for the reader, built on first use. */
export function secretsClients(options: ClientOptions = {}): SecretsClients {
  const config = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  let sm: SecretsManagerClient | undefined;
  let ssm: SSMClient | undefined;
  return {
    get secretsManager() {
      return (sm ??= new SecretsManagerClient(config));
    },
    get ssm() {
      return (ssm ??= new SSMClient(config));
    },
  };
}

/** A SecretReader over the clients; failures become SecretUnresolvedError (cause kept, value never). */
export function secretReader(clients: SecretsClients): SecretReader {
  return async (ref: SecretRef): Promise<string> => {
    try {
      if (ref.kind === 'secretsmanager') {
        const out = await callAws({ service: 'secretsmanager', operation: 'GetSecretValue', resource: ref.secretId }, () =>
          clients.secretsManager.send(new GetSecretValueCommand({
            SecretId: ref.secretId,
            ...(ref.versionStage && { VersionStage: ref.versionStage }),
            ...(ref.versionId && { VersionId: ref.versionId }),
          })),
        );
        if (typeof out.SecretString !== 'string') throw new SecretUnresolvedError(`${describeRef(ref)} has no SecretString (binary secrets are not supported)`);
        return valueOf(ref, out.SecretString);
      }
      const out = await callAws({ service: 'ssm', operation: 'GetParameter', resource: ref.name }, () =>
        clients.ssm.send(new GetParameterCommand({ Name: ref.version ? `${ref.name}:${ref.version}` : ref.name, WithDecryption: true })),
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
