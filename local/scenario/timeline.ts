/**
 * The scenario's timeline: one entry per thing that happened (an operator action, an event on the
 * bus, a state machine execution starting or stopping, a check), with the clock time, what
 * happened, to what, and why. Entries come from the stack's own records (the EventBridge log and
 * the Step Functions executions), watched while the scenario runs, so the timeline shows what the
 * system did, not what the scenario hoped it would do.
 *
 * Nothing here prints a configuration value: event details are summarised from names, versions,
 * digests, reasons and gate figures only (the events themselves carry redacted diffs).
 */
import type { AwsEvent } from '../emulator/eventbridge/eventbridge.ts';
import type { Stack } from '../stack.ts';

export type EntryKind = 'action' | 'event' | 'execution' | 'check' | 'step';

export interface TimelineEntry {
  /** Clock time (epoch ms of the stack's clock). */
  at: number;
  /** Scenario step number (1-4), 0 before the first step. */
  step: number;
  kind: EntryKind;
  /** What happened, e.g. "redeploy started". */
  what: string;
  /** To what: a runtime, gateway, repository, execution. */
  subject: string;
  /** Why / details: reasons, versions, gate figures. */
  why: string;
  /** Checks: passed or not; events: whether it reports a failure (for colouring). */
  ok?: boolean;
  /** The EventBridge detail-type or the execution's state machine, for filtering in the report. */
  tag?: string;
}

export interface TimelineOptions {
  /** Scenario start (entries show T+ relative to it). */
  start: number;
  /** Receives each formatted line as it is added; omit for a silent timeline. */
  print?: (line: string) => void;
  /** ANSI colours (default false). */
  color?: boolean;
}

const ANSI = { reset: '\u001b[0m', dim: '\u001b[2m', red: '\u001b[31m', green: '\u001b[32m', yellow: '\u001b[33m', cyan: '\u001b[36m', bold: '\u001b[1m' };

/** `T+hh:mm:ss` from the scenario start. */
export function relativeTime(at: number, start: number): string {
  const s = Math.max(0, Math.round((at - start) / 1000));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  return `T+${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:${String(ss).padStart(2, '0')}`;
}

export class Timeline {
  readonly entries: TimelineEntry[] = [];
  readonly start: number;
  step = 0;
  private readonly print?: (line: string) => void;
  private readonly color: boolean;

  constructor(opts: TimelineOptions) {
    this.start = opts.start;
    this.print = opts.print;
    this.color = opts.color ?? false;
  }

  add(entry: Omit<TimelineEntry, 'step'> & { step?: number }): TimelineEntry {
    const full: TimelineEntry = { ...entry, step: entry.step ?? this.step };
    this.entries.push(full);
    this.print?.(this.format(full));
    return full;
  }

  format(e: TimelineEntry): string {
    const c = (code: string, text: string) => (this.color ? `${code}${text}${ANSI.reset}` : text);
    const time = c(ANSI.dim, relativeTime(e.at, this.start));
    if (e.kind === 'step') {
      return `\n${time}  ${c(ANSI.bold, `== ${e.what}`)}${e.why ? c(ANSI.dim, `  (${e.why})`) : ''}`;
    }
    const mark = e.kind === 'check' ? (e.ok ? c(ANSI.green, 'PASS') : c(ANSI.red, 'FAIL'))
      : e.kind === 'action' ? c(ANSI.cyan, ' >> ')
        : e.kind === 'execution' ? c(ANSI.yellow, ' sf ')
          : e.ok === false ? c(ANSI.red, ' !! ') : '    ';
    if (e.kind === 'check') return `${time}  ${mark} ${e.what}${e.why ? c(ANSI.dim, ` — ${e.why}`) : ''}`;
    return `${time}  ${mark} ${e.what.padEnd(30)} ${e.subject.padEnd(26)} ${e.why}`.trimEnd();
  }
}

// ---------------------------------------------------------------- describing bus events

const short = (digest: unknown): string => (typeof digest === 'string' ? `${digest.slice(0, 19)}…` : '?');
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

function fieldsOf(detail: Record<string, unknown>): string {
  // Diffs are redacted by the producers; only the field paths are shown here anyway.
  const changes = Array.isArray(detail.changes) ? detail.changes : Array.isArray(detail.fields) ? detail.fields : [];
  const paths = changes
    .map((c) => (c && typeof c === 'object' ? str((c as Record<string, unknown>).path) ?? str((c as Record<string, unknown>).field) : undefined))
    .filter((p): p is string => p !== undefined);
  return paths.length > 0 ? `fields ${paths.slice(0, 4).join(', ')}${paths.length > 4 ? ` +${paths.length - 4}` : ''}` : '';
}

