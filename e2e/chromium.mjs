// How every Playwright run here starts Chromium: Debian's browser (never `npx playwright install`),
// headless, with WebGPU forced onto SwiftShader's Vulkan. Shared by playwright.config.ts (the e2e
// tests) and bench/browser/run.mjs (npm run bench:browser).

/** Debian's Chromium. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Chromium flags: headless with WebGPU on SwiftShader, and no background traffic. */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
