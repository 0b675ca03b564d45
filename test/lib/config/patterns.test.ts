import { describe, expect, it } from 'vitest';
import { checkIgnorePointer, parsePointer } from '../../../functions/lib/config/index.ts';
import { checkRegex, checkScheduleExpression, checkTagGlob, checkTimeZone } from '../../../functions/lib/config/patterns.ts';

describe('checkScheduleExpression', () => {
  it.each([
    'rate(1 minute)', 'rate(15 minutes)', 'rate(1 hour)', 'rate(2 days)',
    'cron(0 12 * * ? *)', 'cron(0/15 9-17 ? * MON-FRI *)', 'cron(0 8 1 * ? 2027)', 'cron(0 0 L * ? *)',
    'cron(30 6 ? * 6#3 *)', 'cron(0 10 ? JAN,JUL 2L *)', 'cron(5,35 14 15W * ? *)',
  ])('accepts %s', (expr) => {
    expect(checkScheduleExpression(expr)).toBeUndefined();
  });

  it.each([
    ['rate(0 minutes)', 'must have a rate value of at least 1'],
    ['rate(5 minute)', 'must use the plural unit "minutes" when the value is greater than 1'],
    ['rate(5 weeks)', /^must be an EventBridge schedule expression/],
    ['cron(0 12 * * *)', 'must have 6 cron fields (minutes hours day-of-month month day-of-week year), got 5'],
    ['cron(60 12 * * ? *)', /^has an invalid minutes field/],
    ['cron(0 24 * * ? *)', /^has an invalid hours field/],
    ['cron(0 12 ? FOO * *)', /^has an invalid month field/],
    ['cron(0 12 ? * ? *)', 'must use "?" in exactly one of the day-of-month and day-of-week fields'],
    ['cron(0 12 ? * 8 *)', /^has an invalid day-of-week field/],
    ['cron(0/0 12 * * ? *)', /^has an invalid minutes field/],
    ['at(2027-01-01T00:00:00)', /^must be an EventBridge schedule expression/],
  ])('rejects %s', (expr, message) => {
    const problem = checkScheduleExpression(expr);
    if (typeof message === 'string') expect(problem).toBe(message);
    else expect(problem).toMatch(message);
  });
});

describe('checkTimeZone', () => {
  it.each(['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5'])('accepts %s', (tz) => {
    expect(checkTimeZone(tz)).toBeUndefined();
  });

  it.each(['Europe/Atlantis', 'utc+1', '+02:00', ''])('rejects %s', (tz) => {
    expect(checkTimeZone(tz)).toBeDefined();
  });
});

describe('checkTagGlob', () => {
  it.each(['release-*', 'v?.?.?', 'build-[0-9][0-9]', 'rc[!a-z]', '[]]x', 'a\\*b', '[a\\-z]'])('accepts %s', (glob) => {
    expect(checkTagGlob(glob)).toBeUndefined();
  });

  it.each([
    ['release-[0-9', 'has a [ without its closing ]'],
    ['[z-a]', 'has a reversed range z-a in a [...] class'],
    ['tag\\', 'must not end with a lone "\\" (it escapes the next character)'],
    ['*'.repeat(257), 'must be at most 256 characters'],
  ])('rejects %s', (glob, message) => {
    expect(checkTagGlob(glob)).toBe(message);
  });
});

describe('checkRegex', () => {
  it('gives the reason without repeating the pattern', () => {
    expect(checkRegex('^release-[0-9+$')).toMatch(/^is not a valid regular expression \([^/]+\)$/);
    expect(checkRegex('^v[0-9]+$')).toBeUndefined();
  });
});

describe('ignore pointers', () => {
  it('decodes ~0 and ~1 escapes', () => {
    expect(parsePointer('/environmentVariables/A~1B~0C')).toEqual(['environmentVariables', 'A/B~C']);
    expect(parsePointer('/x~2')).toBeUndefined();
  });

  it('follows the model through structures, maps and lists', () => {
    expect(checkIgnorePointer('/environmentVariables/ANY_KEY', ['runtime'])).toBeUndefined();
    expect(checkIgnorePointer('/networkConfiguration/networkModeConfig/subnets/0', ['runtime'])).toBeUndefined();
    expect(checkIgnorePointer('/networkConfiguration/networkModeConfig/subnets/first', ['runtime'])).toBe(
      'does not exist in the model: /networkConfiguration/networkModeConfig/subnets is a list, so the next segment must be an index',
    );
    expect(checkIgnorePointer('/description/x', ['runtime'])).toBe('does not exist in the model: /description is a single value with nothing below it');
    expect(checkIgnorePointer('/exceptionLevel', ['runtime', 'gateway'])).toBeUndefined();
    expect(checkIgnorePointer('/clientToken', ['runtime'])).toBe('points to clientToken, which is not a desired field of a runtime');
  });
});
