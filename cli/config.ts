/** The config as commands that can do without one read it. */
import { ConfigError } from '../functions/lib/config/config-error.ts';
import { loadConfig } from '../functions/lib/config/load.ts';
import type { Config } from '../functions/lib/config/types.ts';

/**
 * The config when there is one: an explicit --config or $AUTOPILOT_CONFIG_FILE must load;
 * ./autopilot.config.yaml may be absent (then there are no defaults from it).
 */
export async function optionalConfig(file: string | undefined, env: NodeJS.ProcessEnv): Promise<Config | undefined> {
  const given = file ?? (env.AUTOPILOT_CONFIG_FILE || undefined);
  try {
    return await loadConfig(given, { env });
  } catch (err) {
    if (!given && err instanceof ConfigError && err.issues.every((i) => i.message.startsWith('configuration file does not exist'))) return undefined;
    throw err;
  }
}
