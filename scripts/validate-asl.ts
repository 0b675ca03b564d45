// Validates every statemachines/*.asl.yaml with asl-validator, the same check serverless-step-functions
// runs at package time (`validate: true`), but without packaging and with one line per problem.
//
// The definitions reference Lambda functions with CloudFormation intrinsics
// (`Resource: {Fn::GetAtt: [OnImagePushLambdaFunction, Arn]}`), which only become ARNs at deploy
// time: they are replaced by placeholder ARNs first, so `checkArn` still applies to everything else.
//
// CLI: node scripts/validate-asl.ts [file.asl.yaml ...]  (default: every statemachines/*.asl.yaml).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

interface AslValidationError {
  'Error code': string;
  Message: string;
}
type AslValidator = (
  definition: unknown,
  options?: { checkArn?: boolean; checkPaths?: boolean },
) => { isValid: boolean; errors: AslValidationError[] };

// asl-validator is CommonJS only.
const validator = createRequire(import.meta.url)('asl-validator') as AslValidator;

/** The outcome for one definition. */
export interface AslResult {
  file: string;
  valid: boolean;
  /** `code: message`, one per problem (parse errors included). */
  errors: string[];
  /** Logical ids the definition references through Ref / Fn::GetAtt (e.g. Lambda functions). */
  references: string[];
}

/** Directory holding the state machine definitions. */
export const STATEMACHINES_DIR = fileURLToPath(new URL('../statemachines/', import.meta.url));

/** Every `*.asl.yaml` under `dir`, sorted, as absolute paths. */
export function listDefinitions(dir: string = STATEMACHINES_DIR): string[] {
  // Git does not keep an empty directory: a fresh clone may have none yet.
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.asl.yaml'))
    .sort()
    .map((name) => join(dir, name));
}

const PLACEHOLDER_ARN_PREFIX = 'arn:aws:lambda:us-east-1:123456789012:function:';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Replaces CloudFormation intrinsics with placeholder values (returns a new value; input untouched). */
export function resolveIntrinsics(value: unknown, references: Set<string> = new Set()): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, references));
  if (!isPlainObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const [key] = keys;
    const arg = value[key];
    if (key === 'Fn::GetAtt') {
      const logicalId = Array.isArray(arg) ? String(arg[0]) : String(arg).split('.')[0];
      references.add(logicalId);
      return `${PLACEHOLDER_ARN_PREFIX}${logicalId}`;
    }
    if (key === 'Ref') {
      references.add(String(arg));
      return `${PLACEHOLDER_ARN_PREFIX}${String(arg)}`;
    }
    if (key === 'Fn::Sub') {
      const text = Array.isArray(arg) ? arg[0] : arg;
      return String(text).replace(/\$\{([^}!][^}]*)\}/g, (_m, name: string) => {
        if (!name.startsWith('AWS::')) references.add(name.split('.')[0]);
        return name.startsWith('AWS::') ? 'placeholder' : `${PLACEHOLDER_ARN_PREFIX}${name.split('.')[0]}`;
      });
    }
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveIntrinsics(v, references)]));
}

/** Validates one parsed definition (intrinsics allowed). */
export function validateDefinition(definition: unknown, file = '<inline>'): AslResult {
  const references = new Set<string>();
  if (!isPlainObject(definition)) {
    return { file, valid: false, errors: ['ParseError: the definition is not a YAML/JSON object'], references: [] };
  }
  // The validator writes defaults (QueryLanguage) into what it is given: hand it a copy.
  const resolved = resolveIntrinsics(structuredClone(definition), references);
  const { isValid, errors } = validator(resolved, { checkArn: true, checkPaths: true });
  return {
    file,
    valid: isValid,
    errors: errors.map((e) => `${e['Error code']}: ${e.Message}`),
    references: [...references].sort(),
  };
}

/** Reads, parses and validates one `*.asl.yaml` file. */
export function validateFile(file: string): AslResult {
  let definition: unknown;
  try {
    definition = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { file, valid: false, errors: [`ParseError: ${(err as Error).message}`], references: [] };
  }
  return validateDefinition(definition, file);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = process.argv.length > 2 ? process.argv.slice(2) : listDefinitions();
  let failed = 0;
  for (const result of files.map(validateFile)) {
    if (result.valid) {
      console.log(`ok   ${result.file}`);
    } else {
      failed += 1;
      console.log(`FAIL ${result.file}`);
      for (const error of result.errors) console.log(`     ${error}`);
    }
  }
  console.log(`${files.length - failed} valid, ${failed} invalid`);
  process.exit(failed === 0 ? 0 : 1);
}
