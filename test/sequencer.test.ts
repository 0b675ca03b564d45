/** The long files the sequencer starts first exist (a renamed file would silently run last again). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LONG_FILES } from './sequencer.ts';

describe('test sequencer', () => {
  it('names test files that exist', () => {
    for (const f of LONG_FILES) expect(existsSync(path.resolve(import.meta.dirname, '..', f)), f).toBe(true);
  });
});
