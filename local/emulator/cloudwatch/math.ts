/**
 * CloudWatch metric math (the subset the product needs), pure: parse an expression once, then
 * evaluate it over time series keyed by period-aligned timestamps.
 *
 * Supported: numbers, query ids (`m1`, `errors`), `+ - * / ^`, unary minus, parentheses,
 * comparisons `< <= > >= == !=` (1 or 0) with `AND`/`OR`, arrays `[m1, m2]`, and the functions
 * SUM/AVG/MIN/MAX (array -> series per timestamp; single series -> scalar over the window),
 * ABS/CEIL/FLOOR, FILL(x, value | REPEAT | LINEAR), IF(cond, a[, b]), DIFF, RATE, METRICS().
 * Series combine on matching timestamps (a timestamp missing on either side is missing in the
 * result, which is what FILL is for); non-finite results (division by zero) are dropped.
 */

export class MetricMathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricMathError';
  }
}

export type MathValue =
  | { kind: 'scalar'; value: number }
  | { kind: 'series'; points: Map<number, number> }
  | { kind: 'array'; items: Map<number, number>[] };

export type MathNode =
  | { type: 'num'; value: number }
  | { type: 'str'; value: string }
  | { type: 'ref'; id: string }
  | { type: 'keyword'; name: 'REPEAT' | 'LINEAR' }
  | { type: 'unary'; op: '-'; arg: MathNode }
  | { type: 'binary'; op: string; left: MathNode; right: MathNode }
  | { type: 'call'; name: string; args: MathNode[] }
  | { type: 'list'; items: MathNode[] };

type Token = { kind: 'num' | 'id' | 'op' | 'punct' | 'str'; text: string; pos: number };

const FUNCTIONS = new Set(['SUM', 'AVG', 'MIN', 'MAX', 'ABS', 'CEIL', 'FLOOR', 'FILL', 'IF', 'DIFF', 'RATE', 'METRICS']);

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    const num = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) { out.push({ kind: 'num', text: num[0], pos: i }); i += num[0].length; continue; }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (id) { out.push({ kind: 'id', text: id[0], pos: i }); i += id[0].length; continue; }
    const op = /^(<=|>=|==|!=|&&|\|\||[-+*/^<>])/.exec(src.slice(i));
    if (op) { out.push({ kind: 'op', text: op[0], pos: i }); i += op[0].length; continue; }
    if ('()[],'.includes(c)) { out.push({ kind: 'punct', text: c, pos: i }); i++; continue; }
    if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new MetricMathError(`unterminated string at position ${i}`);
      out.push({ kind: 'str', text: src.slice(i + 1, end), pos: i });
      i = end + 1;
      continue;
    }
    throw new MetricMathError(`unexpected character '${c}' at position ${i}`);
  }
  return out;
}

