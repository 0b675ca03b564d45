// `npm test`: type-check, then every vitest suite (which includes the ASL validation, the
// packaging check and the reliability suite), then one plain summary line `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const results = new URL('../.vitest-results.json', import.meta.url).pathname;
const extraArgs = process.argv.slice(2);
let passed = 0;
let failed = 0;

const bin = (name: string) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;

if (extraArgs.length === 0) {
  console.log('> tsc --noEmit');
  const tsc = spawnSync(bin('tsc'), ['--noEmit', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  if (tsc.status === 0) passed += 1; else failed += 1;
}

rmSync(results, { force: true });
console.log('> vitest run');
spawnSync(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...extraArgs], {
  stdio: 'inherit',
  env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR },
});

try {
  const report = JSON.parse(readFileSync(results, 'utf8')) as {
    numPassedTests: number; numFailedTests: number; numTotalTestSuites: number; numFailedTestSuites: number;
    testResults: { status: string; assertionResults: unknown[] }[];
  };
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  // A suite that fails to load has no test results of its own: count it as one failure.
  failed += report.testResults.filter((r) => r.status === 'failed' && r.assertionResults.length === 0).length;
} catch (err) {
  console.error(`could not read vitest results: ${(err as Error).message}`);
  failed += 1;
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
