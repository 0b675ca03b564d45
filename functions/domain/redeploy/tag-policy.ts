/**
 * Which pushed tags a tracking rule follows.
 *
 * - exact: the tag equals the given string.
 * - semver: the tag is a strict SemVer 2.0 version, optionally prefixed with `v` (`1.2.3`,
 *   `v1.2.3`, `1.2.3-rc.1`, `1.2.3+build.5`), that satisfies the range (npm `semver` syntax:
 *   `^1.2`, `>=1.0.0 <2`, `1.x`, ...). Non-semver tags (`latest`, `1.2`, `sha-abc`) never match.
 *   Prereleases follow npm semantics on purpose: `1.3.0-rc.1` matches only a range that names a
 *   prerelease on the same major.minor.patch (`>=1.3.0-rc.0`), never plain `^1.2.0`, so a
 *   release-candidate push does not roll production by accident.
 * - glob: whole-tag match; `*` any run of characters, `?` one character, `[abc]`, `[a-z]`,
 *   `[!a-z]` / `[^a-z]` classes, `\x` a literal x. Interpreted by a small matcher (no RegExp is
 *   built from the pattern), so a pattern cannot inject regex syntax.
 * - regex: the pattern must match the whole tag (it is wrapped in `^(?:...)$`). Tags are at most
 *   128 characters (the registry's own limit) and patterns at most 256. Length alone does not stop
 *   catastrophic backtracking (`(a+)+b` takes seconds on 25 characters), so patterns are also
 *   limited to star height 1: a repeated group (`*`, `+`, `{n,}`, `{n,m}`) may contain neither a
 *   quantifier nor an alternation, and backreferences are refused. A refused or non-compiling
 *   pattern never matches (isValidTagPolicy reports it, for the config loader).
 */
// The functions used, one module each: semver's index requires every one of its functions (CommonJS,
// nothing tree-shaken), about half of it unused here.
import semverCompare from 'semver/functions/compare.js';
import semverLt from 'semver/functions/lt.js';
import semverParse from 'semver/functions/parse.js';
import semverSatisfies from 'semver/functions/satisfies.js';
import semverValidRange from 'semver/ranges/valid.js';
import { TAG_PATTERN } from './image-ref.ts';

export type TagPolicy = { exact: string } | { semver: string } | { glob: string } | { regex: string };

export const MAX_TAG_LENGTH = 128;
export const MAX_PATTERN_LENGTH = 256;

/** The policy's kind. */
export function tagPolicyKind(policy: TagPolicy): 'exact' | 'semver' | 'glob' | 'regex' {
  if ('exact' in policy) return 'exact';
  if ('semver' in policy) return 'semver';
  if ('glob' in policy) return 'glob';
  return 'regex';
}

/** The version a tag denotes (one leading `v` dropped), or undefined when it is not strict semver. */
export function tagVersion(tag: string | undefined): string | undefined {
  if (tag === undefined || tag.length > MAX_TAG_LENGTH) return undefined;
  const bare = tag.startsWith('v') ? tag.slice(1) : tag;
  // semver.parse also tolerates a leading "=" / "v" and surrounding spaces: insist on a digit first.
  if (!/^[0-9]/.test(bare) || bare.trim() !== bare) return undefined;
  return semverParse(bare)?.version ?? undefined;
}

/** Whether the policy is well formed (range parses, regex compiles, lengths within limits). */
export function isValidTagPolicy(policy: TagPolicy): boolean {
  switch (tagPolicyKind(policy)) {
    case 'exact':
      return TAG_PATTERN.test((policy as { exact: string }).exact);
    case 'semver': {
      const range = (policy as { semver: string }).semver;
      return range.length <= MAX_PATTERN_LENGTH && semverValidRange(range) !== null;
    }
    case 'glob': {
      const glob = (policy as { glob: string }).glob;
      return glob.length > 0 && glob.length <= MAX_PATTERN_LENGTH && compileGlob(glob) !== undefined;
    }
    case 'regex':
      return compileRegex((policy as { regex: string }).regex) !== undefined;
  }
}