/** Parses an expression; throws MetricMathError with the position of the problem. */
export function parseExpression(src: string): MathNode {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p];
  const isOp = (...ops: string[]) => {
    const t = toks[p];
    if (!t) return false;
    if (t.kind === 'op' && ops.includes(t.text)) return true;
    return t.kind === 'id' && ops.includes(t.text.toUpperCase()) && (t.text.toUpperCase() === 'AND' || t.text.toUpperCase() === 'OR');
  };
  const expect = (text: string) => {
    const t = toks[p];
    if (!t || t.text !== text) throw new MetricMathError(`expected '${text}' ${t ? `at position ${t.pos}` : 'at end of expression'}`);
    p++;
  };

  function logic(): MathNode {
    let left = comparison();
    while (isOp('AND', 'OR', '&&', '||')) {
      const t = toks[p++].text.toUpperCase();
      const op = t === '&&' ? 'AND' : t === '||' ? 'OR' : t;
      left = { type: 'binary', op, left, right: comparison() };
    }
    return left;
  }
  function comparison(): MathNode {
    const left = additive();
    if (isOp('<', '<=', '>', '>=', '==', '!=')) {
      const op = toks[p++].text;
      return { type: 'binary', op, left, right: additive() };
    }
    return left;
  }
  function additive(): MathNode {
    let left = multiplicative();
    while (isOp('+', '-')) {
      const op = toks[p++].text;
      left = { type: 'binary', op, left, right: multiplicative() };
    }
    return left;
  }
  function multiplicative(): MathNode {
    let left = unary();
    while (isOp('*', '/')) {
      const op = toks[p++].text;
      left = { type: 'binary', op, left, right: unary() };
    }
    return left;
  }
  function unary(): MathNode {
    if (isOp('-')) { p++; return { type: 'unary', op: '-', arg: unary() }; }
    if (isOp('+')) { p++; return unary(); }
    return power();
  }
  function power(): MathNode {
    const base = primary();
    if (isOp('^')) { p++; return { type: 'binary', op: '^', left: base, right: unary() }; }
    return base;
  }
  function primary(): MathNode {
    const t = peek();
    if (!t) throw new MetricMathError('unexpected end of expression');
    if (t.kind === 'num') { p++; return { type: 'num', value: Number(t.text) }; }
    if (t.kind === 'punct' && t.text === '(') { p++; const e = logic(); expect(')'); return e; }
    if (t.kind === 'punct' && t.text === '[') {
      p++;
      const items: MathNode[] = [];
      if (!(peek()?.text === ']')) {
        items.push(logic());
        while (peek()?.text === ',') { p++; items.push(logic()); }
      }
      expect(']');
      return { type: 'list', items };
    }
    if (t.kind === 'id') {
      p++;
      const upper = t.text.toUpperCase();
      if (peek()?.text === '(') {
        if (!FUNCTIONS.has(upper)) throw new MetricMathError(`unsupported function ${t.text} at position ${t.pos}`);
        p++;
        const args: MathNode[] = [];
        if (peek()?.text !== ')') {
          args.push(peek()?.kind === 'str' ? { type: 'str', value: toks[p++].text } : logic());
          while (peek()?.text === ',') { p++; args.push(logic()); }
        }
        expect(')');
        return { type: 'call', name: upper, args };
      }
      if (upper === 'REPEAT' || upper === 'LINEAR') return { type: 'keyword', name: upper };
      if (!/^[a-z][a-zA-Z0-9_]*$/.test(t.text)) throw new MetricMathError(`'${t.text}' at position ${t.pos} is neither a function nor a query id (ids start with a lowercase letter)`);
      return { type: 'ref', id: t.text };
    }
    throw new MetricMathError(`unexpected '${t.text}' at position ${t.pos}`);
  }

  const node = logic();
  if (p < toks.length) throw new MetricMathError(`unexpected '${toks[p].text}' at position ${toks[p].pos}`);
  return node;
}

/** Ids of other queries an expression depends on. */
export function referencedIds(node: MathNode): string[] {
  const out = new Set<string>();
  const walk = (n: MathNode) => {
    if (n.type === 'ref') out.add(n.id);
    else if (n.type === 'unary') walk(n.arg);
    else if (n.type === 'binary') { walk(n.left); walk(n.right); }
    else if (n.type === 'call') n.args.forEach(walk);
    else if (n.type === 'list') n.items.forEach(walk);
  };
  walk(node);
  return [...out];
}

export interface MathContext {
  /** Value of another query by id. */
  resolve(id: string): MathValue;
  /** Results of the MetricStat queries, optionally only those whose label contains `filter` (METRICS()). */
  allMetrics(filter?: string): Map<number, number>[];
  /** Every period-aligned timestamp of the requested window, ascending (for FILL). */
  grid: number[];
  /** Period in seconds (for RATE). */
  periodSeconds: number;
}

export function evaluate(node: MathNode, ctx: MathContext): MathValue {
  switch (node.type) {
    case 'num': return { kind: 'scalar', value: node.value };
    case 'str': throw new MetricMathError(`a string ("${node.value}") is only valid as the argument of METRICS()`);
    case 'ref': return ctx.resolve(node.id);
    case 'keyword': throw new MetricMathError(`${node.name} is only valid as the second argument of FILL`);
    case 'list': {
      const items: Map<number, number>[] = [];
      for (const it of node.items) {
        const v = evaluate(it, ctx);
        if (v.kind === 'series') items.push(v.points);
        else if (v.kind === 'array') items.push(...v.items);
        else throw new MetricMathError('arrays may only contain time series');
      }
      return { kind: 'array', items };
    }
    case 'unary': return map1(evaluate(node.arg, ctx), (x) => -x);
    case 'binary': return binary(node.op, evaluate(node.left, ctx), evaluate(node.right, ctx));
    case 'call': return call(node, ctx);
  }
}

