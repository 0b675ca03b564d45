/**
 * zod/mini, with zod's English messages, for what the functions validate at run time (events,
 * requests, rollout overrides). Classic zod's API costs every bundle that imports it about 100 KiB
 * (its schemas carry every method, so nothing is tree-shaken); zod/mini is the same validation
 * core with functions instead of methods (`z.optional(s)`, `s.check(z.maxLength(n))`).
 * Classic zod sets the English messages when it is imported, zod/mini does not: this module does,
 * so a message reads the same whichever flavour a process loaded.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
