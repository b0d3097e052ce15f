/* core/shadow/shadow.c — the shadow device's two address ranges, allocator and fault report; see shadow.h. */
#define _GNU_SOURCE
#include "core/shadow/shadow.h"

#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/common.h"

#define SHADOW_PAGE ((size_t)4096)

/* One block of the range: [off, off + len), allocated or free. Blocks tile [0, top) in offset order. */
typedef struct shadow_block {
    size_t off, len;
    bool used;
} shadow_block;

static pthread_mutex_t shadow_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *shadow_mem;  /* storage range M (read-write), NULL until the first allocation */
static unsigned char *shadow_base; /* view range V (never accessible): device pointers point here */
static size_t shadow_reserved, shadow_top, shadow_in_use;
static shadow_block *shadow_blocks;
static size_t shadow_nblocks, shadow_capblocks;
static struct sigaction shadow_prev_segv;

static void shadow_segv(int sig, siginfo_t *si, void *uctx) {
    (void)uctx;
    const unsigned char *a = si->si_addr;
    if (shadow_base && a >= shadow_base && a < shadow_base + shadow_reserved) {
        char msg[256];
        const int n = snprintf(msg, sizeof msg,
                               "hashlab: host access to shadow-device memory at %p (offset %zu of the range): a "
                               "missing host<->device transfer. Backtrace:\n",
                               (const void *)a, (size_t)(a - shadow_base));
        if (n > 0) (void)!write(2, msg, (size_t)HL_MIN(n, (int)sizeof msg - 1));
        void *bt[48];
        backtrace_symbols_fd(bt, backtrace(bt, 48), 2);
        /* Reported: die of the signal itself (not through another handler, e.g. a sanitizer's, that would exit
         * with its own status). */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    /* Not ours: the handler that was there before (or the default). */
    sigaction(sig, &shadow_prev_segv, NULL);
    raise(sig);
}

/* Reserve both ranges (caller holds the mutex). Tries 64 GiB each, then smaller, of address space: nothing is
 * committed until a page of M is touched. */
static bool shadow_reserve(void) {
    for (size_t gib = 64; gib >= 1; gib /= 2) {
        const size_t len = gib << 30;
        void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) continue;
        void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            munmap(m, len);
            continue;
        }
        shadow_mem = m;
        shadow_base = p;
        shadow_reserved = len;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = shadow_segv;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, &shadow_prev_segv);
        return true;
    }
    return false;
}

static bool blocks_insert(size_t at, shadow_block b) {
    if (shadow_nblocks == shadow_capblocks) {
        size_t nc = shadow_capblocks ? 2 * shadow_capblocks : 256;
        shadow_block *g = realloc(shadow_blocks, nc * sizeof *g);
        if (!g) return false;
        shadow_blocks = g;
        shadow_capblocks = nc;
    }
    memmove(shadow_blocks + at + 1, shadow_blocks + at, (shadow_nblocks - at) * sizeof *shadow_blocks);
    shadow_blocks[at] = b;
    shadow_nblocks++;
    return true;
}

static void blocks_remove(size_t at) {
    memmove(shadow_blocks + at, shadow_blocks + at + 1, (shadow_nblocks - at - 1) * sizeof *shadow_blocks);
    shadow_nblocks--;
}

void *hl_shadow_alloc(size_t bytes) {
    const size_t need = bytes ? (bytes + SHADOW_PAGE - 1) / SHADOW_PAGE * SHADOW_PAGE : SHADOW_PAGE;
    void *out = NULL;
    pthread_mutex_lock(&shadow_mu);
    if (!shadow_base && !shadow_reserve()) {
        pthread_mutex_unlock(&shadow_mu);
        hl_error_set(HL_ENOMEM, "shadow device: cannot reserve an address range");
        return NULL;
    }
    for (size_t i = 0; i < shadow_nblocks && !out; i++) { /* first fit */
        shadow_block *b = &shadow_blocks[i];
        if (b->used || b->len < need) continue;
        if (b->len > need && !blocks_insert(i + 1, (shadow_block){b->off + need, b->len - need, false})) break;
        b = &shadow_blocks[i];
        b->len = need;
        b->used = true;
        out = shadow_base + b->off;
    }
    if (!out && shadow_top + need <= shadow_reserved &&
        blocks_insert(shadow_nblocks, (shadow_block){shadow_top, need, true})) {
        out = shadow_base + shadow_top;
        shadow_top += need;
    }
    if (out) shadow_in_use += need;
    pthread_mutex_unlock(&shadow_mu);
    if (!out) hl_error_set(HL_ENOMEM, "shadow device: out of memory allocating %zu bytes", bytes);
    return out;
}

void hl_shadow_free(void *p) {
    if (!p) return;
    pthread_mutex_lock(&shadow_mu);
    HL_ASSERT(hl_shadow_owns(p), "hl_shadow_free: %p is not shadow memory", p);
    const size_t off = (size_t)((unsigned char *)p - shadow_base);
    size_t lo = 0, hi = shadow_nblocks; /* binary search for the block at off */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (shadow_blocks[mid].off < off) lo = mid + 1;
        else hi = mid;
    }
    HL_ASSERT(lo < shadow_nblocks && shadow_blocks[lo].off == off && shadow_blocks[lo].used,
              "hl_shadow_free: %p was not allocated (double free?)", p);
    shadow_block *b = &shadow_blocks[lo];
    b->used = false;
    shadow_in_use -= b->len;
    madvise(shadow_mem + b->off, b->len, MADV_DONTNEED); /* give the pages back; they read as zero when reused */
    if (lo + 1 < shadow_nblocks && !shadow_blocks[lo + 1].used) {
        b->len += shadow_blocks[lo + 1].len;
        blocks_remove(lo + 1);
    }
    if (lo > 0 && !shadow_blocks[lo - 1].used) {
        shadow_blocks[lo - 1].len += shadow_blocks[lo].len;
        blocks_remove(lo);
    }
    pthread_mutex_unlock(&shadow_mu);
}

void *hl_shadow_real(const void *p) {
    const unsigned char *a = p;
    if (shadow_base && a >= shadow_base && a < shadow_base + shadow_reserved) return shadow_mem + (a - shadow_base);
    return (void *)(uintptr_t)p;
}

void *hl_shadow_dev(const void *p, const char *kernel, const char *arg) {
    if (!p) return NULL;
    if (!hl_shadow_owns(p))
        hl_abort(__FILE__, __LINE__, "hl_shadow_owns(p)",
                 "shadow kernel %s: argument '%s' = %p is host memory, not shadow-device memory (a tensor of another "
                 "device reached this device's kernel)", kernel, arg, p);
    return hl_shadow_real(p);
}

bool hl_shadow_owns(const void *p) {
    const unsigned char *a = p;
    return shadow_base && a >= shadow_base && a < shadow_base + shadow_reserved;
}

size_t hl_shadow_bytes_in_use(void) {
    pthread_mutex_lock(&shadow_mu);
    size_t n = shadow_in_use;
    pthread_mutex_unlock(&shadow_mu);
    return n;
}
