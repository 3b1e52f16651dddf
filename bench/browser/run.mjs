// npm run bench:browser [-- --quick] [-- --only=matmul|train]: serves bench/browser/ with Vite and
// runs its page in headless Chromium (WebGPU on SwiftShader, the flags of the e2e tests), then
// prints each library's figures and Neurite's ratios. Not a test: compare ratios within one run.
import { chromium } from 'playwright';
import { createServer } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../e2e/chromium.mjs';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const quick = args.has('quick');
const PORT = 5185;

const root = new URL('../..', import.meta.url).pathname;
const server = await createServer({
  root,
  configFile: false,
  // Its own dependency cache, so it never contends with the e2e or demo servers' caches.
  cacheDir: 'node_modules/.vite-bench',
  logLevel: 'error',
  server: { host: 'localhost', port: PORT, strictPort: true, hmr: false },
  optimizeDeps: { entries: ['bench/browser/index.html'] },
});
await server.listen();
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.log(`[page ${m.type()}] ${m.text()}`);
  });
  await page.goto(`http://localhost:${PORT}/bench/browser/index.html`, { timeout: 180_000 });
  await page.waitForFunction(() => typeof window.bench === 'function', null, { timeout: 180_000 });
  const options = { steps: quick ? 2 : 4, reps: quick ? 1 : 3, trainReps: quick ? 1 : 2, only: args.get('only') };
  const result = await page.evaluate((o) => window.bench(o), options);
  const fmt = (v) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) : 'n/a');
  const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
  console.log(`Chromium ${await browser.version()}, adapter: ${result.adapter}\n`);
  console.log('| benchmark | unit | neurite | tfjs | jaxjs | neurite/tfjs | neurite/jax-js |');
  console.log('|---|---|---|---|---|---|---|');
  for (const { what, unit, values: v } of result.rows) {
    console.log(`| ${what} | ${unit} | ${fmt(v.neurite)} | ${fmt(v.tfjs)} | ${fmt(v.jaxjs)} | ${ratio(v.neurite, v.tfjs)} | ${ratio(v.neurite, v.jaxjs)} |`);
  }
} finally {
  await browser.close();
  await server.close();
}
