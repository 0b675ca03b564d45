/**
 * The HTML report in a real browser: Debian's headless Chromium (scripts/install-chromium.sh)
 * loads the file from disk with the network unreachable, runs its inline script, and the DOM it
 * leaves behind must hold the timeline rows and the SVG charts (series paths, threshold lines,
 * verification markers).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../../local/report/render.ts';
import { runScenario, type ScenarioResult } from '../../local/scenario/run.ts';

const CHROMIUM = process.env.CHROMIUM_BIN ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? 'chromium';

function chromium(args: string[], dir: string): string {
  return execFileSync(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions',
    // Self-contained: any network fetch would fail.
    '--proxy-server=127.0.0.1:9', '--proxy-bypass-list=<-loopback>',
    `--user-data-dir=${path.join(dir, 'profile')}`, '--virtual-time-budget=5000',
    ...args,
  ], { encoding: 'utf8', timeout: 45_000, maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}

function count(html: string, re: RegExp): number {
  return (html.match(re) ?? []).length;
}

describe('HTML report in headless Chromium', () => {
  let result: ScenarioResult;
  let dir: string;
  let file: string;
  let html: string;

  beforeAll(async () => {
    if (CHROMIUM === 'chromium' && !process.env.PATH?.split(':').some((d) => existsSync(path.join(d, 'chromium')))) {
      // Not a skip: a missing browser fails the suite with what to do about it.
      throw new Error('Chromium is not installed: `npm test` installs Debian\'s chromium when it runs as root; '
        + 'otherwise install the package `chromium` or set CHROMIUM_BIN, then run the tests again');
    }
    result = (await runScenario({})).result;
    dir = mkdtempSync(path.join(tmpdir(), 'autopilot-report-'));
    file = path.join(dir, 'report.html');
    html = renderReport(result);
    writeFileSync(file, html);
  }, 60_000);
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('is self-contained: no external scripts, styles, images or fonts', () => {
    expect(html).not.toMatch(/<(script|img|link|iframe)[^>]+(src|href)=/i);
    expect(html).not.toMatch(/url\(\s*['"]?https?:/i);
    expect(html).not.toMatch(/@import/i);
  });

  it('renders the timeline rows and the gate charts once its script has run', () => {
    const dom = chromium(['--dump-dom', pathToFileURL(file).href], dir);
    expect(dom).toMatch(/<body[^>]*data-rendered="true"/);
    // One row per timeline entry.
    expect(count(dom, /<tr class="row kind-/g)).toBe(result.timeline.length);
    expect(dom).toMatch(/<td class="what">redeploy started<\/td><td>supportAgent-a1b2c3d4e5<\/td>/);
    expect(dom).toMatch(/<td class="what pass">PASS gw-orders: the rollout halted in LOG_ONLY<\/td>/);
    // Four charts, each with its drawn series, a threshold and its verifications. The deny ratio is
    // drawn per engine mode, from the gates' own stream: gw-support and gw-billing ran in both
    // modes, gw-orders only in LOG_ONLY; plus the error series.
    expect(count(dom, /<div class="chart" id="chart-/g)).toBe(4);
    const paths = [...dom.matchAll(/<path class="series" d="(M[^"]+)"/g)].map((m) => m[1]);
    expect(paths).toHaveLength(6);
    for (const d of paths) expect(count(d, /L/g)).toBeGreaterThan(3);
    expect(dom).toContain('DenyDecisions{Mode=LOG_ONLY,OperationName=AuthorizeAction,TargetResource=gw-orders-h5j6k7l8m9}');
    expect(count(dom, /<line class="threshold"/g)).toBe(4);
    // gw-support: shadow + enforce PASS; gw-billing: same; gw-orders: a failed shadow verify; promotions: 2.
    expect(count(dom, /<circle class="marker"[^>]*fill="#1a7f37"/g)).toBeGreaterThanOrEqual(5);
    expect(count(dom, /<circle class="marker"[^>]*fill="#cf222e"/g)).toBeGreaterThanOrEqual(2);
    expect(dom).toMatch(/ALL STEPS PASSED/);
  });

  it('paints a screenshot', () => {
    const png = path.join(dir, 'report.png');
    chromium([`--screenshot=${png}`, '--window-size=1280,2000', pathToFileURL(file).href], dir);
    expect(statSync(png).size).toBeGreaterThan(20_000);
  });
});
