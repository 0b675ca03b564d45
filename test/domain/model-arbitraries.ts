/**
 * fast-check arbitraries derived from the service model: every generated value satisfies the
 * model's constraints (required, enum, whole-match pattern, lengths, sizes, union exactly-one),
 * so it passes validateShape. Because they follow the model, a member added to the model is
 * generated (and so exercised by the property tests) without touching this file.
 */
import fc from 'fast-check';
import { agentCoreModel, type ModelShape } from '../../functions/lib/model/validate.ts';

export interface ArbitraryOptions {
  /** Upper bound for list lengths and map sizes when the model allows more (keeps runs fast). */
  maxItems?: number;
  /** Per-shape replacements (e.g. marked secret values). */
  overrides?: Record<string, fc.Arbitrary<unknown>>;
}

const cache = new Map<string, fc.Arbitrary<unknown>>();

/** Arbitrary of valid values of model shape `shapeName`. */
export function arbitraryForShape(shapeName: string, options: ArbitraryOptions = {}): fc.Arbitrary<unknown> {
  const useCache = !options.overrides && options.maxItems === undefined;
  if (useCache && cache.has(shapeName)) return cache.get(shapeName)!;
  const arb = build(shapeName, options);
  if (useCache) cache.set(shapeName, arb);
  return arb;
}

/** Arbitrary of a structure shape with some optional members forced present. */
export function arbitraryForStructure(
  shapeName: string,
  options: ArbitraryOptions & { alsoRequired?: readonly string[] } = {},
): fc.Arbitrary<Record<string, unknown>> {
  const shape = agentCoreModel.shapes[shapeName];
  if (shape?.type !== 'structure' || shape.union) throw new Error(`${shapeName} is not a plain structure`);
  const members: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, m] of Object.entries(shape.members ?? {})) {
    if (m.location === 'uri' || m.location === 'querystring') continue;
    members[name] = arbitraryForShape(m.shape, options);
  }
  const requiredKeys = [...new Set([...(shape.required ?? []), ...(options.alsoRequired ?? [])])];
  return fc.record(members, { requiredKeys, noNullPrototype: true }) as fc.Arbitrary<Record<string, unknown>>;
}

function lengthOk(shape: ModelShape, s: string): boolean {
  const len = [...s].length;
  return (shape.min === undefined || len >= shape.min) && (shape.max === undefined || len <= shape.max);
}

const pools = new Map<string, string[]>();

/**
 * Strings matching a model pattern. fc.stringMatching costs ~0.1 ms a value, and a live resource
 * has dozens of them, so most values come from a pool sampled once (fixed seed) and one in five
 * is drawn fresh: the runs stay fast (< 10 s for every property at 1000 runs) and still explore.
 */
function patternString(shapeName: string, shape: ModelShape): fc.Arbitrary<string> {
  const re = new RegExp(`^(?:${shape.pattern})$`, 'u');
  const fresh = fc.stringMatching(re).filter((s) => re.test(s) && lengthOk(shape, s));
  let pool = pools.get(shapeName);
  if (!pool) {
    pool = [...new Set(fc.sample(fresh, { numRuns: 64, seed: 42 }))];
    pools.set(shapeName, pool);
  }
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: fresh });
}

function build(shapeName: string, options: ArbitraryOptions): fc.Arbitrary<unknown> {
  const override = options.overrides?.[shapeName];
  if (override) return override;
  const shape = agentCoreModel.shapes[shapeName];
  if (!shape) throw new Error(`unknown shape ${shapeName}`);
  const maxItems = options.maxItems ?? 3;
  switch (shape.type) {
    case 'string': {
      if (shape.enum) return fc.constantFrom(...shape.enum);
      if (shape.pattern) return patternString(shapeName, shape);
      const min = shape.min ?? 0;
      return fc.string({ minLength: min, maxLength: Math.min(shape.max ?? Infinity, min + 16) });
    }
    case 'integer':
    case 'long':
      return fc.integer({ min: shape.min ?? -(2 ** 31), max: shape.max ?? 2 ** 31 - 1 });
    case 'boolean':
      return fc.boolean();
    case 'timestamp':
      return fc.date({ noInvalidDate: true, min: new Date('2020-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z') });
    case 'list': {
      const minLength = shape.min ?? 0;
      return fc.array(build(shape.member!.shape, options), { minLength, maxLength: Math.max(minLength, Math.min(shape.max ?? maxItems, maxItems)) });
    }
    case 'map': {
      const minKeys = shape.min ?? 0;
      return fc.dictionary(build(shape.key!.shape, options) as fc.Arbitrary<string>, build(shape.value!.shape, options), {
        minKeys,
        maxKeys: Math.max(minKeys, Math.min(shape.max ?? maxItems, maxItems)),
        noNullPrototype: true,
      });
    }
    case 'structure': {
      const entries = Object.entries(shape.members ?? {});
      if (shape.union) {
        return fc.oneof(...entries.map(([name, m]) => build(m.shape, options).map((v) => ({ [name]: v }))));
      }
      const members: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, m] of entries) members[name] = build(m.shape, options);
      return fc.record(members, { requiredKeys: shape.required ?? [], noNullPrototype: true });
    }
    default:
      throw new Error(`no arbitrary for shape type ${shape.type} (${shapeName})`);
  }
}
