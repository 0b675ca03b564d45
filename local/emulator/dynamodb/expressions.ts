/**
 * DynamoDB condition and update expressions, the subset the local stand-in serves (see
 * dynamodb.ts). Grammar and semantics from the DynamoDB Developer Guide, "Condition and filter
 * expressions, operators, and functions" (Expressions.OperatorsAndFunctions):
 *
 *   condition ::= operand comparator operand | function | condition AND condition
 *               | condition OR condition | NOT condition | ( condition )
 *   comparator ::= = | <> | < | <= | > | >=
 *   function ::= attribute_exists (path) | attribute_not_exists (path)
 *
 * Precedence, highest first: comparators, functions, NOT, AND, OR (the guide's "Precedence in
 * conditions"). Keywords are case-insensitive, function names case-sensitive. Numbers (N) compare
 * numerically, strings (S) by their UTF-8 bytes; a comparison between different types, or with a
 * missing attribute, is false. BETWEEN, IN, the other functions and nested document paths are
 * refused with a ValidationException (the stand-in does not evaluate what it does not model). An
 * attribute named by a reserved word instead of a `#name` placeholder is refused as DynamoDB
 * refuses it (reserved-words.ts).
 */
import { AwsError } from '../types.ts';
import { isReservedWord } from './reserved-words.ts';

export type AttributeValue = { S?: string; N?: string; B?: string; BOOL?: boolean; NULL?: boolean; M?: Record<string, AttributeValue>; L?: AttributeValue[]; SS?: string[]; NS?: string[] };
export type Item = Record<string, AttributeValue>;

const invalid = (what: string, message: string) => new AwsError('ValidationException', 400, `Invalid ${what}: ${message}`);
const unsupported = (what: string) => new AwsError('ValidationException', 400, `${what} is not supported by the local DynamoDB stand-in (it serves the expressions the drift lock uses)`);

type Token = { kind: 'name' | 'value' | 'word' | 'op' | '(' | ')' | ','; text: string };

function tokenize(expression: string, what: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|([A-Za-z_][A-Za-z0-9_]*)|(<>|<=|>=|=|<|>)|([(),])|(\S))/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < expression.length && (m = re.exec(expression))) {
    if (m[1]) tokens.push({ kind: 'name', text: m[1] });
    else if (m[2]) tokens.push({ kind: 'value', text: m[2] });
    else if (m[3]) tokens.push({ kind: 'word', text: m[3] });
    else if (m[4]) tokens.push({ kind: 'op', text: m[4] });
    else if (m[5]) tokens.push({ kind: m[5] as '(' | ')' | ',', text: m[5] });
    else if (m[6]) {
      if (m[6] === '.' || m[6] === '[') throw unsupported('A nested document path');
      throw invalid(what, `Syntax error; token: "${m[6]}"`);
    }
    if (expression.slice(re.lastIndex).trim() === '') break;
  }
  return tokens;
}

/** `name` when it may name an attribute in an expression as is; a reserved word is refused. */
function notReserved(name: string, what: string): string {
  if (isReservedWord(name)) throw invalid(what, `Attribute name is a reserved keyword; reserved keyword: ${name}`);
  return name;
}

