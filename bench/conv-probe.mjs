// node bench/conv-probe.mjs [--rounds=5] [--variants=plain,in]: the tutorial CNN's conv kernels
// (batch 64: conv2d and both backprops of each layer) timed one by one on WebGPU under each variant
// of the register kernels in turn, alternately in one process (other jobs share the cores: compare
// within a run; the best of many rounds is the least disturbed). Variants: `plain`, and `in`, which
// drops the bounds tests where every tap lies inside x. Each variant's output is checked against the first's.
import { existsSync } from 'node:fs';
import { createServer } from 'vite';
import { randomArray } from './workloads.mjs';

if (!process.env.VK_ICD_FILENAMES && !process.env.VK_ADD_DRIVER_FILES && existsSync('/usr/lib/chromium/vk_swiftshader_icd.json')) {
  process.env.VK_ADD_DRIVER_FILES = '/usr/lib/chromium/vk_swiftshader_icd.json';
}
process.env.XDG_RUNTIME_DIR ??= '/tmp';
const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const rounds = Number(args.get('rounds') ?? 5);
const variants = (args.get('variants') ?? 'plain,in').split(',');
for (const v of variants) if (v !== 'plain' && v !== 'in') throw new Error(`--variants: '${v}' is neither 'plain' nor 'in'`);

const vite = await createServer({ server: { middlewareMode: true, hmr: false }, appType: 'custom', logLevel: 'error' });
const nt = await vite.ssrLoadModule('/src/index.ts');
const conv = await vite.ssrLoadModule('/src/ops/conv.ts');
const wgsl = await vite.ssrLoadModule('/src/ops/conv-wgsl.ts');
await nt.setBackend('webgpu', { tiling: 'register' });

// Each register kernel is rebuilt with the current variant: the generator's inputs are read back
// from the pipeline key (kind, vec4 columns, one channel, shared tap, taps inside).
let variant = 'plain';
for (const op of [conv.conv2dOp, conv.conv2dBackpropInputOp, conv.conv2dBackpropFilterOp]) {
  const kernel = op.kernel;
  op.kernel = (...a) => {
    const call = kernel(...a);
    const tile = { rows: 8, cols4: 2, bVec: /:r8c2v4/.test(call.key), inside: variant === 'in' && /:r8c2(v4|s)in/.test(call.key) };
    const source = call.key.includes(':backpropFilter:')
      ? () => wgsl.filterGemmWgsl(tile, call.key.includes(':tap'))
      : () => wgsl.gatherGemmWgsl(call.key.includes(':forward:') ? 'forward' : 'backpropInput', tile, null, call.key.includes(':c1'));
    return { ...call, key: `${call.key}|probe-${variant}`, wgsl: source };
  };
}

const t = (shape, seed) => nt.tensor(randomArray(shape.reduce((x, y) => x * y, 1), seed), shape);
/** [layer, x, filter, y shapes]: the CNN's conv layers at batch 64 ('valid', 3×3). */
const layers = [
  [1, [64, 28, 28, 1], [3, 3, 1, 32], [64, 26, 26, 32]],
  [2, [64, 13, 13, 32], [3, 3, 32, 64], [64, 11, 11, 64]],
  [3, [64, 5, 5, 64], [3, 3, 64, 64], [64, 3, 3, 64]],
];
const cases = layers.flatMap(([l, xs, fs, ys]) => {
  const [x, f, dy] = [t(xs, 1), t(fs, 2), t(ys, 3)];
  return [
    [`layer ${l} conv2d`, () => nt.conv2d(x, f)],
    ...(l > 1 ? [[`layer ${l} backpropInput`, () => conv.conv2dBackpropInput(dy, f, xs)]] : []),
    [`layer ${l} backpropFilter`, () => conv.conv2dBackpropFilter(x, dy, fs)],
  ];
});

// Wall ms and the process's CPU ms (SwiftShader's threads run in this process; CPU time is the
// steadier measure of a kernel's work on cores shared with other jobs).
const times = new Map();
const cpuTimes = new Map();
const firstOut = new Map();
for (let r = 0; r < rounds + 1; r++) {
  for (const [name, run] of cases) {
    for (const u of variants) {
      variant = u;
      await nt.sync();
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const y = run();
      await nt.sync();
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (args.has('verbose')) console.log(`${name} ${u}: ${ms.toFixed(1)} ms`);
      if (r === 0) {
        // The first round compiles and checks: every variant against the first.
        const v = await y.data();
        const ref = firstOut.get(name);
        if (!ref) firstOut.set(name, v);
        else {
          let worst = 0;
          let scale = 0;
          for (let i = 0; i < v.length; i++) {
            worst = Math.max(worst, Math.abs(v[i] - ref[i]));
            scale = Math.max(scale, Math.abs(ref[i]));
          }
          if (!(worst <= 1e-5 * scale)) throw new Error(`${name} ${u}: differs from ${variants[0]} by ${worst} (scale ${scale})`);
        }
      } else {
        const key = `${name}|${u}`;
        times.set(key, [...(times.get(key) ?? []), ms]);
        cpuTimes.set(key, [...(cpuTimes.get(key) ?? []), (c.user + c.system) / 1000]);
      }
      y.dispose();
    }
  }
}
const line = (cells) => `| ${cells.join(' | ')} |`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(line(['kernel', ...variants.map((v) => `${v}: wall best / median, CPU median (ms)`)]));
const totals = variants.map(() => 0);
for (const [name] of cases) {
  const cells = variants.map((v, i) => {
    const ts = times.get(`${name}|${v}`);
    const cpuMedian = median(cpuTimes.get(`${name}|${v}`));
    totals[i] += cpuMedian;
    return `${Math.min(...ts).toFixed(1)} / ${median(ts).toFixed(1)}, ${cpuMedian.toFixed(1)}`;
  });
  console.log(line([name, ...cells]));
}
console.log(line(['sum of CPU medians', ...totals.map((v) => v.toFixed(1))]));
await vite.close();
process.exit(0);
