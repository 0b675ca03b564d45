/**
 * A stack started on another config file than the packaged ./autopilot.config.yaml (the `npm
 * start` scenario's, a test's) follows that file as a deployment of it would: the drift schedule
 * that fires and the bus the handlers publish on are the file's, not the packaged one's.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, startStack } from '../../local/stack.ts';

describe('startStack({ configFile })', () => {
  it('fires the drift schedule of the config it was given (the one `npm start -- --keep-running` prints)', async () => {
    const scenario = path.join(REPO_ROOT, 'local/scenario/autopilot.config.yaml');
    const stack = await startStack({ configFile: scenario });
    try {
      const drift = stack.events.listRules().find((r) => r.schedule && /correctdrift/i.test(r.name));
      expect(stack.configFile).toBe(scenario);
      expect(drift?.schedule?.expression).toBe('rate(6 hours)');
    } finally {
      await stack.close();
    }
    const packaged = await startStack({});
    try {
      expect(packaged.events.listRules().find((r) => r.schedule && /correctdrift/i.test(r.name))?.schedule?.expression).toBe('rate(15 minutes)');
    } finally {
      await packaged.close();
    }
  });
});
