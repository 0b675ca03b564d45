/**
 * serverless.yml's `runtimeRoleArns` / `gatewayRoleArns` (iam:PassRole), `trackedRepositories` (the
 * image-push rule's filter), `trackedRepositoryArns` (ecr:DescribeImages) and `watchedAlarmArns`
 * (cloudwatch:DescribeAlarms) are hand-maintained copies of facts in autopilot.config.yaml: keep
 * them in sync.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { loadConfig } from '../../functions/lib/config/index.ts';
import { loadServerlessConfig } from '../../local/lambda/serverless-config.ts';
import { REPO_ROOT } from '../../local/stack.ts';

const serverlessFile = path.join(REPO_ROOT, 'serverless.yml');
// CloudFormation short tags (!Ref, !GetAtt, ...) are kept as plain values: only params are read here.
const raw = parseDocument(readFileSync(serverlessFile, 'utf8'), { logLevel: 'silent' }).toJS({ maxAliasCount: -1 }) as Record<string, any>;
const params = raw.params.default as { runtimeRoleArns: string[]; gatewayRoleArns: string[]; trackedRepositories: string[] };
const resolvedParams = (loadServerlessConfig(serverlessFile, { stage: 'dev', env: {} }).resolved.params as Record<string, Record<string, unknown>>).default;
const sls = loadServerlessConfig(serverlessFile, { stage: 'dev', env: {} });
const resolvedList = (name: string) => sls.resolveIntrinsics(resolvedParams[name], `params.default.${name}`) as string[];
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

describe('serverless.yml params follow autopilot.config.yaml', async () => {
  const config = await loadConfig(path.join(REPO_ROOT, 'autopilot.config.yaml'));

  it('runtimeRoleArns and gatewayRoleArns list exactly the roleArns of the configured runtimes and gateways', () => {
    const roles = (specs: { desired: { roleArn?: string } }[]) => specs.map((r) => r.desired.roleArn).filter((r): r is string => typeof r === 'string');
    expect(roles(config.runtimes).length).toBeGreaterThan(0);
    expect(sorted(params.runtimeRoleArns)).toEqual(sorted(roles(config.runtimes)));
    expect(sorted(params.gatewayRoleArns)).toEqual(sorted(roles(config.gateways)));
  });

  it('trackedRepositoryArns name each tracked repository in every registry its rule allows (default: the stack\'s own)', () => {
    const arns = config.runtimes.flatMap((r) => {
      if (!r.track) return [];
      const accounts = r.track.registry.accounts.length > 0 ? r.track.registry.accounts : ['123456789012'];
      const regions = r.track.registry.regions.length > 0 ? r.track.registry.regions : ['us-east-1'];
      return accounts.flatMap((a) => regions.map((g) => `arn:aws:ecr:${g}:${a}:repository/${r.track!.repository}`));
    });
    expect(sorted(resolvedList('trackedRepositoryArns'))).toEqual(sorted(arns));
  });

  it('watchedAlarmArns cover every alarm the config names', () => {
    const alarms = [
      ...config.runtimes.flatMap((r) => r.track?.promote?.alarms ?? []),
      ...config.gateways.flatMap((g) => g.policyEngine?.rollout.alarms ?? []),
      // The alarms the example config suggests in its comments.
      'supportAgent-5xx', 'support-gateway-errors',
    ];
    const patterns = resolvedList('watchedAlarmArns').map((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`));
    for (const name of alarms) expect(patterns.some((p) => p.test(`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`)), name).toBe(true);
  });

  it('the drift schedule and the event bus are the ones the config declares, in every stage', () => {
    for (const stage of ['dev', 'prod']) {
      const sls = loadServerlessConfig(serverlessFile, { stage, env: {} });
      expect(sls.eventRules.find((r) => r.functionKey === 'correctDrift' && r.schedule !== undefined)?.schedule, stage).toBe(config.drift.schedule);
      for (const f of Object.values(sls.functions)) expect(f.environment.AUTOPILOT_EVENT_BUS, `${stage} ${f.key}`).toBe(config.events.busName);
    }
  });

  it('trackedRepositories lists exactly the repositories of the tracking rules', () => {
    const repos = config.runtimes.flatMap((r) => (r.track ? [r.track.repository] : []));
    expect(repos.length).toBeGreaterThan(0);
    expect(sorted(params.trackedRepositories)).toEqual(sorted(repos));
  });

  it('the image-push rule filters on those repositories, successful pushes and replications only', () => {
    const sls = loadServerlessConfig(serverlessFile, { stage: 'dev', env: {} });
    const rule = sls.eventRules.find((r) => r.functionKey === 'onImagePush');
    expect(rule?.pattern).toEqual({
      source: ['aws.ecr'],
      'detail-type': ['ECR Image Action', 'ECR Replication Action'],
      detail: { 'action-type': ['PUSH', 'REPLICATE'], result: ['SUCCESS'], 'repository-name': params.trackedRepositories },
    });
    expect(rule?.retryPolicy).toMatchObject({ maximumRetryAttempts: 4 });
    expect(rule?.deadLetter).toBeTruthy();
  });

  it('iam:PassRole is limited to those roles, split by resource type, passed to AgentCore only', () => {
    const resources = raw.resources[0].Resources;
    for (const [policy, param] of [['PassRuntimeRolesPolicy', 'runtimeRoleArns'], ['PassGatewayRolesPolicy', 'gatewayRoleArns']]) {
      expect(resources[policy].Properties.PolicyDocument.Statement).toEqual([{
        Effect: 'Allow',
        Action: ['iam:PassRole'],
        Resource: `\${param:${param}}`,
        Condition: { StringEquals: { 'iam:PassedToService': 'bedrock-agentcore.amazonaws.com' } },
      }]);
    }
    const usedBy = (policy: string) => Object.entries(resources).filter(([, r]: [string, any]) => r.Type === 'AWS::IAM::Role' && JSON.stringify(r.Properties.ManagedPolicyArns ?? []).includes(policy)).map(([id]) => id).sort();
    expect(usedBy('PassRuntimeRolesPolicy')).toEqual(['CorrectDriftRole', 'OnChangeRequestRole', 'OnImagePushRole', 'PromotionRollbackRole']);
    expect(usedBy('PassGatewayRolesPolicy')).toEqual(['CorrectDriftRole', 'RolloutApplyModeRole', 'RolloutRestoreRole']);
  });
});
