#!/usr/bin/env bash
# Runs the built test suite again under other OpenBLAS kernels and thread counts, so that no test depends on one
# machine's floating-point trajectory (what CI does after `make test`; see README "Tests").
#   scripts/test-kernels.sh BUILD_DIR [KERNEL:THREADS ...]
# Default: Haswell:2 SkylakeX:1 Zen:1 Sandybridge:2. OPENBLAS_CORETYPE forces OpenBLAS's kernel family (any x86-64
# CPU runs Haswell/Zen/Sandybridge kernels if it has AVX2/AVX; SkylakeX needs avx512f and is skipped, saying so,
# where the CPU lacks it). HASHLAB_TEST_THREADS sets the threads of every test (tests/common/test_common.c).
set -uo pipefail
build=${1:?usage: scripts/test-kernels.sh BUILD_DIR [KERNEL:THREADS ...]}
shift
configs=("$@")
[[ ${#configs[@]} -eq 0 ]] && configs=(Haswell:2 SkylakeX:1 Zen:1 Sandybridge:2)
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
failed=0
for c in "${configs[@]}"; do
  kernel=${c%%:*} threads=${c##*:}
  case $kernel in
    SkylakeX|Cooperlake) need=avx512f ;;
    Haswell|Zen) need=avx2 ;;
    Sandybridge) need=avx ;;
    *) need= ;;
  esac
  if [[ -n $need && " $flags " != *" $need "* ]]; then
    echo "test-kernels: $kernel skipped: this CPU lacks $need"
    continue
  fi
  echo "test-kernels: OPENBLAS_CORETYPE=$kernel, $threads thread(s)"
  if ! (cd "$build" && OPENBLAS_CORETYPE=$kernel HASHLAB_TEST_THREADS=$threads ctest --output-on-failure -j 2); then
    echo "test-kernels: FAILED under OPENBLAS_CORETYPE=$kernel with $threads thread(s)"
    failed=1
  fi
done
exit $failed
