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
import type { CliCommand, CliIO } from '../types.ts';

const HELP = `Usage: autopilot invoke <functionKey> [--event FILE] [--config serverless.yml] [--stage dev] [--region REGION]

Runs one function's handler locally (the TypeScript source, in this process) with the environment
serverless.yml gives it, a Lambda-like context and its timeout, and prints the JSON result.
The handler's AWS calls go to whatever the AWS environment variables name (e.g. AWS_ENDPOINT_URL
for the local stack).

Options:
  --event FILE     JSON event to pass (default: {}); '-' reads stdin
  --config FILE    serverless.yml to read (default: ./serverless.yml)
  --stage STAGE    stage for \${sls:stage} and params (default: provider.stage, else dev)
  --region REGION  region (default: provider.region, else us-east-1)
  -h, --help       show this help

Exit codes:
  0  the handler returned (its result on stdout)
  1  the handler failed (error on stderr), or serverless.yml could not be read
  2  usage error: unknown option, missing <functionKey>, a function serverless.yml does not
     declare (the known keys are listed), an --event file that cannot be read or is not JSON`;

interface Args { functionKey?: string; event?: string; config: string; stage?: string; region?: string }

function parseArgs(argv: string[]): Args | string {
  const args: Args = { config: 'serverless.yml' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string | undefined => {
      const eq = a.indexOf('=');
      if (eq > 0) return a.slice(eq + 1);
      return argv[++i];
    };
    const flag = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    switch (flag) {
      case '--event': case '-e': args.event = value(); if (args.event === undefined) return '--event needs a file'; break;
      case '--config': case '-c': { const v = value(); if (v === undefined) return '--config needs a file'; args.config = v; break; }
      case '--stage': case '-s': args.stage = value(); if (args.stage === undefined) return '--stage needs a value'; break;
      case '--region': case '-r': args.region = value(); if (args.region === undefined) return '--region needs a value'; break;
      default:
        if (a.startsWith('-')) return `unknown option ${a}`;
        if (args.functionKey) return `unexpected argument ${a}`;
        args.functionKey = a;
    }
  }
  if (!args.functionKey) return 'missing <functionKey>';
  return args;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseArgs(argv);
  if (typeof parsed === 'string') {
    io.stderr(`autopilot invoke: ${parsed}\n\n${HELP}`);
    return 2;
  }
  try {
    const config = loadServerlessConfig(resolve(parsed.config), { stage: parsed.stage, region: parsed.region, env: io.env });
    if (!config.functions[parsed.functionKey!]) {
      const known = Object.keys(config.functions);
      io.stderr(`autopilot invoke: no function '${parsed.functionKey}' in ${parsed.config}${known.length ? `; known function keys: ${known.join(', ')}` : ' (it declares no functions)'}`);
      return 2;
    }
    let event: unknown = {};
    if (parsed.event !== undefined) {
      const source = parsed.event === '-' ? 'stdin' : `event file ${parsed.event}`;
      let text: string;
      try {
        text = parsed.event === '-' ? await readStdin() : await readFile(resolve(parsed.event), 'utf8');
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        // "ENOENT: no such file or directory" without the repeated ", open '<path>'".
        io.stderr(`autopilot invoke: cannot read ${source}: ${e.message.replace(/, \w+ '.*'$/, '')}`);
        return 2;
      }
      try {
        event = JSON.parse(text);
      } catch (err) {
        io.stderr(`autopilot invoke: ${source} is not valid JSON: ${(err as Error).message}`);
        return 2;
      }
    }
    const runner = createLambdaRunner({ config, env: io.env });
    const result = await runner.invoke(parsed.functionKey!, event);
    io.stdout(JSON.stringify(result, null, 2));
    return 0;
  } catch (err) {
    const e = err as Error;
    io.stderr(`autopilot invoke: ${parsed.functionKey} failed: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`);
    return 1;
  }
}

const command: CliCommand = {
  name: 'invoke',
  summary: 'Run one Lambda handler locally and print its result',
  help: HELP,
  run,
};

export default command;
