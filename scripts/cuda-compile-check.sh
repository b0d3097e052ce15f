#!/usr/bin/env bash
# scripts/cuda-compile-check.sh — compile-only check of the CUDA variant (-DHASHLAB_CUDA=ON), for CI machines
# without a GPU: configures build-cuda and builds every target (no test is run here; on a machine without a GPU the
# CUDA halves of the device tests skip). Without nvcc it says so and exits 0, so CPU-only CI stays green.
#   usage: scripts/cuda-compile-check.sh [BUILD_DIR] [JOBS]      (defaults: build-cuda, nproc)
# Architectures: CMAKE_CUDA_ARCHITECTURES from the environment if set, else the project default "80;90".
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-cuda}
jobs=${2:-$(nproc 2>/dev/null || echo 2)}

nvcc_bin=$(command -v nvcc || true)
if [ -z "$nvcc_bin" ]; then
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do
    if [ -x "$d/nvcc" ]; then nvcc_bin="$d/nvcc"; break; fi
  done
fi
if [ -z "$nvcc_bin" ]; then
  echo "cuda-compile-check: nvcc not found (PATH, /usr/local/cuda*/bin): skipping the CUDA compile check"
  exit 0
fi
echo "cuda-compile-check: using $nvcc_bin ($("$nvcc_bin" --version | tail -1))"

archs=()
if [ -n "${CMAKE_CUDA_ARCHITECTURES:-}" ]; then archs=(-DCMAKE_CUDA_ARCHITECTURES="$CMAKE_CUDA_ARCHITECTURES"); fi
log="$build.configure.log"
if ! cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DHASHLAB_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc_bin" \
     "${archs[@]}" >"$log" 2>&1; then
  cat "$log"
  echo "cuda-compile-check: configure FAILED"
  exit 1
fi
blog="$build/cuda-compile-check.log"
if ! cmake --build "$build" -j "$jobs" >"$blog" 2>&1; then
  tail -50 "$blog"
  echo "cuda-compile-check: build FAILED (full log: $blog)"
  exit 1
fi
warnings=$(grep -c -i "warning" "$blog" || true)
if [ "$warnings" -ne 0 ]; then
  grep -i -B2 -A4 "warning" "$blog" | head -60
  echo "cuda-compile-check: build has $warnings warning line(s) (full log: $blog)"
  exit 1
fi
echo "cuda-compile-check: OK (CUDA variant configured, compiled and linked with 0 warnings in $build)"
