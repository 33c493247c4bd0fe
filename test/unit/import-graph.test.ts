// The shape of src/: folders depend on each other one way only, and only cli/ (argv, printing,
// exit statuses) may reach into cli/. Read from the import lines of every src/**/*.ts, including
// `import type`, `export ... from` and dynamic `import()`: a cycle through types is a cycle too.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** An import of one module by another: the importing file and the imported one, relative to src/. */
interface Edge { from: string; to: string }

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import of every file under src/, comment lines left out. */
function importsOf(root: string): Edge[] {
  const edges: Edge[] = [];
  const spec = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/g;
  for (const file of sourceFiles(root)) {
    const code = readFileSync(file, 'utf8').split('\n').filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line)).join('\n');
    for (const match of code.matchAll(new RegExp(spec.source, 'gm'))) {
      const target = resolve(dirname(file), match[1]!).replace(/\.js$/, '.ts');
      edges.push({ from: relative(root, file), to: relative(root, target) });
    }
  }
  return edges;
}

/** The unit of the rule: a top-level folder (`keys/`), or a file directly in src/ (`paths.ts`). */
function unitOf(path: string): string {
  const slash = path.indexOf('/');
  return slash < 0 ? path : path.slice(0, slash + 1);
}

/** Groups of units that import each other round in a circle (Tarjan), each with the imports that close it. */
function unitCycles(edges: Edge[]): Array<{ units: string[]; imports: string[] }> {
  const next = new Map<string, Map<string, string>>();
  for (const { from, to } of edges) {
    const [a, b] = [unitOf(from), unitOf(to)];
    if (a === b) continue;
    if (!next.has(a)) next.set(a, new Map());
    next.get(a)!.set(b, `${from} -> ${to}`);
    if (!next.has(b)) next.set(b, new Map());
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const cycles: Array<{ units: string[]; imports: string[] }> = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of next.get(v)!.keys()) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const units: string[] = [];
    let w: string;
    do { w = stack.pop()!; units.push(w); } while (w !== v);
    if (units.length < 2) return;
    units.sort();
    const imports = units.flatMap((a) => units.flatMap((b) => next.get(a)!.get(b) ?? [])).sort();
    cycles.push({ units, imports });
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles;
}

/** Imports of cli/ from outside it, as `importer -> imported`. */
function cliReachedFromOutside(edges: Edge[]): string[] {
  return edges.filter((e) => unitOf(e.to) === 'cli/' && unitOf(e.from) !== 'cli/').map((e) => `${e.from} -> ${e.to}`);
}

describe('the import graph of src/', () => {
  const edges = importsOf(SRC);

  it('when src/ is read then its imports are found (the reader itself works)', () => {
    expect(edges.length).toBeGreaterThan(50);
    expect(edges).toContainEqual({ from: 'cli/agentrun-main.ts', to: 'ephemeral/index.ts' });
  });

  it('when the folders are joined by their imports then none imports its way back to itself', () => {
    expect(unitCycles(edges)).toEqual([]);
  });

  it('when a module outside cli/ is read then it does not import cli/', () => {
    expect(cliReachedFromOutside(edges)).toEqual([]);
  });
});

describe('the cycle and cli/ checks on made-up graphs', () => {
  it.each([
    ['a folder and a file importing each other', [['keys/a.ts', 'paths.ts'], ['paths.ts', 'keys/b.ts']], [['keys/', 'paths.ts']]],
    ['three folders in a ring', [['a/x.ts', 'b/y.ts'], ['b/y.ts', 'c/z.ts'], ['c/z.ts', 'a/w.ts']], [['a/', 'b/', 'c/']]],
    ['imports inside one folder only', [['a/x.ts', 'a/y.ts'], ['a/y.ts', 'a/x.ts']], []],
    ['a chain without a way back', [['a/x.ts', 'b/y.ts'], ['b/y.ts', 'errors.ts']], []],
  ])('when the graph has %s then exactly its rings are found', (_name, pairs, expected) => {
    const found = unitCycles(pairs.map(([from, to]) => ({ from: from!, to: to! })));
    expect(found.map((c) => c.units)).toEqual(expected);
  });

  it('when doctor/ imports cli/ then that import is reported, and cli/ importing itself is not', () => {
    expect(cliReachedFromOutside([{ from: 'doctor/jobs.ts', to: 'cli/cron-path.ts' }, { from: 'cli/a.ts', to: 'cli/b.ts' }]))
      .toEqual(['doctor/jobs.ts -> cli/cron-path.ts']);
  });
});
