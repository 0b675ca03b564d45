/**
 * serverless.yml's `managedRoleArns` (iam:PassRole) and `trackedRepositories` (the image-push
 * rule's filter) are hand-maintained copies of facts in autopilot.config.yaml: keep them in sync.
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
const params = raw.params.default as { managedRoleArns: string[]; trackedRepositories: string[] };
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

describe('serverless.yml params follow autopilot.config.yaml', async () => {
  const config = await loadConfig(path.join(REPO_ROOT, 'autopilot.config.yaml'));

  it('managedRoleArns lists exactly the roleArns of the configured runtimes and gateways', () => {
    const roles = [...config.runtimes, ...config.gateways].map((r) => r.desired.roleArn).filter((r): r is string => typeof r === 'string');
    expect(roles.length).toBeGreaterThan(0);
    expect(sorted(params.managedRoleArns)).toEqual(sorted(roles));
  });

  it('the drift schedule and the event bus are the ones the config declares, in every stage', () => {
    for (const stage of ['dev', 'prod']) {
      const sls = loadServerlessConfig(serverlessFile, { stage, env: {} });
      expect(sls.eventRules.find((r) => r.functionKey === 'correctDrift' && r.kind === 'schedule')?.schedule, stage).toBe(config.drift.schedule);
      for (const f of Object.values(sls.functions)) expect(f.environment.AUTOPILOT_EVENT_BUS, `${stage} ${f.key}`).toBe(config.events.busName);
    }
  });

  it('trackedRepositories lists exactly the repositories of the tracking rules', () => {
    const repos = config.runtimes.flatMap((r) => (r.track ? [r.track.repository] : []));
    expect(repos.length).toBeGreaterThan(0);
    expect(sorted(params.trackedRepositories)).toEqual(sorted(repos));
  });

  it('the image-push rule filters on those repositories, successful pushes only', () => {
    const sls = loadServerlessConfig(serverlessFile, { stage: 'dev', env: {} });
    const rule = sls.eventRules.find((r) => r.functionKey === 'onImagePush');
    expect(rule?.pattern).toEqual({
      source: ['aws.ecr'],
      'detail-type': ['ECR Image Action'],
      detail: { 'action-type': ['PUSH'], result: ['SUCCESS'], 'repository-name': params.trackedRepositories },
    });
    expect(rule?.retryPolicy).toMatchObject({ maximumRetryAttempts: 4 });
    expect(rule?.deadLetter).toBeTruthy();
  });

  it('iam:PassRole is limited to those roles, passed to AgentCore only', () => {
    const statement = raw.resources[0].Resources.PassManagedRolesPolicy.Properties.PolicyDocument.Statement;
    expect(statement).toEqual([{
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: '${param:managedRoleArns}',
      Condition: { StringEquals: { 'iam:PassedToService': 'bedrock-agentcore.amazonaws.com' } },
    }]);
  });
});
