/**
 * The DynamoDB stand-in through the real @aws-sdk/client-dynamodb (awsJson1_0): conditional
 * writes as the API Reference documents them (ConditionalCheckFailedException, the item back with
 * ReturnValuesOnConditionCheckFailure ALL_OLD, nothing changed), the upsert of UpdateItem, the
 * documented validation errors, and a clear refusal of what the stand-in does not evaluate. Then
 * the lock adapter (functions/adapters/lock.ts) on it: take, refuse, take over an expired lease,
 * renew and release only as the owner.
 */
import {
  ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, ResourceNotFoundException, UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../local/emulator/index.ts';
import { DynamoDbStandIn } from '../../../local/emulator/dynamodb/dynamodb.ts';
import { LockAdapter } from '../../../functions/adapters/lock.ts';
import { DriftLock, LockLostError } from '../../../functions/app/drift-lock.ts';
import { ResourceNotFoundError } from '../../../functions/lib/errors.ts';

let emulator: Emulator;
let dynamodb: DynamoDbStandIn;
let client: DynamoDBClient;
const TableName = 'locks';

beforeEach(async () => {
  emulator = await startEmulator({ services: [() => (dynamodb = new DynamoDbStandIn())] });
  dynamodb.createTable(TableName, { hash: 'lockId' });
  client = new DynamoDBClient({ endpoint: emulator.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});
afterEach(async () => {
  client.destroy();
  await emulator.close();
});

const put = (owner: string, expiresAt: number, now: number) => client.send(new PutItemCommand({
  TableName,
  Item: { lockId: { S: 'drift' }, owner: { S: owner }, expiresAt: { N: String(expiresAt) } },
  ConditionExpression: 'attribute_not_exists(lockId) OR expiresAt < :now',
  ExpressionAttributeValues: { ':now': { N: String(now) } },
  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
}));

describe('DynamoDB stand-in', () => {
  it('a conditional put succeeds once; the next fails with the item as it is, and changes nothing', async () => {
    await put('a', 2000, 1000);
    const err = await put('b', 3000, 1500).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConditionalCheckFailedException);
    expect((err as ConditionalCheckFailedException).Item).toEqual({ lockId: { S: 'drift' }, owner: { S: 'a' }, expiresAt: { N: '2000' } });
    expect((await client.send(new GetItemCommand({ TableName, Key: { lockId: { S: 'drift' } } }))).Item?.owner).toEqual({ S: 'a' });
    // Numbers compare as numbers ("10000" > "2500" though not as text): the lease has run out.
    await put('b', 20000, 10000);
    expect(dynamodb.items(TableName)).toEqual([{ lockId: { S: 'drift' }, owner: { S: 'b' }, expiresAt: { N: '20000' } }]);
  });

  it('without ReturnValuesOnConditionCheckFailure the failure carries no item', async () => {
    await put('a', 2000, 1000);
    const err = await client.send(new PutItemCommand({ TableName, Item: { lockId: { S: 'drift' } }, ConditionExpression: 'attribute_not_exists(lockId)' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConditionalCheckFailedException);
    expect((err as ConditionalCheckFailedException).Item).toBeUndefined();
  });

  it('UpdateItem sets attributes under a condition, and creates a missing item when the condition allows', async () => {
    await put('a', 2000, 1000);
    const renew = (owner: string, id = 'drift') => client.send(new UpdateItemCommand({
      TableName, Key: { lockId: { S: id } }, UpdateExpression: 'SET expiresAt = :e, #ttl = :t',
      ConditionExpression: '#owner = :o', ExpressionAttributeNames: { '#owner': 'owner', '#ttl': 'ttl' },
      ExpressionAttributeValues: { ':o': { S: owner }, ':e': { N: '9000' }, ':t': { N: '9' } },
    }));
    await expect(renew('b')).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await renew('a');
    expect(dynamodb.items(TableName)[0]).toMatchObject({ owner: { S: 'a' }, expiresAt: { N: '9000' }, ttl: { N: '9' } });
    await expect(renew('a', 'other')).rejects.toBeInstanceOf(ConditionalCheckFailedException); // no item: owner is missing
    await client.send(new UpdateItemCommand({ TableName, Key: { lockId: { S: 'fresh' } }, UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': { N: '1' } } }));
    expect(dynamodb.items(TableName).find((i) => i.lockId.S === 'fresh')).toEqual({ lockId: { S: 'fresh' }, n: { N: '1' } });
  });

  it('DeleteItem under a condition: only the owner removes it', async () => {
    await put('a', 2000, 1000);
    const del = (owner: string) => client.send(new DeleteItemCommand({
      TableName, Key: { lockId: { S: 'drift' } }, ConditionExpression: '#o = :o', ExpressionAttributeNames: { '#o': 'owner' }, ExpressionAttributeValues: { ':o': { S: owner } },
    }));
    await expect(del('b')).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await del('a');
    expect(dynamodb.items(TableName)).toEqual([]);
  });

  it('answers the documented errors: unknown table, wrong key, unused or undefined placeholders, bad syntax', async () => {
    await expect(client.send(new GetItemCommand({ TableName: 'nope', Key: { lockId: { S: 'x' } } }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(client.send(new GetItemCommand({ TableName, Key: { id: { S: 'x' } } }))).rejects.toThrow(/The provided key element does not match the schema/);
    await expect(client.send(new PutItemCommand({ TableName, Item: { other: { S: 'x' } } }))).rejects.toThrow(/Missing the key lockId in the item/);
    await expect(client.send(new PutItemCommand({ TableName, Item: { lockId: { S: 'x' } }, ConditionExpression: 'attribute_not_exists(lockId)', ExpressionAttributeValues: { ':unused': { S: '1' } } })))
      .rejects.toThrow(/ExpressionAttributeValues unused in expressions: keys: \{:unused\}/);
    await expect(client.send(new PutItemCommand({ TableName, Item: { lockId: { S: 'x' } }, ConditionExpression: '#a = :v', ExpressionAttributeValues: { ':v': { S: '1' } } })))
      .rejects.toThrow(/attribute name used in the document path is not defined; attribute name: #a/);
    await expect(client.send(new PutItemCommand({ TableName, Item: { lockId: { S: 'x' } }, ConditionExpression: 'attribute_not_exists(lockId) AND' })))
      .rejects.toThrow(/Invalid ConditionExpression: Syntax error/);
    expect(dynamodb.items(TableName)).toEqual([]);
  });

  it('refuses a reserved word as an attribute name, as DynamoDB does, and takes it behind a #name placeholder', async () => {
    const Item = { lockId: { S: 'x' }, owner: { S: 'a' } };
    await expect(client.send(new PutItemCommand({ TableName, Item, ConditionExpression: 'attribute_not_exists(Owner)' })))
      .rejects.toThrow(/^Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Owner$/);
    await expect(client.send(new PutItemCommand({ TableName, Item, ConditionExpression: 'ttl < :t', ExpressionAttributeValues: { ':t': { N: '1' } } })))
      .rejects.toThrow(/reserved keyword: ttl$/);
    await expect(client.send(new UpdateItemCommand({ TableName, Key: { lockId: { S: 'x' } }, UpdateExpression: 'SET expiresAt = :e, status = :s', ExpressionAttributeValues: { ':e': { N: '1' }, ':s': { S: 'held' } } })))
      .rejects.toThrow(/^Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status$/);
    expect(dynamodb.items(TableName)).toEqual([]);
    // A word that only contains one (expiresAt, lockId) is not one; the placeholder form is accepted.
    await client.send(new UpdateItemCommand({ TableName, Key: { lockId: { S: 'x' } }, UpdateExpression: 'SET expiresAt = :e, #s = :s', ConditionExpression: 'attribute_not_exists(#o)',
      ExpressionAttributeNames: { '#s': 'status', '#o': 'owner' }, ExpressionAttributeValues: { ':e': { N: '1' }, ':s': { S: 'held' } } }));
    expect(dynamodb.items(TableName)).toEqual([{ lockId: { S: 'x' }, expiresAt: { N: '1' }, status: { S: 'held' } }]);
  });

  it('refuses what it does not evaluate rather than guess (BETWEEN, other functions, REMOVE)', async () => {
    const cond = (ConditionExpression: string, values: Record<string, { N: string }> = {}) => client.send(new PutItemCommand({
      TableName, Item: { lockId: { S: 'x' } }, ConditionExpression, ...(Object.keys(values).length > 0 && { ExpressionAttributeValues: values }),
    }));
    await expect(cond('n BETWEEN :a AND :b', { ':a': { N: '1' }, ':b': { N: '2' } })).rejects.toThrow(/BETWEEN is not supported by the local DynamoDB stand-in/);
    await expect(cond('begins_with(lockId, :a)', { ':a': { N: '1' } })).rejects.toThrow(/begins_with is not supported/);
    await expect(client.send(new UpdateItemCommand({ TableName, Key: { lockId: { S: 'x' } }, UpdateExpression: 'REMOVE n' }))).rejects.toThrow(/REMOVE action is not supported/);
    expect(dynamodb.items(TableName)).toEqual([]);
  });

  it('evaluates NOT, AND, OR with the documented precedence', async () => {
    await client.send(new PutItemCommand({ TableName, Item: { lockId: { S: 'p' }, n: { N: '5' } } }));
    // NOT binds tighter than AND, AND tighter than OR: true OR (false AND ...) is true.
    await client.send(new PutItemCommand({ TableName, Item: { lockId: { S: 'p' }, n: { N: '6' } }, ConditionExpression: 'n = :five OR n = :six AND NOT n <> :six', ExpressionAttributeValues: { ':five': { N: '5' }, ':six': { N: '6' } } }));
    await expect(client.send(new PutItemCommand({ TableName, Item: { lockId: { S: 'p' } }, ConditionExpression: '(n = :five OR n = :six) AND NOT n <> :five', ExpressionAttributeValues: { ':five': { N: '5' }, ':six': { N: '6' } } })))
      .rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });
});

describe('the drift lock on DynamoDB (functions/adapters/lock.ts, functions/app/drift-lock.ts)', () => {
  it('one holder at a time; an expired lease is taken over; only the owner renews or releases', async () => {
    let now = 1_000_000;
    const adapter = new LockAdapter(client, TableName);
    const first = new DriftLock(adapter, 'correctDrift (request r-1)', 60_000, () => now);
    const second = new DriftLock(adapter, 'autopilot apply by bob@host (pid 1)', 60_000, () => now);
    expect(await first.tryAcquire()).toEqual({ acquired: true });
    const held = await second.tryAcquire();
    expect(held).toMatchObject({ acquired: false, current: { holder: 'correctDrift (request r-1)', acquiredAt: 1_000_000, expiresAt: 1_060_000 } });
    await first.guard(); // plenty of lease left: no call
    now += 40_000;
    await first.guard(); // less than half left: renewed
    expect(dynamodb.items(TableName)[0].expiresAt).toEqual({ N: String(1_100_000) });
    now += 61_000;
    expect(await second.tryAcquire()).toEqual({ acquired: true });
    now += 40_000;
    await expect(first.guard()).rejects.toBeInstanceOf(LockLostError);
    expect(await first.release()).toBe(false);
    expect(dynamodb.items(TableName)[0].holder).toEqual({ S: 'autopilot apply by bob@host (pid 1)' });
    expect(await second.release()).toBe(true);
    expect(dynamodb.items(TableName)).toEqual([]);
  });

  it('a missing table is a named error, not a held lock', async () => {
    const lock = new DriftLock(new LockAdapter(client, 'missing'), 'x', 60_000, () => 0);
    await expect(lock.tryAcquire()).rejects.toBeInstanceOf(ResourceNotFoundError);
  });
});
