/**
 * Load-time warnings about a loaded config. Apart from the loader so that a packaged function,
 * which gets its config compiled at package time (scripts/esbuild-plugins.ts), logs the same
 * warnings without bundling the YAML parser or the schemas.
 */
import { looksSecret } from '../../domain/secrets/refs.ts';
import type { Config } from './types.ts';

/**
 * Load-time warnings: plaintext runtime environment values that look like secrets (by name or
 * shape). Names only, never a value.
 */
export function configWarnings(config: Config): string[] {
  const out: string[] = [];
  for (const r of config.runtimes) {
    for (const [name, value] of Object.entries(r.desired.environmentVariables ?? {})) {
      const why = looksSecret(name, value);
      if (why) out.push(`runtime ${r.id ?? r.name}: environment variable ${name} is plaintext but ${why}; declare it as {{resolve:secretsmanager:<secret>}} or {{resolve:ssm-secure:<parameter>}} so the value stays out of git and the package`);
    }
  }
  return out;
}