/** The `#name` and `:value` placeholders the expressions use. */
export function placeholdersOf(expressions: readonly string[]): Set<string> {
  const used = new Set<string>();
  for (const e of expressions) for (const m of e.matchAll(/[#:][A-Za-z0-9_]+/g)) used.add(m[0]);
  return used;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'between', 'in']);

type Node =
  | { type: 'cmp'; op: string; left: Operand; right: Operand }
  | { type: 'fn'; name: 'attribute_exists' | 'attribute_not_exists'; path: string }
  | { type: 'not'; of: Node }
  | { type: 'and' | 'or'; left: Node; right: Node };
type Operand = { attr: string } | { value: string };

class Parser {
  private i = 0;
  private readonly tokens: Token[];
  private readonly names: Record<string, string>;
  private readonly what: string;
  constructor(tokens: Token[], names: Record<string, string>, what: string) {
    this.tokens = tokens;
    this.names = names;
    this.what = what;
  }

  parse(): Node {
    if (this.tokens.length === 0) throw invalid(this.what, 'The expression can not be empty;');
    const node = this.or();
    if (this.i < this.tokens.length) throw invalid(this.what, `Syntax error; token: "${this.tokens[this.i].text}"`);
    return node;
  }

  private peekWord(w: string): boolean {
    const t = this.tokens[this.i];
    return t?.kind === 'word' && t.text.toLowerCase() === w;
  }

  private or(): Node {
    let left = this.and();
    while (this.peekWord('or')) { this.i++; left = { type: 'or', left, right: this.and() }; }
    return left;
  }

  private and(): Node {
    let left = this.not();
    while (this.peekWord('and')) { this.i++; left = { type: 'and', left, right: this.not() }; }
    return left;
  }

  private not(): Node {
    if (this.peekWord('not')) { this.i++; return { type: 'not', of: this.not() }; }
    return this.primary();
  }

  private primary(): Node {
    const t = this.tokens[this.i];
    if (!t) throw invalid(this.what, 'Syntax error; token: <EOF>');
    if (t.kind === '(') {
      this.i++;
      const inner = this.or();
      this.expect(')');
      return inner;
    }
    if (t.kind === 'word' && this.tokens[this.i + 1]?.kind === '(' && !KEYWORDS.has(t.text.toLowerCase())) {
      if (t.text !== 'attribute_exists' && t.text !== 'attribute_not_exists') {
        if (['attribute_type', 'begins_with', 'contains', 'size'].includes(t.text)) throw unsupported(`The function ${t.text}`);
        throw invalid(this.what, `Invalid function name; function: ${t.text}`);
      }
      this.i += 2;
      const path = this.attribute();
      this.expect(')');
      return { type: 'fn', name: t.text, path };
    }
    const left = this.operand();
    const op = this.tokens[this.i];
    if (op?.kind === 'word' && ['between', 'in'].includes(op.text.toLowerCase())) throw unsupported(op.text.toUpperCase());
    if (op?.kind !== 'op') throw invalid(this.what, `Syntax error; token: "${op?.text ?? '<EOF>'}"`);
    this.i++;
    return { type: 'cmp', op: op.text, left, right: this.operand() };
  }

  private operand(): Operand {
    const t = this.tokens[this.i];
    if (t?.kind === 'value') { this.i++; return { value: t.text }; }
    return { attr: this.attribute() };
  }

  private attribute(): string {
    const t = this.tokens[this.i++];
    if (t?.kind === 'name') return this.names[t.text];
    if (t?.kind === 'word' && !KEYWORDS.has(t.text.toLowerCase())) return notReserved(t.text, this.what);
    throw invalid(this.what, `Syntax error; token: "${t?.text ?? '<EOF>'}"`);
  }

  private expect(kind: ')' | ','): void {
    const t = this.tokens[this.i++];
    if (t?.kind !== kind) throw invalid(this.what, `Syntax error; token: "${t?.text ?? '<EOF>'}"`);
  }
}

function scalarOf(v: AttributeValue | undefined): { type: 'S' | 'N' | 'B'; value: string } | undefined {
  if (!v) return undefined;
  if (typeof v.S === 'string') return { type: 'S', value: v.S };
  if (typeof v.N === 'string') return { type: 'N', value: v.N };
  if (typeof v.B === 'string') return { type: 'B', value: v.B };
  return undefined;
}

function compare(op: string, a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  if (op === '=' || op === '<>') {
    const equal = JSON.stringify(a) === JSON.stringify(b) || (a.N !== undefined && b.N !== undefined && Number(a.N) === Number(b.N));
    return op === '=' ? equal : !equal;
  }
  const x = scalarOf(a);
  const y = scalarOf(b);
  if (!x || !y || x.type !== y.type) return false;
  const order = x.type === 'N' ? Math.sign(Number(x.value) - Number(y.value)) : Buffer.compare(Buffer.from(x.value), Buffer.from(y.value));
  return op === '<' ? order < 0 : op === '<=' ? order <= 0 : op === '>' ? order > 0 : order >= 0;
}

/** Whether `condition` holds for `item` (undefined: no such item). */
export function evaluateCondition(condition: string, item: Item | undefined, names: Record<string, string>, values: Record<string, AttributeValue>): boolean {
  const tree = new Parser(tokenize(condition, 'ConditionExpression'), names, 'ConditionExpression').parse();
  const operand = (o: Operand) => ('value' in o ? values[o.value] : item?.[o.attr]);
  const run = (n: Node): boolean => {
    switch (n.type) {
      case 'cmp': return compare(n.op, operand(n.left), operand(n.right));
      case 'fn': return n.name === 'attribute_exists' ? item?.[n.path] !== undefined : item?.[n.path] === undefined;
      case 'not': return !run(n.of);
      case 'and': return run(n.left) && run(n.right);
      case 'or': return run(n.left) || run(n.right);
    }
  };
  return run(tree);
}

/** `SET a = :v, #b = :w` as [attribute, value] pairs. */
export function parseSetExpression(expression: string, names: Record<string, string>, values: Record<string, AttributeValue>): [string, AttributeValue][] {
  const tokens = tokenize(expression, 'UpdateExpression');
  const first = tokens[0];
  if (!first || first.kind !== 'word' || first.text.toUpperCase() !== 'SET') {
    if (first?.kind === 'word' && ['REMOVE', 'ADD', 'DELETE'].includes(first.text.toUpperCase())) throw unsupported(`The ${first.text.toUpperCase()} action`);
    throw invalid('UpdateExpression', `Syntax error; token: "${first?.text ?? '<EOF>'}"`);
  }
  const out: [string, AttributeValue][] = [];
  let i = 1;
  for (;;) {
    const attr = tokens[i];
    const eq = tokens[i + 1];
    const value = tokens[i + 2];
    const name = attr?.kind === 'name' ? names[attr.text] : attr?.kind === 'word' ? notReserved(attr.text, 'UpdateExpression') : undefined;
    if (!name || eq?.text !== '=' || value?.kind !== 'value') {
      if (value && value.kind === 'word') throw unsupported('An update expression other than SET attribute = :value');
      throw invalid('UpdateExpression', `Syntax error; token: "${(attr ?? eq ?? value)?.text ?? '<EOF>'}"`);
    }
    if (out.some(([a]) => a === name)) throw invalid('UpdateExpression', `Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [${name}], path two: [${name}]`);
    out.push([name, values[value.text]]);
    i += 3;
    if (i >= tokens.length) return out;
    if (tokens[i].kind !== ',') throw invalid('UpdateExpression', `Syntax error; token: "${tokens[i].text}"`);
    i++;
  }
}
