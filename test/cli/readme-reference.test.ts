/** README's CLI reference is the CLI's own help: generated from the command tree, checked here. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/autopilot.ts';
import { reference, withReference } from '../../scripts/cli-reference.ts';
import { SPECS } from '../../cli/commands/index.ts';

/** Commands with subcommands (their rows name `group sub`). */
const GROUPS = new Set(SPECS.filter((s) => s.kind === 'group').map((s) => s.name));

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README CLI reference', () => {
  it('is current (run `node scripts/cli-reference.ts` after changing a command)', () => {
    expect(withReference(README)).toBe(README);
  });

  it('lists every command with the usage line and exit codes of its own help', async () => {
    const rows = reference().split('\n').filter((l) => l.startsWith('| `') && !l.startsWith('| `completion'));
    expect(rows.length).toBeGreaterThanOrEqual(16);
    for (const row of rows) {
      const usage = row.slice(3, row.indexOf('` |')).replace(/\\\|/g, '|');
      const words = usage.split(' ');
      const path = words.slice(0, GROUPS.has(words[0]) ? 2 : 1);
      const out: string[] = [];
      expect(await main([...path, '--help'], { stdout: (l) => out.push(l), stderr: () => undefined, env: {}, isTTY: false }), usage).toBe(0);
      const help = out.join('\n');
      expect(help.split('\n')[0], usage).toBe(`Usage: autopilot ${usage}`);
      for (const [, code] of row.split(' | ')[2].matchAll(/(?:^|; )(\d) /g)) expect(help, usage).toMatch(new RegExp(`^  ${code}  `, 'm'));
    }
  });
});