function gateSummary(v: unknown): string {
  if (!v || typeof v !== 'object') return '';
  const r = v as { stage?: string; verdict?: string; decision?: string; report?: { denyRatio?: number; decisions?: number; reasons?: string[]; gates?: { name: string; stream?: string }[] } };
  const ratio = typeof r.report?.denyRatio === 'number' ? ` deny ${(r.report.denyRatio * 100).toFixed(1)}%` : '';
  const n = typeof r.report?.decisions === 'number' ? ` of ${r.report.decisions}` : '';
  // The one stream the figures were read from (an exact projection, never a sum of overlapping ones).
  const stream = r.report?.gates?.find((g) => g.name === 'denyRatio' || g.name === 'denySpike')?.stream;
  const from = stream ? ` from ${stream}` : '';
  const reason = r.report?.reasons?.length ? ` — ${r.report.reasons[0]}` : '';
  return `${(r.stage ?? '').toLowerCase()} ${r.verdict ?? ''}${ratio}${n}${from}${reason}`.trim();
}

/** A promotion verification: stage, verdict and each gate figure with its value. */
function promotionGates(v: unknown): string {
  if (!v || typeof v !== 'object') return '';
  const r = v as { stage?: string; verdict?: string; report?: { gates?: { name: string; value: unknown }[]; reasons?: string[] } };
  const figures = (r.report?.gates ?? []).filter((g) => !g.name.startsWith('evidence:') && typeof g.value === 'number').map((g) => `${g.name} ${Number((g.value as number).toPrecision(4))}`).join(', ');
  const reason = r.report?.reasons?.length ? ` — ${r.report.reasons[0]}` : '';
  return `${(r.stage ?? '').toLowerCase()} ${r.verdict ?? ''}${figures ? ` (${figures})` : ''}${reason}`.trim();
}

function subjectOf(detail: Record<string, unknown>): string {
  for (const k of ['runtimeId', 'gatewayId', 'resourceId', 'id', 'ref', 'resource']) {
    const v = str(detail[k]);
    if (v) return v;
  }
  return '';
}

