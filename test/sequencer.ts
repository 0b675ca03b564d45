/**
 * Test files in an order that keeps both cores busy to the end. Vitest runs the longest files
 * first when it has timings from an earlier run; on a fresh clone (CI) it has none and falls back
 * to file size, which put the 25 s bench smoke test last. The files known to be long start first
 * here, then Vitest's own order.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Longest first (seconds on 2 cores): waits on real-time retry backoff, child processes, bundling. */
export const LONG_FILES = [
  'test/reliability/fault-matrix.test.ts', // ~65 s
  'test/bench/bench-smoke.test.ts', // ~25 s
  'test/packaging/package.test.ts', // ~14 s
  'test/e2e/start.test.ts', // ~10 s
];

export default class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const i = LONG_FILES.findIndex((p) => spec.moduleId.replaceAll('\\', '/').endsWith(p));
      return i < 0 ? LONG_FILES.length : i;
    };
    return sorted.map((spec, i) => ({ spec, i })).sort((a, b) => rank(a.spec) - rank(b.spec) || a.i - b.i).map((x) => x.spec);
  }
}
