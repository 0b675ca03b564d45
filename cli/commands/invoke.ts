/** `autopilot invoke <functionKey>`: one Lambda handler of serverless.yml, run locally. */
import { command } from '../program.ts';

export default command({
  name: 'invoke',
  summary: 'Run one Lambda handler locally and print its result',
  usage: '<functionKey> [--event FILE|-] [--config serverless.yml] [--stage S] [--region R]',
  description: `Runs one function's handler locally (the TypeScript source, in this process) with the environment
serverless.yml gives it, a Lambda-like context and its timeout, and prints the JSON result on
stdout (the handler's log lines go to stderr). The handler's AWS calls go to whatever the AWS
environment variables name (e.g. AWS_ENDPOINT_URL for the local stack); its config file is
$AUTOPILOT_CONFIG_FILE when set.`,
  args: [['<functionKey>', 'the function key in serverless.yml (e.g. onImagePush)']],
  options: (cmd) => cmd
    .option('-e, --event <file>', "JSON event to pass (default: {}); '-' reads stdin")
    .option('-c, --config <file>', 'serverless.yml to read (default: ./serverless.yml)')
    .option('-s, --stage <stage>', 'stage for ${sls:stage} and params (default: provider.stage, else dev)'),
  notes: 'The region is --region, else provider.region, else us-east-1.',
  exitCodes: [
    [0, 'the handler returned (its result on stdout)'],
    [1, 'the handler failed (error on stderr), or serverless.yml could not be read'],
    [2, `usage error: unknown option, missing <functionKey>, a function serverless.yml does not
     declare (the known keys are listed), an --event file that cannot be read or is not JSON`],
  ],
  action: async (ctx) => (await import('../actions/invoke.ts')).run(ctx),
});
