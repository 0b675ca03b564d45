/**
 * Cedar policies under declared configuration: the `policyEngines` section of the config, the
 * settings of a staged policy promotion (LOG_ONLY -> ACTIVE), and the resolution of each declared
 * statement (inline, or a file next to the config) with Cedar's own parser.
 *
 * ```yaml
 * policyEngines:
 *   - arn: arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/supportPolicies-u1v2w3x4y5
 *     prune: false        # delete live policies the config does not declare (default: report them)
 *     promote: manual     # auto: the drift schedule starts the promotion of a declared change
 *     promotion: { bakeMinutes: 60, activeBakeMinutes: 30, minMatches: 20, maxFlipRatio: 0.05, ... }
 *     policies:
 *       - name: support_agents
 *         mode: ACTIVE    # declared enforcement mode (ACTIVE | LOG_ONLY)
 *         statement: |
 *           permit (principal, action, resource) when { ... };
 *       - name: no_deletes
 *         file: policies/no_deletes.cedar
 * ```
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
// The namespace import lets esbuild drop what is not used (`import { z }` keeps every locale).
import * as z from 'zod';
import { alarmName, checkedString, count, minutes, positiveCount, ratio, uniqueList } from './fields.ts';
import { checkGatewayId, checkPolicyEngineArn } from './patterns.ts';
import type { RawIssue } from './issues.ts';
import {
  MAX_PROMOTION_ALARMS, MAX_PROMOTION_BAKE_EXTENSIONS, MAX_PROMOTION_READY_TIMEOUT_MINUTES, promotionLimitProblems, promotionStateProblem,
} from './promotion-limits.ts';
import { dimensionSetSchema } from './rollout.ts';
import { CANDIDATE_SUFFIX, MAX_DECLARED_POLICY_NAME } from './defaults.ts';

export { CANDIDATE_SUFFIX, MAX_DECLARED_POLICY_NAME };

export interface PromotionProjections {
  /** LogOnlyMatches / LogOnlyDecisionFlips of the policy under promotion. */
  logOnly?: Record<string, string>;
  /** MismatchErrors of the policy (evaluation failures: missing attribute, type mismatch). */
  evaluationFailures?: Record<string, string>;
  /** AllowDecisions / DenyDecisions of one gateway in ENFORCE (summed over the engine's gateways). */
  decisions?: Record<string, string>;
}

export interface PromotionSettings {
  /** LOG_ONLY bake before the first verification, minutes. */
  bakeMinutes: number;
  /** Bake after ACTIVE before the last verification. */
  activeBakeMinutes: number;
  /** The policy must have matched at least this many requests in LOG_ONLY (evidence it evaluates at all). */
  minMatches: number;
  /** Flipped decisions / all decisions of the engine's gateways in the window, at most this. */
  maxFlipRatio: number;
  /** Requests whose evaluation of this policy failed, at most this. */
  maxEvaluationFailures: number;
  /** Fewer decisions on the engine's gateways than this: INCONCLUSIVE. */
  minDecisions: number;
  /** ACTIVE deny ratio at most this multiple of the one before promotion (>= 1). */
  maxDenySpikeRatio: number;
  maxBakeExtensions: number;
  /** How long CreatePolicy/UpdatePolicy may take to settle (ACTIVE status). */
  readyTimeoutMinutes: number;
  alarms: string[];
  approval: { required: boolean; timeoutMinutes: number };
  /** Gateways whose decisions the promotion reads; default: the config's gateways on this engine. */
  gateways: string[];
  projections: PromotionProjections;
}

export type PolicyEnforcementMode = 'ACTIVE' | 'LOG_ONLY';
export type PolicyValidationMode = 'FAIL_ON_ANY_FINDINGS' | 'IGNORE_ALL_FINDINGS';

export interface DeclaredPolicy {
  name: string;
  /** Declared enforcement mode. */
  mode: PolicyEnforcementMode;
  /** The Cedar statement (read from `file` when the config names one). */
  statement: string;
  /** Where the statement came from: `inline`, or the file path as written in the config. */
  source: string;
  validationMode: PolicyValidationMode;
  description?: string;
}

export interface PolicyEngineDeclaration {
  arn: string;
  prune: boolean;
  promote: 'manual' | 'auto';
  promotion: PromotionSettings;
  policies: DeclaredPolicy[];
}

