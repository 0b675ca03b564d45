import { describe, expect, it } from 'vitest';
import { checkTemplate } from '../../scripts/check-cfn.ts';

/** A small valid template in the shape osls produces: a function with its own role and log policy. */
function validTemplate(): Record<string, any> {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Resources: {
      ProbeLogGroup: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/aws/lambda/probe', RetentionInDays: 7 } },
      LambdaLoggingPolicy: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: { PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['logs:PutLogEvents'], Resource: '*' }] } },
      },
      ProbeRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
          ManagedPolicyArns: [{ Ref: 'LambdaLoggingPolicy' }],
        },
      },
      ProbeLambdaFunction: {
        Type: 'AWS::Lambda::Function',
        DependsOn: ['ProbeLogGroup', 'ProbeRole'],
        Properties: {
          Code: { S3Bucket: 'bucket', S3Key: 'probe.zip' },
          Handler: 'functions/handlers/probe.handler',
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          MemorySize: 256,
          Role: { 'Fn::GetAtt': ['ProbeRole', 'Arn'] },
          Environment: { Variables: { A: 'b' } },
        },
      },
    },
    Outputs: {
      ProbeArn: { Value: { 'Fn::Sub': 'arn:${AWS::Partition}:x:${ProbeLambdaFunction.Arn}:${ProbeRole}' } },
    },
  };
}

describe('checkTemplate', () => {
  it('accepts a valid template', () => {
    expect(checkTemplate(validTemplate())).toEqual([]);
  });

  it('reports an unknown resource type', () => {
    const t = validTemplate();
    t.Resources.ProbeLogGroup.Type = 'AWS::Logs::LogGroupp';

    expect(checkTemplate(t)).toContainEqual({ path: 'Resources.ProbeLogGroup.Type', message: 'unknown resource type "AWS::Logs::LogGroupp"' });
  });

  it('reports unknown properties at the top level and inside typed sub-properties', () => {
    const t = validTemplate();
    t.Resources.ProbeLambdaFunction.Properties.Runtim = 'nodejs24.x';
    t.Resources.ProbeLambdaFunction.Properties.Code.S3Bukket = 'x';

    const messages = checkTemplate(t).map((i) => `${i.path}: ${i.message}`);

    expect(messages).toContain('Resources.ProbeLambdaFunction.Properties.Runtim: unknown property "Runtim" for AWS::Lambda::Function');
    expect(messages).toContain('Resources.ProbeLambdaFunction.Properties.Code.S3Bukket: unknown property "S3Bukket" for Code');
  });

  it('reports missing required properties', () => {
    const t = validTemplate();
    delete t.Resources.ProbeLambdaFunction.Properties.Role;
    delete t.Resources.ProbeRole.Properties.AssumeRolePolicyDocument;

    const messages = checkTemplate(t).map((i) => i.message);

    expect(messages).toContain('required property "Role" of AWS::Lambda::Function is missing');
    expect(messages).toContain('required property "AssumeRolePolicyDocument" of AWS::IAM::Role is missing');
  });

  it('reports wrongly shaped values', () => {
    const t = validTemplate();
    t.Resources.ProbeLambdaFunction.Properties.Architectures = 'arm64';
    t.Resources.ProbeLambdaFunction.Properties.MemorySize = 'lots';

    const messages = checkTemplate(t).map((i) => `${i.path}: ${i.message}`);

    expect(messages).toContain('Resources.ProbeLambdaFunction.Properties.Architectures: expected a list, got string "arm64"');
    expect(messages).toContain('Resources.ProbeLambdaFunction.Properties.MemorySize: expected a number, got string "lots"');
  });

  it('reports dangling Ref, GetAtt, Sub and DependsOn targets and unknown attributes', () => {
    const t = validTemplate();
    t.Resources.ProbeRole.Properties.ManagedPolicyArns = [{ Ref: 'NoSuchPolicy' }];
    t.Resources.ProbeLambdaFunction.Properties.Role = { 'Fn::GetAtt': ['ProbeRole', 'Arnn'] };
    t.Resources.ProbeLambdaFunction.DependsOn = ['ProbeLogGroup', 'Ghost'];
    t.Outputs.ProbeArn.Value = { 'Fn::Sub': '${Missing.Arn}' };

    const messages = checkTemplate(t).map((i) => i.message);

    expect(messages).toContain('Ref to unknown logical id or parameter "NoSuchPolicy"');
    expect(messages.some((m) => m.startsWith('Fn::GetAtt: AWS::IAM::Role has no attribute "Arnn"'))).toBe(true);
    expect(messages).toContain('depends on unknown resource "Ghost"');
    expect(messages).toContain('Fn::GetAtt on unknown resource "Missing"');
  });

  it('accepts intrinsics wherever a value is expected', () => {
    const t = validTemplate();
    t.Resources.ProbeLambdaFunction.Properties.MemorySize = { 'Fn::If': ['C', 256, 512] };
    t.Conditions = { C: { 'Fn::Equals': ['a', 'a'] } };

    expect(checkTemplate(t)).toEqual([]);
  });

  it('rejects a template without resources', () => {
    expect(checkTemplate({ Resources: {} })).toEqual([{ path: 'Resources', message: 'a template needs at least one resource' }]);
    expect(checkTemplate('nope')).toHaveLength(1);
  });
});
