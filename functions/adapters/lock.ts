/**
 * The drift lock's table (DynamoDB): one item per lock, taken with a conditional PutItem, renewed
 * and released with conditional UpdateItem / DeleteItem that only succeed for the owner. A lease
 * that has run out can be taken over; nothing depends on DynamoDB's time to live, which only
 * tidies the table. Sources: DynamoDB API Reference (PutItem, UpdateItem, DeleteItem:
 * ConditionExpression, ReturnValuesOnConditionCheckFailure) and the Developer Guide's "Condition
 * and filter expressions, operators, and functions". The protocol of the lock is in
 * functions/app/drift-lock.ts. A module of its own so only the functions that lock bundle the client.
 */
import { ConditionalCheckFailedException, DeleteItemCommand, PutItemCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { translateAwsError } from './aws-errors.ts';

/** What a lock item holds. Times are epoch milliseconds. */
export interface LockRecord {
  lockId: string;
  /** A random token of the holder: only it renews or releases. */
  owner: string;
  /** Who holds it, for people: "correctDrift (schedule, request 1234)", "autopilot apply by alice@laptop". */
  holder: string;
  acquiredAt: number;
  expiresAt: number;
}

export type AcquireResult = { acquired: true } | { acquired: false; current?: LockRecord };

/** The item as DynamoDB stores it; `ttl` (epoch seconds) lets the table's time to live tidy it up. */
function toItem(r: LockRecord): Record<string, AttributeValue> {
  return {
    lockId: { S: r.lockId }, owner: { S: r.owner }, holder: { S: r.holder },
    acquiredAt: { N: String(r.acquiredAt) }, expiresAt: { N: String(r.expiresAt) },
    ttl: { N: String(Math.ceil(r.expiresAt / 1000) + 86_400) },
  };
}

function fromItem(item: Record<string, AttributeValue> | undefined): LockRecord | undefined {
  if (!item?.lockId?.S || !item.owner?.S) return undefined;
  return {
    lockId: item.lockId.S, owner: item.owner.S, holder: item.holder?.S ?? 'unknown',
    acquiredAt: Number(item.acquiredAt?.N ?? 0), expiresAt: Number(item.expiresAt?.N ?? 0),
  };
}

export class LockAdapter {
  private readonly client: DynamoDBClient;
  private readonly table: string;
  constructor(client: DynamoDBClient, table: string) {
    this.client = client;
    this.table = table;
  }

  get tableName(): string {
    return this.table;
  }

  /** Takes the lock when nobody holds it or the holder's lease ran out (before `record.acquiredAt`). */
  async acquire(record: LockRecord): Promise<AcquireResult> {
    try {
      await this.client.send(new PutItemCommand({
        TableName: this.table,
        Item: toItem(record),
        ConditionExpression: 'attribute_not_exists(lockId) OR expiresAt < :now',
        ExpressionAttributeValues: { ':now': { N: String(record.acquiredAt) } },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }));
      return { acquired: true };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        const current = fromItem(err.Item);
        return { acquired: false, ...(current && { current }) };
      }
      throw translateAwsError(err, { service: 'dynamodb', operation: 'PutItem', resource: this.table });
    }
  }

  /** Extends the owner's lease to `expiresAt`; false when the lock is no longer this owner's. */
  async renew(lockId: string, owner: string, expiresAt: number): Promise<boolean> {
    return this.conditional('UpdateItem', () => this.client.send(new UpdateItemCommand({
      TableName: this.table,
      Key: { lockId: { S: lockId } },
      UpdateExpression: 'SET expiresAt = :expires, #ttl = :ttl',
      ConditionExpression: '#owner = :owner',
      ExpressionAttributeNames: { '#owner': 'owner', '#ttl': 'ttl' },
      ExpressionAttributeValues: { ':owner': { S: owner }, ':expires': { N: String(expiresAt) }, ':ttl': { N: String(Math.ceil(expiresAt / 1000) + 86_400) } },
    })));
  }

  /** Releases the owner's lock; false when it was no longer this owner's (taken over, or gone). */
  async release(lockId: string, owner: string): Promise<boolean> {
    return this.conditional('DeleteItem', () => this.client.send(new DeleteItemCommand({
      TableName: this.table,
      Key: { lockId: { S: lockId } },
      ConditionExpression: '#owner = :owner',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: { ':owner': { S: owner } },
    })));
  }

  private async conditional(operation: string, send: () => Promise<unknown>): Promise<boolean> {
    try {
      await send();
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw translateAwsError(err, { service: 'dynamodb', operation, resource: this.table });
    }
  }
}
