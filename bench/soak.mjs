// Soak run (`npm run soak -- --minutes=N`, default 30): trains on the demo page in Chromium
// (WebGPU on SwiftShader) without a break and samples memory each minute: JS heap of the page
// and of the training worker, Neurite's live tensors and GPU bytes. Writes the samples as CSV
// and markdown, and exits 1 if memory grew after warm-up (the rule is in `verdict` below).
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/chromium.mjs';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const MINUTES = Number(arg('minutes', 30));
const OUT = arg('out', `${root}test-results/soak`);

/**
 * What trains: the e2e test's small MLP (784-128-10, Adam, batch 32) on 4096 MNIST digits, 40
 * epochs a run (a validation on 2000 test digits after each), and a new run (a fresh model and
 * optimizer) as soon as one ends, so the soak covers both long fits and models being replaced.
 */
const RUN = '?backend=webgpu&model=mlp&limit=4096&batch=32&lr=0.002&epochs=40';


/** Minutes left out of the verdict while pools, JIT and caches fill: a sixth of the run, at least one. */
const WARMUP = Math.max(1, Math.round(MINUTES / 6));
const MB = 1024 * 1024;
/**
 * Allowed growth from the first half of the post-warm-up samples to the second half (median
 * against median, so one sample that lands on a readback in flight or a late GC decides nothing).
 */
const BOUNDS = {
  numTensors: 2, // a readback in flight holds a tensor or two; a leak per step or per run is far more
  bytesInUse: 1 * MB,
  bytesPooled: 4 * MB,
  heapPage: 10 * MB,
  heapWorker: 10 * MB,
};

