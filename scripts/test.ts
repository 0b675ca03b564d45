// `npm test`: type-check, then every vitest suite (which includes the ASL validation, the
// packaging check and the reliability suite), then one plain summary line `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const results = new URL('../.vitest-results.json', import.meta.url).pathname;
const extraArgs = process.argv.slice(2);
let passed = 0;
let failed = 0;

const bin = (name: string) => new URL(`../node_modules/.bin/${name}`, import.meta.url).pathname;

/**
 * The HTML report test renders the report in a real browser. A fresh machine has none: install
 * Debian's chromium once (scripts/install-chromium.sh, needs root and the Debian mirror), saying
 * so; when that cannot be done, say why and how. The test itself then fails loudly, never skips.
 */
function ensureChromium(): void {
  const found = process.env.CHROMIUM_BIN || ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  if (found) return;
  console.log('> the HTML report test needs Chromium, which is not installed: installing Debian\'s chromium (scripts/install-chromium.sh, once)');
  const install = spawnSync('bash', [new URL('./install-chromium.sh', import.meta.url).pathname], { stdio: 'inherit' });
  if (install.status !== 0) {
    console.log('> could not install Chromium: test/report/report-render.test.ts will fail. Install the Debian package '
      + '`chromium` (apt-get install chromium) or set CHROMIUM_BIN to a Chromium binary, then run npm test again.');
  }
}

if (extraArgs.length === 0 || extraArgs.some((a) => a.includes('report'))) ensureChromium();

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
