/* core/cpu/table.h — the CPU kernel table (complete: every entry non-NULL). */
#ifndef HL_CPU_TABLE_H
#define HL_CPU_TABLE_H

#include "core/kernels.h"

extern const hl_kernels hl_cpu_kernels;

#endif
