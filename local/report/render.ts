/**
 * The scenario's HTML report: one self-contained file (no network assets: inline CSS, inline
 * script, inline SVG) with the step results, the timeline and the gate metrics plotted against
 * their thresholds. The data travels as JSON in the page; a small inline script renders the
 * timeline table and the SVG charts, so the same file works offline in any browser.
 */
import type { ScenarioResult } from '../scenario/run.ts';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe to embed in a <script> element. */
function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const CSS = `
:root { --ok: #1a7f37; --bad: #cf222e; --muted: #57606a; --line: #d0d7de; --accent: #0969da; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
header { background: #24292f; color: #fff; padding: 16px 24px; }
header h1 { margin: 0 0 4px; font-size: 20px; }
header .verdict { font-weight: 700; padding: 2px 8px; border-radius: 4px; }
header .verdict.ok { background: var(--ok); } header .verdict.bad { background: var(--bad); }
main { padding: 16px 24px; max-width: 1400px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; margin-bottom: 16px; }
h2 { font-size: 16px; margin: 4px 0 10px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
td.time { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; white-space: nowrap; color: var(--muted); }
tr.kind-step td { background: #ddf4ff; font-weight: 600; }
tr.kind-action td.what { color: var(--accent); }
tr.bad td.what, .fail { color: var(--bad); font-weight: 600; }
.pass { color: var(--ok); font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
.chart h3 { font-size: 14px; margin: 0 0 6px; }
.chart svg { width: 100%; height: auto; background: #fff; }
.chart .legend { font-size: 12px; color: var(--muted); }
.filters { margin-bottom: 8px; }
.filters label { margin-right: 12px; font-size: 13px; }
`;

