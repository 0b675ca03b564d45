/**
 * `npm run bench` (= `node bench/run.ts`): measures what issue 9 asks for, each figure as a ratio
 * of two measurements taken in the same run, against the local stack (real handlers, real state
 * machines, the AgentCore emulator with a fault plan). Prints one line per figure and writes every
 * figure with its raw measurements as JSON.
 *
 *   node bench/run.ts [--quick] [--only a,b] [--out FILE] [--strict] [--verbose]
 *
 *   --quick     resource counts / 10 and fewer repetitions (the smoke test uses it)
 *   --only      run only these benchmarks: redeploy, latency, drift, fleet, fanout, coldstart, rollout
 *   --out FILE  where to write the JSON (default bench/results.json)
 *   --strict    exit 1 when a figure misses its expectation (default: only when a benchmark fails)
 *   --verbose   keep the handlers' JSON log lines (default: dropped from stdout)
 *
 * Exit codes: 0 every benchmark ran, 1 a benchmark failed (or --strict and an expectation missed),
 * 2 usage error.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../local/stack.ts';
import { coldStart } from './cold-start.ts';
import { driftScale } from './drift.ts';
import { driftFleet } from './drift-fleet.ts';
import { fanOut, redeployCalls } from './redeploy.ts';
import { redeployLatency } from './latency.ts';
import { rolloutCost } from './rollout.ts';
import { formatFigure, meets, round, type BenchContext, type BenchResult } from './lib/report.ts';

export const BENCHMARKS: Record<string, (ctx: BenchContext) => Promise<BenchResult>> = {
  redeploy: redeployCalls,
  latency: redeployLatency,
  drift: driftScale,
  fleet: driftFleet,
  fanout: fanOut,
  coldstart: coldStart,
  rollout: rolloutCost,
};

export interface RunOptions {
  quick: boolean;
  /** Keep the handlers' JSON log lines on stdout (default: dropped, the figures stay readable). */
  verbose?: boolean;
  only?: string[];
  out?: string;
  strict?: boolean;
  log?: (line: string) => void;
}

export interface RunReport {
  startedAt: string;
  quick: boolean;
  node: string;
  platform: string;
  cpus: number;
  durationMs: number;
  benchmarks: (BenchResult & { durationMs: number; error?: string })[];
}

/** Runs the benchmarks; resolves to the report (also written to `out`). */
export async function runBenchmarks(opts: RunOptions): Promise<{ report: RunReport; exitCode: number }> {
  const realWrite = process.stdout.write.bind(process.stdout);
  const log = opts.log ?? ((line: string) => realWrite(`${line}\n`));
  // The handlers run in this process and log JSON lines (Powertools: stdout, warnings on stderr); drop them.
  const restore = opts.verbose ? [] : [process.stdout, process.stderr].map(dropJsonLogLines);
  try {
    return await runAll(opts, log);
  } finally {
    for (const r of restore) r();
  }
}

/** Replaces `stream.write` with one that drops Powertools JSON log lines; returns the undo. */
function dropJsonLogLines(stream: NodeJS.WriteStream): () => void {
  const original = stream.write;
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text.startsWith('{"level"')) {
      (rest.find((r) => typeof r === 'function') as (() => void) | undefined)?.();
      return true;
    }
    return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
  }) as typeof stream.write;
  return () => { stream.write = original; };
}

async function runAll(opts: RunOptions, log: (line: string) => void): Promise<{ report: RunReport; exitCode: number }> {
  const names = opts.only ?? Object.keys(BENCHMARKS);
  const os = await import('node:os');
  const t0 = performance.now();
  const report: RunReport = {
    startedAt: new Date().toISOString(), quick: opts.quick, node: process.version, platform: `${process.platform}/${process.arch}`,
    cpus: os.cpus().length, durationMs: 0, benchmarks: [],
  };
  let failed = false;
  let missed = false;
  log(`agentcore-autopilot benchmarks${opts.quick ? ' (--quick: resource counts / 10)' : ''}`);
  for (const name of names) {
    const bench = BENCHMARKS[name];
    const started = performance.now();
    log(`\n[${name}]`);
    try {
      const result = await bench({ quick: opts.quick, log });
      const durationMs = round(performance.now() - started, 0);
      log(`${result.name}:`);
      for (const f of result.figures) {
        log(formatFigure(f));
        if (!meets(f)) missed = true;
      }
      for (const n of result.notes ?? []) log(`  note: ${n}`);
      report.benchmarks.push({ ...result, figures: result.figures.map((f) => ({ ...f, ratio: round(f.ratio, 4) })), durationMs });
    } catch (err) {
      failed = true;
      const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      log(`  FAILED: ${error}`);
      report.benchmarks.push({ name, figures: [], durationMs: round(performance.now() - started, 0), error });
    }
  }
  report.durationMs = round(performance.now() - t0, 0);
  const out = opts.out ?? path.join(REPO_ROOT, 'bench', 'results.json');
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  log(`\nresults written to ${path.relative(process.cwd(), out) || out} (${round(report.durationMs / 1000, 1)} s)`);
  return { report, exitCode: failed || (opts.strict && missed) ? 1 : 0 };
}

function parseArgs(argv: string[]): RunOptions | string {
  const opts: RunOptions = { quick: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--quick': opts.quick = true; break;
      case '--strict': opts.strict = true; break;
      case '--verbose': opts.verbose = true; break;
      case '--only': {
        const v = value();
        if (!v) return '--only needs a list';
        const names = v.split(',').map((s) => s.trim()).filter(Boolean);
        const unknown = names.filter((n) => !(n in BENCHMARKS));
        if (unknown.length) return `unknown benchmark(s): ${unknown.join(', ')} (have: ${Object.keys(BENCHMARKS).join(', ')})`;
        opts.only = names;
        break;
      }
      case '--out': { const v = value(); if (!v) return '--out needs a file'; opts.out = path.resolve(v); break; }
      case '--help': case '-h': return 'help';
      default: return `unknown option ${a}`;
    }
  }
  return opts;
}

const USAGE = 'Usage: node bench/run.ts [--quick] [--only redeploy,latency,drift,fleet,fanout,coldstart,rollout] [--out FILE] [--strict] [--verbose]';

if (import.meta.main) {
  const parsed = parseArgs(process.argv.slice(2));
  if (typeof parsed === 'string') {
    if (parsed === 'help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    process.stderr.write(`bench: ${parsed}\n${USAGE}\n`);
    process.exit(2);
  }
  const { exitCode } = await runBenchmarks(parsed);
  process.exit(exitCode);
}
