/**
 * scripts/trim-model.ts as a process: --help and bad options write nothing; --out and --check
 * regenerate the trimmed model from the public AWS model and compare it with the committed file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODEL = join(ROOT, 'functions/lib/model/agentcore-control.model.json');

function trim(...args: string[]) {
  const r = spawnSync(process.execPath, ['scripts/trim-model.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function snapshot() {
  const s = statSync(MODEL);
  return { mtimeMs: s.mtimeMs, text: readFileSync(MODEL, 'utf8') };
}

describe('scripts/trim-model.ts', () => {
  it('--help prints usage and exit codes, and writes nothing', () => {
    const before = snapshot();
    for (const flag of ['--help', '-h']) {
      const r = trim(flag);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^Usage: node scripts\/trim-model\.ts \[--check\] \[--out FILE\]/);
      expect(r.out).toMatch(/Exit codes: 0 written/);
      expect(r.err).toBe('');
    }
    expect(snapshot()).toEqual(before);
  });

  it('refuses unknown options and arguments with exit 2, writing nothing', () => {
    const before = snapshot();
    for (const args of [['--bogus'], ['--help', '--bogus'], ['model.json'], ['--out'], ['--check', '--out', '/tmp/x.json']]) {
      const r = trim(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/^trim-model: .+\nRun 'node scripts\/trim-model\.ts --help' for usage\./);
    }
    expect(trim('--bogus').err).toContain("unknown option '--bogus'");
    expect(snapshot()).toEqual(before);
  });

  it('--out regenerates the committed model exactly; --check confirms it is up to date', () => {
    const before = snapshot();
    const out = join(mkdtempSync(join(tmpdir(), 'trim-model-')), 'model.json');
    const r = trim('--out', out);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^27 operations, \d+ shapes -> /);
    const generated = readFileSync(out, 'utf8');
    expect(JSON.parse(generated).operations.UpdateAgentRuntime.http).toMatchObject({ method: 'PUT' });
    expect(generated).toBe(before.text);
    const check = trim('--check');
    expect(check.code).toBe(0);
    expect(check.out).toContain('is up to date');
    expect(snapshot()).toEqual(before);
  });
});
