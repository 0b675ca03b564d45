/** `npm start -- --report FILE` to a place that cannot be written fails at once, before the scenario. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../local/stack.ts';

describe('npm start --report', () => {
  it('an unwritable report path: one line on stderr, exit 2, the scenario never starts', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'report-'));
    for (const [target, why] of [[path.join(dir, 'missing', 'r.html'), /the folder .* does not exist \(ENOENT\)/], [dir, /it is a directory \(EISDIR\)/]] as const) {
      const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'local/start.ts'), '--report', target], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^npm start: cannot write the report to ${target.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
      expect(r.stderr).toMatch(why);
    }
  });
});