function clean(points: Map<number, number>): Map<number, number> {
  for (const [t, v] of points) if (!Number.isFinite(v)) points.delete(t);
  return points;
}

function map1(v: MathValue, f: (x: number) => number): MathValue {
  if (v.kind === 'scalar') return { kind: 'scalar', value: f(v.value) };
  if (v.kind === 'series') return { kind: 'series', points: clean(new Map([...v.points].map(([t, x]) => [t, f(x)]))) };
  return { kind: 'array', items: v.items.map((s) => clean(new Map([...s].map(([t, x]) => [t, f(x)])))) };
}

function op2(op: string): (a: number, b: number) => number {
  switch (op) {
    case '+': return (a, b) => a + b;
    case '-': return (a, b) => a - b;
    case '*': return (a, b) => a * b;
    case '/': return (a, b) => a / b;
    case '^': return (a, b) => a ** b;
    case '<': return (a, b) => Number(a < b);
    case '<=': return (a, b) => Number(a <= b);
    case '>': return (a, b) => Number(a > b);
    case '>=': return (a, b) => Number(a >= b);
    case '==': return (a, b) => Number(a === b);
    case '!=': return (a, b) => Number(a !== b);
    case 'AND': return (a, b) => Number(a !== 0 && b !== 0);
    case 'OR': return (a, b) => Number(a !== 0 || b !== 0);
    default: throw new MetricMathError(`unsupported operator ${op}`);
  }
}

function combine(f: (a: number, b: number) => number, a: Map<number, number> | number, b: Map<number, number> | number): Map<number, number> {
  const out = new Map<number, number>();
  if (typeof a === 'number' && typeof b !== 'number') for (const [t, y] of b) out.set(t, f(a, y));
  else if (typeof a !== 'number' && typeof b === 'number') for (const [t, x] of a) out.set(t, f(x, b));
  else if (typeof a !== 'number' && typeof b !== 'number') {
    for (const [t, x] of a) { const y = b.get(t); if (y !== undefined) out.set(t, f(x, y)); }
  }
  return clean(out);
}

function binary(op: string, l: MathValue, r: MathValue): MathValue {
  const f = op2(op);
  if (l.kind === 'scalar' && r.kind === 'scalar') return { kind: 'scalar', value: f(l.value, r.value) };
  if (l.kind === 'array' || r.kind === 'array') {
    if (l.kind === 'array' && r.kind === 'array') throw new MetricMathError(`cannot apply ${op} to two arrays of time series`);
    if (l.kind === 'array') {
      const other = r.kind === 'scalar' ? r.value : (r as { points: Map<number, number> }).points;
      return { kind: 'array', items: l.items.map((s) => combine(f, s, other)) };
    }
    const other = l.kind === 'scalar' ? l.value : (l as { points: Map<number, number> }).points;
    return { kind: 'array', items: (r as { items: Map<number, number>[] }).items.map((s) => combine(f, other, s)) };
  }
  const a = l.kind === 'scalar' ? l.value : l.points;
  const b = r.kind === 'scalar' ? r.value : (r as { points: Map<number, number> }).points;
  return { kind: 'series', points: combine(f, a, b) };
}

