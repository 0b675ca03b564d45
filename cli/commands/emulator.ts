/** `autopilot emulator`: the AgentCore Control emulator on its own, until interrupted. */
import { command } from '../program.ts';

/** Default port; 4566 is left to LocalStack so both can run side by side. */
export const DEFAULT_EMULATOR_PORT = 4599;

export default command({
  name: 'emulator',
  summary: 'Serve the local AgentCore emulator (AWS wire protocol) until interrupted',
  usage: '[--port N] [--seed FILE] [--faults FILE]',
  description: `Serves the local AgentCore Control emulator (restJson1, the real AWS wire protocol) on
127.0.0.1 until interrupted (Ctrl+C / SIGTERM), then shuts down cleanly (exit 0). For the whole
stack (Step Functions, EventBridge, CloudWatch, ECR and the handlers) use \`npm start -- --keep-running\`.`,
  options: (cmd) => cmd
    .option('--port <n>', `TCP port (default ${DEFAULT_EMULATOR_PORT}; 0 = any free port)`)
    .option('--seed <file>', 'YAML seed with the resources that exist at start (e.g. local/seed/example.yaml)')
    .option('--faults <file>', 'YAML fault plan: latency, throttling quotas, 500 rates, forced conflicts'),
  notes: `Point the AWS CLI or an SDK at it (AWS CLI v1 reads AWS_DEFAULT_REGION, not AWS_REGION):
  export AWS_ENDPOINT_URL=http://127.0.0.1:${DEFAULT_EMULATOR_PORT}
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
  aws bedrock-agentcore-control list-agent-runtimes`,
  exitCodes: [
    [0, 'stopped by SIGINT (Ctrl+C) or SIGTERM'],
    [1, 'could not start (port in use, invalid seed or fault plan)'],
    [2, 'usage error (unknown option, bad --port)'],
  ],
  action: async (ctx) => (await import('../actions/emulator.ts')).run(ctx),
});
