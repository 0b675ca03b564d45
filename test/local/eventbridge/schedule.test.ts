import { describe, expect, it } from 'vitest';
import { nextFiring, parseSchedule } from '../../../local/emulator/eventbridge/schedule.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function firings(expr: string, fromIso: string, n: number): (string | undefined)[] {
  const s = parseSchedule(expr);
  const out: (string | undefined)[] = [];
  let t = at(fromIso);
  for (let i = 0; i < n; i++) {
    const next = nextFiring(s, t);
    out.push(iso(next));
    if (next === undefined) break;
    t = next;
  }
  return out;
}

describe('rate expressions', () => {
  it('fires every period after the anchor', () => {
    const s = parseSchedule('rate(5 minutes)');
    const anchor = at('2026-01-01T00:00:00Z');
    expect(iso(nextFiring(s, anchor, anchor))).toBe('2026-01-01T00:05:00.000Z');
    expect(iso(nextFiring(s, anchor + 5 * 60_000, anchor))).toBe('2026-01-01T00:10:00.000Z');
    expect(iso(nextFiring(s, anchor + 7 * 60_000, anchor))).toBe('2026-01-01T00:10:00.000Z');
    expect(parseSchedule('rate(1 hour)')).toMatchObject({ periodMs: 3_600_000 });
    expect(parseSchedule('rate(2 days)')).toMatchObject({ periodMs: 2 * 86_400_000 });
  });

  it('rejects malformed rates like AWS does', () => {
    expect(() => parseSchedule('rate(1 minutes)')).toThrow(/singular/);
    expect(() => parseSchedule('rate(5 minute)')).toThrow(/plural/);
    expect(() => parseSchedule('rate(0 minutes)')).toThrow(/positive/);
    expect(() => parseSchedule('rate(5 seconds)')).toThrow(/invalid rate/);
    expect(() => parseSchedule('every 5 minutes')).toThrow(/rate\(\.\.\.\) or cron/);
  });
});

describe('cron expressions (6 fields, UTC)', () => {
  it('steps, ranges and lists', () => {
    expect(firings('cron(0/15 * * * ? *)', '2026-01-01T10:07:00Z', 3)).toEqual([
      '2026-01-01T10:15:00.000Z', '2026-01-01T10:30:00.000Z', '2026-01-01T10:45:00.000Z',
    ]);
    expect(firings('cron(0 8-9,17 * * ? *)', '2026-01-01T08:30:00Z', 4)).toEqual([
      '2026-01-01T09:00:00.000Z', '2026-01-01T17:00:00.000Z', '2026-01-02T08:00:00.000Z', '2026-01-02T09:00:00.000Z',
    ]);
  });

  it('day-of-week with names (weekdays only) and day-of-month with month names', () => {
    // 2026-01-02 is a Friday
    expect(firings('cron(30 2 ? * MON-FRI *)', '2026-01-02T03:00:00Z', 2)).toEqual([
      '2026-01-05T02:30:00.000Z', '2026-01-06T02:30:00.000Z',
    ]);
    expect(firings('cron(0 0 ? * 1 *)', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-04T00:00:00.000Z']); // 1 = Sunday
    expect(firings('cron(0 12 29 FEB ? 2026-2028)', '2026-01-01T00:00:00Z', 2)).toEqual(['2028-02-29T12:00:00.000Z', undefined]);
  });

  it('is strictly after the given time', () => {
    expect(firings('cron(0 10 * * ? *)', '2026-01-01T10:00:00Z', 1)).toEqual(['2026-01-02T10:00:00.000Z']);
  });

  it('rejects unsupported or invalid fields clearly', () => {
    expect(() => parseSchedule('cron(0 10 * * *)')).toThrow(/6 fields/);
    expect(() => parseSchedule('cron(0 10 * * * *)')).toThrow(/exactly one of day-of-month and day-of-week/);
    expect(() => parseSchedule('cron(0 10 ? * ? *)')).toThrow(/exactly one of day-of-month and day-of-week/);
    expect(() => parseSchedule('cron(0 10 L * ? *)')).toThrow(/L, W and # are not supported/);
    expect(() => parseSchedule('cron(0 10 ? * 6#3 *)')).toThrow(/L, W and # are not supported/);
    expect(() => parseSchedule('cron(0 10 15W * ? *)')).toThrow(/L, W and # are not supported/);
    expect(() => parseSchedule('cron(61 10 * * ? *)')).toThrow(/minutes field "61" value 61 is outside 0-59/);
    expect(() => parseSchedule('cron(0 10 * FOO ? *)')).toThrow(/month field/);
    expect(() => parseSchedule('cron(0 20-10 * * ? *)')).toThrow(/reversed/);
  });
});