/** One timeline line for a bus event: what, to what, why. */
export function describeEvent(event: AwsEvent): Pick<TimelineEntry, 'what' | 'subject' | 'why' | 'ok' | 'tag'> {
  const d = event.detail ?? {};
  const type = event['detail-type'];
  const tag = type;
  if (event.source === 'aws.ecr' && type === 'ECR Image Action') {
    const repo = str(d['repository-name']) ?? '?';
    return { what: 'image pushed (ECR)', subject: `${repo}:${str(d['image-tag']) ?? '<no tag>'}`, why: `${d['action-type']} ${d.result} ${short(d['image-digest'])} [event ${event.id.slice(0, 8)}]`, tag };
  }
  if (event.source === 'aws.events' && type === 'Scheduled Event') {
    const rule = (event.resources[0] ?? '').split('/').pop() ?? '';
    return { what: 'schedule fired', subject: rule.replace(/^agentcore-autopilot-[a-z0-9]+-/, ''), why: 'EventBridge schedule (drift check)', tag };
  }
  const subject = subjectOf(d);
  switch (type) {
    case 'Runtime Redeploy Started':
      return { what: 'redeploy started', subject, why: [`v${str(d.fromVersion) ?? '?'} -> v${str(d.toVersion) ?? '?'}`, `pinned ${short(d.digest)}`, str(d.tag) ? `tag ${d.tag}` : '', fieldsOf(d)].filter(Boolean).join(', '), tag };
    case 'Runtime Redeploy Skipped':
      return { what: 'redeploy skipped', subject, why: `${str(d.reason) ?? ''}${str(d.message) ? `: ${d.message}` : ''}${str(d.tag) ? ` (tag ${d.tag})` : ''}`, tag };
    case 'Runtime Redeploy Failed':
      return { what: 'redeploy failed', subject, why: `${str(d.reason) ?? ''} ${errorText(d.error)}`.trim(), ok: false, tag };
    case 'Runtime Redeploy Promoted':
      return {
        what: Array.isArray(d.endpoints) && d.endpoints.length > 0 ? 'promoted' : 'version ready',
        subject,
        why: Array.isArray(d.endpoints) && d.endpoints.length > 0
          ? `endpoints ${listText(d.endpoints)} now serve v${str(d.toVersion) ?? '?'}`
          : `v${str(d.toVersion) ?? '?'} is READY; DEFAULT serves it (no named endpoint to move)`,
        tag,
      };
    case 'Runtime Redeploy Rolled Back':
      return { what: 'rolled back', subject, why: `${[str(d.reason), errorText(d.error)].filter(Boolean).join(' ')}; endpoints ${listText(d.endpoints)} kept on the previous version; image restored as v${str(d.toVersion) ?? '?'}`.trim(), ok: false, tag };
    case 'Runtime Change Requested':
      return { what: 'change requested', subject: subjectOf((d.runtime as Record<string, unknown>) ?? {}) || subject, why: str(d.requestId) ? `request ${d.requestId}` : '', tag };
    case 'Policy Rollout Requested':
      return { what: 'rollout requested', subject, why: `engine ${String(d.policyEngineArn ?? '').split('/').pop() ?? ''}${d.dryRun ? ' (dry run)' : ''}`, tag };
    case 'Drift Check Requested':
      return { what: 'drift check requested', subject: subject || 'all declared resources', why: '', tag };
    case 'Policy Rollout Started':
    case 'Policy Rollout Stage Passed':
    case 'Policy Rollout Awaiting Approval':
    case 'Policy Rollout Enforced':
    case 'Policy Rollout Halted':
    case 'Policy Rollout Rolled Back':
    case 'Policy Rollout Aborted': {
      const stage = str(d.stage) ?? '';
      const gate = gateSummary(d.enforce) || gateSummary(d.shadow);
      const bad = type === 'Policy Rollout Halted' || type === 'Policy Rollout Rolled Back' || type === 'Policy Rollout Aborted';
      return { what: type.replace('Policy Rollout ', 'rollout ').toLowerCase(), subject, why: [stage, gate, errorText(d.error)].filter(Boolean).join(' | '), ok: bad ? false : undefined, tag };
    }
    case 'Policy Promotion Requested':
      return { what: 'promotion requested', subject: str(d.policyName) ?? '', why: `engine ${String(d.policyEngineArn ?? '').split('/').pop() ?? ''}${d.dryRun ? ' (dry run)' : ''}`, tag };
    case 'Policy Promotion Started':
    case 'Policy Promotion Stage Passed':
    case 'Policy Promotion Awaiting Approval':
    case 'Policy Promotion Promoted':
    case 'Policy Promotion Halted':
    case 'Policy Promotion Rolled Back':
    case 'Policy Promotion Conflict':
    case 'Policy Promotion Aborted':
    case 'Policy Promotion Failed': {
      const bad = /Halted|Rolled Back|Conflict|Aborted|Failed/.test(type);
      const why = [str(d.stage) ?? '', str(d.change) ? `change ${d.change}` : '', promotionGates(d.active) || promotionGates(d.logOnly), errorText(d.error)];
      return { what: type.replace('Policy Promotion ', 'promotion ').toLowerCase(), subject: str(d.policyName) ?? subject, why: why.filter(Boolean).join(' | '), ok: bad ? false : undefined, tag };
    }
    default:
      if (type.startsWith('Drift')) {
        return { what: type.toLowerCase(), subject: subject || str(d.kind) || '', why: driftWhy(d), ok: type.includes('Failed') ? false : undefined, tag };
      }
      return { what: type.toLowerCase(), subject, why: str(d.reason) ?? str(d.message) ?? '', tag };
  }
}

function driftWhy(d: Record<string, unknown>): string {
  const parts: string[] = [];
  const action = str(d.action);
  if (action) parts.push(action);
  const f = fieldsOf(d);
  if (f) parts.push(f);
  const tamper = d.tamper as Record<string, unknown> | undefined;
  if (tamper && typeof tamper === 'object') parts.push(`policy engine ${str(tamper.live) ?? '?'} (declared ${str(tamper.declared) ?? '?'}): ${str(tamper.response) ?? ''}`);
  const counts = d.counts as Record<string, unknown> | undefined;
  if (counts && typeof counts === 'object') parts.push(Object.entries(counts).filter(([, v]) => typeof v === 'number' && v > 0).map(([k, v]) => `${k} ${v}`).join(', '));
  const reason = str(d.reason);
  if (reason) parts.push(reason);
  if (d.error) parts.push(errorText(d.error));
  return parts.filter(Boolean).join('; ');
}

