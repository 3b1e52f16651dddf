// The public `data` namespace: the data sources of data.ts and `zip`, which combines them. Kept
// apart from data.ts because data-zip.ts builds on data.ts (one module each way would be a cycle).
export * from './data.js';
export { zip } from './data-zip.js';
