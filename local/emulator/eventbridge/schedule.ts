/**
 * EventBridge schedule expressions (UTC): `rate(N minute|minutes|hour|hours|day|days)` and the
 * 6-field `cron(minutes hours day-of-month month day-of-week year)` with `*`, `?`, lists, ranges,
 * steps, month names (JAN-DEC) and day names (SUN-SAT, 1 = Sunday). `L`, `W` and `#` are rejected.
 */

export class ScheduleExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleExpressionError';
  }
}

export type Schedule =
  | { kind: 'rate'; expression: string; periodMs: number }
  | { kind: 'cron'; expression: string; fields: CronFields };

export interface CronFields {
  minutes: Set<number>;
  hours: Set<number>;
  /** undefined when `?` */
  daysOfMonth?: Set<number>;
  months: Set<number>;
  /** 1 = Sunday ... 7 = Saturday; undefined when `?` */
  daysOfWeek?: Set<number>;
  years: Set<number>;
  /** Whether day-of-month / day-of-week were `*` (unrestricted). */
  anyDayOfMonth: boolean;
  anyDayOfWeek: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

export function parseSchedule(expression: string): Schedule {
  const expr = expression.trim();
  const rate = /^rate\((.*)\)$/.exec(expr);
  if (rate) return { kind: 'rate', expression: expr, periodMs: parseRate(rate[1], expr) };
  const cron = /^cron\((.*)\)$/.exec(expr);
  if (cron) return { kind: 'cron', expression: expr, fields: parseCron(cron[1], expr) };
  throw new ScheduleExpressionError(`invalid schedule expression "${expression}": expected rate(...) or cron(...)`);
}

function parseRate(body: string, expr: string): number {
  const m = /^\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*$/.exec(body);
  if (!m) throw new ScheduleExpressionError(`invalid rate expression "${expr}": expected rate(<positive integer> <minute(s)|hour(s)|day(s)>)`);
  const n = Number(m[1]);
  if (n < 1) throw new ScheduleExpressionError(`invalid rate expression "${expr}": the value must be a positive integer`);
  const singular = !m[2].endsWith('s');
  if (n === 1 && !singular) throw new ScheduleExpressionError(`invalid rate expression "${expr}": use the singular unit for 1, e.g. rate(1 ${m[2].slice(0, -1)})`);
  if (n > 1 && singular) throw new ScheduleExpressionError(`invalid rate expression "${expr}": use the plural unit for values above 1, e.g. rate(${n} ${m[2]}s)`);
  const unit = m[2].replace(/s$/, '');
  const unitMs = unit === 'minute' ? 60_000 : unit === 'hour' ? 3_600_000 : 86_400_000;
  return n * unitMs;
}

function parseCron(body: string, expr: string): CronFields {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6) throw new ScheduleExpressionError(`invalid cron expression "${expr}": expected 6 fields (minutes hours day-of-month month day-of-week year), got ${parts.length}`);
  const [mi, h, dom, mon, dow, y] = parts;
  for (const p of parts) {
    if (/[LW#]/i.test(p.replace(/[A-Z]{3}/gi, (w) => (MONTHS.includes(w.toUpperCase()) || DAYS.includes(w.toUpperCase()) ? '' : w)))) {
      throw new ScheduleExpressionError(`invalid cron expression "${expr}": L, W and # are not supported by the local emulator`);
    }
  }
  if ((dom === '?') === (dow === '?')) {
    throw new ScheduleExpressionError(`invalid cron expression "${expr}": exactly one of day-of-month and day-of-week must be "?"`);
  }
  for (const [name, v] of [['minutes', mi], ['hours', h], ['month', mon], ['year', y]] as const) {
    if (v === '?') throw new ScheduleExpressionError(`invalid cron expression "${expr}": "?" is only allowed in day-of-month or day-of-week, not ${name}`);
  }
  return {
    minutes: parseField(mi, 0, 59, expr, 'minutes'),
    hours: parseField(h, 0, 23, expr, 'hours'),
    daysOfMonth: dom === '?' ? undefined : parseField(dom, 1, 31, expr, 'day-of-month'),
    months: parseField(mon, 1, 12, expr, 'month', MONTHS),
    daysOfWeek: dow === '?' ? undefined : parseField(dow, 1, 7, expr, 'day-of-week', DAYS),
    years: parseField(y, 1970, 2199, expr, 'year'),
    anyDayOfMonth: dom === '*',
    anyDayOfWeek: dow === '*',
  };
}

function parseField(field: string, min: number, max: number, expr: string, name: string, names?: string[]): Set<number> {
  const out = new Set<number>();
  const bad = (why: string) => new ScheduleExpressionError(`invalid cron expression "${expr}": ${name} field "${field}" ${why}`);
  const value = (s: string): number => {
    const upper = s.toUpperCase();
    if (names && names.includes(upper)) return names.indexOf(upper) + min;
    if (!/^\d+$/.test(s)) throw bad(`has an invalid value "${s}"`);
    const n = Number(s);
    if (n < min || n > max) throw bad(`value ${n} is outside ${min}-${max}`);
    return n;
  };
  for (const item of field.split(',')) {
    if (item === '') throw bad('has an empty list item');
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined) throw bad(`has more than one "/" in "${item}"`);
    let lo: number;
    let hi: number;
    if (range === '*') {
      lo = min;
      hi = max;
    } else if (range.includes('-')) {
      const [a, b] = range.split('-');
      lo = value(a);
      hi = value(b);
      if (lo > hi) throw bad(`range ${range} is reversed`);
    } else {
      lo = value(range);
      hi = stepText !== undefined ? max : lo;
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) throw bad(`has an invalid step "${stepText}"`);
      step = Number(stepText);
    }
    for (let n = lo; n <= hi; n += step) out.add(n);
  }
  return out;
}

const MINUTE = 60_000;

/**
 * The first firing strictly after `after` (epoch ms). For rate schedules firings are
 * `anchor + k * period`; cron firings are whole UTC minutes. Undefined when a cron never fires again.
 */
export function nextFiring(schedule: Schedule, after: number, anchor = 0): number | undefined {
  if (schedule.kind === 'rate') {
    const k = Math.floor((after - anchor) / schedule.periodMs) + 1;
    return anchor + Math.max(1, k) * schedule.periodMs;
  }
  const f = schedule.fields;
  let t = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  const maxYear = Math.max(...f.years);
  for (let guard = 0; guard < 500_000; guard++) {
    const d = new Date(t);
    const year = d.getUTCFullYear();
    if (year > maxYear) return undefined;
    if (!f.years.has(year)) {
      t = Date.UTC(year + 1, 0, 1);
      continue;
    }
    const month = d.getUTCMonth() + 1;
    if (!f.months.has(month)) {
      t = Date.UTC(year, month, 1);
      continue;
    }
    if (!dayMatches(f, d)) {
      t = Date.UTC(year, month - 1, d.getUTCDate() + 1);
      continue;
    }
    if (!f.hours.has(d.getUTCHours())) {
      t = Date.UTC(year, month - 1, d.getUTCDate(), d.getUTCHours() + 1);
      continue;
    }
    if (!f.minutes.has(d.getUTCMinutes())) {
      t += MINUTE;
      continue;
    }
    return t;
  }
  return undefined;
}

function dayMatches(f: CronFields, d: Date): boolean {
  const dom = d.getUTCDate();
  const dow = d.getUTCDay() + 1;
  if (f.daysOfMonth) return f.daysOfMonth.has(dom);
  if (f.daysOfWeek) return f.daysOfWeek.has(dow);
  return true;
}