/** True when `tag` is followed by `policy`; a missing or malformed tag never matches. */
export function matchesTagPolicy(policy: TagPolicy, tag: string | undefined): boolean {
  if (tag === undefined || !TAG_PATTERN.test(tag)) return false;
  switch (tagPolicyKind(policy)) {
    case 'exact':
      return tag === (policy as { exact: string }).exact;
    case 'semver': {
      const version = tagVersion(tag);
      const range = (policy as { semver: string }).semver;
      if (version === undefined || range.length > MAX_PATTERN_LENGTH || semverValidRange(range) === null) return false;
      return semverSatisfies(version, range);
    }
    case 'glob': {
      const tokens = compileGlob((policy as { glob: string }).glob);
      return tokens !== undefined && globMatch(tokens, tag);
    }
    case 'regex': {
      const re = compileRegex((policy as { regex: string }).regex);
      return re !== undefined && re.test(tag);
    }
  }
}

/**
 * Under a semver policy, true when `newTag` denotes a lower version than `liveTag`. False when
 * either tag is not semver (nothing to compare: the policy match decides), when the versions are
 * equal (a rebuilt image re-pushed under the same version is not a downgrade), and for every
 * other policy kind (tags such as `latest` carry no order).
 */
export function isDowngrade(policy: TagPolicy, liveTag: string | undefined, newTag: string | undefined): boolean {
  if (tagPolicyKind(policy) !== 'semver') return false;
  const live = tagVersion(liveTag);
  const next = tagVersion(newTag);
  if (live === undefined || next === undefined) return false;
  return semverLt(next, live);
}

/** The highest semver version among `tags` (by version, `v` prefix ignored), as the tag itself. */
export function highestSemverTag(tags: readonly string[]): string | undefined {
  let best: { tag: string; version: string } | undefined;
  for (const tag of tags) {
    const version = tagVersion(tag);
    if (version === undefined) continue;
    const cmp = best === undefined ? 1 : semverCompare(version, best.version);
    // Equal versions (v1.2.3 and 1.2.3): take the lexically smaller tag so the choice is stable.
    if (cmp > 0 || (cmp === 0 && best !== undefined && tag < best.tag)) best = { tag, version };
  }
  return best?.tag;
}

// ---- regex -------------------------------------------------------------------------------

const regexCache = new Map<string, RegExp | null>();

function compileRegex(pattern: string): RegExp | undefined {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) return undefined;
  if (!hasStarHeightOne(pattern)) return undefined;
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(`^(?:${pattern})$`, 'u');
    } catch {
      re = null;
    }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re ?? undefined;
}

/**
 * True when no repeated group contains a quantifier or an alternation, and there is no
 * backreference: the shapes behind exponential backtracking ((a+)+, (a|aa)*, (.*a){2,}).
 */
export function hasStarHeightOne(pattern: string): boolean {
  interface Group { risky: boolean }
  const stack: Group[] = [{ risky: false }];
  const chars = [...pattern];
  // Length of the quantifier starting at i (0 when none); `repeats` is false for ?, {n} and {0,1}.
  const quantifierAt = (i: number): { length: number; repeats: boolean } => {
    const c = chars[i];
    if (c === '*' || c === '+') return { length: chars[i + 1] === '?' ? 2 : 1, repeats: true };
    if (c === '?') return { length: 1, repeats: false };
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}\??/.exec(chars.slice(i, i + 24).join(''));
      if (!m) return { length: 0, repeats: false };
      const repeats = m[2] !== undefined && (m[3] === '' || Number(m[3]) > 1);
      return { length: [...m[0]].length, repeats };
    }
    return { length: 0, repeats: false };
  };
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    const top = stack[stack.length - 1];
    if (c === '\\') {
      if (/[1-9k]/.test(chars[i + 1] ?? '')) return false; // backreference
      i++;
    } else if (c === '[') {
      // Skip the class body (a leading ] is a member; escapes skip a character).
      let j = i + 1;
      if (chars[j] === '^') j++;
      if (chars[j] === ']') j++;
      for (; j < chars.length && chars[j] !== ']'; j++) if (chars[j] === '\\') j++;
      i = j;
    } else if (c === '(') {
      stack.push({ risky: false });
      continue;
    } else if (c === ')') {
      if (stack.length === 1) return false;
      const group = stack.pop() as Group;
      const q = quantifierAt(i + 1);
      if (q.repeats && group.risky) return false;
      const parent = stack[stack.length - 1];
      parent.risky = parent.risky || group.risky || q.length > 0;
      i += q.length;
      continue;
    } else if (c === '|') {
      top.risky = true;
      continue;
    }
    const q = quantifierAt(i + 1);
    if (q.length > 0) {
      top.risky = true;
      i += q.length;
    }
  }
  return stack.length === 1;
}

