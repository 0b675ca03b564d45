/**
 * What a rule target receives: the event, a constant `input`, the part selected by `inputPath`,
 * or the rendering of an `inputTransformer` (inputPathsMap + inputTemplate with `<name>`
 * placeholders, including the predefined `aws.events.*` ones), following the EventBridge guide:
 * a placeholder inside a JSON string is replaced by the raw text, outside by the JSON value; a
 * template that is not JSON after substitution is sent as plain text.
 */
import type { AwsEvent } from './eventbridge.ts';

export interface InputTransformer {
  inputPathsMap?: Record<string, string>;
  inputTemplate: string;
}

export interface TransformSpec {
  input?: unknown;
  inputPath?: string;
  inputTransformer?: InputTransformer;
}

type Segment = string | number;

/** Parses the JSONPath subset EventBridge uses: `$`, `$.a.b`, `$.a['b-c']`, `$.a[0]`. */
export function parseJsonPath(path: string): Segment[] {
  if (!path.startsWith('$')) throw new Error(`invalid JSONPath "${path}": must start with $`);
  const out: Segment[] = [];
  let i = 1;
  while (i < path.length) {
    if (path[i] === '.') {
      const m = /^[^.[\]]+/.exec(path.slice(i + 1));
      if (!m) throw new Error(`invalid JSONPath "${path}" at position ${i}`);
      out.push(m[0]);
      i += 1 + m[0].length;
    } else if (path[i] === '[') {
      const m = /^\[(?:(\d+)|'([^']*)'|"([^"]*)")\]/.exec(path.slice(i));
      if (!m) throw new Error(`invalid JSONPath "${path}" at position ${i}`);
      out.push(m[1] !== undefined ? Number(m[1]) : (m[2] ?? m[3]));
      i += m[0].length;
    } else {
      throw new Error(`invalid JSONPath "${path}" at position ${i}`);
    }
  }
  return out;
}

export function readJsonPath(value: unknown, path: string): unknown {
  let cur = value;
  for (const seg of parseJsonPath(path)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** Throws when the target's input settings are invalid (checked when the rule is added). */
export function validateTransform(spec: TransformSpec): void {
  const set = [spec.input !== undefined, spec.inputPath !== undefined, spec.inputTransformer !== undefined].filter(Boolean).length;
  if (set > 1) throw new Error('only one of input, inputPath and inputTransformer may be set');
  if (spec.inputPath !== undefined) parseJsonPath(spec.inputPath);
  const t = spec.inputTransformer;
  if (t) {
    if (typeof t.inputTemplate !== 'string') throw new Error('inputTransformer.inputTemplate is required');
    const entries = Object.entries(t.inputPathsMap ?? {});
    if (entries.length > 100) throw new Error('inputTransformer.inputPathsMap has more than 100 entries');
    for (const [name, path] of entries) {
      if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`inputTransformer.inputPathsMap key "${name}" may only contain letters, digits, _ and -`);
      if (name.startsWith('aws.events')) throw new Error(`inputTransformer.inputPathsMap key "${name}" is reserved`);
      parseJsonPath(path);
    }
    const known = new Set([...entries.map(([n]) => n), ...PREDEFINED]);
    for (const [name, inString] of placeholders(t.inputTemplate)) {
      if (!inString && !known.has(name)) throw new Error(`inputTransformer.inputTemplate placeholder <${name}> is not defined in inputPathsMap`);
    }
  }
}

const PREDEFINED = ['aws.events.rule-name', 'aws.events.rule-arn', 'aws.events.event', 'aws.events.event.json', 'aws.events.event.ingestion-time'];

/** `<name>` placeholders of a template, with whether each sits inside a JSON string literal. */
function placeholders(tpl: string): [string, boolean][] {
  const out: [string, boolean][] = [];
  let inString = false;
  for (let i = 0; i < tpl.length; i++) {
    const c = tpl[i];
    if (c === '\\' && inString) { i++; continue; }
    if (c === '"') { inString = !inString; continue; }
    const m = c === '<' ? /^<([A-Za-z0-9_.-]+)>/.exec(tpl.slice(i)) : null;
    if (m) {
      out.push([m[1], inString]);
      i += m[0].length - 1;
    }
  }
  return out;
}

export function transformInput(spec: TransformSpec, event: AwsEvent, rule: { ruleName: string; ruleArn: string }): unknown {
  if (spec.input !== undefined) return structuredClone(spec.input);
  if (spec.inputPath !== undefined) return readJsonPath(event, spec.inputPath);
  const t = spec.inputTransformer;
  if (!t) return event;
  const vars = new Map<string, unknown>();
  for (const [name, path] of Object.entries(t.inputPathsMap ?? {})) vars.set(name, readJsonPath(event, path));
  vars.set('aws.events.rule-name', rule.ruleName);
  vars.set('aws.events.rule-arn', rule.ruleArn);
  vars.set('aws.events.event', event);
  vars.set('aws.events.event.json', event);
  vars.set('aws.events.event.ingestion-time', event.time);

  const tpl = t.inputTemplate;
  let out = '';
  let inString = false;
  for (let i = 0; i < tpl.length; i++) {
    const c = tpl[i];
    if (c === '\\' && inString) {
      out += c + (tpl[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') {
      inString = !inString;
      out += c;
      continue;
    }
    if (c === '<') {
      const m = /^<([A-Za-z0-9_.-]+)>/.exec(tpl.slice(i));
      if (m && vars.has(m[1])) {
        const v = vars.get(m[1]);
        out += inString ? rawText(v) : v === undefined ? 'null' : JSON.stringify(v);
        i += m[0].length - 1;
        continue;
      }
    }
    out += c;
  }
  try {
    return JSON.parse(out);
  } catch {
    return out;
  }
}

function rawText(v: unknown): string {
  if (v === undefined || v === null) return '';
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return JSON.stringify(text).slice(1, -1);
}
