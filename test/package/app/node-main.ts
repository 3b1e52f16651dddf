// The consumer's Node program: trains on the CPU backend and on WebGPU (Dawn, the optional
// `webgpu` package) and prints one JSON line per run for the package check to read.
import { trainTiny } from './consumer.js';

for (const backend of ['cpu', 'webgpu'] as const) console.log(JSON.stringify(await trainTiny(backend)));