function errorText(e: unknown): string {
  if (!e) return '';
  if (typeof e === 'string') return e;
  if (typeof e === 'object') {
    const o = e as Record<string, unknown>;
    const name = str(o.name) ?? str(o.error) ?? str(o.Error) ?? '';
    return name ? `(${name})` : '';
  }
  return '';
}

function listText(v: unknown): string {
  return Array.isArray(v) && v.length > 0 ? v.join(', ') : '-';
}

// ---------------------------------------------------------------- watching the stack

const MACHINE_LABEL: Record<string, string> = { runtimePromotion: 'runtime-promotion', policyRollout: 'policy-rollout', policyPromotion: 'policy-promotion', driftScan: 'drift-scan' };

/**
 * Polls the stack's event log and executions (every few ms of real time) and adds a timeline
 * entry for every new event and every execution start/stop, stamped with the time it happened.
 */
export class StackWatcher {
  private readonly stack: Stack;
  private readonly timeline: Timeline;
  private seenEvents = 0;
  private readonly seenExecutions = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly machineByArn = new Map<string, string>();

  constructor(stack: Stack, timeline: Timeline) {
    this.stack = stack;
    this.timeline = timeline;
    for (const key of Object.keys(stack.serverless.stateMachines)) this.machineByArn.set(stack.stateMachineArn(key), MACHINE_LABEL[key] ?? key);
  }

  start(intervalMs = 5): void {
    this.stop();
    this.timer = setInterval(() => this.poll(), intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Adds entries for everything new since the last poll (also call it before reading the timeline). */
  poll(): void {
    const pending: TimelineEntry[] = [];
    const log = this.stack.events.events;
    for (; this.seenEvents < log.length; this.seenEvents++) {
      const { at, event } = log[this.seenEvents];
      pending.push({ at, step: this.timeline.step, kind: 'event', ...describeEvent(event) });
    }
    for (const ex of this.stack.sfn.listExecutions()) {
      const seen = this.seenExecutions.get(ex.executionArn);
      const machine = this.machineByArn.get(ex.stateMachineArn) ?? ex.stateMachineArn.split(':').pop() ?? '';
      if (seen === undefined) {
        pending.push({ at: ex.startDate, step: this.timeline.step, kind: 'execution', what: `${machine} started`, subject: ex.name, why: inputSummary(ex.input), tag: machine });
        this.seenExecutions.set(ex.executionArn, 'RUNNING');
      }
      if (ex.status !== 'RUNNING' && this.seenExecutions.get(ex.executionArn) === 'RUNNING') {
        const outcome = outputOutcome(ex.output);
        const failed = ex.status !== 'SUCCEEDED' || ['ROLLED_BACK', 'FAILED', 'HALTED_IN_LOG_ONLY', 'ABORTED'].includes(outcome ?? '');
        pending.push({
          at: ex.stopDate ?? this.stack.clock.now(), step: this.timeline.step, kind: 'execution', what: `${machine} ${ex.status.toLowerCase()}`, subject: ex.name,
          why: [outcome ? `outcome ${outcome}` : '', ex.error ? `${ex.error}` : ''].filter(Boolean).join(', '), ok: failed ? false : undefined, tag: machine,
        });
        this.seenExecutions.set(ex.executionArn, ex.status);
      }
    }
    pending.sort((a, b) => a.at - b.at);
    for (const e of pending) this.timeline.add(e);
  }
}

function inputSummary(input: string): string {
  try {
    const i = JSON.parse(input) as Record<string, unknown>;
    if (typeof i.runtimeId === 'string') return `${i.runtimeId} v${i.previousVersion} -> v${i.newVersion}, ${Array.isArray(i.endpoints) && i.endpoints.length > 0 ? `endpoints ${listText(i.endpoints)}` : 'follow to READY'}${Array.isArray(i.alarms) && i.alarms.length ? `, alarms ${i.alarms.join(', ')}` : ''}`;
    if (typeof i.gatewayId === 'string') return `${i.gatewayId}${i.dryRun ? ' (dry run)' : ''}`;
    if (typeof i.policyName === 'string') return `policy ${i.policyName} of ${String(i.policyEngineArn ?? '').split('/').pop()}${i.dryRun ? ' (dry run)' : ''}`;
  } catch {
    // not JSON: nothing to summarise
  }
  return '';
}

/** `outcome` of an execution's JSON output, when it has one. */
export function outputOutcome(output: string | undefined): string | undefined {
  if (!output) return undefined;
  try {
    const o = JSON.parse(output) as Record<string, unknown>;
    return typeof o.outcome === 'string' ? o.outcome : undefined;
  } catch {
    return undefined;
  }
}