/** A port the OS says is free on loopback, for the demo's Vite server. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Starts the demo's Vite server as playwright.config.ts does (HMR off), on loopback only. */
async function startVite(port) {
  const vite = spawn(process.execPath, [`${root}node_modules/vite/bin/vite.js`, 'demo', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
    cwd: root,
    env: { ...process.env, NEURITE_DEMO_HMR: '0' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}/`;
  for (;;) {
    if (vite.exitCode !== null) throw new Error(`vite exited with ${vite.exitCode}`);
    if (await fetch(url).then((r) => r.ok, () => false)) return { vite, url };
    await sleep(500);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A CDP handle on the training worker. Playwright gives CDP sessions for pages only, so this
 * auto-attaches to the page's workers through the page's session and talks to the worker by
 * Target.sendMessageToTarget (the non-flat protocol).
 */
async function workerCdp(cdp) {
  let nextId = 1;
  const pending = new Map();
  let sessionId = null;
  let attached;
  const ready = new Promise((r) => (attached = r));
  cdp.on('Target.attachedToTarget', (e) => {
    if (e.targetInfo.type !== 'worker') return;
    sessionId = e.sessionId; // the last worker started is the training worker (the page starts one)
    attached();
  });
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const msg = JSON.parse(e.message);
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(msg.error.message));
    else p.resolve(msg.result);
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  await ready;
  return (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
    });
}

/** Used JS heap after a forced GC: memory that is retained, not garbage not yet collected. */
async function heapUsed(send) {
  await send('HeapProfiler.collectGarbage');
  return (await send('Runtime.getHeapUsage')).usedSize;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Growth of each figure after warm-up, against BOUNDS; `ok` is false if any grew too much. */
function verdict(samples) {
  const after = samples.filter((s) => s.minute >= WARMUP);
  const half = Math.ceil(after.length / 2);
  const [first, last] = [after.slice(0, after.length - half), after.slice(after.length - half)];
  if (first.length === 0) return { ok: false, lines: ['too few samples after warm-up to judge'] };
  const lines = [];
  let ok = true;
  for (const [key, bound] of Object.entries(BOUNDS)) {
    const growth = median(last.map((s) => s[key])) - median(first.map((s) => s[key]));
    const pass = growth <= bound;
    ok &&= pass;
    const show = (v) => (key === 'numTensors' ? String(v) : `${(v / MB).toFixed(2)} MB`);
    lines.push(`${pass ? 'ok  ' : 'FAIL'} ${key}: grew ${show(growth)} (bound ${show(bound)})`);
  }
  return { ok, lines };
}

const COLUMNS = ['minute', 'heapPage', 'heapWorker', 'numTensors', 'bytesInUse', 'bytesPooled', 'steps', 'runs'];

function writeOutputs(samples, summary) {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(`${OUT}/soak.csv`, [COLUMNS.join(','), ...samples.map((s) => COLUMNS.map((c) => s[c]).join(','))].join('\n') + '\n');
  const mb = (v) => (v / MB).toFixed(2);
  const rows = samples.map((s) => `| ${s.minute} | ${mb(s.heapPage)} | ${mb(s.heapWorker)} | ${s.numTensors} | ${mb(s.bytesInUse)} | ${mb(s.bytesPooled)} | ${s.steps} | ${s.runs} |`);
  const md = [
    '| minute | JS heap, page (MB) | JS heap, worker (MB) | live tensors | GPU bytes in use (MB) | GPU bytes pooled (MB) | steps | runs ended |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    ...summary.map((l) => `    ${l}`),
  ].join('\n');
  writeFileSync(`${OUT}/soak.md`, md + '\n');
  return md;
}

/** Samples so far: written after each one, so a run that dies midway leaves its figures. */
const samples = [];

async function main() {
  const port = await freePort();
  const { vite, url } = await startVite(port);
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  const errors = [];
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
    const cdp = await page.context().newCDPSession(page);
    const toWorker = workerCdp(cdp);
    await page.goto(url + RUN);
    const worker = await toWorker;
    await page.waitForSelector('#train:enabled', { timeout: 5 * 60_000 });
    const backend = await page.locator('#backend-status').textContent();
    console.log(`[soak] ${MINUTES} min on ${backend}; ${RUN}; warm-up ${WARMUP} min`);
    if ((await page.locator('#backend-status').getAttribute('data-backend')) !== 'webgpu') throw new Error('the demo is not on WebGPU');

    // Training: start a run, wait for it to end, start the next, until told to stop.
    let running = true;
    let runs = 0;
    const training = (async () => {
      while (running) {
        await page.click('#train');
        await page.waitForSelector('#train:disabled'); // the run began
        await page.waitForSelector('#train:enabled', { timeout: 0 }); // and ended
        if (errors.length) throw new Error(errors.join('; '));
        runs++;
      }
    })();
    training.catch(() => undefined); // read below; a failure also stops the sampling

    const t0 = Date.now();
    for (let minute = 0; minute <= MINUTES; minute++) {
      await Promise.race([sleep(Math.max(0, t0 + minute * 60_000 - Date.now())), training]);
      const mem = await page.evaluate(() => window.neuriteDemo.memory());
      const sample = { minute, heapPage: await heapUsed((m) => cdp.send(m)), heapWorker: await heapUsed(worker), ...mem, runs };
      samples.push(sample);
      console.log(`[soak] ${COLUMNS.map((c) => `${c}=${sample[c]}`).join(' ')}`);
      writeOutputs(samples, [`PARTIAL: ${samples.length} of ${MINUTES + 1} samples so far`]);
      if (errors.length) throw new Error(errors.join('; '));
    }
    running = false;
    await page.click('#stop').catch(() => undefined);
    await page.waitForSelector('#train:enabled', { timeout: 5 * 60_000 });
    await training;

    const { ok, lines } = verdict(samples);
    const md = writeOutputs(samples, [`${backend}; ${RUN}; warm-up ${WARMUP} min`, ...lines, ok ? 'verdict: flat' : 'verdict: GREW']);
    console.log(`\n${md}\n[soak] samples in ${OUT}/soak.csv and soak.md`);
    process.exitCode = ok ? 0 : 1;
  } finally {
    await browser.close();
    vite.kill('SIGTERM');
  }
}

main().catch((e) => {
  console.error(`[soak] failed: ${e.stack ?? e}`);
  writeOutputs(samples, [`PARTIAL: the run failed after ${samples.length} of ${MINUTES + 1} samples: ${e.message ?? e}`]);
  process.exit(2);
});
