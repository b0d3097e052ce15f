#!/usr/bin/env bash
# scripts/gpu-pack.sh — prepares a GPU window on a machine that has no hashlab build dependencies (the lent GPU
# machines have the CUDA toolkit and PyTorch but no OpenBLAS, libyaml, Criterion, …): builds the CUDA variant here
# (scripts/cuda-compile-check.sh) and copies hashlab, test_core and test_eval with the shared libraries they need
# (everything ldd lists except the C library, the loader and CUDA's own libraries, which the GPU machine has) into
# DIR (default .gpu, git-ignored through .git/info/exclude). Then, on the GPU machine:
#     scripts/gpu-check.sh --prebuilt .gpu
#   usage: scripts/gpu-pack.sh [DIR] [BUILD_DIR]        (defaults: .gpu, build-cuda; CMAKE_CUDA_ARCHITECTURES=90
#                                                         by default here: H100 and H200)
set -euo pipefail
cd "$(dirname "$0")/.."
dst=${1:-.gpu}
build=${2:-build-cuda}
export CMAKE_CUDA_ARCHITECTURES=${CMAKE_CUDA_ARCHITECTURES:-90}
scripts/cuda-compile-check.sh "$build"
[ -x "$build/hashlab" ] || { echo "gpu-pack: $build/hashlab was not built (is nvcc installed?)" >&2; exit 1; }
rm -rf "$dst"
mkdir -p "$dst/bin" "$dst/lib"
bins=("$build/hashlab" "$build/tests/test_core" "$build/tests/test_eval")
cp "${bins[@]}" "$dst/bin/"
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libpthread|libdl\.so|librt\.so|libcuda\.so|libcublas|libcublasLt|libnvidia)'
for b in "${bins[@]}"; do
  ldd "$b" | awk '/=> \//{print $1" "$3}' | while read -r name path; do
    if [[ ! $name =~ $skip ]] && [ ! -e "$dst/lib/$name" ]; then cp -L "$path" "$dst/lib/$name"; fi
  done
done
grep -qx "/$dst/" .git/info/exclude 2>/dev/null || echo "/$dst/" >>.git/info/exclude
size=$(du -sm "$dst" | cut -f1)
echo "gpu-pack: $dst holds $(ls "$dst/bin" | wc -l) programs and $(ls "$dst/lib" | wc -l) libraries, ${size} MiB"
if [ "$size" -gt 56 ]; then
  echo "gpu-pack: $dst is over 56 MiB: the device tool carries at most 64 MiB with the working tree" >&2
  exit 1
fi
