/**
 * The reference-path subset of JSONPath that ASL allows in `SecondsPath`, `TimestampPath`,
 * `TimeoutSecondsPath`, `HeartbeatSecondsPath` and `ItemsPath`: `$`, `$.a.b`, `$['a b']`, `$.a[0]`,
 * and `$$.…` for the context object. Returns undefined when the path matches nothing.
 */
export function queryReferencePath(path: string, input: unknown, context?: unknown): unknown {
  let cur: unknown;
  let rest: string;
  if (path.startsWith('$$')) {
    cur = context;
    rest = path.slice(2);
  } else if (path.startsWith('$')) {
    cur = input;
    rest = path.slice(1);
  } else {
    throw new Error(`invalid reference path "${path}": must start with $`);
  }
  const token = /^(?:\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\])/;
  while (rest.length > 0) {
    const m = token.exec(rest);
    if (!m) throw new Error(`unsupported reference path "${path}"`);
    rest = rest.slice(m[0].length);
    if (cur === null || typeof cur !== 'object') return undefined;
    if (m[2] !== undefined) {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[Number(m[2])];
    } else {
      const key = m[1] ?? m[3] ?? m[4];
      cur = (cur as Record<string, unknown>)[key];
    }
  }
  return cur;
}
