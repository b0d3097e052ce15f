/* core/threads.c — one knob for OpenMP and OpenBLAS thread counts (--threads / HASHLAB_THREADS). */
#include "core/common.h"

#include <stdlib.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

void openblas_set_num_threads(int num_threads); /* OpenBLAS extension; declared here to keep cblas.h in cpu/ */

static int hl__threads;

int hl_threads_set(int n) {
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
    }
    hl__threads = n;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    openblas_set_num_threads(n);
    return n;
}

int hl_threads_get(void) { return hl__threads ? hl__threads : hl_threads_init(); }

int hl_threads_init(void) {
    const char *env = getenv("HASHLAB_THREADS");
    return hl_threads_set(env ? atoi(env) : 0);
}
