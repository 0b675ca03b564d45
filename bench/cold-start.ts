/**
 * Benchmark 4: cold start. Each handler file serverless.yml names is bundled the way
 * serverless-esbuild does it (custom.esbuild: ESM, minify, node22, platform node, keepNames, code
 * splitting into an outdir with the chunks beside the bundle, its plugins (the config compiled in:
 * scripts/esbuild-plugins.ts), the same banner, the AWS SDK bundled, source maps as configured),
 * then imported in a fresh Node process. Size is every file the build wrote (the bundle, its
 * chunks, any source map: what the function's package holds for it); import time is what the
 * import loads (the bundle and its statically imported chunks; import() chunks load on first use).
 * Both are divided by the same figures for a bundle of the bare AgentCore Control client alone
 * (one client instance, no command), built with the same options and timed in the same run: with
 * splitting, the bare client's own import skips the SDK's credential providers a Lambda never
 * uses, so the baseline is the leanest a function calling AgentCore can be. Expected: the largest
 * bundle <= 2.0x, the slowest import <= 1.3x.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { loadServerlessConfig } from '../local/lambda/serverless-config.ts';
import { REPO_ROOT } from '../local/stack.ts';
import { Scratch } from './lib/world.ts';
import { median, round, type BenchContext, type BenchResult, type Figure } from './lib/report.ts';

const BASELINE_SOURCE = `import { BedrockAgentCoreControlClient } from '@aws-sdk/client-bedrock-agentcore-control';
export const client = new BedrockAgentCoreControlClient({});
export const handler = async () => ({});
`;

/**
 * serverless.yml's custom.esbuild, as esbuild build options; its `plugins` file is loaded and
 * called as serverless-esbuild does, with the parts of the Serverless instance it reads.
 */
export async function esbuildOptions(): Promise<BuildOptions> {
  const config = loadServerlessConfig(path.join(REPO_ROOT, 'serverless.yml'), { stage: 'dev', region: 'us-east-1' });
  const custom = (config.resolved.custom as Record<string, unknown> | undefined)?.esbuild as Record<string, unknown> | undefined;
  const banner = (custom?.banner as { js?: string } | undefined)?.js;
  let plugins: Plugin[] = [];
  if (typeof custom?.plugins === 'string') {
    const mod = await import(pathToFileURL(path.join(REPO_ROOT, custom.plugins)).href) as { default: Plugin[] | ((serverless: unknown) => Plugin[]) };
    const provider = config.resolved.provider as { environment?: Record<string, unknown> } | undefined;
    plugins = typeof mod.default === 'function' ? mod.default({ serviceDir: REPO_ROOT, service: { provider: { environment: provider?.environment ?? {} } } }) : mod.default;
  }
  return {
    bundle: custom?.bundle !== false,
    format: (custom?.format as 'esm' | undefined) ?? 'esm',
    target: (custom?.target as string | undefined) ?? 'node22',
    platform: (custom?.platform as 'node' | undefined) ?? 'node',
    minify: custom?.minify !== false,
    keepNames: custom?.keepNames !== false,
    splitting: custom?.splitting === true,
    mainFields: (custom?.mainFields as string[] | undefined) ?? ['module', 'main'],
    sourcemap: (custom?.sourcemap as BuildOptions['sourcemap'] | undefined) ?? false,
    outExtension: { '.js': (custom?.outputFileExtension as string | undefined) ?? '.mjs' },
    ...(banner ? { banner: { js: banner } } : {}),
    ...(custom?.define ? { define: custom.define as Record<string, string> } : {}),
    plugins,
    logLevel: 'silent',
  };
}

/**
 * Builds `entry` into its own folder as serverless-esbuild does (outdir, so chunks land beside the
 * bundle when splitting is on); returns the bundle's path and the bytes the function's package
 * holds for it: every file the build wrote (the bundle, its chunks, source maps if any).
 */
async function buildEntry(options: BuildOptions, entry: string, outdir: string): Promise<{ file: string; bytes: number }> {
  const result = await build({ ...options, entryPoints: [entry], outdir, metafile: true, absWorkingDir: REPO_ROOT, nodePaths: [path.join(REPO_ROOT, 'node_modules')] });
  const outputs = Object.entries(result.metafile.outputs);
  // Chunks a dynamic import() loads are entry points too: the bundle is the output of `entry` itself.
  const bundle = outputs.find(([, o]) => o.entryPoint !== undefined && path.resolve(REPO_ROOT, o.entryPoint) === path.resolve(entry));
  if (!bundle) throw new Error(`esbuild wrote no bundle for ${entry}`);
  return { file: path.resolve(REPO_ROOT, bundle[0]), bytes: outputs.reduce((sum, [f]) => sum + statSync(path.resolve(REPO_ROOT, f)).size, 0) };
}

/** Handler files (relative, without extension) -> the function keys that use them. */
export function handlerFiles(): Map<string, string[]> {
  const config = loadServerlessConfig(path.join(REPO_ROOT, 'serverless.yml'), { stage: 'dev', region: 'us-east-1' });
  const files = new Map<string, string[]>();
  for (const f of Object.values(config.functions)) {
    const list = files.get(f.handler.file) ?? [];
    list.push(f.key);
    files.set(f.handler.file, list);
  }
  return files;
}

