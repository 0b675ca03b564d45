/**
 * Amazon SQS stand-in. @aws-sdk/client-sqs (3.11xx) speaks awsJson1_0 in query-compatible mode:
 * `X-Amz-Target: AmazonSQS.<Operation>`, `application/x-amz-json-1.0`, errors as
 * `{__type, message}` plus `x-amzn-query-error: <legacy code>;Sender` (service model
 * `com.amazonaws.sqs`, `awsQueryCompatible`). The client sends every queue operation to the origin
 * of its `QueueUrl` (middleware-sdk-sqs `queueUrlMiddleware`), so the queue URLs this stand-in
 * hands out point back at the emulator's own origin (the request's Host); a deployed-style URL
 * (`https://sqs.<region>.amazonaws.com/<account>/<name>`) is accepted too, by its path.
 *
 * Operations: CreateQueue, GetQueueUrl, ListQueues, GetQueueAttributes, SendMessage,
 * ReceiveMessage, DeleteMessage, ChangeMessageVisibility, PurgeQueue. Standard queues only.
 * - SendMessage answers MD5OfMessageBody (the SDK checks it: middleware-sdk-sqs
 *   VALIDATE_BODY_MD5); ReceiveMessage answers MD5OfBody likewise.
 * - A received message is invisible for the queue's VisibilityTimeout (default 30 s) or the
 *   request's, on the clock; DeleteMessage with its receipt handle removes it.
 * - WaitTimeSeconds (long polling, 0-20) waits on the clock for a message to arrive.
 * - Messages older than MessageRetentionPeriod (default 4 days, 60 s - 14 days) are deleted.
 * - In-process `send()` is how other stand-ins deliver to a queue (Lambda on-failure
 *   destinations, EventBridge dead-letter queues); `onChange` listeners hear every depth change
 *   (the stack turns them into the AWS/SQS metrics).
 * Queue policies are stored but not evaluated (the local stack does not model IAM for SQS).
 * Sources: Amazon SQS API Reference (CreateQueue, SendMessage, ReceiveMessage, GetQueueAttributes,
 * "Common errors"); SQS Developer Guide "Amazon SQS visibility timeout", "short and long polling".
 */
import { createHash, randomUUID } from 'node:crypto';
import { AwsError, type EmulatorRequest, type EmulatorResponse, type ResolvedOperation, type ServiceStandIn } from '../types.ts';
import type { Clock } from '../../clock.ts';
import { renderJsonError, resolveJsonTarget, type QueryErrorCode } from '../json-protocol.ts';

export interface SqsMessageAttribute {
  DataType: 'String' | 'Number' | 'Binary' | string;
  StringValue?: string;
  BinaryValue?: string;
}

export interface SqsMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  attributes: Record<string, SqsMessageAttribute>;
  sentAt: number;
  /** Invisible until this time (clock ms); 0 when never received. */
  invisibleUntil: number;
  receiveCount: number;
  firstReceivedAt?: number;
  receiptHandle?: string;
}

export interface SqsQueue {
  name: string;
  arn: string;
  account: string;
  /** Attribute name -> value as SetQueueAttributes / CreateQueue take them (strings). */
  attributes: Record<string, string>;
  createdAt: number;
  messages: SqsMessage[];
}

export interface SqsOptions {
  clock: Clock;
  account?: string;
  region?: string;
}

/**
 * Legacy query codes of the SQS errors (API Reference, "Errors" of each operation; parameter
 * errors are the "Common Errors" InvalidParameterValue and MissingParameter, not modelled shapes).
 */
const QUERY_CODES: Record<string, QueryErrorCode> = {
  QueueDoesNotExist: { code: 'AWS.SimpleQueueService.NonExistentQueue' },
  ReceiptHandleIsInvalid: { code: 'ReceiptHandleIsInvalid' },
  InvalidAttributeName: { code: 'InvalidAttributeName' },
  InvalidAttributeValue: { code: 'InvalidAttributeValue' },
  QueueNameExists: { code: 'QueueAlreadyExists' },
  InvalidParameterValueException: { code: 'InvalidParameterValue' },
  MissingRequiredParameterException: { code: 'MissingParameter' },
  PurgeQueueInProgress: { code: 'AWS.SimpleQueueService.PurgeQueueInProgress' },
  InvalidMessageContents: { code: 'InvalidMessageContents' },
  OverLimit: { code: 'OverLimit' },
};

