// fp32 peaks (no tensor cores: WGSL's f32 math runs on the ordinary cores) of common GPUs, from
// the vendors' datasheets, matched against the adapter's description. `npm run bench:gpu` prints
// matMul speed as a share of it; `--peak=TFLOPS` covers cards missing here.

/** [pattern, card, fp32 TFLOP/s]; the first match wins, so specific names precede general ones. */
const PEAKS = [
  [/H200\s*NVL/i, 'H200 NVL', 60],
  [/H200/i, 'H200 SXM', 66.9],
  [/H100\s*PCIe/i, 'H100 PCIe', 51.2],
  [/H100\s*NVL/i, 'H100 NVL', 60],
  [/H100/i, 'H100 SXM', 66.9],
  [/A100/i, 'A100', 19.5],
  [/L40S/i, 'L40S', 91.6],
  [/L40\b/i, 'L40', 90.5],
  [/\bL4\b/i, 'L4', 30.3],
  [/\bA10G\b/i, 'A10G', 31.5],
  [/\bA10\b/i, 'A10', 31.2],
  [/\bT4\b/i, 'T4', 8.1],
  [/V100/i, 'V100 SXM2', 15.7],
  [/RTX\s*6000\s*Ada/i, 'RTX 6000 Ada', 91.1],
  [/RTX\s*A6000/i, 'RTX A6000', 38.7],
  [/RTX\s*4090/i, 'RTX 4090', 82.6],
  [/RTX\s*4080/i, 'RTX 4080', 48.7],
  [/RTX\s*3090\s*Ti/i, 'RTX 3090 Ti', 40],
  [/RTX\s*3090/i, 'RTX 3090', 35.6],
  [/RTX\s*3080/i, 'RTX 3080', 29.8],
];

/** The card's fp32 peak from its adapter info ({ tflops, card }), or null when it is not in the table. */
export function peakTflops(info) {
  const text = [info.vendor, info.architecture, info.device, info.description].join(' ');
  const hit = PEAKS.find(([pattern]) => pattern.test(text));
  return hit ? { card: hit[1], tflops: hit[2] } : null;
}
