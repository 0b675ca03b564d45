/**
 * Reusable zod field builders for the configuration schemas, in zod/mini: the rollout settings
 * (rollout.ts) also validate per-start overrides at run time, and zod/mini keeps zod's classic
 * API (about 100 KiB) out of the function bundles. The config schemas (schema.ts, policies.ts)
 * wrap these with classic zod's functions (`z.optional(f)`, `z._default(f, v)`, `f.check(...)`).
 */
import * as z from '../zod-mini.ts';

/** A non-empty string checked by `check` (which returns the problem, or undefined). */
export const checkedString = (check: (value: string) => string | undefined) =>
  z.string().check(z.superRefine((value, ctx) => {
    const problem = value === '' ? 'must not be empty' : check(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }));

/** A whole number (z.number().int() in classic zod: a non-number is reported as not a number). */
const integer = () => z.number().check(z.int());

/** Minutes: a whole number from 1 up to a year (the longest a Step Functions standard workflow runs). */
export const minutes = () => integer().check(z.minimum(1), z.maximum(525_600));
export const count = () => integer().check(z.minimum(0));
export const positiveCount = () => integer().check(z.minimum(1));
export const ratio = () => z.number().check(z.minimum(0), z.maximum(1));
export const concurrency = () => integer().check(z.minimum(1), z.maximum(100));

/** A list whose items must be distinct (by `key`); each repeat is reported at its own index. */
export const uniqueList = <T extends z.ZodMiniType>(item: T, what: string, key: (value: z.output<T>) => unknown = (v) => v) =>
  z.array(item).check(z.superRefine((items, ctx) => {
    const seen = new Map<unknown, number>();
    items.forEach((value, i) => {
      const k = key(value);
      const first = seen.get(k);
      if (first === undefined) seen.set(k, i);
      else ctx.addIssue({ code: 'custom', path: [i], message: `repeats ${what} [${first}]` });
    });
  }));

/** CloudWatch alarm names (1–255 characters). */
export const alarmName = () => z.string().check(z.minLength(1), z.maxLength(255));
