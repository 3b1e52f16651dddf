// Reads covering() declarations from test sources with the TypeScript parser, for the registry
// meta-test: the op names a test declares as checked forward and backward. Only real calls
// count (a name in a comment or a string is not a call), and only calls made inside a test.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** One covering() call: where it is, the ops it declares, and what is wrong with it, if anything. */
export interface Declaration {
  where: string;
  forward: string[];
  gradient: string[];
  problem?: string;
}

/** Every test file under test/, as text. */
export function testSources(dir = new URL('..', import.meta.url).pathname): { file: string; text: string }[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.test.ts'))
    .map((file) => ({ file, text: readFileSync(join(dir, file), 'utf8') }));
}

/** The root identifier of a callee: `it` for it(...), it.each(...)(...) and it.each([...]). */
function calleeRoot(e: ts.Expression): string | null {
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return calleeRoot(e.expression);
  if (ts.isCallExpression(e)) return calleeRoot(e.expression);
  return null;
}

/** True when `node` lies in a function passed to it(...) or test(...). */
function insideTest(node: ts.Node): boolean {
  for (let n = node.parent; n; n = n.parent) {
    if (ts.isCallExpression(n) && ['it', 'test'].includes(calleeRoot(n.expression) ?? '') && n.arguments.some((a) => a.pos <= node.pos && node.end <= a.end && ts.isFunctionLike(a))) {
      return true;
    }
  }
  return false;
}

/** The string literals of `forward` or `gradient` in covering's first argument, or a problem. */
function listOf(arg: ts.ObjectLiteralExpression, key: string): string[] | string {
  const prop = arg.properties.find((p) => p.name && ts.isIdentifier(p.name) && p.name.text === key);
  if (!prop) return [];
  if (!ts.isPropertyAssignment(prop) || !ts.isArrayLiteralExpression(prop.initializer)) return `${key} must be an array literal`;
  const names = prop.initializer.elements.map((e) => (ts.isStringLiteral(e) ? e.text : null));
  return names.every((n) => n !== null) ? (names as string[]) : `${key} must list op names as string literals`;
}

/** The covering() calls of one source file. */
export function coverageDeclarations(file: string, text: string): Declaration[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Declaration[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'covering') {
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      const where = `${file}:${line}`;
      const arg = node.arguments[0];
      if (!arg || !ts.isObjectLiteralExpression(arg)) found.push({ where, forward: [], gradient: [], problem: 'the first argument must be an object literal' });
      else {
        const [forward, gradient] = [listOf(arg, 'forward'), listOf(arg, 'gradient')];
        const problem = [forward, gradient].find((l): l is string => typeof l === 'string') ?? (insideTest(node) ? undefined : 'not inside an it() or test()');
        found.push({ where, forward: Array.isArray(forward) ? forward : [], gradient: Array.isArray(gradient) ? gradient : [], ...(problem ? { problem } : {}) });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}
