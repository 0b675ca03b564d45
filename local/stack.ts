/**
 * The whole local stack, wired from serverless.yml exactly as it is deployed:
 *
 *   one emulator port: AgentCore Control + Step Functions + EventBridge + CloudWatch + ECR + SQS
 *                          + DynamoDB (the drift lock) + Secrets Manager + SSM + Lambda
 *   EventBridge rules      = the `eventBridge` / `schedule` events of serverless.yml's functions;
 *                            their targets invoke the handlers asynchronously (local/lambda/
 *                            async-invoke.ts: Lambda's retries, event age and on-failure
 *                            destination from the function's settings); the rule's retry policy
 *                            and DLQ only see failures of the Invoke call itself, as on AWS
 *   SQS queues, tables     = the AWS::SQS::Queue and AWS::DynamoDB::Table resources of serverless.yml
 *                            (the dead-letter queue, the drift lock; local/stack-resources.ts)
 *   state machines         = serverless.yml's `stepFunctions.stateMachines`, Lambda tasks routed to
 *                            the real handlers, `events:putEvents` tasks onto the local bus
 *   ECR pushes             = `stack.pushImage()`, which emits `ECR Image Action` onto the bus
 *   handlers               = run in-process by the local Lambda runner with their serverless.yml
 *                            environment plus the emulator endpoint and dummy credentials, and
 *                            the stack's clock as their time source (functions/lib/time.ts)
 *
 * Time: one Clock for everything (default: an auto-advancing VirtualClock, so hours of waits pass
 * in milliseconds). `npm start`, the end-to-end tests and the benchmarks all start this.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ScaledClock, VirtualClock, type Clock } from './clock.ts';
import { startEmulator, type Emulator, type StandInContext } from './emulator/index.ts';
import type { FaultPlan } from './emulator/faults.ts';
import type { Seed } from './emulator/seed.ts';
import type { AgentCoreState } from './emulator/agentcore/state.ts';
import { connectTraffic } from './emulator/agentcore/traffic.ts';
import { CloudWatchStandIn, type CloudWatchSeed } from './emulator/cloudwatch/cloudwatch.ts';
import { EcrStandIn, type EcrSeed, type PushOptions, type PushResult } from './emulator/ecr/ecr.ts';
import { EventBridgeStandIn, type AwsEvent } from './emulator/eventbridge/eventbridge.ts';
import { StepFunctionsStandIn } from './emulator/stepfunctions/index.ts';
import { Identities } from './emulator/iam/identity.ts';
import { LambdaStandIn } from './emulator/lambda/lambda.ts';
import { SecretsManagerStandIn } from './emulator/secretsmanager/secrets-manager.ts';
import { SsmStandIn, type ParameterType } from './emulator/ssm/ssm.ts';
import { REQUEST_SOURCE } from '../functions/domain/requests/source.ts';
import { SqsStandIn } from './emulator/sqs/sqs.ts';
import { DynamoDbStandIn } from './emulator/dynamodb/dynamodb.ts';
import { checkDestinations, createBuses, createFunctionUrls, createQueues, createTables } from './stack-resources.ts';
import { AsyncLambda, type InvocationRecord } from './lambda/async-invoke.ts';
import { createStackAlarms, publishingLambdaMetrics, publishQueueMetrics, publishStatesMetrics, recordThrottle } from './monitoring.ts';
import { createLambdaRunner, type LambdaRunner } from './lambda/runner.ts';
import { loadServerlessConfig, type ServerlessConfig } from './lambda/serverless-config.ts';
import { AsyncLocalStorage } from 'node:async_hooks';
import { setMonotonicSource, setSleepSource, setTimeSource } from '../functions/lib/time.ts';
import { parseConfig } from '../functions/lib/config/load.ts';
import type { Config } from '../functions/lib/config/types.ts';

/** The repository root (serverless.yml, autopilot.config.yaml, local/seed/...). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A stack seed: the AgentCore emulator seed plus optional `ecr`, `cloudwatch`, `secrets` (Secrets
 * Manager: name, value) and `parameters` (SSM Parameter Store: name, value, type) sections.
 */
export type StackSeed = Seed & {
  ecr?: EcrSeed;
  cloudwatch?: CloudWatchSeed;
  secrets?: { name: string; value: string }[];
  parameters?: { name: string; value: string; type?: ParameterType }[];
};

