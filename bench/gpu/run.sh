#!/usr/bin/env bash
# Runs on the GPU machine after the bundle's install.sh: the Node engine bench, then the
# Hugging Face baseline, in one visit. Results land in $OUT.
set -uo pipefail
: "${OUT:?OUT must be set}"
source /tmp/gpu/env.sh
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.csv" 2>&1
timeout 400 node .gpu/bench/gpu-bench.js 2>&1 | tee "$OUT/node-bench.log"
timeout 150 /opt/torch/.venv/bin/python bench/gpu/hf_baseline.py 2>&1 | tee "$OUT/hf-baseline.log"
ls -l "$OUT"
