/**
 * Amazon DynamoDB stand-in, for the drift lock only (awsJson1_0, `X-Amz-Target:
 * DynamoDB_20120810.<Operation>`, the protocol @aws-sdk/client-dynamodb speaks): GetItem, PutItem,
 * UpdateItem and DeleteItem on tables the local stack creates from serverless.yml's
 * AWS::DynamoDB::Table resources. Sources: DynamoDB API Reference (GetItem, PutItem, UpdateItem,
 * DeleteItem: ConditionExpression, ExpressionAttributeNames/Values, ReturnValuesOnConditionCheckFailure,
 * ConsistentRead), Developer Guide "Condition and filter expressions, operators, and functions"
 * (Expressions.OperatorsAndFunctions) and "Error handling with DynamoDB" (Programming.Errors).
 *
 * Modelled as AWS documents it:
 * - A failed condition is ConditionalCheckFailedException (400, "The conditional request failed")
 *   and changes nothing; with ReturnValuesOnConditionCheckFailure ALL_OLD the error carries the
 *   item as it is (`Item`).
 * - An unknown table is ResourceNotFoundException ("Requested resource not found"); a key that is
 *   not exactly the table's key is ValidationException ("The provided key element does not match
 *   the schema"); a name or value placeholder the expressions do not use is ValidationException.
 * - UpdateItem on a missing item creates it when the condition allows (an upsert).
 * - Every operation on one item is atomic: requests are served one at a time here.
 * Subset (strict: anything else is a ValidationException naming what the stand-in does not do):
 * condition expressions with = <> < <= > >=, attribute_exists, attribute_not_exists, AND, OR, NOT
 * and parentheses over top-level attributes; update expressions with SET a = :v only. Time to live
 * is not modelled (AWS deletes expired items "typically within a few days", so correctness never
 * depends on it), nor capacity, streams, indexes or the reserved-word check of attribute names
 * (the lock adapter names `owner` and `ttl`, both reserved, through #placeholders as AWS requires).
 */
import { AwsError, type EmulatorRequest, type EmulatorResponse, type ResolvedOperation, type ServiceStandIn } from '../types.ts';
import { renderJsonError, resolveJsonTarget } from '../json-protocol.ts';
import { evaluateCondition, parseSetExpression, placeholdersOf, type AttributeValue, type Item } from './expressions.ts';

export type { AttributeValue, Item };

interface Table { name: string; hashKey: string; rangeKey?: string; items: Map<string, Item> }

export interface DynamoDbOptions {
  account?: string;
  region?: string;
}

const validation = (message: string) => new AwsError('ValidationException', 400, message);

export class DynamoDbStandIn implements ServiceStandIn {
  readonly name = 'dynamodb';
  readonly account: string;
  readonly region: string;
  private readonly tables = new Map<string, Table>();

  constructor(opts: DynamoDbOptions = {}) {
    this.account = opts.account ?? '123456789012';
    this.region = opts.region ?? 'us-east-1';
  }

  /** Creates a table (the stack does, from serverless.yml): its key attribute names. */
  createTable(name: string, key: { hash: string; range?: string }): void {
    if (this.tables.has(name)) throw new AwsError('ResourceInUseException', 400, `Table already exists: ${name}`);
    this.tables.set(name, { name, hashKey: key.hash, ...(key.range && { rangeKey: key.range }), items: new Map() });
  }

  tableNames(): string[] {
    return [...this.tables.keys()];
  }

  /** The items of a table, for tests. */
  items(table: string): Item[] {
    return [...(this.tables.get(table)?.items.values() ?? [])].map((i) => structuredClone(i));
  }

  resolve(req: EmulatorRequest): ResolvedOperation | undefined {
    return resolveJsonTarget(req, {
      service: this.name,
      targetPrefix: 'DynamoDB_20120810',
      version: '1.0',
      operations: {
        GetItem: (i) => {
          const { table, key } = this.keyed(i);
          checkPlaceholders(i, [i.ProjectionExpression]);
          if (i.ProjectionExpression !== undefined) throw validation('ProjectionExpression is not supported by the local DynamoDB stand-in');
          const item = table.items.get(key);
          return item ? { Item: structuredClone(item) } : {};
        },
        PutItem: (i) => {
          const table = this.table(i.TableName);
          const item = i.Item as Item | undefined;
          if (!item || typeof item !== 'object') throw validation('1 validation error detected: Value null at \'item\' failed to satisfy constraint: Member must not be null');
          const key = this.keyOf(table, item, true);
          const old = table.items.get(key);
          this.check(i, old);
          table.items.set(key, structuredClone(item));
          return i.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
        },
        UpdateItem: (i) => {
          const { table, key, keyItem } = this.keyed(i);
          const old = table.items.get(key);
          if (typeof i.UpdateExpression !== 'string') throw validation('UpdateExpression is required by the local DynamoDB stand-in (AttributeUpdates is not supported)');
          this.check(i, old, [i.UpdateExpression]);
          const assignments = parseSetExpression(i.UpdateExpression, names(i), values(i));
          const next: Item = structuredClone(old ?? keyItem);
          for (const [attr, value] of assignments) {
            if (attr === table.hashKey || attr === table.rangeKey) throw validation(`One or more parameter values were invalid: Cannot update attribute ${attr}. This attribute is part of the key`);
            next[attr] = structuredClone(value);
          }
          table.items.set(key, next);
          return i.ReturnValues === 'ALL_NEW' ? { Attributes: next } : i.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
        },
        DeleteItem: (i) => {
          const { table, key } = this.keyed(i);
          const old = table.items.get(key);
          this.check(i, old);
          table.items.delete(key);
          return i.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
        },
      },
    });
  }

