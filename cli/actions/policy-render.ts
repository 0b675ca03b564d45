/** Text rendering of `autopilot policy status` / `promote --wait`. */
import type { PolicyRestoreReport, PromotionVerifyResult } from '../../functions/domain/promotion/contract.ts';
import type { PromotionPhase } from '../../functions/domain/promotion/inspect.ts';
import { causeMessage } from '../../functions/domain/rollout/outcome.ts';
import { formatDuration } from '../wait.ts';

export interface PromotionStatus {
  executionArn: string;
  name: string;
  status: string;
  policyEngineArn: string | undefined;
  policyName: string | undefined;
  /** create | mode | update | candidate | none, once the preflight ran. */
  change: string | null;
  dryRun: boolean;
  stage: PromotionPhase;
  state: string | undefined;
  bakeSecondsLeft?: number;
  bakeEndsAt?: string;
  logOnly: PromotionVerifyResult | null;
  active: PromotionVerifyResult | null;
  approvalPending: boolean;
  approvalDeadline?: string;
  /** PROMOTED, HALTED_IN_LOG_ONLY, ...; null while running. */
  outcome: string | null;
  restore?: PolicyRestoreReport | null;
  error?: string;
  cause?: string;
}

const PAD = ' '.repeat(9);

function gateLines(label: string, v: PromotionVerifyResult | null): string[] {
  if (!v) return [`${label.padEnd(9)}-`];
  const r = v.report;
  const ext = v.extensionsUsed > 0 ? `, ${v.extensionsUsed} extension(s)` : '';
  const head = `${label.padEnd(9)}${v.verdict} (${v.decision}${ext}): ${r.decisions} decisions, window ${v.window.start} .. ${v.window.end}`;
  // Every figure names the one stream it was read from.
  const gates = r.gates.map((g) => `${PAD}${g.name.padEnd(22)}${(g.value === null ? '-' : String(g.value)).padEnd(8)} ${g.stream ?? ''}${g.published === false ? ' (not published)' : ''}`.trimEnd());
  return [head, ...r.reasons.map((x) => `${PAD}${x}`), ...gates];
}

const mode = (m: { enforcementMode: string | null; statementHash: string | null }) => `${m.enforcementMode ?? 'absent'}${m.statementHash ? ` (statement ${m.statementHash})` : ''}`;

export function renderPromotion(s: PromotionStatus): string {
  const lines = [
    `Promotion ${s.name}${s.dryRun ? ' (dry run)' : ''}`,
    `Policy   ${s.policyName ?? '?'}${s.change ? ` (${s.change})` : ''}   engine ${s.policyEngineArn ?? '?'}`,
    `Status   ${s.status}${s.outcome ? ` -> ${s.outcome}` : ''}`,
    `Stage    ${s.stage}${s.state ? ` (${s.state})` : ''}`,
  ];
  if (s.bakeSecondsLeft !== undefined) lines.push(`Bake     ${formatDuration(s.bakeSecondsLeft * 1000)} left (ends ${s.bakeEndsAt})`);
  lines.push(...gateLines('LOG_ONLY', s.logOnly), ...gateLines('ACTIVE', s.active));
  if (s.approvalPending) {
    lines.push(`Approval waiting${s.approvalDeadline ? ` until ${s.approvalDeadline}` : ''}: autopilot policy approve|reject --execution ${s.executionArn}`);
  }
  if (s.restore) {
    const r = s.restore;
    lines.push(r.action === 'conflict'
      ? `Conflict ${r.policyName} was changed by someone else during the promotion (now ${mode(r.from)}): left as it is, not put back to ${mode(r.to)}`
      : `Restore  ${r.policyName} ${r.action === 'restored' ? `${mode(r.from)} -> ${mode(r.to)}` : 'unchanged'}`);
  }
  if (s.error) lines.push(`Error    ${s.error}${s.cause ? `: ${causeMessage(s.cause)}` : ''}`);
  return lines.join('\n');
}

export function renderRestore(r: PolicyRestoreReport | null): string {
  if (!r || r.action === 'unchanged') return 'Policy unchanged';
  return r.action === 'restored'
    ? `Put back ${r.policyName}: ${mode(r.from)} -> ${mode(r.to)}`
    : `CONFLICT: ${r.policyName} was changed by someone else during the promotion (now ${mode(r.from)}); left as it is, not put back to ${mode(r.to)}`;
}
