/**
 * Resource-based policy evaluation for the local stand-ins (an EventBridge bus policy, a Lambda
 * function's resource policy), after the IAM User Guide, "Policy evaluation logic" and "IAM JSON
 * policy elements":
 *
 * - An explicit Deny that applies (principal, action, resource and every condition match) wins.
 * - Within one account, a request is allowed when the identity-based policy OR the resource-based
 *   policy allows it. Identity policies are not modelled locally: a same-account caller is assumed
 *   to hold the permission (the threat the resource policy must stand up to is "anyone in the
 *   account with events:PutEvents on *"), so only an explicit Deny stops it.
 * - Across accounts both must allow: the resource policy needs an Allow for the caller.
 *
 * Supported: Effect, Principal ("*", {AWS: "*" | account id | account root ARN | role/user ARN}),
 * Action/Resource (with * and ? wildcards), Condition with String(Not)Equals, String(Not)Like,
 * Arn(Not)Equals, Arn(Not)Like, Bool (each with IfExists) on the keys the caller supplies (e.g.
 * aws:PrincipalArn, aws:PrincipalAccount, events:source). A key absent from the request makes a
 * positive operator false and a negated one true ("...IfExists" true either way), as IAM does.
 * Anything else (NotPrincipal, NotAction, NotResource, another operator) is refused when the
 * policy is set: fail closed rather than evaluate a policy differently from AWS.
 */
import type { Caller } from './identity.ts';

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal: '*' | { AWS?: string | string[]; Service?: string | string[] };
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

export interface AuthorizationRequest {
  caller: Caller;
  action: string;
  resource: string;
  /** Account that owns the resource. */
  resourceAccount: string;
  /** Request-specific condition keys (e.g. `events:source`); aws:PrincipalArn/Account are added. */
  context?: Record<string, string | undefined>;
}

export type Decision = { allowed: true } | { allowed: false; reason: 'explicit-deny' | 'no-allow'; statement?: string };

const OPERATORS = new Set([
  'StringEquals', 'StringNotEquals', 'StringLike', 'StringNotLike', 'ArnEquals', 'ArnNotEquals', 'ArnLike', 'ArnNotLike', 'Bool',
]);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'Action', 'Resource', 'Condition']);

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const wildcard = (pattern: string, value: string, ci = false) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, ci ? 'is' : 's').test(value);

/** Parses and checks a policy (JSON text or object); throws naming what the local evaluator cannot honour. */
export function parsePolicy(policy: string | PolicyDocument): PolicyStatement[] {
  const doc = (typeof policy === 'string' ? JSON.parse(policy) : policy) as PolicyDocument;
  const statements = list(doc?.Statement);
  if (statements.length === 0) throw new Error('policy has no Statement');
  for (const [i, s] of statements.entries()) {
    const where = s.Sid ? `statement ${s.Sid}` : `statement ${i}`;
    for (const key of Object.keys(s)) if (!STATEMENT_KEYS.has(key)) throw new Error(`${where}: ${key} is not evaluated locally`);
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new Error(`${where}: Effect must be Allow or Deny`);
    if (s.Principal === undefined || list(s.Action).length === 0 || list(s.Resource).length === 0) {
      throw new Error(`${where}: needs Principal, Action and Resource`);
    }
    for (const [op, keys] of Object.entries(s.Condition ?? {})) {
      if (!OPERATORS.has(op.replace(/IfExists$/, ''))) throw new Error(`${where}: condition operator ${op} is not evaluated locally`);
      if (typeof keys !== 'object' || keys === null) throw new Error(`${where}: condition ${op} must map keys to values`);
    }
  }
  return statements;
}

function principalMatches(p: PolicyStatement['Principal'], caller: Caller): boolean {
  if (p === '*') return true;
  for (const aws of list(p.AWS)) {
    if (aws === '*' || aws === caller.account || aws === `arn:aws:iam::${caller.account}:root` || aws === caller.principalArn) return true;
  }
  return false;
}

function conditionsHold(condition: PolicyStatement['Condition'], values: Record<string, string | undefined>): boolean {
  for (const [rawOp, keys] of Object.entries(condition ?? {})) {
    const ifExists = rawOp.endsWith('IfExists');
    const op = rawOp.replace(/IfExists$/, '');
    const negated = op.includes('Not');
    for (const [key, expected] of Object.entries(keys)) {
      const actual = values[key.toLowerCase()];
      if (actual === undefined) {
        if (ifExists || negated) continue;
        return false;
      }
      const wanted = list(expected as string | string[]).map(String);
      let any: boolean;
      if (op === 'Bool') any = wanted.some((w) => w.toLowerCase() === actual.toLowerCase());
      else if (op.includes('Like')) any = wanted.some((w) => wildcard(w, actual));
      else any = wanted.some((w) => w === actual);
      if (negated ? any : !any) return false;
    }
  }
  return true;
}

function applies(s: PolicyStatement, req: AuthorizationRequest, values: Record<string, string | undefined>): boolean {
  return principalMatches(s.Principal, req.caller)
    && list(s.Action).some((a) => wildcard(a, req.action, true))
    && list(s.Resource).some((r) => wildcard(r, req.resource))
    && conditionsHold(s.Condition, values);
}

/** Decides a request against a resource policy (see the module comment for the rules applied). */
export function authorize(statements: PolicyStatement[], req: AuthorizationRequest): Decision {
  const values: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.context ?? {})) values[k.toLowerCase()] = v;
  values['aws:principalarn'] = req.caller.principalArn;
  values['aws:principalaccount'] = req.caller.account;
  // The local stack serves plain HTTP on loopback; SDK calls to AWS use TLS.
  values['aws:securetransport'] = 'true';
  const deny = statements.find((s) => s.Effect === 'Deny' && applies(s, req, values));
  if (deny) return { allowed: false, reason: 'explicit-deny', statement: deny.Sid };
  if (req.caller.account === req.resourceAccount) return { allowed: true };
  return statements.some((s) => s.Effect === 'Allow' && applies(s, req, values)) ? { allowed: true } : { allowed: false, reason: 'no-allow' };
}

/** The message IAM gives a denied request (IAM User Guide, "Troubleshoot access denied error messages"). */
export function accessDeniedMessage(req: AuthorizationRequest, decision: Extract<Decision, { allowed: false }>): string {
  const why = decision.reason === 'explicit-deny' ? 'with an explicit deny in a resource-based policy' : 'because no resource-based policy allows the ' + req.action + ' action';
  return `User: ${req.caller.arn} is not authorized to perform: ${req.action} on resource: ${req.resource} ${why}`;
}
