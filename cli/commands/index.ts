/**
 * The `autopilot` command tree, in the order `autopilot --help` lists it. A command is a spec
 * (cli/program.ts: `command()` or `group()`) whose action imports its implementation lazily.
 */
import type { Spec } from '../program.ts';
import { apply, plan } from './drift.ts';
import emulator from './emulator.ts';
import events from './events.ts';
import { describe, get } from './fleet.ts';
import invoke from './invoke.ts';
import policy from './policy.ts';
import redeploy from './redeploy.ts';
import rollout from './rollout.ts';
import validate from './validate.ts';

export const SPECS: readonly Spec[] = [
  get,
  describe,
  plan,
  apply,
  redeploy,
  rollout,
  policy,
  validate,
  events,
  invoke,
  emulator,
];