/** CreateQueue defaults (API Reference, CreateQueue "Attributes"). */
const DEFAULT_ATTRIBUTES: Record<string, string> = {
  DelaySeconds: '0',
  MaximumMessageSize: '262144',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
};
const SETTABLE = new Set([
  ...Object.keys(DEFAULT_ATTRIBUTES), 'Policy', 'RedrivePolicy', 'RedriveAllowPolicy', 'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds', 'SqsManagedSseEnabled', 'FifoQueue', 'ContentBasedDeduplication',
]);
const NAME_RE = /^[A-Za-z0-9_-]{1,80}$/;
/** Characters SendMessage accepts (API Reference, SendMessage MessageBody). */
const BODY_RE = /^[\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

export class SqsStandIn implements ServiceStandIn {
  readonly name = 'sqs';
  readonly account: string;
  readonly region: string;
  private readonly clock: Clock;
  private readonly queues = new Map<string, SqsQueue>();
  private readonly listeners = new Set<(queue: SqsQueue) => void>();
  private readonly arrivals = new Set<() => void>();

  constructor(opts: SqsOptions) {
    this.clock = opts.clock;
    this.account = opts.account ?? '123456789012';
    this.region = opts.region ?? 'us-east-1';
  }

  // ---------------------------------------------------------------- in-process API

  /** Creates a queue (idempotent for the same attributes, as CreateQueue is). */
  createQueue(name: string, attributes: Record<string, string> = {}): SqsQueue {
    if (!NAME_RE.test(name)) throw new AwsError('InvalidParameterValue', 400, `Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length`);
    for (const key of Object.keys(attributes)) {
      if (!SETTABLE.has(key)) throw new AwsError('InvalidAttributeName', 400, `Unknown Attribute ${key}.`);
    }
    if (attributes.FifoQueue === 'true' || name.endsWith('.fifo')) {
      throw new AwsError('InvalidParameterValue', 400, 'FIFO queues are not emulated locally');
    }
    const wanted = { ...DEFAULT_ATTRIBUTES, ...attributes };
    const existing = this.queues.get(name);
    if (existing) {
      const differs = Object.entries(wanted).some(([k, v]) => existing.attributes[k] !== v);
      if (differs) throw new AwsError('QueueNameExists', 400, `A queue already exists with the same name and a different value for attribute(s)`);
      return existing;
    }
    const retention = Number(wanted.MessageRetentionPeriod);
    if (!Number.isInteger(retention) || retention < 60 || retention > 1_209_600) {
      throw new AwsError('InvalidAttributeValue', 400, 'Invalid value for the parameter MessageRetentionPeriod.');
    }
    const queue: SqsQueue = {
      name,
      arn: `arn:aws:sqs:${this.region}:${this.account}:${name}`,
      account: this.account,
      attributes: wanted,
      createdAt: this.clock.now(),
      messages: [],
    };
    this.queues.set(name, queue);
    return queue;
  }

  /** The queue a name, ARN or URL (local or deployed style) denotes. */
  queue(ref: string): SqsQueue | undefined {
    const arn = /^arn:aws[\w-]*:sqs:[^:]*:(\d{12}):([^:]+)$/.exec(ref);
    if (arn) return arn[1] === this.account ? this.queues.get(arn[2]) : undefined;
    const url = /^https?:\/\/[^/]+\/(\d{12})\/([^/?#]+)\/?$/.exec(ref);
    if (url) return url[1] === this.account ? this.queues.get(url[2]) : undefined;
    return this.queues.get(ref);
  }

  listQueues(): SqsQueue[] {
    return [...this.queues.values()];
  }

  /** Sends a message as another AWS service would (Lambda destinations, EventBridge DLQs). */
  send(queueRef: string, body: string, attributes: Record<string, SqsMessageAttribute> = {}): SqsMessage {
    const queue = this.queue(queueRef);
    if (!queue) throw new AwsError('QueueDoesNotExist', 400, `The specified queue does not exist: ${queueRef}`);
    return this.enqueue(queue, body, attributes);
  }

  /** Messages stored (visible or in flight), after expiring those past the retention period. */
  messages(queueRef: string): SqsMessage[] {
    const queue = this.queue(queueRef);
    if (!queue) return [];
    this.expire(queue);
    return queue.messages;
  }

  /** ApproximateNumberOfMessages (visible) and ...NotVisible (in flight) at clock.now(). */
  depth(queue: SqsQueue): { visible: number; notVisible: number } {
    this.expire(queue);
    const now = this.clock.now();
    const notVisible = queue.messages.filter((m) => m.invisibleUntil > now).length;
    return { visible: queue.messages.length - notVisible, notVisible };
  }

  /** Called after every change of a queue's messages. Returns a function that unsubscribes. */
  onChange(listener: (queue: SqsQueue) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private enqueue(queue: SqsQueue, body: string, attributes: Record<string, SqsMessageAttribute>): SqsMessage {
    const max = Number(queue.attributes.MaximumMessageSize);
    if (Buffer.byteLength(body) > max) {
      throw new AwsError('InvalidParameterValue', 400, `One or more parameters are invalid. Reason: Message must be shorter than ${max} bytes.`);
    }
    if (body.length === 0 || !BODY_RE.test(body)) {
      throw new AwsError('InvalidMessageContents', 400, 'The message contains characters outside the allowed set, or is empty.');
    }
    const message: SqsMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5(body),
      attributes: structuredClone(attributes),
      sentAt: this.clock.now(),
      invisibleUntil: 0,
      receiveCount: 0,
    };
    queue.messages.push(message);
    this.changed(queue);
    for (const wake of [...this.arrivals]) wake();
    return message;
  }

  private changed(queue: SqsQueue): void {
    for (const l of this.listeners) l(queue);
  }

  private expire(queue: SqsQueue): void {
    const cutoff = this.clock.now() - Number(queue.attributes.MessageRetentionPeriod) * 1000;
    const before = queue.messages.length;
    queue.messages = queue.messages.filter((m) => m.sentAt > cutoff);
    if (queue.messages.length !== before) this.changed(queue);
  }

  // ---------------------------------------------------------------- wire protocol

  resolve(req: EmulatorRequest): ResolvedOperation | undefined {
    return resolveJsonTarget(req, {
      service: this.name,
      targetPrefix: 'AmazonSQS',
      version: '1.0',
      operations: {
        CreateQueue: (i, r) => this.createQueueOp(i, r),
        GetQueueUrl: (i, r) => this.getQueueUrlOp(i, r),
        ListQueues: (i, r) => this.listQueuesOp(i, r),
        GetQueueAttributes: (i) => this.getQueueAttributesOp(i),
        SendMessage: (i) => this.sendMessageOp(i),
        ReceiveMessage: (i) => this.receiveMessageOp(i),
        DeleteMessage: (i) => this.deleteMessageOp(i),
        ChangeMessageVisibility: (i) => this.changeVisibilityOp(i),
        PurgeQueue: (i) => this.purgeQueueOp(i),
      },
    });
  }

  renderError(err: AwsError): EmulatorResponse {
    return renderJsonError(err, { version: '1.0', queryCompat: QUERY_CODES, aliases: { InternalServerException: 'InternalError' } });
  }

  private urlOf(queue: SqsQueue, req: EmulatorRequest): string {
    const host = String(req.headers.host ?? `sqs.${this.region}.amazonaws.com`);
    return `http://${host}/${queue.account}/${queue.name}`;
  }

  private requireQueue(input: Record<string, unknown>): SqsQueue {
    const url = input.QueueUrl;
    if (typeof url !== 'string' || url === '') throw new AwsError('MissingParameter', 400, 'The request must contain the parameter QueueUrl.');
    const queue = this.queue(url);
    if (!queue) throw new AwsError('QueueDoesNotExist', 400, 'The specified queue does not exist.');
    return queue;
  }

  private createQueueOp(input: Record<string, unknown>, req: EmulatorRequest): unknown {
    if (typeof input.QueueName !== 'string') throw new AwsError('MissingParameter', 400, 'The request must contain the parameter QueueName.');
    const attributes = (input.Attributes ?? {}) as Record<string, string>;
    return { QueueUrl: this.urlOf(this.createQueue(input.QueueName, attributes), req) };
  }

  private getQueueUrlOp(input: Record<string, unknown>, req: EmulatorRequest): unknown {
    if (typeof input.QueueName !== 'string') throw new AwsError('MissingParameter', 400, 'The request must contain the parameter QueueName.');
    if (input.QueueOwnerAWSAccountId !== undefined && input.QueueOwnerAWSAccountId !== this.account) {
      throw new AwsError('QueueDoesNotExist', 400, 'The specified queue does not exist.');
    }
    const queue = this.queues.get(input.QueueName);
    if (!queue) throw new AwsError('QueueDoesNotExist', 400, 'The specified queue does not exist.');
    return { QueueUrl: this.urlOf(queue, req) };
  }

  private listQueuesOp(input: Record<string, unknown>, req: EmulatorRequest): unknown {
    const prefix = typeof input.QueueNamePrefix === 'string' ? input.QueueNamePrefix : '';
    return { QueueUrls: [...this.queues.values()].filter((q) => q.name.startsWith(prefix)).map((q) => this.urlOf(q, req)) };
  }

  private getQueueAttributesOp(input: Record<string, unknown>): unknown {
    const queue = this.requireQueue(input);
    const names = Array.isArray(input.AttributeNames) ? input.AttributeNames.map(String) : [];
    const { visible, notVisible } = this.depth(queue);
    const all: Record<string, string> = {
      ...queue.attributes,
      QueueArn: queue.arn,
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(notVisible),
      ApproximateNumberOfMessagesDelayed: '0',
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.createdAt / 1000)),
    };
    const wanted = names.includes('All') ? Object.keys(all) : names;
    const out: Record<string, string> = {};
    for (const n of wanted) {
      if (!(n in all) && !SETTABLE.has(n)) throw new AwsError('InvalidAttributeName', 400, `Unknown Attribute ${n}.`);
      if (n in all) out[n] = all[n];
    }
    return { Attributes: out };
  }

  private sendMessageOp(input: Record<string, unknown>): unknown {
    const queue = this.requireQueue(input);
    if (typeof input.MessageBody !== 'string') throw new AwsError('MissingParameter', 400, 'The request must contain the parameter MessageBody.');
    const attributes = (input.MessageAttributes ?? {}) as Record<string, SqsMessageAttribute>;
    const m = this.enqueue(queue, input.MessageBody, attributes);
    return { MessageId: m.messageId, MD5OfMessageBody: m.md5OfBody };
  }

  private async receiveMessageOp(input: Record<string, unknown>): Promise<unknown> {
    const queue = this.requireQueue(input);
    const max = input.MaxNumberOfMessages === undefined ? 1 : Number(input.MaxNumberOfMessages);
    if (!Number.isInteger(max) || max < 1 || max > 10) {
      throw new AwsError('InvalidParameterValue', 400, 'Value for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.');
    }
    const wait = Number(input.WaitTimeSeconds ?? queue.attributes.ReceiveMessageWaitTimeSeconds);
    if (!Number.isInteger(wait) || wait < 0 || wait > 20) {
      throw new AwsError('InvalidParameterValue', 400, 'Value for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.');
    }
    const visibility = Number(input.VisibilityTimeout ?? queue.attributes.VisibilityTimeout);
    let taken = this.take(queue, max, visibility);
    if (taken.length === 0 && wait > 0) {
      // Long polling: wait on the clock for a message (or the wait time) before answering empty.
      const ac = new AbortController();
      const arrived = new Promise<void>((resolve) => {
        const wake = () => { this.arrivals.delete(wake); resolve(); };
        this.arrivals.add(wake);
        ac.signal.addEventListener('abort', wake);
      });
      await Promise.race([arrived, this.clock.sleep(wait * 1000, ac.signal).catch(() => undefined)]);
      ac.abort();
      taken = this.take(queue, max, visibility);
    }
    const names = Array.isArray(input.MessageAttributeNames) ? input.MessageAttributeNames.map(String) : [];
    const systemNames = [
      ...(Array.isArray(input.MessageSystemAttributeNames) ? input.MessageSystemAttributeNames.map(String) : []),
      ...(Array.isArray(input.AttributeNames) ? input.AttributeNames.map(String) : []),
    ];
    return {
      Messages: taken.map((m) => {
        const selected = Object.entries(m.attributes).filter(([k]) => names.includes('All') || names.includes('.*') || names.includes(k));
        const system: Record<string, string> = {
          SentTimestamp: String(m.sentAt),
          ApproximateReceiveCount: String(m.receiveCount),
          ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt ?? m.sentAt),
        };
        const wantedSystem = systemNames.includes('All') ? Object.keys(system) : systemNames.filter((n) => n in system);
        return {
          MessageId: m.messageId,
          ReceiptHandle: m.receiptHandle,
          MD5OfBody: m.md5OfBody,
          Body: m.body,
          ...(selected.length > 0 && { MessageAttributes: Object.fromEntries(selected) }),
          ...(wantedSystem.length > 0 && { Attributes: Object.fromEntries(wantedSystem.map((n) => [n, system[n]])) }),
        };
      }),
    };
  }

  private take(queue: SqsQueue, max: number, visibilitySeconds: number): SqsMessage[] {
    this.expire(queue);
    const now = this.clock.now();
    const out: SqsMessage[] = [];
    for (const m of queue.messages) {
      if (out.length >= max) break;
      if (m.invisibleUntil > now) continue;
      m.receiveCount++;
      m.firstReceivedAt ??= now;
      m.invisibleUntil = now + visibilitySeconds * 1000;
      m.receiptHandle = Buffer.from(`${queue.name}:${m.messageId}:${randomUUID()}`).toString('base64url');
      out.push(m);
    }
    if (out.length > 0) this.changed(queue);
    return out;
  }

  private byHandle(queue: SqsQueue, input: Record<string, unknown>): SqsMessage | undefined {
    const handle = input.ReceiptHandle;
    if (typeof handle !== 'string' || handle === '') throw new AwsError('MissingParameter', 400, 'The request must contain the parameter ReceiptHandle.');
    const [name] = Buffer.from(handle, 'base64url').toString('utf8').split(':');
    if (name !== queue.name) throw new AwsError('ReceiptHandleIsInvalid', 400, `The input receipt handle "${handle}" is not a valid receipt handle.`);
    return queue.messages.find((m) => m.receiptHandle === handle);
  }

  private deleteMessageOp(input: Record<string, unknown>): unknown {
    const queue = this.requireQueue(input);
    const m = this.byHandle(queue, input);
    // Deleting an already deleted message (or with an older handle) succeeds, as on SQS.
    if (m) {
      queue.messages = queue.messages.filter((x) => x !== m);
      this.changed(queue);
    }
    return {};
  }

  private changeVisibilityOp(input: Record<string, unknown>): unknown {
    const queue = this.requireQueue(input);
    const timeout = Number(input.VisibilityTimeout);
    if (!Number.isInteger(timeout) || timeout < 0 || timeout > 43_200) {
      throw new AwsError('InvalidParameterValue', 400, 'Value for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200.');
    }
    const m = this.byHandle(queue, input);
    if (!m || m.invisibleUntil <= this.clock.now()) {
      throw new AwsError('MessageNotInflight', 400, 'The specified message is not in flight.');
    }
    m.invisibleUntil = this.clock.now() + timeout * 1000;
    this.changed(queue);
    return {};
  }

  private purgeQueueOp(input: Record<string, unknown>): unknown {
    const queue = this.requireQueue(input);
    queue.messages = [];
    this.changed(queue);
    return {};
  }
}
