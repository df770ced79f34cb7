#!/usr/bin/env bash
# Bundles bench/gpu/gpu-bench.ts into one file for the GPU machine (no Node modules there
# except onnxruntime-node, which the GPU bundle's install puts on NODE_PATH).
#   bench/gpu/build.sh   (from the project root) -> .gpu/bench/gpu-bench.js
set -euo pipefail
mkdir -p .gpu/bench
npx esbuild bench/gpu/gpu-bench.ts --bundle --platform=node --target=node20 \
  --external:onnxruntime-node --tsconfig=tsconfig.base.json \
  --outfile=.gpu/bench/gpu-bench.js --log-level=warning
ls -l .gpu/bench/gpu-bench.js