// ---- glob --------------------------------------------------------------------------------

type GlobToken =
  | { kind: 'char'; ch: string }
  | { kind: 'one' }
  | { kind: 'any' }
  | { kind: 'class'; negated: boolean; ranges: [string, string][] };

/** Tokenizes a glob; undefined when a class is unterminated or a range is reversed. */
function compileGlob(glob: string): GlobToken[] | undefined {
  const chars = [...glob];
  const tokens: GlobToken[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '*') {
      // Consecutive stars are one star (keeps the matcher linear in practice).
      if (tokens.at(-1)?.kind !== 'any') tokens.push({ kind: 'any' });
    } else if (c === '?') {
      tokens.push({ kind: 'one' });
    } else if (c === '\\') {
      if (i + 1 >= chars.length) return undefined;
      tokens.push({ kind: 'char', ch: chars[++i] });
    } else if (c === '[') {
      let j = i + 1;
      let negated = false;
      if (chars[j] === '!' || chars[j] === '^') {
        negated = true;
        j++;
      }
      const ranges: [string, string][] = [];
      // A `]` right after the opening (or after the negation) is a literal member.
      let first = true;
      for (; j < chars.length; j++) {
        if (chars[j] === ']' && !first) break;
        first = false;
        let lo = chars[j];
        if (lo === '\\') {
          if (j + 1 >= chars.length) return undefined;
          lo = chars[++j];
        }
        if (chars[j + 1] === '-' && j + 2 < chars.length && chars[j + 2] !== ']') {
          let hi = chars[j + 2];
          j += 2;
          if (hi === '\\') {
            if (j + 1 >= chars.length) return undefined;
            hi = chars[++j];
          }
          if (hi < lo) return undefined;
          ranges.push([lo, hi]);
        } else {
          ranges.push([lo, lo]);
        }
      }
      if (j >= chars.length) return undefined; // unterminated class
      tokens.push({ kind: 'class', negated, ranges });
      i = j;
    } else {
      tokens.push({ kind: 'char', ch: c });
    }
  }
  return tokens;
}

function tokenMatches(token: GlobToken, ch: string): boolean {
  switch (token.kind) {
    case 'char':
      return token.ch === ch;
    case 'one':
      return true;
    case 'class': {
      const inClass = token.ranges.some(([lo, hi]) => ch >= lo && ch <= hi);
      return token.negated ? !inClass : inClass;
    }
    case 'any':
      return true;
  }
}

/** Whole-string glob match by dynamic programming: O(tokens x characters), no backtracking. */
function globMatch(tokens: readonly GlobToken[], text: string): boolean {
  const chars = [...text];
  // reach[j]: the tokens consumed so far can match chars[0..j).
  let reach = new Array<boolean>(chars.length + 1).fill(false);
  reach[0] = true;
  for (const token of tokens) {
    const next = new Array<boolean>(chars.length + 1).fill(false);
    if (token.kind === 'any') {
      let seen = false;
      for (let j = 0; j <= chars.length; j++) {
        seen = seen || reach[j];
        next[j] = seen;
      }
    } else {
      for (let j = 0; j < chars.length; j++) if (reach[j] && tokenMatches(token, chars[j])) next[j + 1] = true;
    }
    reach = next;
  }
  return reach[chars.length];
}
