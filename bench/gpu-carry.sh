#!/usr/bin/env bash
# Packs what `node bench/gpu.mjs` needs on a machine that cannot install anything (a lent GPU
# machine) into .gpu-carry/ (git-ignored, ~30 MiB): the built library is dist/ (run `npm run build`
# first); here, the few node_modules it loads (Dawn for linux-x64 only, TF.js's CommonJS builds
# only) and the Vulkan loader. bench/README.md says how to run it there.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=.gpu-carry
rm -rf "$OUT"
mkdir -p "$OUT/node_modules/@tensorflow" "$OUT/lib"

# Dawn: its JS and the linux-x64 binary.
mkdir -p "$OUT/node_modules/webgpu/dist/linux-x64"
cp node_modules/webgpu/{package.json,index.js} "$OUT/node_modules/webgpu/"
cp node_modules/webgpu/dist/linux-x64/dawn.node "$OUT/node_modules/webgpu/dist/linux-x64/"

# TF.js: each package's Node entry (its package.json "main") and nothing else.
for p in tfjs-core tfjs-layers tfjs-backend-webgpu tfjs-backend-cpu; do
  src=node_modules/@tensorflow/$p
  main=$(node -p "require('./$src/package.json').main")
  mkdir -p "$OUT/node_modules/@tensorflow/$p/$(dirname "$main")"
  cp "$src/package.json" "$OUT/node_modules/@tensorflow/$p/"
  cp "$src/$main" "$OUT/node_modules/@tensorflow/$p/$main"
done
# What those entries require.
for p in seedrandom node-fetch whatwg-url tr46 webidl-conversions; do
  cp -r "node_modules/$p" "$OUT/node_modules/"
done

# The Vulkan loader, which GPU machines without Vulkan packages lack (found through LD_LIBRARY_PATH).
cp -L /usr/lib/x86_64-linux-gnu/libvulkan.so.1 "$OUT/lib/"
du -sh "$OUT"
