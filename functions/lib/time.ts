/**
 * The current time as the Lambda handlers see it. In AWS it is the system clock. The local stack
 * runs hours of Step Functions waits on a VirtualClock; the handlers it runs in-process must see
 * that same time (bake windows, readiness deadlines), so the stack (or a test driving it) installs
 * the clock here with `setTimeSource`. One source per process: a real Lambda never sets it.
 */
let source: (() => number) | undefined;

/** Now, from the installed time source or the system clock. */
export function now(): Date {
  return new Date(source ? source() : Date.now());
}

/** Installs (or, with undefined, removes) the process-wide time source; returns the previous one. */
export function setTimeSource(next: (() => number) | undefined): (() => number) | undefined {
  const previous = source;
  source = next;
  return previous;
}

/** Waits `ms` of real time (the default `sleep` of retries; tests inject their own). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
