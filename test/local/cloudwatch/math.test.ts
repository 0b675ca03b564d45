import { describe, expect, it } from 'vitest';
import { evaluate, MetricMathError, parseExpression, referencedIds, type MathContext, type MathValue } from '../../../local/emulator/cloudwatch/math.ts';
import { aggregate } from '../../../local/emulator/cloudwatch/metric-store.ts';

const series = (entries: [number, number][]): MathValue => ({ kind: 'series', points: new Map(entries) });

function ctx(vars: Record<string, MathValue>, grid = [0, 60_000, 120_000, 180_000]): MathContext {
  return {
    resolve: (id) => {
      const v = vars[id];
      if (!v) throw new MetricMathError(`unknown id ${id}`);
      return v;
    },
    allMetrics: () => Object.values(vars).filter((v) => v.kind === 'series').map((v) => (v as { points: Map<number, number> }).points),
    grid,
    periodSeconds: 60,
  };
}

function run(expr: string, vars: Record<string, MathValue>, grid?: number[]): MathValue {
  return evaluate(parseExpression(expr), ctx(vars, grid));
}

function points(v: MathValue): [number, number][] {
  if (v.kind !== 'series') throw new Error(`expected a series, got ${v.kind}`);
  return [...v.points].sort((a, b) => a[0] - b[0]);
}

describe('metric math', () => {
  const a = series([[0, 10], [60_000, 20], [120_000, 30]]);
  const b = series([[0, 5], [120_000, 0]]);

  it('respects precedence, parentheses, unary minus and ^', () => {
    expect(run('1 + 2 * 3', {})).toEqual({ kind: 'scalar', value: 7 });
    expect(run('(1 + 2) * 3', {})).toEqual({ kind: 'scalar', value: 9 });
    expect(run('-2 ^ 2 + 10 / 4', {})).toEqual({ kind: 'scalar', value: -4 + 2.5 });
  });

  it('combines series on matching timestamps and drops division by zero', () => {
    expect(points(run('a / b', { a, b }))).toEqual([[0, 2]]);
    expect(points(run('a - b * 2', { a, b }))).toEqual([[0, 0], [120_000, 30]]);
  });

  it('FILL with a number, REPEAT and LINEAR covers the whole grid', () => {
    expect(points(run('FILL(b, 0)', { b }))).toEqual([[0, 5], [60_000, 0], [120_000, 0], [180_000, 0]]);
    expect(points(run('FILL(b, REPEAT)', { b }))).toEqual([[0, 5], [60_000, 5], [120_000, 0], [180_000, 0]]);
    expect(points(run('FILL(b, LINEAR)', { b }))).toEqual([[0, 5], [60_000, 2.5], [120_000, 0]]);
  });

  it('SUM/AVG/MIN/MAX reduce arrays per timestamp and a single series to a scalar', () => {
    expect(points(run('SUM([a, b])', { a, b }))).toEqual([[0, 15], [60_000, 20], [120_000, 30]]);
    expect(points(run('MAX(METRICS())', { a, b }))).toEqual([[0, 10], [60_000, 20], [120_000, 30]]);
    expect(run('SUM(a)', { a })).toEqual({ kind: 'scalar', value: 60 });
    expect(run('AVG(a)', { a })).toEqual({ kind: 'scalar', value: 20 });
  });

  it('IF picks per timestamp and drops points without an else branch', () => {
    expect(points(run('IF(a > 15, a, 0)', { a }))).toEqual([[0, 0], [60_000, 20], [120_000, 30]]);
    expect(points(run('IF(a >= 20 AND a < 30, 1)', { a }))).toEqual([[60_000, 1]]);
  });

  it('DIFF and RATE use consecutive datapoints', () => {
    expect(points(run('DIFF(a)', { a }))).toEqual([[60_000, 10], [120_000, 10]]);
    expect(points(run('RATE(a)', { a }))).toEqual([[60_000, 10 / 60], [120_000, 10 / 60]]);
  });

  it('reports syntax errors, unknown functions and uppercase ids', () => {
    expect(() => parseExpression('a +')).toThrow(MetricMathError);
    expect(() => parseExpression('a b')).toThrow(/unexpected 'b'/);
    expect(() => parseExpression('ANOMALY_DETECTION_BAND(a)')).toThrow(/unsupported function/);
    expect(() => parseExpression('Errors / 2')).toThrow(/lowercase/);
    expect(() => run('SUM(a, b)', { a, b })).toThrow(/takes 1 argument/);
    expect(referencedIds(parseExpression('100 * FILL(d, 0) / SUM([a, FILL(d, 0)])')).sort()).toEqual(['a', 'd']);
  });
});

describe('metric aggregation', () => {
  it('buckets datapoints on period multiples', () => {
    const pts = [0, 30_000, 299_000, 300_000].map((t) => ({ t, sum: 1, count: 1, min: 1, max: 1 }));
    expect([...aggregate(pts, 300_000, 'Sum')]).toEqual([[0, 3], [300_000, 1]]);
  });
});