function call(node: Extract<MathNode, { type: 'call' }>, ctx: MathContext): MathValue {
  const { name, args } = node;
  const arity = (min: number, max = min) => {
    if (args.length < min || args.length > max) {
      throw new MetricMathError(`${name} takes ${min === max ? min : `${min} to ${max}`} argument(s), got ${args.length}`);
    }
  };
  switch (name) {
    case 'METRICS':
      arity(0, 1);
      if (args[0] && args[0].type !== 'str') throw new MetricMathError('METRICS() takes an optional label filter string');
      return { kind: 'array', items: ctx.allMetrics(args[0]?.type === 'str' ? args[0].value : undefined) };
    case 'SUM': case 'AVG': case 'MIN': case 'MAX': {
      arity(1);
      const v = evaluate(args[0], ctx);
      const reduce = (xs: number[]): number => {
        if (name === 'SUM') return xs.reduce((s, x) => s + x, 0);
        if (name === 'AVG') return xs.reduce((s, x) => s + x, 0) / xs.length;
        return name === 'MIN' ? Math.min(...xs) : Math.max(...xs);
      };
      if (v.kind === 'scalar') return v;
      if (v.kind === 'series') {
        const xs = [...v.points.values()];
        return xs.length === 0 ? { kind: 'series', points: new Map() } : { kind: 'scalar', value: reduce(xs) };
      }
      const byT = new Map<number, number[]>();
      for (const s of v.items) for (const [t, x] of s) (byT.get(t) ?? byT.set(t, []).get(t)!).push(x);
      return { kind: 'series', points: clean(new Map([...byT].map(([t, xs]) => [t, reduce(xs)]))) };
    }
    case 'ABS': arity(1); return map1(evaluate(args[0], ctx), Math.abs);
    case 'CEIL': arity(1); return map1(evaluate(args[0], ctx), Math.ceil);
    case 'FLOOR': arity(1); return map1(evaluate(args[0], ctx), Math.floor);
    case 'FILL': {
      arity(2);
      const target = evaluate(args[0], ctx);
      const how = args[1];
      const fill = (s: Map<number, number>): Map<number, number> => fillSeries(s, how, ctx);
      if (target.kind === 'series') return { kind: 'series', points: fill(target.points) };
      if (target.kind === 'array') return { kind: 'array', items: target.items.map(fill) };
      throw new MetricMathError('FILL needs a time series or an array of time series');
    }
    case 'IF': {
      arity(2, 3);
      const cond = evaluate(args[0], ctx);
      const a = evaluate(args[1], ctx);
      const b = args[2] ? evaluate(args[2], ctx) : undefined;
      if (cond.kind === 'array' || a.kind === 'array' || b?.kind === 'array') throw new MetricMathError('IF does not accept arrays of time series');
      if (cond.kind === 'scalar') return cond.value !== 0 ? a : (b ?? { kind: 'series', points: new Map() });
      const pick = (v: MathValue | undefined, t: number): number | undefined =>
        v === undefined ? undefined : v.kind === 'scalar' ? v.value : (v as { points: Map<number, number> }).points.get(t);
      const out = new Map<number, number>();
      for (const [t, c] of cond.points) {
        const x = pick(c !== 0 ? a : b, t);
        if (x !== undefined) out.set(t, x);
      }
      return { kind: 'series', points: clean(out) };
    }
    case 'DIFF': case 'RATE': {
      arity(1);
      const v = evaluate(args[0], ctx);
      if (v.kind !== 'series') throw new MetricMathError(`${name} needs a single time series`);
      const sorted = [...v.points].sort((x, y) => x[0] - y[0]);
      const out = new Map<number, number>();
      for (let i = 1; i < sorted.length; i++) {
        const d = sorted[i][1] - sorted[i - 1][1];
        out.set(sorted[i][0], name === 'DIFF' ? d : d / ((sorted[i][0] - sorted[i - 1][0]) / 1000));
      }
      return { kind: 'series', points: clean(out) };
    }
    default:
      throw new MetricMathError(`unsupported function ${name}`);
  }
}

function fillSeries(s: Map<number, number>, how: MathNode, ctx: MathContext): Map<number, number> {
  const out = new Map<number, number>();
  if (how.type === 'keyword') {
    const known = [...s].sort((a, b) => a[0] - b[0]);
    for (const t of ctx.grid) {
      if (s.has(t)) { out.set(t, s.get(t)!); continue; }
      const before = known.filter(([k]) => k < t).at(-1);
      const after = known.find(([k]) => k > t);
      if (how.name === 'REPEAT') {
        const src = before ?? after;
        if (src) out.set(t, src[1]);
      } else if (before && after) {
        out.set(t, before[1] + ((after[1] - before[1]) * (t - before[0])) / (after[0] - before[0]));
      }
    }
    return out;
  }
  const v = evaluate(how, ctx);
  for (const t of ctx.grid) {
    const x = s.get(t);
    if (x !== undefined) out.set(t, x);
    else if (v.kind === 'scalar') out.set(t, v.value);
    else if (v.kind === 'series' && v.points.has(t)) out.set(t, v.points.get(t)!);
  }
  return clean(out);
}
