/** Shared shapes and helpers of the benchmarks: figures, timing, memory sampling, medians. */

export interface Figure {
  /** Stable key, e.g. `redeploy.callsPerRuntime`. */
  key: string;
  /** What the ratio compares, in words. */
  label: string;
  /** The figure itself: a ratio measured in the same run. */
  ratio: number;
  /** What the ratio is expected to be (or be at most), when there is an expectation. */
  expected?: { op: '==' | '<=' | '>='; value: number };
  /** The raw measurements the ratio was computed from. */
  raw: Record<string, unknown>;
}

export interface BenchResult {
  name: string;
  figures: Figure[];
  notes?: string[];
}

export interface BenchContext {
  quick: boolean;
  /** Writes one progress/figure line (stdout by default). */
  log: (line: string) => void;
}

export function round(n: number, digits = 3): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** `ratio=1.000 (expected == 1)` style line for one figure. */
export function formatFigure(f: Figure): string {
  const exp = f.expected ? `  (expected ${f.expected.op} ${f.expected.value}${meets(f) ? '' : ': NOT MET'})` : '';
  return `  ${f.key.padEnd(34)} ratio ${String(round(f.ratio)).padStart(9)}  ${f.label}${exp}`;
}

export function meets(f: Figure): boolean {
  if (!f.expected) return true;
  const { op, value } = f.expected;
  if (op === '==') return Math.abs(f.ratio - value) < 1e-9;
  if (op === '<=') return f.ratio <= value + 1e-9;
  return f.ratio >= value - 1e-9;
}

/** Samples process memory every `everyMs` until stopped; returns the peaks. */
export function sampleMemory(everyMs = 25): { stop: () => { peakRssBytes: number; peakHeapUsedBytes: number; baselineRssBytes: number; baselineHeapUsedBytes: number; samples: number } } {
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  let samples = 1;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > peakRss) peakRss = m.rss;
    if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
    samples++;
  }, everyMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      const m = process.memoryUsage();
      return {
        peakRssBytes: Math.max(peakRss, m.rss),
        peakHeapUsedBytes: Math.max(peakHeap, m.heapUsed),
        baselineRssBytes: base.rss,
        baselineHeapUsedBytes: base.heapUsed,
        samples: samples + 1,
      };
    },
  };
}

export const mib = (bytes: number) => round(bytes / (1024 * 1024), 1);