export const DEFAULT_PROMOTION_SETTINGS: Readonly<PromotionSettings> = Object.freeze({
  bakeMinutes: 60,
  activeBakeMinutes: 30,
  minMatches: 20,
  maxFlipRatio: 0.05,
  maxEvaluationFailures: 0,
  minDecisions: 100,
  maxDenySpikeRatio: 2,
  maxBakeExtensions: 2,
  readyTimeoutMinutes: 5,
  alarms: Object.freeze([]) as unknown as string[],
  approval: Object.freeze({ required: false, timeoutMinutes: 60 }),
  gateways: Object.freeze([]) as unknown as string[],
  projections: Object.freeze({}),
});

const projection = dimensionSetSchema(['gatewayId', 'gatewayArn', 'policyEngineId', 'policyEngineArn', 'policyId', 'policyName', 'mode']);

const D = DEFAULT_PROMOTION_SETTINGS;

export const promotionSettingsSchema = z.strictObject({
  // The field builders are zod/mini schemas (fields.ts): classic zod's functions wrap them.
  bakeMinutes: z._default(minutes(), D.bakeMinutes),
  activeBakeMinutes: z._default(minutes(), D.activeBakeMinutes),
  minMatches: z._default(positiveCount(), D.minMatches),
  maxFlipRatio: z._default(ratio(), D.maxFlipRatio),
  maxEvaluationFailures: z._default(count(), D.maxEvaluationFailures),
  minDecisions: z._default(positiveCount(), D.minDecisions),
  maxDenySpikeRatio: z.number().min(1).default(D.maxDenySpikeRatio),
  maxBakeExtensions: z._default(count().check(z.lte(MAX_PROMOTION_BAKE_EXTENSIONS, {
    error: `must be at most ${MAX_PROMOTION_BAKE_EXTENSIONS} (each extension adds history events to the promotion's Step Functions execution)`,
  })), D.maxBakeExtensions),
  // The PolicyActive waiter polls every 5 s, 24 times (two minutes); a few minutes is plenty.
  readyTimeoutMinutes: z._default(minutes().check(z.lte(MAX_PROMOTION_READY_TIMEOUT_MINUTES, {
    error: `must be at most ${MAX_PROMOTION_READY_TIMEOUT_MINUTES}: the promotion polls the policy every 5 s in three wait loops, and its Step Functions execution history is limited to 25,000 events`,
  })), D.readyTimeoutMinutes),
  alarms: z._default(uniqueList(alarmName(), 'alarm').check(z.maxLength(MAX_PROMOTION_ALARMS, { error: `must have at most ${MAX_PROMOTION_ALARMS} items (DescribeAlarms takes 100 names)` })), () => []),
  approval: z.strictObject({
    required: z.boolean().default(false),
    timeoutMinutes: z._default(minutes(), 60),
  }).prefault({}),
  gateways: z._default(uniqueList(checkedString(checkGatewayId), 'gateway'), () => []),
  projections: z.strictObject({ logOnly: z.optional(projection), evaluationFailures: z.optional(projection), decisions: z.optional(projection) }).default(() => ({})),
}).superRefine((s, ctx) => {
  for (const [key, message] of promotionLimitProblems(s)) ctx.addIssue({ code: 'custom', path: [key], message });
});

const policyName = checkedString((v) => {
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(v)) return 'must start with a letter and hold only letters, digits and _ (PolicyName)';
  if (v.length > MAX_DECLARED_POLICY_NAME) return `must be at most ${MAX_DECLARED_POLICY_NAME} characters (autopilot bakes a changed ACTIVE policy as a copy named <name>${CANDIDATE_SUFFIX}, and policy names are at most 48)`;
  if (v.endsWith(CANDIDATE_SUFFIX)) return `must not end in ${CANDIDATE_SUFFIX} (reserved for the trial copies of promotions)`;
  return undefined;
});

const declaredPolicySchema = z.strictObject({
  name: policyName,
  mode: z.enum(['ACTIVE', 'LOG_ONLY']).default('ACTIVE'),
  statement: z.string().optional(),
  file: z.optional(checkedString((v) => (path.isAbsolute(v) ? 'must be a path relative to the config file' : undefined))),
  validationMode: z.enum(['FAIL_ON_ANY_FINDINGS', 'IGNORE_ALL_FINDINGS']).default('FAIL_ON_ANY_FINDINGS'),
  description: z.string().min(1).max(4096).optional(),
}).superRefine((p, ctx) => {
  if ((p.statement === undefined) === (p.file === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'give exactly one of statement (inline Cedar) or file (a .cedar file next to the config)' });
  }
});

export const policyEngineDeclarationSchema = z.strictObject({
  arn: checkedString(checkPolicyEngineArn),
  prune: z.boolean().default(false),
  promote: z.enum(['manual', 'auto']).default('manual'),
  promotion: promotionSettingsSchema.prefault({}),
  policies: z._default(uniqueList(declaredPolicySchema, 'the name of policy', (p) => p.name), () => []),
});

