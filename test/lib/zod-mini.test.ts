/**
 * functions/lib/zod-mini.ts: zod/mini with zod's English messages, in a process that never loads
 * classic zod (as in a function bundle), so the messages match the ones classic zod gives.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as classic from 'zod';
import { describe, expect, it } from 'vitest';

const MODULE = pathToFileURL(fileURLToPath(new URL('../../functions/lib/zod-mini.ts', import.meta.url))).href;

describe('zod-mini', () => {
  it('gives the messages classic zod gives, without classic zod loaded', () => {
    const script = `const z = await import(${JSON.stringify(MODULE)});
const issues = [z.string().safeParse(1), z.number().check(z.int(), z.minimum(0)).safeParse(-1.5), z.strictObject({ a: z.boolean() }).safeParse({ a: 'x', b: 1 })]
  .flatMap((r) => r.error.issues.map((i) => i.message));
process.stdout.write(JSON.stringify(issues));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');

    const expected = [classic.string().safeParse(1), classic.number().int().min(0).safeParse(-1.5), classic.strictObject({ a: classic.boolean() }).safeParse({ a: 'x', b: 1 })]
      .flatMap((r) => r.error!.issues.map((i) => i.message));
    expect(JSON.parse(run.stdout)).toEqual(expected);
    expect(expected[0]).toMatch(/^Invalid input: expected string/);
  });
});
