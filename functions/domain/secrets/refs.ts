/**
 * Secret references in runtime environment variables: the value of a variable may name a secret
 * instead of holding it, with CloudFormation's dynamic-reference syntax (CloudFormation User Guide,
 * "Get values stored in other services using dynamic references"):
 *
 *   {{resolve:secretsmanager:<secret-id>[:SecretString[:<json-key>[:<version-stage>[:<version-id>]]]]}}
 *   {{resolve:ssm-secure:<parameter-name>[:<version>]}}
 *
 * `<secret-id>` is a secret name or full ARN; the whole secret string is used unless a JSON key is
 * given. References are resolved only when a runtime is written (or compared by drift), in memory:
 * the reference text travels in configs, requests, plans and events, the value never does.
 *
 * Also here: the load-time warning for a plaintext value that looks like a secret (names only).
 */

import { AutopilotError } from '../../lib/errors.ts';

export type SecretRef =
  | { kind: 'secretsmanager'; secretId: string; jsonKey?: string; versionStage?: string; versionId?: string; text: string }
  | { kind: 'ssm-secure'; name: string; version?: string; text: string };

const WRAPPED = /^\{\{resolve:(secretsmanager|ssm-secure):(.+)\}\}$/s;

/** The reference a value holds, or undefined for a plain value. Throws for a malformed reference. */
export function parseSecretRef(value: string): SecretRef | undefined {
  if (!value.startsWith('{{resolve:')) return undefined;
  const m = WRAPPED.exec(value);
  if (!m) throw new SecretRefError('is not {{resolve:secretsmanager:...}} or {{resolve:ssm-secure:...}}');
  const [, kind, body] = m;
  if (kind === 'ssm-secure') {
    const parts = /^([a-zA-Z0-9_.\-/]{1,2048})(?::(\d{1,20}))?$/.exec(body);
    if (!parts) throw new SecretRefError('ssm-secure needs a parameter name (letters, digits, _ . - /) and an optional :version');
    return { kind, name: parts[1], ...(parts[2] !== undefined && { version: parts[2] }), text: value };
  }
  // A secret id may be an ARN (with its own colons): arn:aws:secretsmanager:<region>:<account>:secret:<name>.
  const arn = /^(arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+)(.*)$/.exec(body);
  const [secretId, rest] = arn ? [arn[1], arn[2]] : [body.split(':')[0], body.slice(body.split(':')[0].length)];
  if (!/^[\w/+=.@-]{1,512}$/.test(secretId) && !arn) throw new SecretRefError('secretsmanager needs a secret name or ARN');
  const fields = rest === '' ? [] : rest.slice(1).split(':');
  if (rest !== '' && !rest.startsWith(':')) throw new SecretRefError('secretsmanager fields are separated by ":"');
  if (fields.length > 0 && fields[0] !== 'SecretString') throw new SecretRefError('secretsmanager supports SecretString only');
  if (fields.length > 4) throw new SecretRefError('secretsmanager takes at most SecretString:<json-key>:<version-stage>:<version-id>');
  const [, jsonKey, versionStage, versionId] = fields;
  if (versionStage && versionId) throw new SecretRefError('give a version stage or a version id, not both');
  return {
    kind: 'secretsmanager',
    secretId,
    ...(jsonKey && { jsonKey }),
    ...(versionStage && { versionStage }),
    ...(versionId && { versionId }),
    text: value,
  };
}

/** A malformed reference (the message never repeats the value). */
export class SecretRefError extends Error {
  override name = 'SecretRefError';
}

/** A reference that could not be resolved (missing, denied, wrong type); names the reference only. */
export class SecretUnresolvedError extends AutopilotError {}

/** Problems of the references in an environment map (`<where>.<name>: ...`), none for plain values. */
export function refProblems(env: Record<string, unknown> | undefined, where: string): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env ?? {})) {
    if (!isSecretRef(value)) continue;
    try {
      parseSecretRef(value);
    } catch (err) {
      problems.push(`${where}.${name}: the secret reference ${(err as Error).message}`);
    }
  }
  return problems;
}

/** Whether a value is (or tries to be) a reference. */
export function isSecretRef(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('{{resolve:');
}

/** Where a reference points, for messages: the secret id or parameter name, never a value. */
export function describeRef(ref: SecretRef): string {
  return ref.kind === 'secretsmanager'
    ? `secretsmanager:${ref.secretId}${ref.jsonKey ? ` (key ${ref.jsonKey})` : ''}`
    : `ssm-secure:${ref.name}${ref.version ? `:${ref.version}` : ''}`;
}

/** Reads what a reference names; the secret string of a JSON key when one is given. */
export type SecretReader = (ref: SecretRef) => Promise<string>;

/** The value a secret's string yields for a reference (its JSON key when it names one). */
export function valueOf(ref: SecretRef, secretString: string): string {
  if (ref.kind !== 'secretsmanager' || ref.jsonKey === undefined) return secretString;
  let doc: unknown;
  try {
    doc = JSON.parse(secretString);
  } catch {
    throw new SecretRefError(`${describeRef(ref)}: the secret is not a JSON object, so it has no key ${ref.jsonKey}`);
  }
  const v = doc !== null && typeof doc === 'object' ? (doc as Record<string, unknown>)[ref.jsonKey] : undefined;
  if (typeof v !== 'string') throw new SecretRefError(`${describeRef(ref)}: the secret has no string key ${ref.jsonKey}`);
  return v;
}

/**
 * A copy of `env` with every reference replaced by what it names. Throws (SecretRefError or the
 * reader's error) naming the variable and the reference, never a value.
 */
export async function resolveEnv(env: Record<string, string>, read: SecretReader): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!isSecretRef(value)) {
      out[name] = value;
      continue;
    }
    const ref = parseSecretRef(value)!;
    out[name] = await read(ref);
  }
  return out;
}

/** Whether an environment map holds at least one reference. */
export function hasSecretRefs(env: unknown): boolean {
  return env !== null && typeof env === 'object' && Object.values(env as Record<string, unknown>).some(isSecretRef);
}

const SECRET_NAME = /(SECRET|TOKEN|PASSW(OR)?D|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH|SIGNING_?KEY|CLIENT_?SECRET|DSN|CONN(ECTION)?_?STR)/i;
const SECRET_VALUE = [
  /^sk-[A-Za-z0-9_-]{16,}/, // API keys of several model providers
  /^(AKIA|ASIA)[0-9A-Z]{16}$/, // AWS access key ids
  /^gh[pousr]_[A-Za-z0-9]{30,}/, // GitHub tokens
  /^xox[abprs]-/, // Slack tokens
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /^eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./, // JWTs
  /:\/\/[^/\s:@]+:[^/\s@]+@/, // credentials inside a URL
];

/** Why a plaintext variable looks like a secret (by its name or its shape), or undefined. */
export function looksSecret(name: string, value: string): string | undefined {
  if (isSecretRef(value)) return undefined;
  if (SECRET_NAME.test(name)) return 'its name suggests a secret';
  if (SECRET_VALUE.some((re) => re.test(value))) return 'its value has the shape of a credential';
  return undefined;
}
