import { mkdtemp, mkdir, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../../../functions/lib/config/index.ts';

const EXAMPLE = new URL('../../../autopilot.config.yaml', import.meta.url).pathname;
const byName = (name: string) => `version: 1\nruntimes:\n  - name: ${name}\n`;

describe('loadConfig', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'autopilot-config-'));
  });

  afterEach(async () => {
    vi.unstubAllEnvs();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the file named by AUTOPILOT_CONFIG_FILE', async () => {
    const file = path.join(dir, 'custom.yaml');
    await writeFile(file, byName('fromEnv'));
    vi.stubEnv('AUTOPILOT_CONFIG_FILE', file);
    const config = await loadConfig();
    expect(config.runtimes).toEqual([{ name: 'fromEnv', drift: 'report', ignore: [], desired: {} }]);
  });

  it('prefers an explicit path over AUTOPILOT_CONFIG_FILE', async () => {
    await writeFile(path.join(dir, 'env.yaml'), byName('fromEnv'));
    await writeFile(path.join(dir, 'arg.yaml'), byName('fromArg'));
    vi.stubEnv('AUTOPILOT_CONFIG_FILE', path.join(dir, 'env.yaml'));
    const config = await loadConfig(path.join(dir, 'arg.yaml'));
    expect(config.runtimes[0].name).toBe('fromArg');
  });

  it('reads autopilot.config.yaml from the working directory by default', async () => {
    await copyFile(EXAMPLE, path.join(dir, 'autopilot.config.yaml'));
    const config = await loadConfig(undefined, { env: {}, cwd: dir });
    expect(config.runtimes).toHaveLength(2);
    expect(config.gateways).toHaveLength(2);
  });

  it('falls back to LAMBDA_TASK_ROOT when the working directory has no file', async () => {
    const taskRoot = path.join(dir, 'task');
    await mkdir(taskRoot);
    await writeFile(path.join(taskRoot, 'autopilot.config.yaml'), byName('inLambda'));
    const config = await loadConfig(undefined, { env: { LAMBDA_TASK_ROOT: taskRoot }, cwd: path.join(dir) });
    expect(config.runtimes[0].name).toBe('inLambda');
  });

  it('resolves a relative AUTOPILOT_CONFIG_FILE against the working directory and names it in errors', async () => {
    await mkdir(path.join(dir, 'conf'));
    await writeFile(path.join(dir, 'conf', 'bad.yaml'), 'version: 1\nredeploy:\n  concurrency: 0\n');
    const err = await loadConfig(undefined, { env: { AUTOPILOT_CONFIG_FILE: 'conf/bad.yaml' }, cwd: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(`${path.join('conf', 'bad.yaml')}: redeploy.concurrency: must be at least 1`);
  });

  it('throws a ConfigError naming the file when it does not exist', async () => {
    const missing = path.join(dir, 'missing.yaml');
    const err = await loadConfig(missing, { env: {}, cwd: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe('missing.yaml: configuration file does not exist');
  });

  it('throws a ConfigError listing the places it looked when no default file exists', async () => {
    const err = await loadConfig(undefined, { env: { LAMBDA_TASK_ROOT: path.join(dir, 'task') }, cwd: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(
      `autopilot.config.yaml: configuration file does not exist (looked for ${path.join(dir, 'autopilot.config.yaml')}, ${path.join(dir, 'task', 'autopilot.config.yaml')}); set AUTOPILOT_CONFIG_FILE to use another path`,
    );
  });

  it('finds a relative AUTOPILOT_CONFIG_FILE in LAMBDA_TASK_ROOT when the working directory lacks it', async () => {
    const taskRoot = path.join(dir, 'task');
    await mkdir(path.join(taskRoot, 'conf'), { recursive: true });
    await writeFile(path.join(taskRoot, 'conf', 'autopilot.yaml'), byName('packaged'));
    const config = await loadConfig(undefined, { env: { AUTOPILOT_CONFIG_FILE: 'conf/autopilot.yaml', LAMBDA_TASK_ROOT: taskRoot }, cwd: path.join(dir) });
    expect(config.runtimes[0].name).toBe('packaged');
  });

  it('reports a directory given as the configuration file', async () => {
    const err = await loadConfig(dir, { env: {}, cwd: path.join(dir, 'elsewhere') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(`${dir}: configuration file is a directory`);
  });
});
