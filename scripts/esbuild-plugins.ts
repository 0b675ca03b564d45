/**
 * serverless-esbuild's plugins file (serverless.yml custom.esbuild.plugins): the esbuild plugins
 * every function bundle is built with.
 *
 * compiledConfigPlugin: the config is compiled at package time. The config file serverless.yml
 * gives the functions (provider.environment.AUTOPILOT_CONFIG_FILE) is loaded and validated with
 * the loader the functions use when run from source (functions/lib/config/load.ts, Cedar
 * statements checked); an invalid file fails the package with the loader's error. The result goes
 * into the bundle through esbuild `define`s (functions/app/lambda-env.ts readConfig), which also
 * make the YAML branch dead code: the packaged functions carry neither the YAML parser nor the
 * config schemas. Secret references stay references (the loader never resolves them).
 *
 * sdkPackageInfoPlugin: every AWS SDK client imports its whole package.json for one field, the
 * version in its user agent (`packageInfo.version` in runtimeConfig.js): about 2 KB of scripts,
 * dependencies and metadata per client in every bundle. The bundle gets `{name, version}` instead.
 *
 * chunksBesideBundlePlugin: with code splitting (custom.esbuild.splitting), each bundle's chunks go
 * to `<bundle>.chunks/` beside it, so that each function's zip holds its own chunks only.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Plugin } from 'esbuild';
import { DEFAULT_CONFIG_FILE, loadConfig } from '../functions/lib/config/load.ts';
import type { CompiledConfig } from '../functions/app/lambda-env.ts';

/** Where the config file is and how its load-time warnings are reported. */
export interface CompileConfigOptions {
  /** The config file, relative to `cwd` (serverless.yml's configFile param). */
  file: string;
  /** The service directory. */
  cwd: string;
  warn?: (message: string) => void;
}

/** Loads and validates the config as a function run from source would (Cedar included); throws its ConfigError. */
export async function compileConfig(options: CompileConfigOptions): Promise<CompiledConfig> {
  // No environment: AUTOPILOT_CONFIG_FILE or LAMBDA_TASK_ROOT of the shell must not pick another file.
  const config = await loadConfig(options.file, { cwd: options.cwd, env: {}, cedar: true, warn: options.warn });
  return { file: options.file, config };
}

/**
 * The esbuild `define`s of a compiled config (see functions/app/lambda-env.ts). The config is
 * defined as its JSON text, a string literal: an object-valued define makes esbuild add an
 * (empty) module that every bundled module initialises, about 2 KB of every bundle.
 */
export function compiledConfigDefines(compiled: CompiledConfig): Record<string, string> {
  return {
    'globalThis.AUTOPILOT_CONFIG_COMPILED': 'true',
    'globalThis.AUTOPILOT_COMPILED_CONFIG': JSON.stringify(JSON.stringify(compiled)),
  };
}

/** An esbuild plugin that compiles the config into the bundle (once per process and file). */
export function compiledConfigPlugin(options: CompileConfigOptions): Plugin {
  let compiled: Promise<CompiledConfig> | undefined;
  return {
    name: 'autopilot-compiled-config',
    async setup(build) {
      compiled ??= compileConfig(options);
      build.initialOptions.define = { ...build.initialOptions.define, ...compiledConfigDefines(await compiled) };
    },
  };
}

/** Fields of an AWS SDK package.json the SDK reads at run time (runtimeConfig.js: the version). */
const SDK_PACKAGE_JSON = /[\\/]node_modules[\\/]@aws-sdk[\\/][^\\/]+[\\/]package\.json$/;

/** An esbuild plugin that bundles only the name and version of the AWS SDK packages' package.json. */
export function sdkPackageInfoPlugin(): Plugin {
  return {
    name: 'autopilot-sdk-package-info',
    setup(build) {
      build.onLoad({ filter: SDK_PACKAGE_JSON }, async (args) => {
        const { name, version } = JSON.parse(await readFile(args.path, 'utf8')) as { name?: string; version?: string };
        return { contents: JSON.stringify({ name, version }), loader: 'json' };
      });
    },
  };
}

/**
 * Where a function's chunks go (custom.esbuild.splitting): next to its bundle, in
 * `<bundle name>.chunks/`. Every bundle is built into the same folder, and serverless-esbuild
 * leaves out of a function's zip the files that start with another bundle's name and a dot (its
 * rule for derived files such as `x.mjs.map`): each zip holds its own bundle's chunks only.
 */
export function chunksBesideBundlePlugin(): Plugin {
  return {
    name: 'autopilot-chunks-beside-bundle',
    setup(build) {
      const entries = build.initialOptions.entryPoints;
      const list = Array.isArray(entries) ? entries : Object.values(entries ?? {});
      if (!build.initialOptions.splitting || list.length !== 1) return;
      const entry = typeof list[0] === 'string' ? list[0] : list[0]!.in;
      const name = path.basename(entry, path.extname(entry));
      build.initialOptions.chunkNames = `${name}.chunks/[name]-[hash]`;
    },
  };
}

/** The part of the Serverless instance the plugins read. */
interface ServerlessLike {
  serviceDir?: string;
  config?: { servicePath?: string };
  service?: { provider?: { environment?: Record<string, unknown> } };
}

/** serverless-esbuild calls this with the Serverless instance; the bench calls it with a look-alike. */
export default function plugins(serverless: ServerlessLike = {}): Plugin[] {
  const cwd = serverless.serviceDir ?? serverless.config?.servicePath ?? process.cwd();
  const configured = serverless.service?.provider?.environment?.AUTOPILOT_CONFIG_FILE;
  const file = typeof configured === 'string' && configured !== '' ? configured : DEFAULT_CONFIG_FILE;
  const warn = (message: string) => process.stderr.write(`Warning: ${message}\n`);
  return [compiledConfigPlugin({ file, cwd, warn }), sdkPackageInfoPlugin(), chunksBesideBundlePlugin()];
}
