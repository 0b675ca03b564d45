/**
 * Cedar through the Cedar project's own WebAssembly bindings (`@cedar-policy/cedar-wasm`, Apache-2.0):
 * parsing one AgentCore policy statement (effect, scope, conditions, errors with line and column),
 * a canonical text for comparing statements, and authorization (the emulator decides tool calls
 * with it). The wasm module (~4 MB) is loaded on first use, so code paths that never touch Cedar
 * pay nothing for it.
 *
 * AgentCore semantics this relies on (developer guide, policy-test-a-policy and
 * policy-schema-constraints): a policy's `definition.cedar.statement` holds one Cedar policy;
 * Cedar is default-deny and forbid wins.
 */
import { createRequire } from 'node:module';
import type * as CedarWasm from '@cedar-policy/cedar-wasm/nodejs';

type Cedar = typeof CedarWasm;
let cedar: Cedar | undefined;

/** The loaded bindings (synchronous: the Node.js entry instantiates the wasm module on require). */
export function cedarLib(): Cedar {
  cedar ??= createRequire(import.meta.url)('@cedar-policy/cedar-wasm/nodejs') as Cedar;
  return cedar;
}

/** A parse error located in the statement: 1-based line and column of its first source span. */
export interface CedarIssue {
  message: string;
  line: number;
  column: number;
  help?: string;
}

export type CedarEffect = 'permit' | 'forbid';

export interface ParsedStatement {
  effect: CedarEffect;
  /** The policy's JSON form (Cedar's EST): scope constraints and conditions. */
  json: CedarWasm.PolicyJson;
  /** Canonical text (Cedar's formatter): equal for statements that differ only in layout. */
  canonical: string;
}

export type ParseResult = { ok: true; policy: ParsedStatement } | { ok: false; issues: CedarIssue[] };

/** 1-based line/column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

function issuesOf(text: string, errors: CedarWasm.DetailedError[]): CedarIssue[] {
  return errors.map((e) => {
    const at = e.sourceLocations?.[0]?.start ?? 0;
    return { message: e.message, ...lineColumn(text, at), ...(e.help ? { help: e.help } : {}) };
  });
}

/**
 * Parses one policy statement. More than one policy (or none) in the statement is an error: an
 * AgentCore policy resource holds exactly one Cedar policy (CreatePolicy `definition.cedar.statement`).
 */
export function parseStatement(statement: string): ParseResult {
  const lib = cedarLib();
  const parts = lib.policySetTextToParts(statement);
  if (parts.type === 'failure') return { ok: false, issues: issuesOf(statement, parts.errors) };
  const count = (parts.policies?.length ?? 0) + (parts.policy_templates?.length ?? 0);
  if (count !== 1 || (parts.policy_templates?.length ?? 0) > 0) {
    return {
      ok: false,
      issues: [{ message: count === 0 ? 'the statement contains no Cedar policy' : (parts.policy_templates?.length ?? 0) > 0 ? 'the statement is a template (it has ?principal or ?resource slots); AgentCore policies are static' : `the statement contains ${count} Cedar policies; one AgentCore policy holds exactly one`, line: 1, column: 1 }],
    };
  }
  const json = lib.policyToJson(statement);
  if (json.type === 'failure') return { ok: false, issues: issuesOf(statement, json.errors) };
  return { ok: true, policy: { effect: json.json.effect, json: json.json, canonical: canonicalStatement(statement) } };
}

/**
 * Cedar's own formatting of a statement (comments kept, layout normalised), trimmed; falls back
 * to whitespace-collapsed text when Cedar cannot format it.
 */
export function canonicalStatement(statement: string): string {
  const formatted = cedarLib().formatPolicies({ policyText: statement, lineWidth: 100, indentWidth: 2 });
  return formatted.type === 'success' ? formatted.formatted_policy.trim() : statement.replace(/\s+/g, ' ').trim();
}

/** True when the two statements are the same policy once formatted (layout alone is not a change). */
export function sameStatement(a: string, b: string): boolean {
  return a === b || canonicalStatement(a) === canonicalStatement(b);
}

/** One authorization request, in Cedar's JSON forms. */
export interface CedarRequest {
  principal: { type: string; id: string };
  action: { type: string; id: string };
  resource: { type: string; id: string };
  context: Record<string, CedarWasm.CedarValueJson>;
  entities: CedarWasm.EntityJson[];
}

export interface CedarDecision {
  decision: 'allow' | 'deny';
  /** Ids of the policies that determined the decision. */
  determining: string[];
  /** Ids of the policies whose evaluation failed (missing attribute, type mismatch...). */
  errored: string[];
}

/**
 * Cedar's decision for `request` over the policies (id -> statement). Policies that fail to
 * evaluate are skipped, as Cedar specifies (so an erroring permit grants nothing).
 */
export function authorize(policies: Record<string, string>, request: CedarRequest): CedarDecision {
  const answer = cedarLib().isAuthorized({ ...request, policies: { staticPolicies: policies } });
  if (answer.type === 'failure') {
    throw new Error(`Cedar could not evaluate the request: ${answer.errors.map((e) => e.message).join('; ')}`);
  }
  const { decision, diagnostics } = answer.response;
  return { decision, determining: [...diagnostics.reason], errored: diagnostics.errors.map((e) => e.policyId) };
}

/**
 * Strict validation of one statement against a Cedar JSON schema: the problems found, each
 * located in the statement (empty when it validates).
 */
export function validateStatement(statement: string, schema: Record<string, unknown>): CedarIssue[] {
  const answer = cedarLib().validate({
    schema: schema as CedarWasm.Schema,
    policies: { staticPolicies: { policy: statement } },
    validationSettings: { mode: 'strict' },
  });
  if (answer.type === 'failure') return issuesOf(statement, answer.errors);
  return issuesOf(statement, answer.validationErrors.map((e) => e.error));
}