export interface StackOptions {
  /** Emulator port on 127.0.0.1 (default 0: any free port). */
  port?: number;
  /** Default: `new VirtualClock({ mode: 'auto' })` starting now. */
  clock?: Clock;
  /** A YAML file path or a seed object (AgentCore keys, plus `ecr:` and `cloudwatch:`). */
  seed?: string | StackSeed;
  faults?: FaultPlan | string;
  /** The autopilot config the handlers load (default: <repo>/autopilot.config.yaml). */
  configFile?: string;
  /** Default: <repo>/serverless.yml. */
  serverlessFile?: string;
  /** serverless stage (default dev). */
  stage?: string;
  /** Extra environment for every handler (wins over serverless.yml and `logLevel`). */
  env?: Record<string, string>;
  /**
   * The handlers' POWERTOOLS_LOG_LEVEL. Default: AUTOPILOT_TEST_LOG_LEVEL from the process
   * environment, else SILENT under vitest (tests that read the handlers' logs ask for a level),
   * else serverless.yml's (the stage's `logLevel` param).
   */
  logLevel?: string;
  /** Fire the `schedule` rules from the clock (default false: tests trigger runs themselves). */
  schedules?: boolean;
  /** Validate state machine definitions with asl-validator at registration (default true). */
  validateDefinitions?: boolean;
  /**
   * Real time runs this many times faster for everything measured in real time (default 1): the
   * fault plan's latency and quotas, the handlers' Lambda timeouts, their retry and pacing waits
   * (functions/lib/time.ts sleep and monotonicNow). The benchmarks compress a fleet that needs an
   * hour of API quota into minutes; the business clock (`clock`) is not affected.
   */
  timeScale?: number;
  /**
   * Access key id -> IAM principal ARN: who a signed request comes from (bus policies, the approval
   * URL). Merged over LOCAL_IDENTITIES; the stack's own dummy key `test` is the operator.
   */
  identities?: Record<string, string>;
}

/**
 * The local stand-ins for IAM principals, by access key id: `test` (the dummy key of `stack.env`,
 * the CLI and the handlers) is the platform operator listed in serverless.yml's requestPrincipals;
 * `approver` is the listed approver; `intruder` is someone else in the account.
 */
export const LOCAL_IDENTITIES: Record<string, string> = {
  test: 'arn:aws:iam::123456789012:role/platform-operator',
  ci: 'arn:aws:iam::123456789012:role/ci-release',
  approver: 'arn:aws:iam::123456789012:role/platform-approver',
  intruder: 'arn:aws:iam::123456789012:user/mallory',
};

/**
 * Something that ended in a dead-letter queue: an event a rule could not hand to its target
 * (`kind: 'rule'`, after the rule's retry policy), or the invocation record of a function's failed
 * asynchronous invocation (`kind: 'invocation'`, after Lambda's retries or event age).
 */
export type DeadLetter =
  | { kind: 'rule'; /** The rule's name. */ source: string; rule: string; queueArn: string | undefined; event: AwsEvent; error: string }
  | { kind: 'invocation'; /** The function's serverless key. */ source: string; functionKey: string; queueArn: string; record: InvocationRecord; error: string };

export interface Stack {
  url: string;
  /** AWS_ENDPOINT_URL, region and dummy credentials: point the SDK, the AWS CLI or `autopilot` here. */
  env: Record<string, string>;
  clock: Clock;
  emulator: Emulator;
  agentcore: AgentCoreState;
  events: EventBridgeStandIn;
  sfn: StepFunctionsStandIn;
  ecr: EcrStandIn;
  cloudwatch: CloudWatchStandIn;
  sqs: SqsStandIn;
  /** DynamoDB (the drift lock's table). */
  dynamodb: DynamoDbStandIn;
  lambda: LambdaRunner;
  /** Lambda's asynchronous invocation queue (what the EventBridge rules invoke through). */
  lambdaAsync: AsyncLambda;
  serverless: ServerlessConfig;
  /** Absolute path of the autopilot config the handlers load. */
  configFile: string;
  /** Secrets Manager and SSM Parameter Store (what secret references in configs and requests name). */
  secretsManager: SecretsManagerStandIn;
  ssm: SsmStandIn;
  /** The Lambda stand-in (function URLs such as the approval entry point). */
  lambdaService: LambdaStandIn;
  /** The request bus (where `Runtime Change Requested` and the other requests go). */
  requestBus: string;
  /**
   * Puts a request on the request bus as `principal` would (PutEvents through the real SDK client,
   * signed with that identity's access key, so the bus policy decides): detail-type, detail.
   */
  request(detailType: string, detail: Record<string, unknown>, opts?: { accessKeyId?: string; source?: string }): Promise<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }>;
  /** Names of the stack's own alarms (serverless.yml's AWS::CloudWatch::Alarm), created in the CloudWatch stand-in. */
  alarms: string[];
  /** What reached a dead-letter queue (the SQS stand-in holds the messages themselves). */
  deadLetters: DeadLetter[];
  /** Deployed-style ARN of a state machine, by its serverless.yml key (`policyRollout`, `runtimePromotion`). */
  stateMachineArn(key: string): string;
  /** "Pushes" an image to the ECR stand-in; its `ECR Image Action` events go onto the local bus. */
  pushImage(opts: PushOptions): PushResult;
  /**
   * Waits until no rule delivery is in flight and every execution has stopped or is parked on a
   * task token (`.waitForTaskToken`), repeating while one starts the other.
   */
  settle(opts?: { timeoutMs?: number }): Promise<void>;
  close(): Promise<void>;
}

