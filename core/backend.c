/* core/backend.c — the only place that lists devices with #ifdef: maps a device to its kernel table. */
#include "core/cpu/table.h"

#include <string.h>

static const char *const device_names[HL_DEVICE_COUNT] = {"cpu", "cuda", "shadow"};

const char *hl_device_name(hl_device d) { return (unsigned)d < HL_DEVICE_COUNT ? device_names[d] : "?"; }

hl_device hl_device_from_name(const char *name) {
    for (int d = 0; name && d < HL_DEVICE_COUNT; d++)
        if (strcmp(name, device_names[d]) == 0) return (hl_device)d;
    return HL_DEVICE_COUNT;
}

extern const hl_kernels hl_shadow_kernels; /* core/shadow/table.c */

#ifdef HASHLAB_CUDA
extern const hl_kernels *hl_cuda_kernels_get(void); /* core/cuda/table.cu */
bool hl_cuda_present(void);
#endif

const hl_kernels *hl_kernels_for(hl_device dev) {
    switch (dev) {
    case HL_DEVICE_CPU: return &hl_cpu_kernels;
    case HL_DEVICE_SHADOW: return &hl_shadow_kernels;
#ifdef HASHLAB_CUDA
    case HL_DEVICE_CUDA: return hl_cuda_kernels_get();
#endif
    default: return NULL;
    }
}

bool hl_device_available(hl_device dev) {
#ifdef HASHLAB_CUDA
    if (dev == HL_DEVICE_CUDA) return hl_cuda_present();
#endif
    return dev == HL_DEVICE_CPU || dev == HL_DEVICE_SHADOW;
}
