/** `autopilot validate`: prints every problem of the config as FILE:LINE:COLUMN: PATH: MESSAGE. */
import { existsSync } from 'node:fs';
import { formatValidationIssue, validateConfigFile } from '../../functions/app/validate-config.ts';
import type { ActionContext } from '../types.ts';

export async function run({ io, opts, out }: ActionContext): Promise<number> {
  const file = (opts.config as string | undefined) ?? (io.env.AUTOPILOT_CONFIG_FILE || 'autopilot.config.yaml');
  const given = opts.serverless;
  const serverlessFile = given === false ? undefined : typeof given === 'string' ? given : existsSync('serverless.yml') ? 'serverless.yml' : undefined;
  const result = await validateConfigFile(file, { serverlessFile, stage: opts.stage as string | undefined });
  out.result(result, () => result.valid
    ? [`${result.file}: valid${result.serverless ? ` (references checked against ${result.serverless})` : ''}`]
    : result.issues.map(formatValidationIssue));
  if (!result.valid && !out.structured) io.stderr(`autopilot validate: ${result.issues.length} problem${result.issues.length === 1 ? '' : 's'} in ${result.file}`);
  return result.valid ? 0 : 1;
}
