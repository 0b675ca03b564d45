// Checks a CloudFormation template against the CloudFormation resource registry shipped by
// @aws-cdk/aws-service-spec (cfn-lint is not installable here). It catches what the packaged
// serverless template can get wrong without a deploy: unknown resource types, unknown or missing
// required properties (also inside typed sub-properties), wrongly shaped values, and Ref/GetAtt/Sub/
// DependsOn pointing at logical ids or attributes that do not exist.
//
// CLI: node scripts/check-cfn.ts [template.json]  (default: the `serverless package` output).
// Exit 0 when clean, 1 with one issue per line otherwise.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';

/** One problem found in a template. `path` is a dotted location such as `Resources.Fn.Properties.Code`. */
export interface CfnIssue {
  path: string;
  message: string;
}

type SpecDatabase = ReturnType<typeof loadAwsServiceSpecSync>;
type SpecResource = ReturnType<SpecDatabase['all']>[number] & {
  cloudFormationType: string;
  properties: Record<string, SpecProperty>;
  attributes: Record<string, unknown>;
};
interface SpecProperty {
  required?: boolean;
  type: SpecType;
  previousTypes?: SpecType[];
}
type SpecType =
  | { type: 'string' | 'number' | 'integer' | 'boolean' | 'json' | 'date-time' | 'null' | 'tag' }
  | { type: 'ref'; reference: { $ref: string } }
  | { type: 'array' | 'map'; element: SpecType }
  | { type: 'union'; types: SpecType[] };

const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId', 'AWS::NotificationARNs', 'AWS::NoValue', 'AWS::Partition', 'AWS::Region',
  'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix',
]);

/** Resource attributes CloudFormation accepts beside Type and Properties. */
const RESOURCE_KEYS = new Set([
  'Type', 'Properties', 'DependsOn', 'Condition', 'DeletionPolicy', 'UpdateReplacePolicy',
  'UpdatePolicy', 'CreationPolicy', 'Metadata',
]);

let cachedSpec: SpecDatabase | undefined;

/** Loads (once per process, ~1 s) the CloudFormation resource registry. */
export function loadSpec(): SpecDatabase {
  cachedSpec ??= loadAwsServiceSpecSync();
  return cachedSpec;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `{Ref: x}`, `{"Fn::...": ...}` or `{Condition: x}`: a value only known at deploy time. */
function isIntrinsic(v: unknown): v is Record<string, unknown> {
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0] === 'Condition' || keys[0].startsWith('Fn::'));
}

function lookupResource(spec: SpecDatabase, type: string): SpecResource | undefined {
  return spec.lookup('resource', 'cloudFormationType', 'equals', type)[0] as SpecResource | undefined;
}

class Checker {
  readonly issues: CfnIssue[] = [];
  readonly spec: SpecDatabase;
  readonly resources: Record<string, unknown>;
  readonly parameters: Set<string>;
  readonly conditions: Set<string>;

