/**
 * `autopilot emulator`: serves the local AWS emulator (AgentCore Control on its real wire
 * protocol) until SIGINT/SIGTERM, so the AWS CLI, the SDKs and `autopilot` itself can talk to it.
 */
import { CliError, UsageError } from '../errors.ts';
import { DEFAULT_EMULATOR_PORT } from '../commands/emulator.ts';
import type { ActionContext } from '../types.ts';

export async function run({ io, opts, out }: ActionContext): Promise<number> {
  const portText = opts.port as string | undefined;
  if (portText !== undefined && (!/^\d+$/.test(portText) || Number(portText) > 65535)) {
    throw new UsageError(`--port needs a number from 0 to 65535 (got '${portText}')`);
  }
  const port = portText === undefined ? DEFAULT_EMULATOR_PORT : Number(portText);
  const { startEmulator } = await import('../../local/emulator/index.ts');
  let emulator;
  try {
    emulator = await startEmulator({ port, seed: opts.seed as string | undefined, faults: opts.faults as string | undefined });
  } catch (err) {
    throw new CliError('StartFailed', `could not start: ${(err as Error).message}`, 1);
  }
  const { url, state } = emulator;
  const { region } = state.settings;
  const info = {
    url,
    region,
    env: { AWS_ENDPOINT_URL: url, AWS_REGION: region, AWS_DEFAULT_REGION: region, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
    seeded: { runtimes: state.runtimes.size, gateways: state.gateways.size, policyEngines: state.policyEngines.size },
  };
  out.result(info, () => [
    `AgentCore emulator listening on ${url}`,
    'Point the AWS CLI / SDKs at it:',
    `  export AWS_ENDPOINT_URL=${url}`,
    `  export AWS_REGION=${region} AWS_DEFAULT_REGION=${region} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test`,
    '  aws bedrock-agentcore-control list-agent-runtimes',
    `Seeded: ${state.runtimes.size} runtimes, ${state.gateways.size} gateways, ${state.policyEngines.size} policy engines.`,
  ]);
  // Text mode: the banner and what follows are the output; json/yaml: one document, the rest on stderr.
  const say = out.structured ? io.stderr : io.stdout;
  say('Press Ctrl+C to stop.');

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
  say(`Received ${signal}; emulator stopped.`);
  return 0;
}
