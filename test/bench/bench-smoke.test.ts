/**
 * Smoke test of `npm run bench`: the whole benchmark run completes with `--quick` (resource
 * counts / 10), prints one ratio line per figure and writes the JSON report. No timing assertions:
 * the figures themselves belong to `npm run bench`, not to CI.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench --quick', () => {
  it('runs every benchmark and prints each figure as a ratio line', () => {
    const out = path.join(dir, 'results.json');
    const r = spawnSync(process.execPath, ['bench/run.ts', '--quick', '--out', out], { cwd: repo, encoding: 'utf8', timeout: 100_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    // No handler log lines in the figures output.
    expect(r.stdout).not.toMatch(/^\{"level"/m);
    const report = JSON.parse(readFileSync(out, 'utf8')) as { quick: boolean; benchmarks: { name: string; error?: string; figures: { key: string; ratio: number }[] }[] };
    expect(report.quick).toBe(true);
    expect(report.benchmarks.map((b) => b.error).filter(Boolean)).toEqual([]);
    const keys = report.benchmarks.flatMap((b) => b.figures.map((f) => f.key));
    for (const key of ['redeploy.callsPerRuntime', 'drift.wallTimeOverQuotaBound', 'drift.wallTimeOverPerOpBound', 'drift.throttledOverServed', 'drift.surfacedThrottlingErrors', 'drift.peakMemory',
      'driftFleet.runsNeeded', 'driftFleet.coverage', 'driftFleet.wallTimeOverPerOpBound', 'fanOut.wallTimeRatio', 'fanOut.wallTimeOverPerOpBound',
      'redeploy.latencyOverheadSeconds', 'redeploy.promotionTransitions', 'coldStart.maxSize', 'coldStart.maxImport', 'rollout.transitions.10m', 'rollout.transitions.60m', 'rollout.transitions.1440m']) {
      expect(keys, key).toContain(key);
      // Each figure is printed as a line `  <key> ratio <number> ...`.
      expect(r.stdout).toMatch(new RegExp(`^\\s+${key.replace(/\./g, '\\.')}\\s+ratio\\s+-?[0-9.]+(e[-+]?\\d+)?\\s`, 'm'));
    }
    for (const f of report.benchmarks.flatMap((b) => b.figures)) expect(Number.isFinite(f.ratio), f.key).toBe(true);
  }, 110_000);
});
