/* core/backend.c — the only place that lists devices with #ifdef: maps a device to its kernel table. */
#include "core/cpu/table.h"

const char *hl_device_name(hl_device d) {
    static const char *const names[HL_DEVICE_COUNT] = {"cpu", "cuda"};
    return (unsigned)d < HL_DEVICE_COUNT ? names[d] : "?";
}

#ifdef HASHLAB_CUDA
extern const hl_kernels *hl_cuda_kernels_get(void); /* core/cuda/table.cu (CUDA issue) */
bool hl_cuda_present(void);
#endif

const hl_kernels *hl_kernels_for(hl_device dev) {
    switch (dev) {
    case HL_DEVICE_CPU: return &hl_cpu_kernels;
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
    return dev == HL_DEVICE_CPU;
}
