/**
 * The local resource-policy evaluator (local/emulator/iam/policy.ts) against the IAM evaluation
 * rules it follows: explicit deny wins, same-account callers need no Allow in the resource policy,
 * cross-account callers do, absent condition keys, and what it refuses to evaluate.
 */
import { describe, expect, it } from 'vitest';
import { Identities, accessKeyOf } from '../../../local/emulator/iam/identity.ts';
import { authorize, parsePolicy } from '../../../local/emulator/iam/policy.ts';

const ids = new Identities({
  op: 'arn:aws:iam::123456789012:role/ops/platform-operator',
  dev: 'arn:aws:iam::123456789012:user/dev',
  partner: 'arn:aws:iam::210987654321:role/partner',
});
const BUS = 'arn:aws:events:us-east-1:123456789012:event-bus/requests';
const policy = parsePolicy({
  Version: '2012-10-17',
  Statement: [
    { Sid: 'Deny', Effect: 'Deny', Principal: '*', Action: 'events:PutEvents', Resource: BUS, Condition: { ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::123456789012:role/ops/*', 'arn:aws:iam::210987654321:role/partner'] } } },
    { Sid: 'Partner', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::210987654321:role/partner' }, Action: 'events:*', Resource: BUS, Condition: { StringEquals: { 'events:source': 'x.requests' } } },
  ],
});
const req = (key: string, source = 'x.requests') => ({ caller: ids.caller(key)!, action: 'events:PutEvents', resource: BUS, resourceAccount: '123456789012', context: { 'events:source': source } });

describe('resource policy evaluation', () => {
  it('an explicit deny stops a same-account caller whatever it may do otherwise', () => {
    expect(authorize(policy, req('dev'))).toEqual({ allowed: false, reason: 'explicit-deny', statement: 'Deny' });
    expect(authorize(policy, req('op'))).toEqual({ allowed: true });
  });

  it('a cross-account caller needs an Allow whose conditions hold', () => {
    expect(authorize(policy, req('partner'))).toEqual({ allowed: true });
    expect(authorize(policy, req('partner', 'other'))).toEqual({ allowed: false, reason: 'no-allow' });
  });

  it('an absent condition key fails a positive operator and satisfies a negated one', () => {
    const p = parsePolicy({ Statement: [{ Effect: 'Deny', Principal: '*', Action: '*', Resource: '*', Condition: { StringNotEquals: { 'events:detail-type': 'x' } } }] });
    expect(authorize(p, { ...req('op'), context: {} }).allowed).toBe(false);
  });

  it('refuses policy elements it cannot evaluate like AWS', () => {
    expect(() => parsePolicy({ Statement: [{ Effect: 'Deny', NotPrincipal: { AWS: 'x' }, Action: '*', Resource: '*' } as never] })).toThrow(/NotPrincipal/);
    expect(() => parsePolicy({ Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*', Condition: { DateGreaterThan: { 'aws:CurrentTime': 'x' } } }] })).toThrow(/DateGreaterThan/);
  });

  it('reads the access key of a SigV4 request and names role sessions as AWS does', () => {
    const headers = { authorization: 'AWS4-HMAC-SHA256 Credential=op/20260302/us-east-1/events/aws4_request, SignedHeaders=host, Signature=abc' };
    expect(accessKeyOf({ headers, query: new URLSearchParams() })).toBe('op');
    expect(ids.callerOf({ headers, query: new URLSearchParams() })).toMatchObject({
      principalArn: 'arn:aws:iam::123456789012:role/ops/platform-operator', arn: 'arn:aws:sts::123456789012:assumed-role/platform-operator/op', account: '123456789012',
    });
    expect(() => new Identities({ bad: 'arn:aws:s3:::bucket' })).toThrow(/not an IAM role or user ARN/);
  });
});
