/* defences/registry.c — defence lookup: the built-in table from defences.def, then the classes registered at run
 * time (plugins). */
#include <stdlib.h>
#include <string.h>

#include "defences/defence.h"

#define HL_DEFENCE(n) extern const hl_defence_class hl_defence_##n;
#include "defences/defences.def"
#undef HL_DEFENCE

static const hl_defence_class *const k_defences[] = {
#define HL_DEFENCE(n) &hl_defence_##n,
#include "defences/defences.def"
#undef HL_DEFENCE
};

#define HL_REGISTRY_MAX 256

static const hl_defence_class *g_extra[HL_REGISTRY_MAX];
static int g_nextra;

hl_status hl_defence_class_register(const hl_defence_class *cls) {
    if ((int)HL_ARRAY_LEN(k_defences) + g_nextra >= HL_REGISTRY_MAX)
        return hl_error_set(HL_ENOMEM, "defence '%s': more than %d defence classes", cls->name, HL_REGISTRY_MAX);
    g_extra[g_nextra++] = cls;
    return HL_OK;
}

void hl_defence_class_unregister(const hl_defence_class *cls) {
    for (int i = 0; i < g_nextra; i++)
        if (g_extra[i] == cls) {
            memmove(g_extra + i, g_extra + i + 1, (size_t)(g_nextra - i - 1) * sizeof *g_extra);
            g_nextra--;
            return;
        }
}

static int cmp_cls(const void *a, const void *b) {
    return strcmp((*(const hl_defence_class *const *)a)->name, (*(const hl_defence_class *const *)b)->name);
}

static int gather(const hl_defence_class **out) {
    int n = 0;
    for (int i = 0; i < (int)HL_ARRAY_LEN(k_defences) && n < HL_REGISTRY_MAX; i++) out[n++] = k_defences[i];
    for (int i = 0; i < g_nextra && n < HL_REGISTRY_MAX; i++) out[n++] = g_extra[i];
    qsort(out, (size_t)n, sizeof *out, cmp_cls);
    return n;
}

int hl_defence_class_count(void) {
    const hl_defence_class *all[HL_REGISTRY_MAX];
    return gather(all);
}

const hl_defence_class *hl_defence_class_at(int i) {
    const hl_defence_class *all[HL_REGISTRY_MAX];
    int n = gather(all);
    HL_ASSERT(i >= 0 && i < n, "index %d of %d", i, n);
    return all[i];
}

const hl_defence_class *hl_defence_class_find(const char *name) {
    const hl_defence_class *all[HL_REGISTRY_MAX];
    const char *names[HL_REGISTRY_MAX];
    int n = gather(all);
    for (int i = 0; i < n; i++) {
        if (name && strcmp(all[i]->name, name) == 0) return all[i];
        names[i] = all[i]->name;
    }
    hl_registry_miss("defence", name ? name : "", names, n);
    return NULL;
}
