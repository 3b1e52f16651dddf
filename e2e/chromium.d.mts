// Types of e2e/chromium.mjs (plain JavaScript, so that Node scripts can import it without a build).

/** Debian's Chromium. */
export declare const CHROMIUM_PATH: string;
/** Chromium flags: headless with WebGPU on SwiftShader, and no background traffic. */
export declare const CHROMIUM_ARGS: string[];