  constructor(spec: SpecDatabase, template: Record<string, unknown>) {
    this.spec = spec;
    this.resources = isPlainObject(template.Resources) ? template.Resources : {};
    this.parameters = new Set(isPlainObject(template.Parameters) ? Object.keys(template.Parameters) : []);
    this.conditions = new Set(isPlainObject(template.Conditions) ? Object.keys(template.Conditions) : []);
  }

  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  checkResource(logicalId: string, resource: unknown): void {
    const at = `Resources.${logicalId}`;
    if (!/^[A-Za-z0-9]+$/.test(logicalId)) this.add(at, 'logical id must be alphanumeric');
    if (!isPlainObject(resource)) {
      this.add(at, 'resource must be an object');
      return;
    }
    for (const key of Object.keys(resource)) {
      if (!RESOURCE_KEYS.has(key)) this.add(`${at}.${key}`, `unknown resource attribute "${key}"`);
    }
    this.checkDependsOn(at, resource.DependsOn);
    if (resource.Condition !== undefined && !this.conditions.has(String(resource.Condition))) {
      this.add(`${at}.Condition`, `condition "${String(resource.Condition)}" is not declared`);
    }
    const type = resource.Type;
    if (typeof type !== 'string') {
      this.add(`${at}.Type`, 'missing resource Type');
      return;
    }
    this.checkIntrinsics(`${at}.Properties`, resource.Properties);
    if (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource') return;
    const spec = lookupResource(this.spec, type);
    if (!spec) {
      this.add(`${at}.Type`, `unknown resource type "${type}"`);
      return;
    }
    const props = resource.Properties ?? {};
    if (isIntrinsic(props)) return;
    if (!isPlainObject(props)) {
      this.add(`${at}.Properties`, 'Properties must be an object');
      return;
    }
    this.checkObject(`${at}.Properties`, props, spec.properties, type, this.issues);
  }

  checkDependsOn(at: string, dependsOn: unknown): void {
    if (dependsOn === undefined) return;
    const list = Array.isArray(dependsOn) ? dependsOn : [dependsOn];
    for (const dep of list) {
      if (typeof dep !== 'string' || !(dep in this.resources)) {
        this.add(`${at}.DependsOn`, `depends on unknown resource "${String(dep)}"`);
      }
    }
  }

  /** Checks an object's keys against a property table (resource properties or a type definition). */
  checkObject(at: string, value: Record<string, unknown>, properties: Record<string, SpecProperty>, owner: string, out: CfnIssue[]): void {
    for (const [name, prop] of Object.entries(properties)) {
      if (prop.required && value[name] === undefined) out.push({ path: `${at}.${name}`, message: `required property "${name}" of ${owner} is missing` });
    }
    for (const [name, v] of Object.entries(value)) {
      const prop = properties[name];
      if (!prop) {
        out.push({ path: `${at}.${name}`, message: `unknown property "${name}" for ${owner}` });
        continue;
      }
      const types = [prop.type, ...(prop.previousTypes ?? [])];
      const errors = types.map((t) => this.valueIssues(`${at}.${name}`, v, t));
      // Any of the current or previous types may be accepted: report only when none fits.
      if (errors.every((e) => e.length > 0)) out.push(...errors[0]);
    }
  }

  /** The issues `value` has against `type` (empty when it fits). Intrinsics fit anything. */
  valueIssues(at: string, value: unknown, type: SpecType): CfnIssue[] {
    if (isIntrinsic(value)) return [];
    const out: CfnIssue[] = [];
    switch (type.type) {
      case 'json':
      case 'null':
        return [];
      case 'string':
      case 'date-time':
        return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
          ? [] : [{ path: at, message: `expected a string, got ${describe(value)}` }];
      case 'number':
      case 'integer':
        return typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))
          ? [] : [{ path: at, message: `expected a number, got ${describe(value)}` }];
      case 'boolean':
        return typeof value === 'boolean' || value === 'true' || value === 'false'
          ? [] : [{ path: at, message: `expected a boolean, got ${describe(value)}` }];
      case 'tag':
        if (!isPlainObject(value)) return [{ path: at, message: `expected a tag, got ${describe(value)}` }];
        this.checkObject(at, value, { Key: { required: true, type: { type: 'string' } }, Value: { required: true, type: { type: 'string' } } }, 'Tag', out);
        return out;
      case 'array':
        if (!Array.isArray(value)) return [{ path: at, message: `expected a list, got ${describe(value)}` }];
        value.forEach((item, i) => out.push(...this.valueIssues(`${at}.${i}`, item, type.element)));
        return out;
      case 'map':
        if (!isPlainObject(value)) return [{ path: at, message: `expected a map, got ${describe(value)}` }];
        for (const [k, item] of Object.entries(value)) out.push(...this.valueIssues(`${at}.${k}`, item, type.element));
        return out;
      case 'union': {
        const results = type.types.map((t) => this.valueIssues(at, value, t));
        return results.some((r) => r.length === 0) ? [] : results[0];
      }
      case 'ref': {
        const def = this.spec.get('typeDefinition', type.reference.$ref) as unknown as { name: string; properties: Record<string, SpecProperty> };
        if (!isPlainObject(value)) return [{ path: at, message: `expected a ${def.name} object, got ${describe(value)}` }];
        this.checkObject(at, value, def.properties, def.name, out);
        return out;
      }
    }
  }

  /** Ref / Fn::GetAtt / Fn::Sub / Condition targets must exist. */
  checkIntrinsics(at: string, value: unknown): void {
    if (Array.isArray(value)) {
      value.forEach((v, i) => this.checkIntrinsics(`${at}.${i}`, v));
      return;
    }
    if (!isPlainObject(value)) return;
    if (isIntrinsic(value)) {
      const [key] = Object.keys(value);
      const arg = value[key];
      if (key === 'Ref') this.checkRef(at, arg);
      else if (key === 'Fn::GetAtt') this.checkGetAtt(at, arg);
      else if (key === 'Fn::Sub') this.checkSub(at, arg);
      else if (key === 'Condition' && !this.conditions.has(String(arg))) this.add(at, `condition "${String(arg)}" is not declared`);
    }
    for (const [k, v] of Object.entries(value)) this.checkIntrinsics(`${at}.${k}`, v);
  }

  checkRef(at: string, target: unknown, locals: Set<string> = new Set()): void {
    if (typeof target !== 'string') return; // nested intrinsic: resolved at deploy time
    if (PSEUDO_PARAMETERS.has(target) || this.parameters.has(target) || target in this.resources || locals.has(target)) return;
    this.add(at, `Ref to unknown logical id or parameter "${target}"`);
  }

  checkGetAtt(at: string, arg: unknown): void {
    let logicalId: unknown;
    let attribute: unknown;
    if (typeof arg === 'string') {
      const dot = arg.indexOf('.');
      [logicalId, attribute] = [arg.slice(0, dot), arg.slice(dot + 1)];
    } else if (Array.isArray(arg)) {
      [logicalId, attribute] = arg;
    }
    if (typeof logicalId !== 'string') return;
    const target = this.resources[logicalId];
    if (!isPlainObject(target)) {
      this.add(at, `Fn::GetAtt on unknown resource "${logicalId}"`);
      return;
    }
    if (typeof attribute !== 'string' || typeof target.Type !== 'string') return;
    const spec = lookupResource(this.spec, target.Type);
    if (spec && Object.keys(spec.attributes).length > 0 && !(attribute in spec.attributes)) {
      this.add(at, `Fn::GetAtt: ${target.Type} has no attribute "${attribute}" (known: ${Object.keys(spec.attributes).join(', ')})`);
    }
  }

  checkSub(at: string, arg: unknown): void {
    const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
    if (typeof text !== 'string') return;
    const locals = new Set(isPlainObject(vars) ? Object.keys(vars) : []);
    for (const match of text.matchAll(/\$\{([^}!][^}]*)\}/g)) {
      const name = match[1].trim();
      const dot = name.indexOf('.');
      if (dot > 0 && !locals.has(name)) this.checkGetAtt(at, [name.slice(0, dot), name.slice(dot + 1)]);
      else this.checkRef(at, name, locals);
    }
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

