/**
 * `autopilot emulator`: serves the local AWS emulator (AgentCore Control on its real wire
 * protocol) until SIGINT/SIGTERM, so the AWS CLI, the SDKs and `autopilot` itself can talk to it.
 */
import type { CliCommand, CliIO } from '../types.ts';

/** Default port; 4566 is left to LocalStack so both can run side by side. */
export const DEFAULT_EMULATOR_PORT = 4599;

const help = `Usage: autopilot emulator [--port N] [--seed FILE] [--faults FILE]

Serves the local AgentCore Control emulator (restJson1, the real AWS wire protocol) on
127.0.0.1 until interrupted (Ctrl+C / SIGTERM), then shuts down cleanly (exit 0).

Options:
  --port N        TCP port (default ${DEFAULT_EMULATOR_PORT}; 0 = any free port)
  --seed FILE     YAML seed with the resources that exist at start (e.g. local/seed/example.yaml)
  --faults FILE   YAML fault plan: latency, throttling quotas, 500 rates, forced conflicts
  -h, --help      Show this help

Point the AWS CLI or an SDK at it (AWS CLI v1 reads AWS_DEFAULT_REGION, not AWS_REGION):
  export AWS_ENDPOINT_URL=http://127.0.0.1:${DEFAULT_EMULATOR_PORT}
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
  aws bedrock-agentcore-control list-agent-runtimes

Exit codes:
  0  stopped by SIGINT (Ctrl+C) or SIGTERM
  1  could not start (port in use, invalid seed or fault plan)
  2  usage error (unknown option, bad --port)`;

interface Flags { port: number; seed?: string; faults?: string }

function parseFlags(argv: string[]): Flags | string {
  const flags: Flags = { port: DEFAULT_EMULATOR_PORT };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) { value = arg.slice(eq + 1); arg = arg.slice(0, eq); }
    const take = (): string | undefined => value ?? (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[++i] : undefined);
    switch (arg) {
      case '--port': {
        const v = take();
        if (v === undefined || !/^\d+$/.test(v) || Number(v) > 65535) return `--port needs a number from 0 to 65535${v === undefined ? '' : ` (got '${v}')`}`;
        flags.port = Number(v);
        break;
      }
      case '--seed': {
        const v = take();
        if (!v) return '--seed needs a file path';
        flags.seed = v;
        break;
      }
      case '--faults': {
        const v = take();
        if (!v) return '--faults needs a file path';
        flags.faults = v;
        break;
      }
      default:
        return `unknown option '${argv[i]}'`;
    }
  }
  return flags;
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const flags = parseFlags(argv);
  if (typeof flags === 'string') {
    io.stderr(`autopilot emulator: ${flags}\nRun 'autopilot emulator --help' for usage.`);
    return 2;
  }
  const { startEmulator } = await import('../../local/emulator/index.ts');
  let emulator;
  try {
    emulator = await startEmulator({ port: flags.port, seed: flags.seed, faults: flags.faults });
  } catch (err) {
    io.stderr(`autopilot emulator: could not start: ${(err as Error).message}`);
    return 1;
  }
  const { url, state } = emulator;
  const { region } = state.settings;
  io.stdout(`AgentCore emulator listening on ${url}`);
  io.stdout([
    'Point the AWS CLI / SDKs at it:',
    `  export AWS_ENDPOINT_URL=${url}`,
    `  export AWS_REGION=${region} AWS_DEFAULT_REGION=${region} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test`,
    '  aws bedrock-agentcore-control list-agent-runtimes',
    `Seeded: ${state.runtimes.size} runtimes, ${state.gateways.size} gateways, ${state.policyEngines.size} policy engines.`,
    'Press Ctrl+C to stop.',
  ].join('\n'));

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (s: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(s);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await emulator.close();
  io.stdout(`Received ${signal}; emulator stopped.`);
  return 0;
}

const command: CliCommand = {
  name: 'emulator',
  summary: 'Serve the local AgentCore emulator (AWS wire protocol) until interrupted',
  help,
  run,
};

export default command;
