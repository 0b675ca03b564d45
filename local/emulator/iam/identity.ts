/**
 * Who is calling: the local stand-in for AWS authentication. Every SDK request is signed with
 * SigV4; its `Authorization` header names the access key (`Credential=<access key id>/<date>/
 * <region>/<service>/aws4_request`, AWS General Reference "Signature Version 4 signing
 * process"). AWS maps the key to an IAM principal; locally an identity table does (configurable in
 * the stack: access key id -> principal ARN). Signatures are not verified locally.
 *
 * A principal is an IAM role or user ARN. For a role, the caller is a role session: its ARN is
 * `arn:aws:sts::<account>:assumed-role/<role name>/<session name>` (what a Lambda function URL
 * reports as `userArn`), while policy conditions see the role ARN itself as `aws:PrincipalArn`
 * (IAM User Guide, "AWS global condition context keys": aws:PrincipalArn).
 */
import type { EmulatorRequest } from '../types.ts';

export interface Caller {
  accessKeyId: string;
  /** `aws:PrincipalArn`: the role or user ARN. */
  principalArn: string;
  /** The ARN of the caller itself (a role session for roles). */
  arn: string;
  /** `aws:PrincipalAccount`. */
  account: string;
}

/** The access key id a SigV4-signed request carries (header or presigned query), if any. */
export function accessKeyOf(req: Pick<EmulatorRequest, 'headers' | 'query'>): string | undefined {
  const auth = req.headers.authorization;
  const header = Array.isArray(auth) ? auth[0] : auth;
  const fromHeader = header ? /Credential=([^/,\s]+)\//.exec(header)?.[1] : undefined;
  return fromHeader ?? req.query.get('X-Amz-Credential')?.split('/')[0] ?? undefined;
}

const ROLE = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]+)$/;
const USER = /^arn:aws[\w-]*:iam::(\d{12}):user\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]+)$/;

/** Access key id -> principal ARN, and the caller each key stands for. */
export class Identities {
  private readonly table = new Map<string, string>();

  constructor(entries: Record<string, string> = {}) {
    for (const [key, arn] of Object.entries(entries)) this.set(key, arn);
  }

  set(accessKeyId: string, principalArn: string): void {
    if (!ROLE.test(principalArn) && !USER.test(principalArn)) {
      throw new Error(`identity ${accessKeyId}: ${principalArn} is not an IAM role or user ARN`);
    }
    this.table.set(accessKeyId, principalArn);
  }

  /** The caller of a signed request; undefined for an unknown key (AWS: UnrecognizedClientException). */
  callerOf(req: Pick<EmulatorRequest, 'headers' | 'query'>): Caller | undefined {
    const key = accessKeyOf(req);
    return key === undefined ? undefined : this.caller(key);
  }

  caller(accessKeyId: string): Caller | undefined {
    const principalArn = this.table.get(accessKeyId);
    if (!principalArn) return undefined;
    const role = ROLE.exec(principalArn);
    if (role) {
      const partition = principalArn.split(':')[1];
      return { accessKeyId, principalArn, account: role[1], arn: `arn:${partition}:sts::${role[1]}:assumed-role/${role[2]}/${accessKeyId}` };
    }
    return { accessKeyId, principalArn, account: USER.exec(principalArn)![1], arn: principalArn };
  }
}
