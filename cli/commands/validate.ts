/** `autopilot validate [--config FILE]`: the config checked offline, for CI. */
import { command } from '../program.ts';

export default command({
  name: 'validate',
  summary: 'Check a config offline (schema, service model, rules, serverless.yml references), for CI',
  usage: '[--config FILE] [--serverless FILE] [--stage STAGE]',
  description: `Checks the config without calling AWS: the schema (unknown keys are errors), every desired field
against the AgentCore service model, the loader's rules (one of id/name, one tag rule, ...), and the
references serverless.yml must hold for it: params.runtimeRoleArns / gatewayRoleArns list every
runtime / gateway roleArn (iam:PassRole) and params.trackedRepositories every tracked repository (the image-push rule). Each problem is
printed as FILE:LINE:COLUMN: PATH: MESSAGE; -o json prints {valid, file, serverless, issues}.`,
  options: (cmd) => cmd
    .option('-c, --config <file>', 'the config (default: $AUTOPILOT_CONFIG_FILE, else ./autopilot.config.yaml)')
    .option('--serverless <file>', 'serverless.yml to check the references against (default: ./serverless.yml when present)')
    .option('--no-serverless', 'skip the serverless.yml references')
    .option('--stage <stage>', 'serverless.yml params of this stage (default: the default params)'),
  exitCodes: [[0, 'valid'], [1, 'invalid (every problem printed), or the file cannot be read'], [2, 'usage error']],
  action: async (ctx) => (await import('../actions/validate.ts')).run(ctx),
});
