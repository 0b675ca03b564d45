/**
 * What the `npm start` scenario's steps share: the seeded ids, the context a step runs in, and the
 * ways a step lets the stack work (settle, fire the drift schedule, let time pass).
 */
import type { BedrockAgentCoreControlClient } from '@aws-sdk/client-bedrock-agentcore-control';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { REQUEST_SOURCE } from '../../functions/domain/requests/source.ts';
import { VirtualClock } from '../clock.ts';
import { nextFiring } from '../emulator/eventbridge/schedule.ts';
import type { Stack } from '../stack.ts';
import { check, type Check } from './expect.ts';
import type { Timeline } from './timeline.ts';

export const IDS = {
  supportAgent: 'supportAgent-a1b2c3d4e5',
  supportCanary: 'supportCanary-q1w2e3r4t5',
  gwSupport: 'gw-support-k1l2m3n4o5',
  gwBilling: 'gw-billing-p6q7r8s9t0',
  gwOrders: 'gw-orders-h5j6k7l8m9',
  repository: 'support-agent',
  errorsAlarm: 'supportAgent-errors',
} as const;

export const ENGINES = {
  support: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/supportPolicies-u1v2w3x4y5',
  billing: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/billingPolicies-z6a7b8c9d0',
  orders: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:policy-engine/ordersPolicies-n1b2v3c4x5',
} as const;

/** The value the "hand-made" drift writes; it must never show up in an event, a plan or the timeline. */
export const HAND_MADE_SECRET = 'hand-edited-model-id-5f1c9e';
export const INITIAL_DIGEST = `sha256:${'1'.repeat(64)}`;

export interface ScenarioContext {
  stack: Stack;
  timeline: Timeline;
  agentcore: BedrockAgentCoreControlClient;
  eventBridge: EventBridgeClient;
  /** Per-step settle budget (real ms). */
  settleMs: number;
  /** Facts later steps and the report need. */
  facts: {
    digest13?: string;
    digest125?: string;
    digest14?: string;
    stepSpans: { step: number; title: string; from: number; to: number }[];
  };
}

export interface StepDefinition {
  n: number;
  title: string;
  run(ctx: ScenarioContext): Promise<Check[]>;
}

export function action(ctx: ScenarioContext, what: string, subject: string, why: string): void {
  ctx.timeline.add({ at: ctx.stack.clock.now(), kind: 'action', what, subject, why });
}

/** Polls `pred` in real time. */
export async function waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

/**
 * Waits until the bus and the executions are idle, then lets clock time pass until every runtime
 * version, endpoint and gateway has finished its transition (so the next step starts from a
 * quiet system).
 */
export async function settle(ctx: ScenarioContext): Promise<Check | undefined> {
  const { stack } = ctx;
  try {
    await stack.settle({ timeoutMs: ctx.settleMs });
    const deadline = Date.now() + ctx.settleMs;
    while (!quiet(stack)) {
      if (Date.now() > deadline) return check('the stack settled', false, 'AgentCore resources still transitioning');
      await stack.clock.sleep(5_000);
      await stack.settle({ timeoutMs: ctx.settleMs });
    }
    return undefined;
  } catch (err) {
    return check('the stack settled', false, (err as Error).message);
  }
}

const TRANSITIONS = /^(CREATING|UPDATING|DELETING)$/;

function quiet(stack: Stack): boolean {
  const a = stack.agentcore;
  for (const rt of a.runtimes.values()) {
    if (TRANSITIONS.test(String(a.runtimeStatus(rt)))) return false;
    for (const ep of rt.endpoints.values()) if (ep.move && ep.move.settlesAt > stack.clock.now()) return false;
  }
  for (const gw of a.gateways.values()) if (TRANSITIONS.test(String(a.gatewayStatus(gw)))) return false;
  return true;
}

/**
 * Lets the serverless.yml drift schedule fire once from the clock: the clock is held (manual mode)
 * while it is moved to the next firing, so the next one (hours later) cannot follow before the
 * schedules are stopped again. Without a VirtualClock, asks for a run with `Drift Check Requested`.
 */
export async function fireScheduleOnce(ctx: ScenarioContext): Promise<boolean> {
  const { stack } = ctx;
  const before = stack.events.events.length;
  const firedNow = () => stack.events.events.slice(before).some((e) => e.via === 'schedule');
  const clock = stack.clock;
  const rule = stack.events.listRules().find((r) => r.schedule !== undefined);
  if (!(clock instanceof VirtualClock) || !rule?.schedule) {
    await ctx.eventBridge.send(new PutEventsCommand({ Entries: [{ Source: REQUEST_SOURCE, EventBusName: stack.requestBus, DetailType: 'Drift Check Requested', Detail: '{}' }] }));
    return false;
  }
  clock.setMode('manual');
  try {
    const now = clock.now();
    stack.events.startSchedules();
    const next = nextFiring(rule.schedule, now, now);
    if (next !== undefined) await clock.set(next);
    for (let i = 0; i < 24 * 60 && !firedNow(); i++) await clock.advance(60_000);
    await stack.events.stopSchedules();
  } finally {
    clock.setMode('auto');
  }
  return firedNow();
}

/** Lets clock time pass (e.g. for alarms to have their first evaluation). */
export async function passTime(ctx: ScenarioContext, ms: number, why: string): Promise<void> {
  action(ctx, `${Math.round(ms / 60_000)} minutes of traffic`, '', why);
  await ctx.stack.clock.sleep(ms);
}

export function since<T>(arr: T[], n: number): T[] {
  return arr.slice(n);
}