export type ParsedPolicyEngineDeclaration = z.output<typeof policyEngineDeclarationSchema>;

/** A Cedar statement checker (functions/lib/cedar.ts parseStatement); absent: Cedar is not loaded here. */
export type StatementChecker = (statement: string) => { line: number; column: number; message: string }[];

export interface PolicyResolveOptions {
  /** The config file's directory (files are relative to it). */
  baseDir: string;
  /** Cedar's parser; without it only the lengths are checked (a function that never reads policies). */
  check?: StatementChecker;
}

/** The model's Statement shape: 35-10,000 characters. */
const STATEMENT_MIN = 35;
const STATEMENT_MAX = 10_000;

/**
 * Reads every declared statement (inline or from its file) and checks it; returns the resolved
 * declarations and every problem, located (config path, and file:line:column inside a statement).
 */
export function resolvePolicyEngines(
  parsed: ParsedPolicyEngineDeclaration[],
  gatewaysByEngine: Map<string, string[]>,
  options: PolicyResolveOptions,
): { engines: PolicyEngineDeclaration[]; issues: RawIssue[] } {
  const issues: RawIssue[] = [];
  const names = new Map<string, string>();
  const engines = parsed.map((e, ei): PolicyEngineDeclaration => {
    const policies = e.policies.map((p, pi): DeclaredPolicy => {
      const at = ['policyEngines', ei, 'policies', pi];
      const where = `policyEngines[${ei}].policies[${pi}]`;
      const other = names.get(p.name);
      // Policy names are unique within the account (model CreatePolicyRequest.name).
      if (other) issues.push({ at: [...at, 'name'], path: `${where}.name`, message: `repeats the policy name of ${other} (names are unique in the account)` });
      else names.set(p.name, where);
      let statement = p.statement ?? '';
      let source = 'inline';
      if (p.file !== undefined) {
        source = p.file;
        try {
          statement = readFileSync(path.resolve(options.baseDir, p.file), 'utf8');
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          issues.push({ at: [...at, 'file'], path: `${where}.file`, message: `cannot read ${p.file} (${code === 'ENOENT' ? 'no such file next to the config' : code ?? 'unknown error'})` });
          statement = '';
        }
      }
      const trimmed = statement.trim();
      const field = p.file !== undefined ? 'file' : 'statement';
      if (statement !== '' || p.file === undefined) {
        if (trimmed.length < STATEMENT_MIN || trimmed.length > STATEMENT_MAX) {
          issues.push({ at: [...at, field], path: `${where}.${field}`, message: `policy ${p.name}: the statement must be ${STATEMENT_MIN} to ${STATEMENT_MAX} characters (it has ${trimmed.length})` });
        } else if (options.check) {
          for (const problem of options.check(trimmed)) {
            const place = p.file !== undefined ? `${p.file}:${problem.line}:${problem.column}` : `line ${problem.line}, column ${problem.column} of the statement`;
            issues.push({ at: [...at, field], path: `${where}.${field}`, message: `policy ${p.name}: Cedar error at ${place}: ${problem.message}` });
          }
        }
      }
      return {
        name: p.name,
        mode: p.mode,
        statement: trimmed,
        source,
        validationMode: p.validationMode,
        ...(p.description !== undefined && { description: p.description }),
      };
    });
    const gateways = e.promotion.gateways.length > 0 ? e.promotion.gateways : gatewaysByEngine.get(e.arn) ?? [];
    // Only an ACTIVE policy is promoted: the state a promotion carries matters only then.
    const state = policies.some((p) => p.mode === 'ACTIVE') ? promotionStateProblem({ ...e.promotion, gateways }) : undefined;
    if (state) {
      const resolved = e.promotion.gateways.length > 0 ? '' : ` (the ${gateways.length} gateways of the config on this engine: list the ones to verify in promotion.gateways)`;
      issues.push({ at: ['policyEngines', ei, 'promotion'], path: `policyEngines[${ei}].promotion`, message: `${state}${resolved}` });
    }
    return {
      arn: e.arn,
      prune: e.prune,
      promote: e.promote,
      promotion: { ...structuredClone(e.promotion), gateways },
      policies,
    };
  });
  const arns = new Map<string, number>();
  parsed.forEach((e, i) => {
    const first = arns.get(e.arn);
    if (first !== undefined) issues.push({ at: ['policyEngines', i, 'arn'], path: `policyEngines[${i}].arn`, message: `repeats the policy engine of policyEngines[${first}]` });
    else arns.set(e.arn, i);
  });
  return { engines, issues };
}
