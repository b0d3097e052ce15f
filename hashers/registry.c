/* hashers/registry.c — hasher lookup: the built-in table from hashers.def, then the classes registered at run time
 * (plugins: lab/plugin.h). */
#include <stdlib.h>
#include <string.h>

#include "hashers/hasher.h"

#define HL_HASHER(n) extern const hl_hasher_class hl_hasher_##n;
#include "hashers/hashers.def"
#undef HL_HASHER

static const hl_hasher_class *const k_hashers[] = {
#define HL_HASHER(n) &hl_hasher_##n,
#include "hashers/hashers.def"
#undef HL_HASHER
};

#define HL_REGISTRY_MAX 256

static const hl_hasher_class *g_extra[HL_REGISTRY_MAX];
static int g_nextra;

hl_status hl_hasher_class_register(const hl_hasher_class *cls) {
    if (hl_hasher_builtin_count() + g_nextra >= HL_REGISTRY_MAX)
        return hl_error_set(HL_ENOMEM, "hasher '%s': more than %d hasher classes", cls->name, HL_REGISTRY_MAX);
    g_extra[g_nextra++] = cls;
    return HL_OK;
}

void hl_hasher_class_unregister(const hl_hasher_class *cls) {
    for (int i = 0; i < g_nextra; i++)
        if (g_extra[i] == cls) {
            memmove(g_extra + i, g_extra + i + 1, (size_t)(g_nextra - i - 1) * sizeof *g_extra);
            g_nextra--;
            return;
        }
}

int hl_hasher_builtin_count(void) { return (int)HL_ARRAY_LEN(k_hashers); }

const hl_hasher_class *hl_hasher_builtin_at(int i) {
    HL_ASSERT(i >= 0 && i < hl_hasher_builtin_count(), "index %d", i);
    return k_hashers[i];
}

static int cmp_cls(const void *a, const void *b) {
    return strcmp((*(const hl_hasher_class *const *)a)->name, (*(const hl_hasher_class *const *)b)->name);
}

/* All classes sorted by name into out (capacity HL_REGISTRY_MAX); returns the count. */
static int gather(const hl_hasher_class **out) {
    int n = 0;
    for (int i = 0; i < hl_hasher_builtin_count() && n < HL_REGISTRY_MAX; i++) out[n++] = k_hashers[i];
    for (int i = 0; i < g_nextra && n < HL_REGISTRY_MAX; i++) out[n++] = g_extra[i];
    qsort(out, (size_t)n, sizeof *out, cmp_cls);
    return n;
}

int hl_hasher_class_count(void) {
    const hl_hasher_class *all[HL_REGISTRY_MAX];
    return gather(all);
}

const hl_hasher_class *hl_hasher_class_at(int i) {
    const hl_hasher_class *all[HL_REGISTRY_MAX];
    int n = gather(all);
    HL_ASSERT(i >= 0 && i < n, "index %d of %d", i, n);
    return all[i];
}

const hl_hasher_class *hl_hasher_class_find(const char *name) {
    const hl_hasher_class *all[HL_REGISTRY_MAX];
    const char *names[HL_REGISTRY_MAX];
    int n = gather(all);
    for (int i = 0; i < n; i++) {
        if (name && strcmp(all[i]->name, name) == 0) return all[i];
        names[i] = all[i]->name;
    }
    hl_registry_miss("hasher", name ? name : "", names, n);
    return NULL;
}

hl_status hl_registry_miss(const char *kind, const char *name, const char *const *names, int n) {
    char known[768] = "";
    size_t len = 0;
    int best = -1, best_d = 1 << 30, limit = HL_MAX(2, (int)strlen(name) / 3);
    for (int i = 0; i < n; i++) {
        int w = snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "", names[i]);
        if (w > 0 && (size_t)w < sizeof known - len) len += (size_t)w;
        int d = hl_edit_distance(name, names[i]);
        if (d < best_d) best_d = d, best = i;
    }
    if (best >= 0 && best_d <= limit)
        return hl_error_set(HL_ENOTFOUND, "unknown %s '%s' (known: %s; did you mean '%s'?)", kind, name,
                            n ? known : "none", names[best]);
    return hl_error_set(HL_ENOTFOUND, "unknown %s '%s' (known: %s)", kind, name, n ? known : "none");
}
