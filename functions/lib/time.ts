/**
 * The current time as the Lambda handlers see it. In AWS it is the system clock. The local stack
 * runs hours of Step Functions waits on a VirtualClock; the handlers it runs in-process must see
 * that same time (bake windows, readiness deadlines), so the stack (or a test driving it) installs
 * the clock here with `setTimeSource`. One source per process: a real Lambda never sets it.
 */
let source: (() => number) | undefined;
let sleepSource: ((ms: number) => Promise<void>) | undefined;

/** Now, from the installed time source or the system clock. */
export function now(): Date {
  return new Date(source ? source() : Date.now());
}

/** Whether a time source is installed (an in-process local stack installs its clock). */
export function hasTimeSource(): boolean {
  return source !== undefined;
}

/** Installs (or, with undefined, removes) the process-wide time source; returns the previous one. */
export function setTimeSource(next: (() => number) | undefined): (() => number) | undefined {
  const previous = source;
  source = next;
  return previous;
}

/**
 * Installs (or, with undefined, removes) the process-wide sleep: the local stack makes the
 * handlers' retry waits follow its clock, so a backoff waits for the emulator's UPDATING -> READY
 * as it would in AWS. Returns the previous one.
 */
export function setSleepSource(next: ((ms: number) => Promise<void>) | undefined): ((ms: number) => Promise<void>) | undefined {
  const previous = sleepSource;
  sleepSource = next;
  return previous;
}

/** Waits `ms` (real time unless a sleep source is installed; the default `sleep` of retries). */
export function sleep(ms: number): Promise<void> {
  if (sleepSource) return sleepSource(ms);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