/** Renders the report (a complete HTML document). */
export function renderReport(result: ScenarioResult, opts: { title?: string } = {}): string {
  const title = opts.title ?? 'agentcore-autopilot: local scenario report';
  const verdict = result.ok ? 'ALL STEPS PASSED' : 'SOME STEPS FAILED';
  const stepRows = [...result.steps.map((s) => ({ label: `Step ${s.n}: ${s.title}`, ok: s.ok, checks: s.checks })), { label: 'Whole run', ok: result.invariants.every((c) => c.ok), checks: result.invariants }]
    .map((s) => `<tr class="step-result"><td class="${s.ok ? 'pass' : 'fail'}">${s.ok ? 'PASS' : 'FAIL'}</td><td><strong>${escapeHtml(s.label)}</strong><ul>${s.checks
      .map((c) => `<li><span class="${c.ok ? 'pass' : 'fail'}">${c.ok ? '✓' : '✗'}</span> ${escapeHtml(c.name)}${c.detail ? ` <small>— ${escapeHtml(c.detail)}</small>` : ''}</li>`).join('')}</ul></td></tr>`)
    .join('\n');
  const data = {
    startedAt: result.startedAt,
    endedAt: result.endedAt,
    timeline: result.timeline,
    charts: result.charts,
    steps: result.steps.map((s) => ({ n: s.n, title: s.title, from: s.from, to: s.to, ok: s.ok })),
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1>${escapeHtml(title)}</h1>
  <div><span class="verdict ${result.ok ? 'ok' : 'bad'}" id="verdict">${verdict}</span>
  &nbsp; clock ${escapeHtml(new Date(result.startedAt).toISOString())} → ${escapeHtml(new Date(result.endedAt).toISOString())}
  (${escapeHtml(hours(result.endedAt - result.startedAt))} of scenario time in ${(result.wallMs / 1000).toFixed(1)} s)</div>
</header>
<main>
<section id="results">
  <h2>Steps</h2>
  <table><tbody>${stepRows}</tbody></table>
</section>
<section id="gates">
  <h2>Gate metrics against their thresholds</h2>
  <p class="legend">Lines: the metric as CloudWatch returns it. Dashed: the gate's threshold. Dots: the verifications the state machines ran (green passed, red failed). Shaded: the scenario steps.</p>
  <div class="charts" id="charts"></div>
</section>
<section id="timeline-section">
  <h2>Timeline</h2>
  <div class="filters">
    <label><input type="checkbox" data-kind="event" checked> events</label>
    <label><input type="checkbox" data-kind="execution" checked> executions</label>
    <label><input type="checkbox" data-kind="action" checked> actions</label>
    <label><input type="checkbox" data-kind="check" checked> checks</label>
  </div>
  <table id="timeline"><thead><tr><th>time</th><th>step</th><th>what</th><th>to what</th><th>why</th></tr></thead><tbody></tbody></table>
  <noscript><p>Enable JavaScript to see the timeline and the charts (the data is embedded in this file).</p></noscript>
</section>
</main>
<script type="application/json" id="report-data">${embedJson(data)}</script>
<script>
${CLIENT_SCRIPT}
</script>
</body>
</html>
`;
}

function hours(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.round((ms % 3_600_000) / 60_000);
  return `${h} h ${m} min`;
}

/** Runs in the browser: builds the timeline rows and the SVG charts from #report-data. */
const CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  function rel(t) {
    var s = Math.max(0, Math.round((t - data.startedAt) / 1000));
    function p(n) { return (n < 10 ? '0' : '') + n; }
    return 'T+' + p(Math.floor(s / 3600)) + ':' + p(Math.floor(s % 3600 / 60)) + ':' + p(s % 60);
  }
  function el(tag, attrs, text) {
    var e = tag.indexOf('svg:') === 0 ? document.createElementNS(NS, tag.slice(4)) : document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // Timeline
  var tbody = document.querySelector('#timeline tbody');
  data.timeline.forEach(function (t) {
    var tr = el('tr', { 'class': 'row kind-' + t.kind + (t.ok === false ? ' bad' : ''), 'data-kind': t.kind });
    tr.appendChild(el('td', { 'class': 'time' }, rel(t.at)));
    tr.appendChild(el('td', {}, t.step >= 1 && t.step <= 4 ? String(t.step) : ''));
    var what = t.kind === 'check' ? (t.ok ? 'PASS ' : 'FAIL ') + t.what : t.what;
    tr.appendChild(el('td', { 'class': 'what' + (t.kind === 'check' ? (t.ok ? ' pass' : ' fail') : '') }, what));
    tr.appendChild(el('td', {}, t.subject));
    tr.appendChild(el('td', {}, t.why));
    tbody.appendChild(tr);
  });
  document.querySelectorAll('.filters input').forEach(function (box) {
    box.addEventListener('change', function () {
      document.querySelectorAll('#timeline tr[data-kind="' + box.getAttribute('data-kind') + '"]').forEach(function (r) {
        r.style.display = box.checked ? '' : 'none';
      });
    });
  });

  // Charts
  var W = 640, H = 240, L = 56, R = 12, T = 12, B = 34;
  var charts = document.getElementById('charts');
  data.charts.forEach(function (c) {
    var box = el('div', { 'class': 'chart', id: 'chart-' + c.id });
    box.appendChild(el('h3', {}, c.title));
    var svg = el('svg:svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': c.title });
    var t0 = data.startedAt, t1 = Math.max(data.endedAt, t0 + 60000);
    var ymax = 0;
    c.series.forEach(function (s) { s.points.forEach(function (p) { ymax = Math.max(ymax, p[1]); }); });
    c.thresholds.forEach(function (th) { ymax = Math.max(ymax, th.value); });
    c.markers.forEach(function (m) { ymax = Math.max(ymax, m.value); });
    ymax = ymax > 0 ? ymax * 1.15 : 1;
    function x(t) { return L + (Math.min(Math.max(t, t0), t1) - t0) / (t1 - t0) * (W - L - R); }
    function y(v) { return T + (1 - v / ymax) * (H - T - B); }
    data.steps.forEach(function (s, i) {
      svg.appendChild(el('svg:rect', { 'class': 'step-band', x: x(s.from), y: T, width: Math.max(1, x(s.to) - x(s.from)), height: H - T - B, fill: i % 2 ? '#f6f8fa' : '#eef6ff' }));
      svg.appendChild(el('svg:text', { x: x(s.from) + 3, y: T + 11, 'font-size': 10, fill: '#57606a' }, 'step ' + s.n));
    });
    svg.appendChild(el('svg:line', { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#8c959f' }));
    svg.appendChild(el('svg:line', { x1: L, y1: T, x2: L, y2: H - B, stroke: '#8c959f' }));
    for (var i = 0; i <= 4; i++) {
      var v = ymax * i / 4;
      svg.appendChild(el('svg:text', { x: L - 4, y: y(v) + 3, 'text-anchor': 'end', 'font-size': 10, fill: '#57606a' }, c.unit === 'ratio' ? (v * 100).toFixed(1) + '%' : v.toFixed(1)));
      var tt = t0 + (t1 - t0) * i / 4;
      svg.appendChild(el('svg:text', { x: x(tt), y: H - B + 14, 'text-anchor': 'middle', 'font-size': 10, fill: '#57606a' }, rel(tt)));
    }
    c.series.forEach(function (s) {
      var pts = s.points.filter(function (p) { return p[0] >= t0 && p[0] <= t1; });
      if (pts.length === 0) return;
      var d = pts.map(function (p, j) { return (j ? 'L' : 'M') + x(p[0]).toFixed(1) + ' ' + y(p[1]).toFixed(1); }).join(' ');
      if (pts.length === 1) d += ' l1 0';
      svg.appendChild(el('svg:path', { 'class': 'series', d: d, fill: 'none', stroke: '#0969da', 'stroke-width': 1.6 }));
    });
    c.thresholds.forEach(function (th) {
      svg.appendChild(el('svg:line', { 'class': 'threshold', x1: L, x2: W - R, y1: y(th.value), y2: y(th.value), stroke: '#cf222e', 'stroke-dasharray': '5 4' }));
      svg.appendChild(el('svg:text', { x: W - R - 2, y: y(th.value) - 4, 'text-anchor': 'end', 'font-size': 10, fill: '#cf222e' }, th.label));
    });
    c.markers.forEach(function (m) {
      var dot = el('svg:circle', { 'class': 'marker', cx: x(m.at), cy: y(m.value), r: 4.5, fill: m.ok ? '#1a7f37' : '#cf222e' });
      dot.appendChild(el('svg:title', {}, rel(m.at) + ' ' + m.label + ' (' + (c.unit === 'ratio' ? (m.value * 100).toFixed(2) + '%' : m.value) + ')'));
      svg.appendChild(dot);
    });
    box.appendChild(svg);
    box.appendChild(el('div', { 'class': 'legend' }, c.series.map(function (s) { return s.name; }).join('; ') + (c.markers.length ? ' — ' + c.markers.map(function (m) { return rel(m.at) + ' ' + m.label; }).join(', ') : '')));
    charts.appendChild(box);
  });
  document.body.setAttribute('data-rendered', 'true');
})();
`;
