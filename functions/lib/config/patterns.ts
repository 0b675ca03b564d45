/**
 * Syntax checks for the values a configuration names: AgentCore identifiers (patterns taken from
 * the service model, so they cannot drift from what the service accepts), ECR repositories,
 * accounts, regions, EventBridge schedule expressions and IANA time zones. Each check returns a
 * problem description, or undefined when the value is fine; none echoes the value itself.
 */
import { serviceModel } from '../model/service-model.ts';

/** Pattern of a string shape of the AgentCore Control model, matched against the whole value. */
export function modelPattern(shapeName: string): { source: string; regex: RegExp } {
  const source = serviceModel.shapes[shapeName]?.pattern;
  if (!source) throw new Error(`model shape ${shapeName} has no pattern`);
  return { source, regex: new RegExp(`^(?:${source})$`, 'u') };
}

const patternCheck = (source: string, regex: RegExp) => (value: string): string | undefined =>
  regex.test(value) ? undefined : `must match the pattern ${source}`;

const fromModel = (shapeName: string) => {
  const { source, regex } = modelPattern(shapeName);
  return patternCheck(source, regex);
};

export const checkRuntimeId = fromModel('AgentRuntimeId');
export const checkRuntimeName = fromModel('AgentRuntimeName');
export const checkGatewayId = fromModel('GatewayIdentifier');
export const checkGatewayName = fromModel('GatewayName');
export const checkEndpointName = fromModel('EndpointName');

/** GatewayPolicyEngineArn plus its length limits (1–170). */
export function checkPolicyEngineArn(value: string): string | undefined {
  const shape = serviceModel.shapes.GatewayPolicyEngineArn;
  if (shape?.max !== undefined && value.length > shape.max) return `must be at most ${shape.max} characters`;
  return fromModel('GatewayPolicyEngineArn')(value);
}

// ECR RepositoryName (ECR API reference): 2–256 characters, lowercase path components.
const ECR_REPOSITORY = '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*';
export function checkRepositoryName(value: string): string | undefined {
  if (value.length < 2 || value.length > 256) return 'must be 2 to 256 characters';
  return patternCheck(ECR_REPOSITORY, new RegExp(`^${ECR_REPOSITORY}$`))(value);
}

// Tag rules shared with the redeploy domain (functions/domain/redeploy/tag-policy.ts): tags are at
// most 128 characters (Docker's limit), patterns at most 256 (bounds a backtracking regex).
export const MAX_TAG_LENGTH = 128;
export const MAX_TAG_PATTERN_LENGTH = 256;
const IMAGE_TAG = '[A-Za-z0-9_][A-Za-z0-9._-]{0,127}';
export const checkImageTag = patternCheck(IMAGE_TAG, new RegExp(`^${IMAGE_TAG}$`));

/**
 * A whole-tag glob: `*` any run, `?` one character, `[abc]` / `[a-z]` / `[!a-z]` / `[^a-z]`
 * classes (a `]` first in a class is literal), `\x` a literal x.
 */
export function checkTagGlob(glob: string): string | undefined {
  if (glob.length > MAX_TAG_PATTERN_LENGTH) return `must be at most ${MAX_TAG_PATTERN_LENGTH} characters`;
  const chars = [...glob];
  const loneEscape = 'must not end with a lone "\\" (it escapes the next character)';
  for (let i = 0; i < chars.length; i += 1) {
    if (chars[i] === '\\') {
      if (i + 1 >= chars.length) return loneEscape;
      i += 1;
    } else if (chars[i] === '[') {
      let j = i + 1;
      if (chars[j] === '!' || chars[j] === '^') j += 1;
      let first = true;
      for (; j < chars.length; j += 1) {
        if (chars[j] === ']' && !first) break;
        first = false;
        let lo = chars[j];
        if (lo === '\\') {
          if (j + 1 >= chars.length) return loneEscape;
          j += 1;
          lo = chars[j];
        }
        if (chars[j + 1] === '-' && j + 2 < chars.length && chars[j + 2] !== ']') {
          j += 2;
          let hi = chars[j];
          if (hi === '\\') {
            if (j + 1 >= chars.length) return loneEscape;
            j += 1;
            hi = chars[j];
          }
          if (hi < lo) return `has a reversed range ${lo}-${hi} in a [...] class`;
        }
      }
      if (j >= chars.length) return 'has a [ without its closing ]';
      i = j;
    }
  }
  return undefined;
}

/** A semver range (npm semver syntax) within the pattern length limit. */
export function checkSemverRange(range: string, validRange: (r: string) => string | null): string | undefined {
  if (range.length > MAX_TAG_PATTERN_LENGTH) return `must be at most ${MAX_TAG_PATTERN_LENGTH} characters`;
  return validRange(range) === null ? 'must be a valid semver range (e.g. ^1.2.0, ~2.0, >=1.4 <2)' : undefined;
}

export const checkAccountId = patternCheck('[0-9]{12}', /^[0-9]{12}$/);

// us-east-1, us-gov-west-1, cn-north-1, us-isob-east-1, ...
const REGION = '[a-z]{2}(-[a-z]+)+-[0-9]{1,2}';
export const checkRegion = patternCheck(REGION, new RegExp(`^${REGION}$`));

