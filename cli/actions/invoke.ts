/**
 * `autopilot invoke <functionKey>`: runs one Lambda handler locally, in this process, through the
 * local Lambda runner (the function's environment from serverless.yml, a realistic context, its
 * timeout). AWS calls the handler makes go wherever this shell's AWS environment points:
 * `AWS_ENDPOINT_URL=http://127.0.0.1:4566` for the local stack, real AWS otherwise.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createLambdaRunner } from '../../local/lambda/runner.ts';
import { loadServerlessConfig } from '../../local/lambda/serverless-config.ts';
import { CliError, invalidInput } from '../errors.ts';
import type { ActionContext } from '../types.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Runs the handler with whatever it writes to stdout (its log lines: Powertools' Console and the
 * global console both write through process.stdout) sent to stderr, so stdout is the result alone.
 */
async function logsToStderr<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  try {
    return await fn();
  } finally {
    process.stdout.write = write;
  }
}

export async function run({ io, opts, args, out }: ActionContext): Promise<number> {
  const functionKey = args[0];
  const configFile = (opts.config as string | undefined) ?? 'serverless.yml';
  const config = loadServerlessConfig(resolve(configFile), { stage: opts.stage as string | undefined, region: opts.region as string | undefined, env: io.env });
  if (!config.functions[functionKey]) {
    const known = Object.keys(config.functions);
    throw invalidInput(`no function '${functionKey}' in ${configFile}${known.length ? `; known function keys: ${known.join(', ')}` : ' (it declares no functions)'}`);
  }
  let event: unknown = {};
  const eventFile = opts.event as string | undefined;
  if (eventFile !== undefined) {
    const source = eventFile === '-' ? 'stdin' : `event file ${eventFile}`;
    let text: string;
    try {
      text = eventFile === '-' ? await readStdin() : await readFile(resolve(eventFile), 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // "ENOENT: no such file or directory" without the repeated ", open '<path>'".
      throw invalidInput(`cannot read ${source}: ${e.message.replace(/, \w+ '.*'$/, '')}`);
    }
    try {
      event = JSON.parse(text);
    } catch (err) {
      throw invalidInput(`${source} is not valid JSON: ${(err as Error).message}`);
    }
  }
  // The shell's AUTOPILOT_CONFIG_FILE wins over the packaged path serverless.yml gives the functions.
  const configOverride = io.env.AUTOPILOT_CONFIG_FILE;
  if (configOverride) {
    for (const f of Object.values(config.functions)) f.environment = { ...f.environment, AUTOPILOT_CONFIG_FILE: resolve(configOverride) };
  }
  const runner = createLambdaRunner({ config, env: io.env });
  let result: unknown;
  try {
    result = await logsToStderr(() => runner.invoke(functionKey, event));
  } catch (err) {
    const e = err as Error;
    throw new CliError('HandlerFailed', `${functionKey} failed: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`, 1);
  }
  // The handler's result is the document, whatever the format (text prints it as JSON too).
  if (out.format === 'yaml') out.document(result);
  else io.stdout(JSON.stringify(result, null, 2));
  return 0;
}
