// The import cycles allowed in src/: tensor.ts ↔ engine.ts, op families whose gradients call
// each other's ops. A walker reads every module's relative imports (type-only imports are erased
// at runtime, so they do not count) and finds the strongly connected components; any other
// cycle, or an allowed one that grows, fails here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(__dirname, '../src');

/** Each allowed cycle: the modules it joins, exactly. */
const ALLOWED: readonly (readonly string[])[] = [
  // A tensor's methods run ops through the engine, which makes tensors.
  ['engine.ts', 'tensor.ts'],
  // Gradients of broadcasting (binary), reductions and moves (transform) are written with each other's ops.
  ['ops/binary.ts', 'ops/reduce.ts', 'ops/transform.ts'],
];

function modules(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return modules(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The src modules `file` imports at runtime: relative `import`/`export … from` of .js files, and bare `import '…'`. */
function runtimeImports(file: string, source: string): string[] {
  const found = new Set<string>();
  const statements = /^(?:import|export)\s+(?!type\b)(?:[^;]*?\sfrom\s+)?'(\.{1,2}\/[^']+\.js)'/gms;
  for (const [, spec] of source.matchAll(statements)) found.add(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
  return [...found];
}

/** Strongly connected components of more than one module (Tarjan), as sorted paths relative to src/. */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    order.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!order.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, order.get(w)!));
    }
    if (low.get(v) !== order.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(relative(SRC, w).split('\\').join('/'));
    } while (w !== v);
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!order.has(v)) visit(v);
  return found;
}

describe('import cycles in src/', () => {
  const graph = new Map(modules(SRC).map((f) => [f, runtimeImports(f, readFileSync(f, 'utf8'))]));

  it('reads the imports of every module', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get(join(SRC, 'ops/pool.ts'))).toContain(join(SRC, 'ops/windows.ts'));
  });

  it('finds a cycle when one is there (the walker itself)', () => {
    const [a, b, c] = ['x/a.ts', 'x/b.ts', 'x/c.ts'].map((p) => join(SRC, p));
    const imports = (file: string, text: string) => runtimeImports(file, text);
    const g = new Map([
      [a, imports(a, "import { b } from './b.js';")],
      [b, imports(b, "export { c } from './c.js';\nimport type { A } from './a.js';")],
      [c, imports(c, "import {\n  a,\n} from './a.js';")],
    ]);
    expect(cycles(g)).toEqual([['x/a.ts', 'x/b.ts', 'x/c.ts']]);
    g.set(c, []);
    expect(cycles(g)).toEqual([]);
  });

  it('has no cycles but the allowed ones', () => {
    const key = (c: readonly string[]) => c.join(' ↔ ');
    expect(cycles(graph).map(key).sort()).toEqual(ALLOWED.map(key).sort());
  });
});
