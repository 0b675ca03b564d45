/** Reusable zod field builders for the configuration schemas. */
// The namespace import lets esbuild drop what is not used (`import { z }` keeps every locale: ~370 KiB).
import * as z from 'zod';

/** A non-empty string checked by `check` (which returns the problem, or undefined). */
export const checkedString = (check: (value: string) => string | undefined) =>
  z.string().superRefine((value, ctx) => {
    const problem = value === '' ? 'must not be empty' : check(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Minutes: a whole number from 1 up to a year (the longest a Step Functions standard workflow runs). */
export const minutes = () => z.number().int().min(1).max(525_600);
export const count = () => z.number().int().min(0);
export const positiveCount = () => z.number().int().min(1);
export const ratio = () => z.number().min(0).max(1);
export const concurrency = () => z.number().int().min(1).max(100);

/** A list whose items must be distinct (by `key`); each repeat is reported at its own index. */
export const uniqueList = <T extends z.ZodType>(item: T, what: string, key: (value: z.output<T>) => unknown = (v) => v) =>
  z.array(item).superRefine((items, ctx) => {
    const seen = new Map<unknown, number>();
    items.forEach((value, i) => {
      const k = key(value);
      const first = seen.get(k);
      if (first === undefined) seen.set(k, i);
      else ctx.addIssue({ code: 'custom', path: [i], message: `repeats ${what} [${first}]` });
    });
  });

/** CloudWatch alarm names (1–255 characters). */
export const alarmName = () => z.string().min(1).max(255);