/** Checks a CloudFormation template (parsed JSON) against the resource registry; [] when clean. */
export function checkTemplate(template: unknown, spec: SpecDatabase = loadSpec()): CfnIssue[] {
  if (!isPlainObject(template)) return [{ path: '', message: 'template must be a JSON object' }];
  const checker = new Checker(spec, template);
  const resources = template.Resources;
  if (!isPlainObject(resources) || Object.keys(resources).length === 0) {
    checker.add('Resources', 'a template needs at least one resource');
    return checker.issues;
  }
  for (const [logicalId, resource] of Object.entries(resources)) checker.checkResource(logicalId, resource);
  if (isPlainObject(template.Outputs)) {
    for (const [name, output] of Object.entries(template.Outputs)) {
      if (!isPlainObject(output) || output.Value === undefined) checker.add(`Outputs.${name}`, 'output needs a Value');
      checker.checkIntrinsics(`Outputs.${name}`, output);
    }
  }
  return checker.issues;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? '.serverless/cloudformation-template-update-stack.json';
  const issues = checkTemplate(JSON.parse(readFileSync(file, 'utf8')));
  for (const issue of issues) console.log(`${issue.path}: ${issue.message}`);
  console.log(issues.length === 0 ? `${file}: OK` : `${file}: ${issues.length} issue(s)`);
  process.exit(issues.length === 0 ? 0 : 1);
}
