// Function code writes a type-only import as `import type { X }`. With verbatimModuleSyntax
// (tsconfig.json), `import { type X } from 'm'` compiles to `import 'm'`: esbuild keeps the module
// and what it imports in the bundle, parsed at every cold start (it once put the image-push
// planner and semver into the promotion tasks).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** `import { type A, type B } from 'm'` statements of `code`: every specifier a type. */
function typeOnlyValueImports(code: string): string[] {
  const found: string[] = [];
  for (const m of code.matchAll(/^import\s*\{([^}]*)\}\s*from\s*(['"][^'"]+['"])/gm)) {
    const specifiers = (m[1] as string).split(',').map((s) => s.trim()).filter(Boolean);
    if (specifiers.length > 0 && specifiers.every((s) => /^type\s/.test(s))) found.push(`import { ${specifiers.join(', ')} } from ${m[2]}`);
  }
  return found;
}

describe('type-only imports in function code', () => {
  it('are written `import type`', () => {
    const offenders = sources(join(root, 'functions')).flatMap((file) =>
      typeOnlyValueImports(readFileSync(file, 'utf8')).map((line) => `${relative(root, file)}: ${line}`));
    expect(offenders).toEqual([]);
  });

  it('the check finds the form it forbids, and only that', () => {
    expect(typeOnlyValueImports("import { type A, type B } from './m.ts';\nimport { type C, d } from './n.ts';\nimport type { E } from './o.ts';\n"))
      .toEqual(["import { type A, type B } from './m.ts'"]);
  });
});
