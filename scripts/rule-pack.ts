// Runs cdk-nag's AwsSolutions and Serverless rule packs over the packaged CloudFormation template
// (the `serverless package` output, loaded with aws-cdk-lib's CfnInclude), after acknowledging
// the findings listed in SUPPRESSIONS, each with its one-line reason. What is left is a finding.
//
// CLI: node scripts/rule-pack.ts [template.json]  (default: the `serverless package` output).
// Exit 0 when nothing is left, 1 with one finding per line otherwise.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

export interface Suppression {
  /** Rule id, with the finding for multi-finding rules: `AwsSolutions-IAM5[Resource::*]`. */
  id: string;
  /** Logical ids the acknowledgement applies to; `*` for the whole template. */
  resources: string[] | '*';
  reason: string;
}

const RUNTIME_ID = 'arn:<AWS::Partition>:bedrock-agentcore:<AWS::Region>:<AWS::AccountId>:runtime/*';
const GATEWAY_ID = 'arn:<AWS::Partition>:bedrock-agentcore:<AWS::Region>:<AWS::AccountId>:gateway/*';
const ENGINE_ID = 'arn:<AWS::Partition>:bedrock-agentcore:<AWS::Region>:<AWS::AccountId>:policy-engine/*';

/** Every acknowledged finding, with why it is acceptable. Keep each reason to one line. */
export const SUPPRESSIONS: Suppression[] = [
  { id: 'AwsSolutions-S1', resources: ['ServerlessDeploymentBucket'], reason: 'osls\' deployment bucket only holds the packaged artifacts; point provider.deploymentBucket at a logged bucket to change it.' },
  { id: 'AwsSolutions-L1', resources: '*', reason: 'nodejs24.x is the newest runtime osls 4.3 packages (its runtime schema ends there); aws-cdk-lib already lists nodejs26.x.' },
  { id: 'Serverless-LambdaLatestVersion', resources: '*', reason: 'Same as AwsSolutions-L1: nodejs24.x is the newest runtime osls 4.3 packages.' },
  { id: 'Serverless-LambdaDLQ', resources: '*', reason: 'Asynchronously invoked functions send failures to the DLQ as on-failure destination (EventInvokeConfig, richer than a DLQ); the others are invoked synchronously, where a DLQ never applies.' },
  { id: 'AwsSolutions-SQS3', resources: ['EventsDeadLetterQueue'], reason: 'This queue is the dead-letter queue (on-failure destination and rules\' DLQ); a DLQ of the DLQ would only hide messages.' },
  { id: 'Serverless-SQSRedrivePolicy', resources: ['EventsDeadLetterQueue'], reason: 'This queue is the dead-letter queue; nothing consumes it automatically, so there is nothing to redrive from.' },
  { id: `AwsSolutions-IAM5[Resource::${RUNTIME_ID}]`, resources: '*', reason: 'Runtime ids carry generated suffixes and may be declared by name (resolved at run time); the code only writes runtimes the config declares.' },
  { id: `AwsSolutions-IAM5[Resource::${GATEWAY_ID}]`, resources: '*', reason: 'Gateway ids carry generated suffixes and may be declared by name (resolved at run time); the code only writes gateways the config declares.' },
  { id: `AwsSolutions-IAM5[Resource::${ENGINE_ID}]`, resources: '*', reason: 'Read-only GetPolicyEngine for the preflight; engine ids carry generated suffixes.' },
  { id: 'AwsSolutions-IAM5[Resource::*]', resources: '*', reason: 'Only actions without resource-level permissions: List* of AgentCore, cloudwatch:GetMetricData, X-Ray, log delivery of the state machines, SendTask* (authorized by the task token).' },
  { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/lambda/agentcore-autopilot-dev-*:*]', resources: ['LambdaLoggingPolicy'], reason: 'The functions\' own log groups (the stack\'s name prefix), whose streams Lambda names per invocation.' },
  { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:agentcore-autopilot-dev-policy-rollout:*]', resources: '*', reason: 'Executions of the stack\'s own policy-rollout state machine; their names are generated per rollout.' },
  { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:agentcore-autopilot-dev-policy-promotion:*]', resources: '*', reason: 'Executions of the stack\'s own policy-promotion state machine; their names are generated per promotion.' },
  { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock-agentcore:<AWS::Region>:<AWS::AccountId>:policy-engine/*/policy/*]', resources: '*', reason: 'Policy ids carry generated suffixes; the code only writes the policies the config declares (declaredPolicy).' },
  { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:supportAgent-*]', resources: '*', reason: 'The watchedAlarmArns param: name patterns of the alarms the config lists (a test keeps them in sync).' },
  { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:support-gateway-*]', resources: '*', reason: 'The watchedAlarmArns param: name patterns of the alarms the config lists (a test keeps them in sync).' },
  { id: 'AwsSolutions-IAM5[Resource::<FunctionVersions>]', resources: ['RuntimePromotionStateMachineRole', 'PolicyRolloutStateMachineRole', 'DriftScanStateMachineRole'], reason: 'serverless-step-functions lets the state machines invoke qualified versions of the stack\'s own task functions (<arn>:*).' },
  { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:agentcore-autopilot/*]', resources: ['ReadSecretReferencesPolicy'], reason: 'The secretArns param: the secret name prefix runtime environments may reference (a test checks the config\'s references fall under it).' },
  { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/agentcore-autopilot/*]', resources: ['ReadSecretReferencesPolicy'], reason: 'The secureParameterArns param: the parameter path runtime environments may reference.' },
  { id: 'Serverless-LambdaStarPermissions', resources: '*', reason: 'The same wildcards as the AwsSolutions-IAM5 acknowledgements above, each one reasoned there.' },
];

export interface Finding {
  rule: string;
  resource: string;
  description: string;
  severity: string;
}

/** The findings of both packs over a template file, after the acknowledgements. */
export function runRulePack(templateFile: string, suppressions: Suppression[] = SUPPRESSIONS): Finding[] {
  const app = new App();
  const stack = new Stack(app, 'agentcore-autopilot');
  const template = new CfnInclude(stack, 'Template', { templateFile });
  for (const s of suppressions) {
    if (!s.reason.trim() || s.reason.includes('\n')) throw new Error(`suppression ${s.id}: needs a one-line reason`);
    const ids = expand(s.id);
    const targets = s.resources === '*' ? [stack] : s.resources.map((id) => template.getResource(id));
    for (const target of targets) for (const id of ids) Validations.of(target).acknowledge({ id, reason: s.reason });
  }
  const findings: Finding[] = [];
  for (const pack of [new AwsSolutionsChecks(), new ServerlessChecks()]) {
    for (const v of pack.validateScope(stack).violations) {
      for (const r of v.violatingResources) {
        findings.push({ rule: v.ruleName, resource: (r.constructPath ?? r.resourceLogicalId ?? '?').replace(/^agentcore-autopilot\/Template\//, ''), description: v.description, severity: v.severity ?? 'error' });
      }
    }
  }
  return findings;
}

/**
 * `<FunctionVersions>` stands for the `${functionArn}:*` statement serverless-step-functions
 * generates per task function (cdk-nag names each finding after the resource's JSON).
 */
function expand(id: string): string[] {
  if (!id.includes('<FunctionVersions>')) return [id];
  const tasks = [
    'PromotionCheckRuntime', 'PromotionCheckAlarms', 'PromotionCheckEndpoint', 'PromotionMoveEndpoint', 'PromotionRollback', 'PromotionReport',
    'RolloutPreflight', 'RolloutVerify', 'RolloutPublish', 'RolloutApplyMode', 'RolloutCheckGateway', 'RolloutRestore',
    'CorrectDrift',
  ];
  return tasks.map((t) => id.replace('<FunctionVersions>', `["\${functionArn}:*",{"functionArn":{"Fn::GetAtt":["${t}LambdaFunction","Arn"]}}]`));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = resolve(process.argv[2] ?? '.serverless/cloudformation-template-update-stack.json');
  const findings = runRulePack(file);
  for (const f of findings) console.log(`${f.severity.toUpperCase()} ${f.rule} ${f.resource}: ${f.description}`);
  console.log(findings.length === 0 ? 'rule packs: no findings' : `rule packs: ${findings.length} finding(s)`);
  process.exit(findings.length === 0 ? 0 : 1);
}
