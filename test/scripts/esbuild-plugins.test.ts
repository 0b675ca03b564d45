/**
 * scripts/esbuild-plugins.ts: the config compiled at package time. The compiled form equals what
 * the loader gives from the YAML (example and scenario configs), an invalid file fails the build
 * with the loader's error, secret references stay references, and a handler bundle carries
 * neither the YAML parser nor the config schemas yet gets the same config at run time. An SDK
 * client's package.json is bundled as its name and version, which its user agent still reports.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../bench/cold-start.ts';
import { loadConfig } from '../../functions/lib/config/load.ts';
import { compileConfig, compiledConfigDefines, compiledConfigPlugin } from '../../scripts/esbuild-plugins.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIGS = ['autopilot.config.yaml', 'local/scenario/autopilot.config.yaml'];
const scratch = mkdtempSync(join(tmpdir(), 'autopilot-plugins-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** What a bundle gets: the define is a string literal (esbuild inlines it), the config's JSON text. */
function definedConfig(defines: Record<string, string>): unknown {
  return JSON.parse(JSON.parse(defines['globalThis.AUTOPILOT_COMPILED_CONFIG']) as string);
}

describe('compiled config (scripts/esbuild-plugins.ts)', () => {
  it.each(CONFIGS)('%s: the compiled form equals the YAML load, with and without Cedar', async (file) => {
    const compiled = await compileConfig({ file, cwd: ROOT });
    const defines = compiledConfigDefines(compiled);

    expect(defines['globalThis.AUTOPILOT_CONFIG_COMPILED']).toBe('true');
    const inBundle = definedConfig(defines) as { file: string; config: unknown };
    expect(inBundle.file).toBe(file);
    for (const cedar of [true, false]) {
      // toStrictEqual: an undefined-valued key or a non-JSON value (RegExp, Date, Map) would differ.
      expect(inBundle.config).toStrictEqual(await loadConfig(file, { cwd: ROOT, env: {}, cedar }));
    }
  });

  it('keeps secret references as references (nothing is resolved at package time)', async () => {
    const compiled = await compileConfig({ file: 'autopilot.config.yaml', cwd: ROOT });
    const text = JSON.parse(compiledConfigDefines(compiled)['globalThis.AUTOPILOT_COMPILED_CONFIG']) as string;

    const env = compiled.config.runtimes.flatMap((r) => Object.values(r.desired.environmentVariables ?? {}));
    expect(env.some((v) => v.startsWith('{{resolve:secretsmanager:'))).toBe(true);
    for (const ref of text.match(/\{\{resolve:[^}]*\}\}/g) ?? []) expect(env).toContain(ref);
  });

  it('fails the build with the loader\'s error when the config is invalid', async () => {
    const dir = mkdtempSync(join(scratch, 'bad-'));
    writeFileSync(join(dir, 'autopilot.config.yaml'), 'version: 1\nruntimes:\n  - id: a\n    drift: sometimes\n');
    writeFileSync(join(dir, 'entry.ts'), 'export const x = 1;\n');
    const expected = await loadConfig('autopilot.config.yaml', { cwd: dir, env: {} }).then(() => undefined, (err: Error) => err.message);
    expect(expected).toMatch(/runtimes\[0\]\.drift/);

    const built = build({
      entryPoints: [join(dir, 'entry.ts')], bundle: true, write: false, logLevel: 'silent',
      plugins: [compiledConfigPlugin({ file: 'autopilot.config.yaml', cwd: dir })],
    });

    await expect(built).rejects.toThrow(expected!);
  });
});

describe('a handler bundle built as serverless-esbuild does', () => {
  it('leaves out the YAML parser, the config loader and schemas and classic zod, and gets the compiled config at run time', async () => {
    const probe = join(scratch, 'probe.ts');
    writeFileSync(probe, `import { configFor } from ${JSON.stringify(join(ROOT, 'functions/app/lambda-env.ts'))};\nimport '${join(ROOT, 'functions/handlers/correct-drift.ts')}';\nexport const load = () => configFor();\n`);
    const outfile = join(scratch, 'out', 'probe.mjs');
    // outdir, as serverless-esbuild builds (code splitting needs it): the bundle is out/probe.mjs.
    const result = await build({ ...(await esbuildOptions()), entryPoints: [probe], outdir: join(scratch, 'out'), metafile: true, absWorkingDir: ROOT });

    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((f) => /node_modules\/yaml\/|functions\/lib\/config\/(load|schema|semantics|policies|desired)\.ts$/.test(f))).toEqual([]);
    // Event and override validation use zod/mini (functions/lib/zod-mini.ts): no classic zod either.
    expect(inputs.filter((f) => /node_modules\/zod\/v4\/classic\//.test(f))).toEqual([]);
    expect(inputs.some((f) => /node_modules\/zod\/v4\/mini\//.test(f))).toBe(true);
    // In a directory with no config file and no AUTOPILOT_CONFIG_FILE: nothing is read from disk.
    const script = `const m = await import(${JSON.stringify(pathToFileURL(outfile).href)}); process.stdout.write(JSON.stringify(await m.load()));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: join(scratch, 'out'), encoding: 'utf8', env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1' },
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toStrictEqual(await loadConfig('autopilot.config.yaml', { cwd: ROOT, env: {} }));
  });
});

describe('SDK package info (scripts/esbuild-plugins.ts sdkPackageInfoPlugin)', () => {
  it('bundles only the name and version of an SDK package.json, and the client still reports its version', async () => {
    const entry = join(scratch, 'sdk-entry.mjs');
    writeFileSync(entry, `import { SFNClient } from '@aws-sdk/client-sfn';
export const userAgent = async () => (await new SFNClient({ region: 'us-east-1' }).config.defaultUserAgentProvider()).map((p) => p.join('#')).join(' ');
`);
    const options = await esbuildOptions();
    const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules/@aws-sdk/client-sfn/package.json'), 'utf8')) as { version: string; scripts: Record<string, string> };
    const outdir = join(scratch, 'sdk-out');
    const outfile = join(outdir, 'sdk-entry.mjs');
    const result = await build({ ...options, entryPoints: [entry], outdir, absWorkingDir: ROOT, nodePaths: [join(ROOT, 'node_modules')], metafile: true });
    const outputs = Object.entries(result.metafile!.outputs);
    const json = outputs.flatMap(([, o]) => Object.entries(o.inputs)).find(([f]) => f.endsWith('client-sfn/package.json'))!;
    expect(json[1].bytesInOutput).toBeLessThan(100);
    const text = outputs.map(([f]) => readFileSync(join(ROOT, f), 'utf8')).join('\n');
    expect(text).not.toContain(Object.values(pkg.scripts)[0]);
    const mod = await import(pathToFileURL(outfile).href) as { userAgent: () => Promise<string> };
    expect(await mod.userAgent()).toMatch(new RegExp(`^aws-sdk-js#${pkg.version.replace(/\./g, '\\.')} `));
  });
});
