/**
 * Secret references at apply time: the Lambda-side reader (clients per endpoint and region, like
 * the other adapters) and the config with its references resolved, in memory, for one drift run.
 * A runtime whose references cannot be resolved is left out of the run with a note (never
 * compared against, never written with, a value it could not read).
 */
import { secretReader, secretsClients } from '../adapters/secrets.ts';
import { perEndpoint } from './lambda-env.ts';
import type { Config, RuntimeSpec } from '../lib/config/types.ts';
import { hasSecretRefs, resolveEnv, type SecretReader } from '../domain/secrets/refs.ts';

const readers = new Map<string, SecretReader>();

/** The reader for the current environment, reused across warm invocations. */
export function secretReaderFor(env: NodeJS.ProcessEnv = process.env): SecretReader {
  return perEndpoint(readers, env, (options) => secretReader(secretsClients(options)));
}

/** `config` with every runtime's referenced environment values resolved (see the module comment). */
export async function withResolvedSecrets(config: Config, read: SecretReader | undefined, notes: string[]): Promise<Config> {
  if (!config.runtimes.some((r) => hasSecretRefs(r.desired.environmentVariables))) return config;
  const runtimes = await Promise.all(config.runtimes.map(async (r): Promise<RuntimeSpec> => {
    const env = r.desired.environmentVariables;
    if (!env || !hasSecretRefs(env)) return r;
    const ref = r.id ?? r.name;
    if (!read) {
      notes.push(`runtime ${ref}: its environment variables reference secrets but no secret reader is available: left out of this run`);
      return { ...r, drift: 'ignore' };
    }
    try {
      return { ...r, desired: { ...r.desired, environmentVariables: await resolveEnv(env, read) } };
    } catch (err) {
      notes.push(`runtime ${ref}: ${(err as Error).message}: left out of this run`);
      return { ...r, drift: 'ignore' };
    }
  }));
  return { ...config, runtimes };
}
