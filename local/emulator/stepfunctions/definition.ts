/**
 * Definition preprocessing for the engine (see engine.ts): Wait states become Task states run by a
 * local handler that sleeps on the clock, Task timeouts are lifted so that the engine enforces them
 * on the clock, nested Parallel/Map definitions are walked; and definition validation as
 * CreateStateMachine would do it.
 */
import { StateMachine } from 'aws-local-stepfunctions';
import type { Definition, StateDef } from './types.ts';

/** Largest task timeout the library's setTimeout accepts without overflowing (ms < 2^31). */
export const LIBRARY_MAX_TIMEOUT_SECONDS = 2_147_483;
export const WAIT_RESOURCE = 'arn:aws:states:::emulator:wait';

export interface Prepared {
  definition: Definition;
  /** Original definition of every Task and Wait state, by name. */
  tasks: Map<string, StateDef>;
  waits: Map<string, StateDef>;
  originalTypes: Map<string, string>;
  mapItemsPaths: Map<string, string>;
}

export function prepare(original: Definition): Prepared {
  const tasks = new Map<string, StateDef>();
  const waits = new Map<string, StateDef>();
  const originalTypes = new Map<string, string>();
  const mapItemsPaths = new Map<string, string>();

  const walk = (def: Definition): Definition => {
    const states: Record<string, StateDef> = {};
    for (const [name, s] of Object.entries(def.States)) {
      originalTypes.set(name, s.Type);
      if (s.Type === 'Wait') {
        waits.set(name, s);
        const t: StateDef = { Type: 'Task', Resource: WAIT_RESOURCE, TimeoutSeconds: LIBRARY_MAX_TIMEOUT_SECONDS };
        for (const k of ['InputPath', 'OutputPath', 'Next', 'End', 'Comment']) if (k in s) t[k] = s[k];
        states[name] = t;
      } else if (s.Type === 'Task') {
        tasks.set(name, s);
        const t: StateDef = { ...s, TimeoutSeconds: LIBRARY_MAX_TIMEOUT_SECONDS };
        delete t.TimeoutSecondsPath;
        delete t.HeartbeatSeconds;
        delete t.HeartbeatSecondsPath;
        states[name] = t;
      } else if (s.Type === 'Parallel') {
        states[name] = { ...s, Branches: (s.Branches as Definition[]).map(walk) };
      } else if (s.Type === 'Map') {
        const m: StateDef = { ...s };
        mapItemsPaths.set(name, (s.ItemsPath as string | undefined) ?? '$');
        if (s.Iterator) m.Iterator = walk(s.Iterator as Definition);
        if (s.ItemProcessor) m.ItemProcessor = walk(s.ItemProcessor as Definition);
        states[name] = m;
      } else {
        states[name] = s;
      }
    }
    const out: Definition = { ...def, States: states };
    delete out.TimeoutSeconds;
    return out;
  };
  return { definition: walk(original), tasks, waits, originalTypes, mapItemsPaths };
}

const validated = new Map<string, string | undefined>();

/**
 * Validates a definition the way the library would (asl-validator); returns the error text or
 * undefined. asl-validator takes ~0.5 s per call, so results are cached by definition text.
 */
export function validateDefinition(definition: unknown): string | undefined {
  const key = JSON.stringify(definition);
  if (validated.has(key)) return validated.get(key);
  let problem: string | undefined;
  try {
    new StateMachine(definition as never, { validationOptions: { checkArn: true, checkPaths: true } });
  } catch (err) {
    problem = (err as Error).message;
  }
  validated.set(key, problem);
  return problem;
}
