/* attacks/registry.c — attack lookup: the built-in table from attacks.def, then the classes registered at run time
 * (plugins: lab/plugin.h). */
#include <stdlib.h>
#include <string.h>

#include "attacks/attack.h"

#define HL_ATTACK(n) extern const hl_attack_class hl_attack_##n;
#include "attacks/attacks.def"
#undef HL_ATTACK

static const hl_attack_class *const k_attacks[] = {
#define HL_ATTACK(n) &hl_attack_##n,
#include "attacks/attacks.def"
#undef HL_ATTACK
};

#define HL_REGISTRY_MAX 256

static const hl_attack_class *g_extra[HL_REGISTRY_MAX];
static int g_nextra;

hl_status hl_attack_class_register(const hl_attack_class *cls) {
    if (hl_attack_builtin_count() + g_nextra >= HL_REGISTRY_MAX)
        return hl_error_set(HL_ENOMEM, "attack '%s': more than %d attack classes", cls->name, HL_REGISTRY_MAX);
    g_extra[g_nextra++] = cls;
    return HL_OK;
}

void hl_attack_class_unregister(const hl_attack_class *cls) {
    for (int i = 0; i < g_nextra; i++)
        if (g_extra[i] == cls) {
            memmove(g_extra + i, g_extra + i + 1, (size_t)(g_nextra - i - 1) * sizeof *g_extra);
            g_nextra--;
            return;
        }
}

int hl_attack_builtin_count(void) { return (int)HL_ARRAY_LEN(k_attacks); }

const hl_attack_class *hl_attack_builtin_at(int i) {
    HL_ASSERT(i >= 0 && i < hl_attack_builtin_count(), "index %d", i);
    return k_attacks[i];
}

static int cmp_cls(const void *a, const void *b) {
    return strcmp((*(const hl_attack_class *const *)a)->name, (*(const hl_attack_class *const *)b)->name);
}

static int gather(const hl_attack_class **out) {
    int n = 0;
    for (int i = 0; i < hl_attack_builtin_count() && n < HL_REGISTRY_MAX; i++) out[n++] = k_attacks[i];
    for (int i = 0; i < g_nextra && n < HL_REGISTRY_MAX; i++) out[n++] = g_extra[i];
    qsort(out, (size_t)n, sizeof *out, cmp_cls);
    return n;
}

int hl_attack_class_count(void) {
    const hl_attack_class *all[HL_REGISTRY_MAX];
    return gather(all);
}

const hl_attack_class *hl_attack_class_at(int i) {
    const hl_attack_class *all[HL_REGISTRY_MAX];
    int n = gather(all);
    HL_ASSERT(i >= 0 && i < n, "index %d of %d", i, n);
    return all[i];
}

const hl_attack_class *hl_attack_class_find(const char *name) {
    const hl_attack_class *all[HL_REGISTRY_MAX];
    const char *names[HL_REGISTRY_MAX];
    int n = gather(all);
    for (int i = 0; i < n; i++) {
        if (name && strcmp(all[i]->name, name) == 0) return all[i];
        names[i] = all[i]->name;
    }
    hl_registry_miss("attack", name ? name : "", names, n);
    return NULL;
}
