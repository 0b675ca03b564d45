/**
 * Adapter builders whose adapter module, and so its SDK client, loads with import() on the first
 * call of one of its methods. For a bundle shared by several functions (the rollout, promotion and
 * policy-promotion tasks) or a client used on one path only (a refused request's event): a bundle
 * is code-split (serverless.yml custom.esbuild.splitting), so the client sits in a chunk that the
 * functions never calling it never parse. The first call pays the load (a few ms); later calls and
 * warm invocations go straight to the adapter.
 *
 * A lazy adapter has the adapter's methods (all async) and nothing else: its `client` cannot be
 * handed out before the module has loaded, and reading it throws. Pass such code the eager builder.
 */
import type { ClientOptions } from '../lib/clients/options.ts';
import type { CloudWatchAdapter } from './cloudwatch.ts';
import type { EventsAdapter } from './events.ts';
import type { SfnAdapter } from './sfn.ts';

type AsyncMethodOf<A> = { [K in keyof A]: A[K] extends (...args: never[]) => Promise<unknown> ? K : never }[keyof A];

/**
 * A builder of `A` that loads the real builder on the first method call. `methods` lists the
 * adapter's methods (a test keeps the list equal to the class's); the result is typed as `A`.
 */
export function lazyAdapter<A extends object>(
  name: string,
  load: () => Promise<(options: ClientOptions) => A>,
  methods: readonly AsyncMethodOf<A>[],
): (options: ClientOptions) => A {
  return (options) => {
    let adapter: Promise<A> | undefined;
    const real = () => (adapter ??= load().then((build) => build(options)));
    const lazy: Record<string | symbol, unknown> = {};
    for (const method of methods) {
      lazy[method as string] = async (...args: unknown[]) => {
        const a = await real();
        return (a[method] as (...args: unknown[]) => Promise<unknown>).apply(a, args);
      };
    }
    Object.defineProperty(lazy, 'client', {
      get: () => {
        throw new TypeError(`the ${name} adapter loads its client on first use: its client is not available (build this adapter with the eager builder)`);
      },
    });
    return lazy as A;
  };
}

/** CloudWatch (GetMetricData, ListMetrics, DescribeAlarms) on first use. */
export const lazyCloudWatchAdapter = /* @__PURE__ */ lazyAdapter<CloudWatchAdapter>('CloudWatch', async () => (await import('./cloudwatch.ts')).cloudWatchAdapter,
  ['getMetricData', 'listMetrics', 'describeAlarms']);

/** EventBridge (PutEvents) on first use. */
export const lazyEventsAdapter = /* @__PURE__ */ lazyAdapter<EventsAdapter>('EventBridge', async () => (await import('./events.ts')).eventsAdapter, ['publish']);

/** Step Functions on first use. */
export const lazySfnAdapter = /* @__PURE__ */ lazyAdapter<SfnAdapter>('Step Functions', async () => (await import('./sfn.ts')).sfnAdapter,
  ['startExecution', 'describeExecution', 'findStateMachines', 'listExecutions', 'stopExecution', 'sendTaskSuccess', 'sendTaskFailure']);