/** Imports `file` once in a fresh Node process; the import's time in ms. */
function importOnceMs(file: string, env: Record<string, string>): number {
  const script = `const t0 = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t0));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env }, cwd: path.dirname(file) });
  if (r.status !== 0) throw new Error(`importing ${path.basename(file)} failed: ${r.stderr.slice(0, 2000)}`);
  return Number(r.stdout);
}

/**
 * Imports `file` and `baseline` `runs` times each, alternately (a machine that slows down or
 * speeds up during the run affects both alike); the median of each, in ms.
 */
function importTimesMs(file: string, baseline: string, runs: number, env: Record<string, string>): { medianMs: number; runsMs: number[]; baselineMedianMs: number; baselineRunsMs: number[] } {
  const runsMs: number[] = [];
  const baselineRunsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    baselineRunsMs.push(importOnceMs(baseline, env));
    runsMs.push(importOnceMs(file, env));
  }
  return { medianMs: median(runsMs), runsMs: runsMs.map((v) => round(v, 1)), baselineMedianMs: median(baselineRunsMs), baselineRunsMs: baselineRunsMs.map((v) => round(v, 1)) };
}

export async function coldStart(ctx: BenchContext): Promise<BenchResult> {
  const scratch = new Scratch('autopilot-bench-cold-');
  const notes: string[] = [];
  try {
    const options = await esbuildOptions();
    const runs = ctx.quick ? 1 : 9;
    // A Lambda-like environment: the config file next to the bundle, a region, dummy credentials.
    const env = {
      AUTOPILOT_CONFIG_FILE: path.join(REPO_ROOT, 'autopilot.config.yaml'),
      AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test',
      POWERTOOLS_SERVICE_NAME: 'agentcore-autopilot',
      ROLLOUT_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:bench',
      PROMOTION_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:bench',
    };

    const baselineEntry = scratch.write('baseline.ts', BASELINE_SOURCE);
    const { file: baselineOut, bytes: baselineBytes } = await buildEntry(options, baselineEntry, path.join(scratch.dir, 'out', 'baseline'));
    const baselineAll: number[] = [];

    const figures: Figure[] = [];
    let largest = 0;
    let slowest = 0;
    for (const [file, keys] of handlerFiles()) {
      const source = ['.ts', '.mts', '.js', '.mjs'].map((e) => path.join(REPO_ROOT, file + e)).find((p) => existsSync(p));
      if (!source) {
        notes.push(`${file}: no source yet (functions ${keys.join(', ')}), not measured`);
        ctx.log(`  ${file}: not found, skipped`);
        continue;
      }
      const { file: out, bytes } = await buildEntry(options, source, path.join(scratch.dir, 'out', file.replace(/[\\/]/g, '_')));
      const imported = importTimesMs(out, baselineOut, runs, env);
      baselineAll.push(...imported.baselineRunsMs);
      const sizeRatio = bytes / baselineBytes;
      const timeRatio = imported.medianMs / imported.baselineMedianMs;
      largest = Math.max(largest, sizeRatio);
      slowest = Math.max(slowest, timeRatio);
      const name = path.basename(file);
      figures.push({
        key: `coldStart.${name}.size`,
        label: `bundle size / bare client bundle (${round(bytes / 1024, 1)} KiB; ${keys.join(', ')})`,
        ratio: sizeRatio,
        raw: { bytes, baselineBytes, functions: keys },
      });
      figures.push({
        key: `coldStart.${name}.import`,
        label: `fresh-process import time / bare client's, alternately (${round(imported.medianMs, 1)} ms / ${round(imported.baselineMedianMs, 1)} ms)`,
        ratio: timeRatio,
        raw: { medianMs: round(imported.medianMs, 2), runsMs: imported.runsMs, baselineMedianMs: round(imported.baselineMedianMs, 2), baselineRunsMs: imported.baselineRunsMs },
      });
    }
    if (figures.length > 0) {
      ctx.log(`  baseline (bare AgentCore client): ${round(baselineBytes / 1024, 1)} KiB, import ${round(median(baselineAll), 1)} ms (median of ${baselineAll.length}, each handler's ratio against its own ${runs} alternate runs)`);
      figures.push({ key: 'coldStart.maxSize', label: `largest handler bundle / bare client bundle (${round(baselineBytes / 1024, 1)} KiB; source maps: ${options.sourcemap || 'none'})`, ratio: largest, expected: { op: '<=', value: 2.0 }, raw: { sourcemap: options.sourcemap ?? false } });
      figures.push({ key: 'coldStart.maxImport', label: 'slowest handler import / bare client import', ratio: slowest, expected: { op: '<=', value: 1.3 }, raw: {} });
    }
    return { name: 'cold start (bundle size, import time)', figures, notes };
  } finally {
    scratch.dispose();
  }
}