function loadStackSeed(seed: string | StackSeed | undefined): { agentcore?: Seed; ecr?: EcrSeed; cloudwatch?: CloudWatchSeed; secrets?: StackSeed['secrets']; parameters?: StackSeed['parameters'] } {
  if (seed === undefined) return {};
  const doc = (typeof seed === 'string' ? parseYaml(readFileSync(seed, 'utf8')) ?? {} : seed) as StackSeed;
  const { ecr, cloudwatch, secrets, parameters, ...agentcore } = doc;
  return { agentcore: agentcore as Seed, ecr, cloudwatch, secrets, parameters };
}

/** The handlers' log level when the caller names none: quiet under vitest, serverless.yml's elsewhere. */
function defaultLogLevel(): string | undefined {
  return process.env.AUTOPILOT_TEST_LOG_LEVEL || (process.env.VITEST ? 'SILENT' : undefined);
}

/** Starts the emulator with every stand-in and the serverless.yml wiring. */
/**
 * serverless.yml reads the drift schedule and the event bus from the packaged
 * ./autopilot.config.yaml. A stack started on another config file (the scenario's, a test's) must
 * follow that file instead, as a deployment of it would: its schedule fires, its bus is used.
 */
function followConfigFile(serverless: ServerlessConfig, configFile: string): void {
  if (configFile === path.join(REPO_ROOT, 'autopilot.config.yaml') || !existsSync(configFile)) return;
  let config: Config;
  try {
    config = parseConfig(readFileSync(configFile, 'utf8'), configFile);
  } catch {
    return; // the handlers report an invalid config themselves
  }
  for (const rule of serverless.eventRules) {
    // The drift schedule is an `eventBridge: schedule:` rule (it needs a retry policy and DLQ).
    if (rule.schedule && rule.functionKey === 'correctDrift') rule.schedule = config.drift.schedule;
  }
  for (const f of Object.values(serverless.functions)) {
    if (f.environment.AUTOPILOT_EVENT_BUS !== undefined) f.environment.AUTOPILOT_EVENT_BUS = config.events.busName;
  }
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const clock = opts.clock ?? new VirtualClock({ mode: 'auto' });
  const seeds = loadStackSeed(opts.seed);
  const configFile = path.resolve(opts.configFile ?? path.join(REPO_ROOT, 'autopilot.config.yaml'));
  const serverlessFile = path.resolve(opts.serverlessFile ?? path.join(REPO_ROOT, 'serverless.yml'));

  let events!: EventBridgeStandIn;
  let sfn!: StepFunctionsStandIn;
  let ecr!: EcrStandIn;
  let cloudwatch!: CloudWatchStandIn;
  let sqs!: SqsStandIn;
  let dynamodb!: DynamoDbStandIn;
  let lambdaService!: LambdaStandIn;
  let secretsManager!: SecretsManagerStandIn;
  let ssm!: SsmStandIn;
  let runner!: LambdaRunner;

  const scale = opts.timeScale ?? 1;
  const realClock = scale === 1 ? undefined : new ScaledClock(scale);
  const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms / scale));
  const realNow = () => performance.now() * scale;
  const identities = new Identities({ ...LOCAL_IDENTITIES, ...opts.identities });
  const emulator = await startEmulator({
    port: opts.port,
    seed: seeds.agentcore,
    faults: opts.faults,
    ...(realClock && { faultTime: { now: realNow, sleep: realSleep } }),
    clock,
    services: [
      (ctx: StandInContext) => (sfn = new StepFunctionsStandIn({
        clock: ctx.clock,
        region: ctx.region,
        accountId: ctx.account,
        invokeLambda: (target, payload, o) => runner.invoke(target, payload, o),
        putEvents: (entries) => events.putEvents(entries),
        validateDefinitions: opts.validateDefinitions,
      })),
      (ctx: StandInContext) => (events = new EventBridgeStandIn({ clock: ctx.clock, account: ctx.account, region: ctx.region, identities })),
      (ctx: StandInContext) => (cloudwatch = new CloudWatchStandIn({ clock: ctx.clock, account: ctx.account, region: ctx.region })),
      (ctx: StandInContext) => (ecr = new EcrStandIn({ clock: ctx.clock, account: ctx.account, region: ctx.region, emit: (e) => events.put(e as never) })),
      (ctx: StandInContext) => (sqs = new SqsStandIn({ clock: ctx.clock, account: ctx.account, region: ctx.region })),
      (ctx: StandInContext) => (dynamodb = new DynamoDbStandIn({ account: ctx.account, region: ctx.region })),
      (ctx: StandInContext) => (secretsManager = new SecretsManagerStandIn({ clock: ctx.clock, account: ctx.account, region: ctx.region })),
      (ctx: StandInContext) => (ssm = new SsmStandIn({ clock: ctx.clock, account: ctx.account, region: ctx.region })),
      (ctx: StandInContext) => (lambdaService = new LambdaStandIn({
        clock: ctx.clock, account: ctx.account, region: ctx.region, identities, invoke: (name, event) => runner.invoke(name, event),
      })),
    ],
  });

  try {
    if (seeds.ecr) ecr.seed(seeds.ecr);
    if (seeds.cloudwatch) cloudwatch.seed(seeds.cloudwatch);
    for (const secret of seeds.secrets ?? []) secretsManager.put(secret.name, secret.value);
    for (const p of seeds.parameters ?? []) ssm.put(p.name, p.value, p.type ?? 'SecureString');
    // Gateway traffic is decided by the AgentCore emulator and published as AWS's policy metrics.
    connectTraffic(emulator.state.traffic, cloudwatch);

    const account = emulator.state.settings.account;
    const region = emulator.state.settings.region;
    const serverless = loadServerlessConfig(serverlessFile, { stage: opts.stage ?? 'dev', region, accountId: account, env: { ...process.env, ...opts.env } });
    followConfigFile(serverless, configFile);
    const logLevel = opts.logLevel ?? defaultLogLevel();
    // The handlers read the config from an absolute path (serverless.yml packages it next to the bundle).
    for (const f of Object.values(serverless.functions)) {
      f.environment = { ...f.environment, AUTOPILOT_CONFIG_FILE: configFile, ...(logLevel && { POWERTOOLS_LOG_LEVEL: logLevel }), ...opts.env };
    }
    // Handlers are real code running in real time: their timeout is measured in wall time (an
    // auto-advancing clock would expire it while they await I/O).
    runner = holdingClock(publishingLambdaMetrics(createLambdaRunner({ config: serverless, env: { ...emulator.env, AWS_MAX_ATTEMPTS: '3' }, ...(realClock && { clock: realClock }) }), cloudwatch, clock), clock);
    sfn.registerFromConfig(serverless);
    createQueues(serverless, sqs);
    createTables(serverless, dynamodb);
    const requestBus = createBuses(serverless, events);
    createFunctionUrls(serverless, lambdaService);
    // What Lambda, Step Functions and SQS publish about the stack, and the stack's own alarms on it.
    publishStatesMetrics(sfn, cloudwatch, clock);
    const stopQueueMetrics = publishQueueMetrics(sqs, cloudwatch, clock);
    const alarms = await createStackAlarms(serverless, emulator.url, region);

    const deadLetters: DeadLetter[] = [];
    const lambdaAsync = new AsyncLambda({
      runner,
      clock,
      configOf: (f) => ({
        ...(f.async.maximumRetryAttempts !== undefined && { maximumRetryAttempts: f.async.maximumRetryAttempts }),
        ...(f.async.maximumEventAge !== undefined && { maximumEventAgeSeconds: f.async.maximumEventAge }),
        ...(f.async.onFailure !== undefined && { onFailure: f.async.onFailure }),
        ...(f.async.onSuccess !== undefined && { onSuccess: f.async.onSuccess }),
      }),
      reservedConcurrencyOf: (f) => f.reservedConcurrency,
      onThrottle: (f) => recordThrottle(cloudwatch, f.name, clock),
      deliver: (arn, record) => {
        sqs.send(arn, JSON.stringify(record));
        if (record.requestContext.condition !== 'Success') {
          const payload = record.responsePayload as { errorType?: string; errorMessage?: string } | undefined;
          const functionKey = runner.resolve(record.requestContext.functionArn).key;
          deadLetters.push({ kind: 'invocation', source: functionKey, functionKey, queueArn: arn, record, error: payload ? `${payload.errorType}: ${payload.errorMessage}` : record.requestContext.condition });
        }
      },
    });
    checkDestinations(serverless, sqs);
    for (const rule of serverless.eventRules) {
      events.addRule({
        name: rule.name,
        eventBus: rule.eventBus,
        pattern: rule.pattern,
        schedule: rule.schedule,
        enabled: rule.enabled,
        retryPolicy: {
          ...(rule.retryPolicy?.maximumRetryAttempts !== undefined ? { maximumRetryAttempts: rule.retryPolicy.maximumRetryAttempts } : {}),
          ...(rule.retryPolicy?.maximumEventAge !== undefined ? { maximumEventAgeInSeconds: rule.retryPolicy.maximumEventAge } : {}),
        },
        target: {
          id: rule.functionKey,
          input: rule.input,
          inputPath: rule.inputPath,
          inputTransformer: rule.inputTransformer,
          // EventBridge invokes Lambda asynchronously: the Invoke call (202) is the delivery. The
          // record keeps the function's result once Lambda is done with the event (its retries
          // included), so `deliveries[].result` still says what the handler returned.
          invoke: async (_event, input) => {
            const done = await lambdaAsync.invoke(rule.functionKey, input).done;
            if (done.outcome === 'succeeded') return done.result;
            return { asyncInvocation: { requestId: done.requestId, outcome: done.outcome, condition: done.condition, attempts: done.attempts, destination: done.destination ?? null } };
          },
        },
        deadLetter: (event, error, delivery) => {
          const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          deadLetters.push({ kind: 'rule', source: rule.name, rule: rule.name, queueArn: rule.deadLetter, event, error: message });
          // The message EventBridge sends to a rule's DLQ: the event, with the failure in its
          // attributes (EventBridge User Guide, "Using dead-letter queues to process undelivered events").
          if (rule.deadLetter && sqs.queue(rule.deadLetter)) {
            const attr = (v: string | number) => ({ DataType: typeof v === 'number' ? 'Number' : 'String', StringValue: String(v) });
            sqs.send(rule.deadLetter, JSON.stringify(event), {
              RULE_ARN: attr(delivery.ruleArn),
              TARGET_ARN: attr(serverless.functions[rule.functionKey].arn),
              ERROR_CODE: attr(error instanceof Error ? error.name : 'Error'),
              ERROR_MESSAGE: attr(message.slice(0, 1024)),
              EXHAUSTED_RETRY_CONDITION: attr(delivery.attempts > (rule.retryPolicy?.maximumRetryAttempts ?? 185) ? 'MaximumRetryAttempts' : 'MaximumEventAgeInSeconds'),
              RETRY_ATTEMPTS: attr(delivery.attempts - 1),
            });
          }
        },
      });
    }
    if (opts.schedules) events.startSchedules();
    // The in-process handlers see the stack's time (bake windows, deadlines, change windows).
    const previousTimeSource = setTimeSource(() => clock.now());
    // ...and their retry waits let go of the clock: a wait is real time (quotas and throttling are
    // real-time limits), and meanwhile an auto clock may jump to the next wake-up (e.g. the moment
    // the runtime a handler waits for settles), so a ConflictException clears as it would in AWS.
    const previousSleepSource = setSleepSource(async (ms) => {
      const release = insideHandler.getStore();
      release?.pause();
      try {
        await realSleep(ms);
      } finally {
        release?.resume();
      }
    });
    // Quotas, pacing and retry budgets are measured on (compressed) real time.
    const previousMonotonic = setMonotonicSource(realClock ? realNow : undefined);

    const settle = async (o: { timeoutMs?: number } = {}): Promise<void> => {
      const deadline = Date.now() + (o.timeoutMs ?? 120_000);
      for (;;) {
        await events.whenIdle();
        const running = sfn.listExecutions().filter((e) => e.status === 'RUNNING' && !parkedOnToken(e.history));
        if (running.length === 0 && events.pendingDeliveries() === 0) {
          // One more turn: a finishing execution may just have put events.
          await new Promise((r) => setTimeout(r, 5));
          if (events.pendingDeliveries() === 0) return;
          continue;
        }
        if (Date.now() > deadline) {
          throw new Error(`stack did not settle within ${o.timeoutMs ?? 120_000} ms: ${running.map((e) => e.name).join(', ') || 'event deliveries pending'}`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    };

    return {
      url: emulator.url,
      env: emulator.env,
      clock,
      emulator,
      agentcore: emulator.state,
      events,
      sfn,
      ecr,
      cloudwatch,
      sqs,
      dynamodb,
      lambda: runner,
      lambdaAsync,
      serverless,
      configFile,
      deadLetters,
      alarms,
      requestBus,
      lambdaService,
      secretsManager,
      ssm,
      async request(detailType, detail, o = {}) {
        const client = new EventBridgeClient({ endpoint: emulator.url, region, credentials: { accessKeyId: o.accessKeyId ?? 'test', secretAccessKey: 'local' } });
        try {
          const out = await client.send(new PutEventsCommand({ Entries: [{ EventBusName: requestBus, Source: o.source ?? REQUEST_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail) }] }));
          return out.Entries?.[0] ?? {};
        } finally {
          client.destroy();
        }
      },
      stateMachineArn(key: string): string {
        const m = serverless.stateMachines[key];
        if (!m) throw new Error(`no state machine "${key}" in serverless.yml (have: ${Object.keys(serverless.stateMachines).join(', ')})`);
        return m.arn;
      },
      pushImage: (p) => ecr.push(p),
      settle,
      async close(): Promise<void> {
        setTimeSource(previousTimeSource);
        setSleepSource(previousSleepSource);
        setMonotonicSource(previousMonotonic);
        stopQueueMetrics();
        await events.stopSchedules();
        await emulator.close();
      },
    };
  } catch (err) {
    await emulator.close();
    throw err;
  }
}

/** The clock hold of the handler invocation the current code runs in (see holdingClock). */
const insideHandler = new AsyncLocalStorage<{ pause(): void; resume(): void }>();

/**
 * A runner whose invocations hold an auto VirtualClock: while a handler awaits real I/O, hours
 * must not pass between two of its lines (a bake window or deadline it computes would be wrong).
 * Its own waits (functions/lib/time.ts sleep, real time) release the hold while any of them sleeps.
 */
function holdingClock(runner: LambdaRunner, clock: Clock): LambdaRunner {
  if (!(clock instanceof VirtualClock)) return runner;
  return {
    resolve: (target) => runner.resolve(target),
    get invocations() {
      return runner.invocations;
    },
    async invoke(target, event, o) {
      // Held unless one of the handler's own waits is pending: with concurrent branches, holding
      // while one branch sleeps could leave that sleeper waiting for a clock nobody lets move.
      let release = clock.hold();
      let sleeping = 0;
      const hold = {
        pause: () => {
          if (sleeping++ === 0) release();
        },
        resume: () => {
          if (--sleeping === 0) release = clock.hold();
        },
      };
      try {
        return await insideHandler.run(hold, () => runner.invoke(target, event, o));
      } finally {
        release();
      }
    },
  };
}

/** True when the execution's latest task is a `.waitForTaskToken` one still waiting for its answer. */
function parkedOnToken(history: readonly { type: string; details?: { key: string; value: Record<string, unknown> } }[]): boolean {
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i];
    // Parked once the integration call has returned (TaskSubmitted): while it runs (a Lambda
    // invoked with .waitForTaskToken that publishes the approval request) the execution is busy.
    if (h.type === 'TaskSubmitted') return String(h.details?.value.resource ?? '').endsWith('.waitForTaskToken');
    if (h.type === 'TaskScheduled') return false;
    if (h.type.endsWith('StateExited') || h.type === 'TaskSucceeded' || h.type === 'TaskFailed' || h.type === 'TaskTimedOut') return false;
  }
  return false;
}
