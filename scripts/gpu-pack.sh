#!/usr/bin/env bash
# scripts/gpu-pack.sh — prepares a GPU window on a machine that has no hashlab build dependencies (the lent GPU
# machines have the CUDA toolkit and PyTorch but no OpenBLAS, libyaml, Criterion, …): builds the CUDA variant here
# (scripts/cuda-compile-check.sh) and copies hashlab, test_core and test_eval with the shared libraries they need
# (everything ldd lists except the C and C++ runtimes, the loader and CUDA's own libraries, which the GPU machine has)
# into DIR/pack.tar.xz (DIR default .gpu, git-ignored through .git/info/exclude; about 25 MiB, under the device tool's
# 64 MiB). Then, on the GPU machine (the device tool carrying DIR):
#     scripts/gpu-check.sh --prebuilt .gpu/pack.tar.xz
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
stage="$dst/stage"
mkdir -p "$stage/bin" "$stage/lib"
bins=("$build/hashlab" "$build/tests/test_core" "$build/tests/test_eval")
cp "${bins[@]}" "$stage/bin/"
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libpthread|libdl\.so|librt\.so|libstdc\+\+|libgcc_s|libcuda\.so|libcublas|libnvidia)'
for b in "${bins[@]}"; do
  ldd "$b" | awk '/=> \//{print $1" "$3}' | while read -r name path; do
    if [[ ! $name =~ $skip ]] && [ ! -e "$stage/lib/$name" ]; then cp -L "$path" "$stage/lib/$name"; fi
  done
done
tar -C "$stage" -cf - . | xz -T0 -6 >"$dst/pack.tar.xz"
rm -rf "$stage"
grep -qx "/$dst/" .git/info/exclude 2>/dev/null || echo "/$dst/" >>.git/info/exclude
size=$(du -sm "$dst/pack.tar.xz" | cut -f1)
echo "gpu-pack: $dst/pack.tar.xz: ${#bins[@]} programs and their libraries, ${size} MiB"
if [ "$size" -gt 56 ]; then
  echo "gpu-pack: $dst/pack.tar.xz is over 56 MiB: the device tool carries at most 64 MiB with the working tree" >&2
  exit 1
fi