  renderError(err: AwsError): EmulatorResponse {
    return renderJsonError(err, { version: '1.0', aliases: { InternalServerException: 'InternalServerError', ThrottlingException: 'ThrottlingException' } });
  }

  private table(name: unknown): Table {
    if (typeof name !== 'string' || name === '') throw validation('1 validation error detected: Value null at \'tableName\' failed to satisfy constraint: Member must not be null');
    const t = this.tables.get(name);
    if (!t) throw new AwsError('ResourceNotFoundException', 400, 'Requested resource not found');
    return t;
  }

  private keyed(i: Record<string, unknown>): { table: Table; key: string; keyItem: Item } {
    const table = this.table(i.TableName);
    const keyItem = i.Key as Item | undefined;
    if (!keyItem || typeof keyItem !== 'object') throw validation('The provided key element does not match the schema');
    const expected = [table.hashKey, ...(table.rangeKey ? [table.rangeKey] : [])];
    if (Object.keys(keyItem).length !== expected.length) throw validation('The provided key element does not match the schema');
    return { table, key: this.keyOf(table, keyItem, false), keyItem };
  }

  /** The item's key as a map key; a put's item must hold every key attribute (as S, N or B). */
  private keyOf(table: Table, item: Item, put: boolean): string {
    const parts = [table.hashKey, ...(table.rangeKey ? [table.rangeKey] : [])].map((k) => {
      const v = item[k];
      const scalar = v && (v.S ?? v.N ?? v.B);
      if (typeof scalar !== 'string' || scalar === '') {
        throw validation(put ? `One or more parameter values were invalid: Missing the key ${k} in the item` : 'The provided key element does not match the schema');
      }
      return JSON.stringify(v);
    });
    return parts.join('|');
  }

  /** Evaluates the request's ConditionExpression against the item as it is; throws when it fails. */
  private check(i: Record<string, unknown>, old: Item | undefined, otherExpressions: unknown[] = []): void {
    if (i.Expected !== undefined || i.ConditionalOperator !== undefined) throw validation('Legacy conditional parameters (Expected, ConditionalOperator) are not supported by the local DynamoDB stand-in');
    const condition = i.ConditionExpression;
    checkPlaceholders(i, [condition, ...otherExpressions]);
    if (condition === undefined) return;
    if (typeof condition !== 'string' || condition.trim() === '') throw validation('Invalid ConditionExpression: The expression can not be empty;');
    if (!evaluateCondition(condition, old, names(i), values(i))) {
      const returnOld = i.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && old;
      throw new AwsError('ConditionalCheckFailedException', 400, 'The conditional request failed', returnOld ? { Item: structuredClone(old) } : {});
    }
  }
}

const names = (i: Record<string, unknown>) => (i.ExpressionAttributeNames ?? {}) as Record<string, string>;
const values = (i: Record<string, unknown>) => (i.ExpressionAttributeValues ?? {}) as Record<string, AttributeValue>;

/** Every `#name` and `:value` given must be used by one of the expressions, and every one used given. */
function checkPlaceholders(i: Record<string, unknown>, expressions: unknown[]): void {
  const used = placeholdersOf(expressions.filter((e): e is string => typeof e === 'string'));
  const unused = (given: Record<string, unknown>, prefix: string) => Object.keys(given).filter((k) => k.startsWith(prefix) && !used.has(k));
  const unusedNames = unused(names(i), '#');
  if (unusedNames.length > 0) throw validation(`Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`);
  const unusedValues = unused(values(i), ':');
  if (unusedValues.length > 0) throw validation(`Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`);
  for (const p of used) {
    if (p.startsWith('#') && !(p in names(i))) throw validation(`Invalid expression: An expression attribute name used in the document path is not defined; attribute name: ${p}`);
    if (p.startsWith(':') && !(p in values(i))) throw validation(`Invalid expression: An expression attribute value used in expression is not defined; attribute value: ${p}`);
  }
}
