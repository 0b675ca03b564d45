import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServerlessConfig, normalizeResourceName, ServerlessConfigError } from '../../../local/lambda/serverless-config.ts';

const FIXTURE = resolve(import.meta.dirname, '../../fixtures/serverless/basic/serverless.yml');

function tmpService(yaml: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'sls-'));
  writeFileSync(join(dir, 'serverless.yml'), yaml);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return join(dir, 'serverless.yml');
}

describe('loadServerlessConfig', () => {
  it('resolves self, sls, param, opt, env and file() variables (stage params over defaults)', () => {
    const c = loadServerlessConfig(FIXTURE, { env: {} });
    expect(c.service).toBe('autopilot-fixture');
    expect(c.stage).toBe('dev');
    expect(c.region).toBe('us-east-1');
    expect(c.provider.environment).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'autopilot-fixture',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      AUTOPILOT_STAGE: 'dev',
      AUTOPILOT_EVENT_BUS: 'default',
      AUTOPILOT_OWNER: 'platform-team',
    });
    // file() with variables inside it, and a nested variable in a self address
    expect(c.resolved.custom).toMatchObject({ settings: { region: 'us-east-1' }, greeting: 'hello-dev-world' });
  });

  it('honours stage/region options and env values over the defaults', () => {
    const c = loadServerlessConfig(FIXTURE, { stage: 'prod', region: 'eu-west-1', env: { AUTOPILOT_FIXTURE_OWNER: 'sre' } });
    expect(c.provider.environment.POWERTOOLS_LOG_LEVEL).toBe('INFO');
    expect(c.provider.environment.AUTOPILOT_OWNER).toBe('sre');
    expect(c.functions.work.arn).toBe('arn:aws:lambda:eu-west-1:123456789012:function:autopilot-fixture-prod-work');
    expect(c.eventRules.find((r) => r.kind === 'schedule')?.schedule).toBe('rate(15 minutes)');
    expect(c.resolved.custom).toMatchObject({ greeting: 'hello-prod-world' });
  });

  it('normalises functions: names, handler, merged environment, timeout and memory defaults', () => {
    const c = loadServerlessConfig(FIXTURE, { env: {} });
    const f = c.functions.onImagePush;
    expect(f.name).toBe('autopilot-fixture-dev-onImagePush');
    expect(f.logicalId).toBe('OnImagePushLambdaFunction');
    expect(f.handler).toEqual({ file: 'functions/handlers/echo', export: 'handler' });
    expect(f.timeout).toBe(30);
    expect(f.memorySize).toBe(512);
    expect(f.environment.POWERTOOLS_LOG_LEVEL).toBe('WARN'); // function wins over provider
    expect(f.environment.POWERTOOLS_SERVICE_NAME).toBe('autopilot-fixture');
    expect(f.environment.GREETING).toBe('hello-dev-world');
    expect(f.environment.SELF_ARN).toBe(f.arn); // !GetAtt X.Arn
    expect(f.environment.STATE_MACHINE_ARN).toBe(c.stateMachines.pipeline.arn); // !Ref <state machine id>
    expect(c.functions.flaky.timeout).toBe(60); // provider.timeout
    expect(c.functions.flaky.memorySize).toBe(256);
  });

  it('loads state machines with deployed-style names/ARNs and GetAtt task resources resolved', () => {
    const c = loadServerlessConfig(FIXTURE, { env: {} });
    const sm = c.stateMachines.pipeline;
    expect(sm.name).toBe('autopilot-fixture-dev-pipeline');
    expect(sm.arn).toBe('arn:aws:states:us-east-1:123456789012:stateMachine:autopilot-fixture-dev-pipeline');
    const states = sm.definition.States as Record<string, { Resource?: string }>;
    expect(states.Work.Resource).toBe('arn:aws:lambda:us-east-1:123456789012:function:autopilot-fixture-dev-work');
    expect(states.Flaky.Resource).toBe('arn:aws:lambda:us-east-1:123456789012:function:autopilot-fixture-dev-flaky');
    expect(sm.definition.Comment).toContain('autopilot-fixture');
    const cb = c.stateMachines.callback.definition.States as Record<string, { Parameters: { FunctionName: string } }>;
    expect(cb.AskFunction.Parameters.FunctionName).toBe(c.functions.approve.arn);
    expect(c.stateMachines.callback.logicalId).toBe('CallbackStepFunctionsStateMachine');
    const approval = c.stateMachines.approval.definition.States as Record<string, { Parameters: { Entries: { EventBusName: string }[] } }>;
    expect(approval.RequestApproval.Parameters.Entries[0].EventBusName).toBe('default');
  });

  it('lists the event rules with osls naming, patterns, retry policy, DLQ and schedules', () => {
    const c = loadServerlessConfig(FIXTURE, { env: {} });
    expect(c.eventRules).toEqual([
      {
        functionKey: 'onImagePush',
        functionArn: c.functions.onImagePush.arn,
        kind: 'eventBridge',
        name: 'autopilot-fixture-dev-onImagePush-rule-1',
        enabled: true,
        eventBus: undefined,
        pattern: { source: ['aws.ecr'], 'detail-type': ['ECR Image Action'], detail: { 'action-type': ['PUSH'], result: ['SUCCESS'] } },
        schedule: undefined,
        input: undefined,
        inputPath: undefined,
        inputTransformer: undefined,
        retryPolicy: { maximumEventAge: 3600, maximumRetryAttempts: 2 },
        deadLetter: 'arn:aws:sqs:us-east-1:123456789012:autopilot-fixture-dev-events-dlq',
      },
      {
        functionKey: 'driftCheck',
        functionArn: c.functions.driftCheck.arn,
        kind: 'schedule',
        name: 'autopilot-fixture-dev-DriftCheckEventsRuleSchedule1',
        enabled: true,
        schedule: 'rate(6 hours)',
        input: { mode: 'scheduled' },
        inputPath: undefined,
        inputTransformer: undefined,
      },
    ]);
  });

  it('leaves CloudFormation ${AWS::...} placeholders alone while resolving variables around them', () => {
    const c = loadServerlessConfig(FIXTURE, { env: {} });
    const res = c.resolved.resources as { Resources: { LoggingPolicy: { Properties: { PolicyDocument: { Statement: { Resource: unknown[] }[] } } } } };
    expect(res.Resources.LoggingPolicy.Properties.PolicyDocument.Statement[0].Resource[0]).toEqual({
      'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/autopilot-fixture-dev-*:*',
    });
  });

  it('keeps the type of whole-value variables and supports literal fallbacks', () => {
    const path = tmpService([
      'service: t',
      'provider: { name: aws, timeout: "${env:T, 9}", memorySize: "${self:custom.mem}" }',
      'custom: { mem: 128, flag: "${strToBool(${env:FLAG, \'true\'})}", list: "${self:custom.items}", items: [a, b] }',
      'functions: { f: { handler: h.main } }',
    ].join('\n'));
    const c = loadServerlessConfig(path, { env: {} });
    expect(c.functions.f.timeout).toBe(9);
    expect(c.functions.f.memorySize).toBe(128);
    expect(c.resolved.custom).toMatchObject({ flag: true, list: ['a', 'b'] });
    expect(c.functions.f.name).toBe('t-dev-f');
    expect(normalizeResourceName('on-image_push')).toBe('OnDashimageUnderscorepush');
  });

  it('fails clearly on unknown sources, missing env without default, missing files and unknown refs', () => {
    const base = 'service: t\nprovider: { name: aws }\n';
    expect(() => loadServerlessConfig(tmpService(`${base}custom: { x: "\${ssm:/param}" }\n`), { env: {} }))
      .toThrow(/unsupported variable source "ssm" in \$\{ssm:\/param\} at custom\.x/);
    expect(() => loadServerlessConfig(tmpService(`${base}custom: { x: "\${env:NOPE}" }\n`), { env: {} }))
      .toThrow(/\$\{env:NOPE\} at custom\.x: environment variable NOPE is not set/);
    expect(() => loadServerlessConfig(tmpService(`${base}custom: { x: "\${file(missing.yaml)}" }\n`), { env: {} }))
      .toThrow(ServerlessConfigError);
    expect(() => loadServerlessConfig(tmpService(`${base}functions: { f: { handler: h.main, environment: { A: !Ref Nowhere } } }\n`), { env: {} }))
      .toThrow(/functions\.f\.environment.*Nowhere/);
    expect(() => loadServerlessConfig(tmpService(`${base}custom: { a: "\${self:custom.b}", b: "\${self:custom.a}" }\n`), { env: {} }))
      .toThrow(/circular reference/);
  });

  it('reads JSON files with a sub-address', () => {
    const path = tmpService('service: t\nprovider: { name: aws }\ncustom: { v: "${file(./v.json):a.b}" }\n', { 'v.json': '{"a":{"b":"deep"}}' });
    expect(loadServerlessConfig(path, { env: {} }).resolved.custom).toEqual({ v: 'deep' });
  });
});
