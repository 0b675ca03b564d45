/**
 * What AWS services publish to CloudWatch about the stack, recorded into the CloudWatch stand-in,
 * and the stack's own alarms (the AWS::CloudWatch::Alarm resources of serverless.yml) created in
 * it with PutMetricAlarm, so a test can see an alarm go off the way it would on AWS.
 *
 * Metrics, names and dimensions as documented:
 * - AWS/Lambda (Lambda Developer Guide, "Types of metrics for Lambda functions"): Invocations,
 *   Errors (function errors, timeouts included), Duration (ms), Throttles, per FunctionName, one
 *   datapoint per invocation at its end.
 * - AWS/States (Step Functions Developer Guide, "Monitoring Step Functions metrics using
 *   CloudWatch"): ExecutionsStarted, ExecutionsSucceeded, ExecutionsFailed, ExecutionsTimedOut,
 *   ExecutionsAborted, per StateMachineArn.
 * - AWS/SQS (SQS Developer Guide, "Available CloudWatch metrics for Amazon SQS"):
 *   ApproximateNumberOfMessagesVisible and ...NotVisible per QueueName, every minute while the
 *   queue is active (here: while it holds messages, plus one datapoint when it empties).
 * Alarm actions (the SNS notification) are not run locally: the alarm's state is what tests read.
 */
import { CloudWatchClient, PutMetricAlarmCommand, type PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import type { Clock } from './clock.ts';
import type { CloudWatchStandIn } from './emulator/cloudwatch/cloudwatch.ts';
import type { SqsQueue, SqsStandIn } from './emulator/sqs/sqs.ts';
import type { StepFunctionsStandIn } from './emulator/stepfunctions/index.ts';
import { LambdaThrottledError, type LambdaRunner } from './lambda/runner.ts';
import type { ServerlessConfig } from './lambda/serverless-config.ts';

/** Records one datapoint (a value at clock time `t`) of a metric. */
function put(cw: CloudWatchStandIn, namespace: string, metricName: string, dimensions: Record<string, string>, value: number, t: number, unit?: string): void {
  cw.metrics.put({ namespace, metricName, dimensions }, { t, sum: value, count: 1, min: value, max: value, values: [{ v: value, n: 1 }], unit });
}

/** A runner whose invocations publish AWS/Lambda Invocations, Errors and Duration. */
export function publishingLambdaMetrics(runner: LambdaRunner, cw: CloudWatchStandIn, clock: Clock): LambdaRunner {
  return {
    resolve: (target) => runner.resolve(target),
    get invocations() {
      return runner.invocations;
    },
    async invoke(target, event, opts) {
      const f = runner.resolve(target);
      const dims = { FunctionName: f.name };
      const start = clock.now();
      const record = (failed: boolean) => {
        const end = clock.now();
        put(cw, 'AWS/Lambda', 'Invocations', dims, 1, end, 'Count');
        put(cw, 'AWS/Lambda', 'Errors', dims, failed ? 1 : 0, end, 'Count');
        put(cw, 'AWS/Lambda', 'Duration', dims, end - start, end, 'Milliseconds');
      };
      try {
        const result = await runner.invoke(target, event, opts);
        record(false);
        return result;
      } catch (err) {
        // A throttled invocation never ran: Throttles, not Invocations, Errors or Duration.
        if (err instanceof LambdaThrottledError) recordThrottle(cw, f.name, clock);
        else record(true);
        throw err;
      }
    },
  };
}

/** AWS/Lambda Throttles of one throttled invocation (the async queue's pre-check, or the runner's). */
export function recordThrottle(cw: CloudWatchStandIn, functionName: string, clock: Clock): void {
  put(cw, 'AWS/Lambda', 'Throttles', { FunctionName: functionName }, 1, clock.now(), 'Count');
}

/** AWS/States execution metrics from the Step Functions stand-in. */
export function publishStatesMetrics(sfn: StepFunctionsStandIn, cw: CloudWatchStandIn, clock: Clock): void {
  const byStatus: Record<string, string> = {
    SUCCEEDED: 'ExecutionsSucceeded', FAILED: 'ExecutionsFailed', TIMED_OUT: 'ExecutionsTimedOut', ABORTED: 'ExecutionsAborted',
  };
  sfn.onExecution({
    started: (e) => put(cw, 'AWS/States', 'ExecutionsStarted', { StateMachineArn: e.stateMachineArn }, 1, clock.now(), 'Count'),
    closed: (e) => {
      const metric = byStatus[e.status];
      if (metric) put(cw, 'AWS/States', metric, { StateMachineArn: e.stateMachineArn }, 1, clock.now(), 'Count');
    },
  });
}

/**
 * AWS/SQS queue depth, every whole minute while a queue holds messages (and once more when it
 * empties). Returns a stop function. The minute loop sleeps on the clock only while some queue is
 * non-empty, so an idle stack adds no wake-ups to an auto clock.
 */
export function publishQueueMetrics(sqs: SqsStandIn, cw: CloudWatchStandIn, clock: Clock): () => void {
  const ac = new AbortController();
  let loop: Promise<void> | undefined;
  const record = (q: SqsQueue, t: number) => {
    const { visible, notVisible } = sqs.depth(q);
    put(cw, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: q.name }, visible, t, 'Count');
    put(cw, 'AWS/SQS', 'ApproximateNumberOfMessagesNotVisible', { QueueName: q.name }, notVisible, t, 'Count');
  };
  const busy = () => sqs.listQueues().filter((q) => q.messages.length > 0);
  const run = async () => {
    while (!ac.signal.aborted && busy().length > 0) {
      const next = (Math.floor(clock.now() / 60_000) + 1) * 60_000;
      try {
        await clock.sleep(next - clock.now(), ac.signal);
      } catch {
        return;
      }
      for (const q of sqs.listQueues()) if (q.messages.length > 0) record(q, clock.now());
    }
  };
  sqs.onChange((q) => {
    record(q, clock.now());
    if (!loop && q.messages.length > 0) loop = run().finally(() => { loop = undefined; });
  });
  return () => ac.abort();
}

/** The AWS::CloudWatch::Alarm resources of serverless.yml, as PutMetricAlarm inputs. */
export function stackAlarms(config: ServerlessConfig): PutMetricAlarmCommandInput[] {
  const resources = ((config.resolved.resources ?? {}) as { Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }> }).Resources ?? {};
  const out: PutMetricAlarmCommandInput[] = [];
  for (const [id, res] of Object.entries(resources)) {
    if (res?.Type !== 'AWS::CloudWatch::Alarm') continue;
    const p = config.resolveIntrinsics(res.Properties ?? {}, `resources.Resources.${id}.Properties`) as Record<string, unknown>;
    out.push({ ...(p as unknown as PutMetricAlarmCommandInput), AlarmName: String(p.AlarmName ?? `${config.service}-${config.stage}-${id}`) });
  }
  return out;
}

/** Creates the stack's alarms in the CloudWatch stand-in through the real SDK client. */
export async function createStackAlarms(config: ServerlessConfig, endpoint: string, region: string): Promise<string[]> {
  const client = new CloudWatchClient({ endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  try {
    const alarms = stackAlarms(config);
    for (const alarm of alarms) await client.send(new PutMetricAlarmCommand(alarm));
    return alarms.map((a) => a.AlarmName!);
  } finally {
    client.destroy();
  }
}
