/**
 * Output of every command: `-o, --output text|json|yaml` (`--json` is `-o json`). JSON and YAML
 * are one document on stdout and nothing else; progress, warnings and logs go to stderr. Colours
 * only on a terminal, never with NO_COLOR (https://no-color.org) or --no-color.
 */
import { stringify as toYaml } from 'yaml';
import type { CliIO } from './types.ts';

export const OUTPUT_FORMATS = ['text', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1 } as const;
export type Colour = keyof typeof CODES;

export class Output {
  readonly format: OutputFormat;
  readonly color: boolean;
  private readonly io: CliIO;
  private emitted = false;

  constructor(io: CliIO, format: OutputFormat, color: boolean) {
    this.io = io;
    this.format = format;
    this.color = color;
  }

  /** True for json and yaml: the command prints one document and no text on stdout. */
  get structured(): boolean {
    return this.format !== 'text';
  }

  get json(): boolean {
    return this.format === 'json';
  }

  /** `text` in `colour` when colours are on. */
  paint(colour: Colour, text: string): string {
    return this.color ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text;
  }

  /** Prints the command's one document (JSON or YAML), or, in text mode, the lines `text` gives. */
  result(doc: unknown, text?: () => string | string[]): void {
    if (this.structured) this.document(doc);
    else if (text) {
      const t = text();
      for (const line of Array.isArray(t) ? t : [t]) this.io.stdout(line);
    }
  }

  /** Prints one JSON/YAML document; a second one in the same run is a bug and throws. */
  document(doc: unknown): void {
    if (this.emitted) throw new Error('a command printed two documents');
    this.emitted = true;
    this.io.stdout(this.format === 'yaml' ? toYaml(doc, { lineWidth: 0 }).trimEnd() : JSON.stringify(doc, null, 2));
  }

  /** Whether the one document was printed (the error path prints one only when none was). */
  get printed(): boolean {
    return this.emitted;
  }

  /** A line of text output (text mode only; ignored in json/yaml). */
  line(text = ''): void {
    if (!this.structured) this.io.stdout(text);
  }

  /** Progress, warnings, notes: always stderr. */
  info(text: string): void {
    this.io.stderr(text);
  }
}

/** Whether to colour: a terminal, no NO_COLOR (any non-empty value), no --no-color, TERM not dumb. */
export function useColour(io: CliIO, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  if (io.env.TERM === 'dumb') return false;
  return io.isTTY;
}

/** Rows as aligned columns (the last column is not padded), with a header row. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cols: readonly string[]) => cols.map((c, i) => (i === cols.length - 1 ? c : (c ?? '').padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}
