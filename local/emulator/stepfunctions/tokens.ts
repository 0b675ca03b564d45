/**
 * Task tokens of `.waitForTaskToken` tasks: issued to an execution, answered by SendTaskSuccess /
 * SendTaskFailure / SendTaskHeartbeat (see tasks.ts).
 */
import { randomBytes } from 'node:crypto';


export type TokenOutcome = { output: unknown } | { error: string; cause: string };

export interface TokenWaiter {
  executionArn: string;
  stateName: string;
  state: 'issued' | 'waiting' | 'closed';
  settle?: (outcome: TokenOutcome) => void;
  heartbeat?: () => void;
}

export type TokenAnswer =
  | { kind: 'success'; output: unknown }
  | { kind: 'failure'; error: string; cause: string }
  | { kind: 'heartbeat' };

/** Issues task tokens and routes SendTask* answers to the waiting task. */
export class TokenRegistry {
  private readonly tokens = new Map<string, TokenWaiter>();

  issue(executionArn: string, stateName: string): string {
    const token = `AQ${randomBytes(96).toString('base64url')}`;
    this.tokens.set(token, { executionArn, stateName, state: 'issued' });
    return token;
  }

  get(token: string): TokenWaiter | undefined {
    return this.tokens.get(token);
  }

  /** 'invalid' (never issued), 'not-waiting' (issued, no task waits on it), 'closed' (task over) or 'ok'. */
  answer(token: string, answer: TokenAnswer): 'invalid' | 'not-waiting' | 'closed' | 'ok' {
    const w = this.tokens.get(token);
    if (!w) return 'invalid';
    if (w.state === 'issued') return 'not-waiting';
    if (w.state === 'closed') return 'closed';
    if (answer.kind === 'heartbeat') {
      w.heartbeat?.();
      return 'ok';
    }
    w.state = 'closed';
    w.settle?.(answer.kind === 'success' ? { output: answer.output } : { error: answer.error, cause: answer.cause });
    return 'ok';
  }
}
