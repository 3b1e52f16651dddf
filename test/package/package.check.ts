// The package as its users get it (npm run test:package, run by .ci/run): `npm pack`, an offline
// install of the tarball into a scratch app, a strict type-check of the app's code against the
// published declarations (no skipLibCheck), training in Node on both backends, and a Vite bundle
// of a page that trains on WebGPU in headless Chromium. The app's sources are test/package/app/.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installLockfile, type Manifest } from './lockfile.js';
import { serveStatic } from './serve.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'neurite-package-'));
const app = join(scratch, 'app');
const tsc = join(root, 'node_modules/typescript/bin/tsc');

/** Runs a command, failing with its output when it exits non-zero. */
async function sh(file: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(file, args, { cwd, maxBuffer: 64 << 20, env: process.env });
    return stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${file} ${args.join(' ')} failed:\n${err.stdout ?? ''}\n${err.stderr ?? err.message}`);
  }
}

interface TinyRun {
  backend: string;
  firstLoss: number;
  lastLoss: number;
  prediction: number[];
}

/** Checks a run the app reported: the backend asked for, a loss that fell, finite predictions. */
function expectTrained(run: TinyRun, backend: string): void {
  expect(run.backend).toBe(backend);
  expect(run.lastLoss).toBeLessThan(run.firstLoss / 4);
  expect(run.prediction).toHaveLength(1);
  expect(Number.isFinite(run.prediction[0])).toBe(true);
}

describe('the packed package in a scratch app', () => {
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  beforeAll(async () => {
    console.log(`scratch app: ${app}`);
    // prepack builds dist/ first, so the tarball holds this tree's code.
    const packed = await sh('npm', ['pack', '--silent', '--pack-destination', scratch], root);
    const tarball = join(scratch, packed.trim().split('\n').pop()!);
    cpSync(join(root, 'test/package/app'), app, { recursive: true });
    const manifest = JSON.parse(await sh('tar', ['-xOzf', tarball, 'package/package.json'], scratch)) as Manifest;
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
    const { packageJson, packageLock } = installLockfile(manifest, `file:${tarball}`, integrity, lock);
    writeFileSync(join(app, 'package.json'), JSON.stringify(packageJson, null, 2));
    writeFileSync(join(app, 'package-lock.json'), JSON.stringify(packageLock, null, 2));
    // Offline: every tarball is in npm's cache since the repository's own `npm ci`.
    await sh('npm', ['ci', '--offline', '--no-audit', '--no-fund'], app);
  });

  it('installs only what the tarball declares, @webgpu/types among its dependencies', () => {
    const manifest = JSON.parse(readFileSync(join(app, 'node_modules/neurite/package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies)).toContain('@webgpu/types');
    expect(manifest.devDependencies?.['@webgpu/types']).toBeUndefined();
    expect(readFileSync(join(app, 'node_modules/neurite/dist/index.d.ts'), 'utf8')).toMatch(/^\/\/\/ <reference types="@webgpu\/types"/m);
  });

  it('type-checks a strict consumer without skipLibCheck', async () => {
    await sh('node', [tsc, '-p', 'tsconfig.json'], app);
  });

  it('trains in Node on the cpu and webgpu backends', async () => {
    await sh('node', [tsc, '-p', 'tsconfig.json'], app);
    const lines = (await sh('node', ['out/node-main.js'], app)).trim().split('\n');
    const runs = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as TinyRun);
    for (const r of runs) console.log(`node, ${r.backend}: loss ${r.firstLoss.toFixed(4)} → ${r.lastLoss.toFixed(4)}`);
    expect(runs.map((r) => r.backend)).toEqual(['cpu', 'webgpu']);
    expectTrained(runs[0], 'cpu');
    expectTrained(runs[1], 'webgpu');
  });

  it('trains on WebGPU in Chromium from a Vite bundle', async () => {
    const { build } = await import('vite');
    const { chromium } = await import('@playwright/test');
    const { CHROMIUM_ARGS } = await import('../../e2e/chromium.mjs');
    const outDir = join(scratch, 'page-dist');
    mkdirSync(outDir);
    await build({ root: join(app, 'page'), configFile: false, logLevel: 'warn', base: './', build: { outDir, emptyOutDir: true } });
    const server = await serveStatic(outDir);
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(server.url);
      await page.waitForFunction(() => document.body.dataset.result ?? document.body.dataset.error, undefined, { timeout: 180_000 });
      const { result, error } = await page.evaluate(() => ({ ...document.body.dataset }));
      expect(error, 'the page failed').toBeUndefined();
      expect(pageErrors).toEqual([]);
      expectTrained(JSON.parse(result!) as TinyRun, 'webgpu');
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
