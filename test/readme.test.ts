// Keeps the README honest: every ```js block in README.md is run as a module against the
// source (its `from 'neurite'` import pointed at src/index.ts) and must finish without throwing.
// Blocks assert their own claims with `assert` from node:assert.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, it } from 'vitest';
import { setBackend } from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(`${root}/README.md`, 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
const dir = `${root}/test/.readme-examples`;

describe('README examples', () => {
  mkdirSync(dir, { recursive: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has examples', () => {
    if (blocks.length < 4) throw new Error(`README.md has ${blocks.length} js examples; expected the API examples`);
  });

  it.each(blocks.map((code, i) => [i + 1, code.split('\n')[0]] as const))('example %i runs (%s)', async (i) => {
    await setBackend('cpu');
    const source = blocks[i - 1].replaceAll(/from 'neurite'/g, `from '${pathToFileURL(`${root}/src/index.ts`).href}'`);
    const file = `${dir}/example-${i}.ts`;
    writeFileSync(file, source);
    await import(/* @vite-ignore */ pathToFileURL(file).href);
  });
});