// EventBridge EventBusNameOrArn.
const EVENT_BUS = '(arn:aws[\\w-]*:events:[a-z]{2}-[a-z]+-[\\w-]+:[0-9]{12}:event-bus/)?[/.\\-_A-Za-z0-9]+';
export function checkEventBus(value: string): string | undefined {
  if (value.length > 1600) return 'must be at most 1600 characters';
  return patternCheck(EVENT_BUS, new RegExp(`^${EVENT_BUS}$`))(value);
}

/** PutEvents rejects sources in the reserved `aws.` namespace. */
export function checkEventSource(value: string): string | undefined {
  if (value.length > 256) return 'must be at most 256 characters';
  if (!/^[A-Za-z0-9._/-]+$/.test(value)) return 'must match the pattern [A-Za-z0-9._/-]+';
  if (value.startsWith('aws.')) return 'must not start with "aws." (reserved for AWS services)';
  return undefined;
}

/** A JavaScript regular expression that compiles as a whole-tag match (`^(?:...)$`, flag `u`). */
export function checkRegex(value: string): string | undefined {
  if (value.length > MAX_TAG_PATTERN_LENGTH) return `must be at most ${MAX_TAG_PATTERN_LENGTH} characters`;
  try {
    new RegExp(`^(?:${value})$`, 'u');
    return undefined;
  } catch (err) {
    // V8 says "Invalid regular expression: /<source>/u: <reason>"; keep the reason only.
    const reason = (err as Error).message.split(': ').pop();
    return `is not a valid regular expression (${reason})`;
  }
}

/** An IANA time zone name that the runtime's Intl knows (e.g. UTC, Europe/Paris). */
export function checkTimeZone(value: string): string | undefined {
  // Intl also accepts offsets such as "+01:00", which have no daylight-saving rules: insist on names.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(value)) return 'must be an IANA time zone name such as UTC or Europe/Paris';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return undefined;
  } catch {
    return 'is not a known IANA time zone (e.g. UTC, Europe/Paris, America/New_York)';
  }
}

// ---- EventBridge schedule expressions ------------------------------------------------------

const RATE_UNITS = new Map([['minute', 'minutes'], ['hour', 'hours'], ['day', 'days']]);

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: string[];
  question?: boolean;
  extra?: RegExp;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const CRON_FIELDS: CronField[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  // L = last day, LW = last weekday, 15W = weekday nearest the 15th.
  { name: 'day-of-month', min: 1, max: 31, question: true, extra: /^(L|LW|([1-9]|[12][0-9]|3[01])W)$/ },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  // L = last day of week, 5L = last Thursday, 3#2 = second Tuesday.
  { name: 'day-of-week', min: 1, max: 7, names: WEEKDAYS, question: true, extra: /^(L|[1-7]L|[1-7]#[1-5])$/i },
  { name: 'year', min: 1970, max: 2199 },
];

function cronValue(token: string, field: CronField): number | undefined {
  if (/^[0-9]+$/.test(token)) {
    const n = Number(token);
    return n >= field.min && n <= field.max ? n : undefined;
  }
  const idx = field.names?.indexOf(token.toUpperCase()) ?? -1;
  return idx >= 0 ? field.min + idx : undefined;
}

function cronFieldProblem(text: string, field: CronField): string | undefined {
  const bad = `has an invalid ${field.name} field (allowed: ${field.min}-${field.max}${field.names ? ` or ${field.names[0]}-${field.names.at(-1)}` : ''}, with , - * /${field.question ? ' ?' : ''})`;
  if (text === '?') return field.question ? undefined : bad;
  for (const item of text.split(',')) {
    if (field.extra?.test(item)) continue;
    const [range, step, ...rest] = item.split('/');
    if (rest.length > 0) return bad;
    if (step !== undefined && !(/^[0-9]+$/.test(step) && Number(step) >= 1)) return bad;
    if (range === '*') continue;
    const bounds = range.split('-');
    if (bounds.length > 2 || bounds.some((b) => cronValue(b, field) === undefined)) return bad;
  }
  return undefined;
}

/** Checks an EventBridge schedule expression: `rate(<n> <unit>)` or `cron(<6 fields>)`. */
export function checkScheduleExpression(value: string): string | undefined {
  const usage = 'must be an EventBridge schedule expression: rate(<value> minute|minutes|hour|hours|day|days) or cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)';
  const rate = /^rate\(([0-9]+) ([a-z]+)\)$/.exec(value);
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2];
    const singular = RATE_UNITS.has(unit) ? unit : [...RATE_UNITS].find(([, plural]) => plural === unit)?.[0];
    if (!singular) return usage;
    if (n < 1) return 'must have a rate value of at least 1';
    if (n === 1 && unit !== singular) return `must use the singular unit "${singular}" when the value is 1`;
    if (n > 1 && unit === singular) return `must use the plural unit "${RATE_UNITS.get(singular)}" when the value is greater than 1`;
    return undefined;
  }
  const cron = /^cron\((.*)\)$/.exec(value);
  if (!cron) return usage;
  const fields = cron[1].trim().split(/\s+/);
  if (fields.length !== 6) return `must have 6 cron fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`;
  for (let i = 0; i < 6; i += 1) {
    const problem = cronFieldProblem(fields[i], CRON_FIELDS[i]);
    if (problem) return problem;
  }
  // EventBridge: one of day-of-month and day-of-week must be "?".
  if ((fields[2] === '?') === (fields[4] === '?')) return 'must use "?" in exactly one of the day-of-month and day-of-week fields';
  return undefined;
}
