/* lab/cmd_list.c — `hashlab list [NAME]`: every hasher, attack, defence and labeler (built-in and plugin) with its
 * one-line summary,
 * or one class's parameter table. Plugins come from HASHLAB_PLUGIN_PATH and --plugin PATH options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attacks/attack.h"
#include "defences/defence.h"
#include "hashers/labeler.h"
#include "lab/plugin.h"
#include "lab/commands.h"

static const char list_usage[] =
    "usage: hashlab list [--plugin PATH]... [NAME]\n"
    "  without NAME: all hashers, attacks, defences and labelers with a one-line summary\n"
    "  with NAME: that hasher's, attack's, defence's or labeler's parameters (name, type, default, range, doc)\n"
    "  plugins: each --plugin PATH (a .so or a directory of them) and $" HL_PLUGIN_ENV " (colon-separated)\n";

static const char *origin(const void *cls) {
    const hl_plugin *p = hl_plugin_of(cls);
    return p ? p->path : NULL;
}

static void print_row(int width, const char *name, const char *summary, const char *from) {
    printf("  %-*s  %s", width, name, summary ? summary : "");
    if (from) printf(" [plugin %s]", from);
    printf("\n");
}

static int list_all(void) {
    int width = 1;
    for (int i = 0; i < hl_hasher_class_count(); i++) width = HL_MAX(width, (int)strlen(hl_hasher_class_at(i)->name));
    for (int i = 0; i < hl_attack_class_count(); i++) width = HL_MAX(width, (int)strlen(hl_attack_class_at(i)->name));
    for (int i = 0; i < hl_defence_class_count(); i++) width = HL_MAX(width, (int)strlen(hl_defence_class_at(i)->name));
    for (int i = 0; i < hl_labeler_class_count(); i++) width = HL_MAX(width, (int)strlen(hl_labeler_class_at(i)->name));
    printf("hashers:\n");
    for (int i = 0; i < hl_hasher_class_count(); i++) {
        const hl_hasher_class *c = hl_hasher_class_at(i);
        print_row(width, c->name, c->summary, origin(c));
    }
    printf("attacks:\n");
    for (int i = 0; i < hl_attack_class_count(); i++) {
        const hl_attack_class *c = hl_attack_class_at(i);
        print_row(width, c->name, c->summary, origin(c));
    }
    printf("defences (a hasher entry's `defence:`, trainable hashers only):\n");
    for (int i = 0; i < hl_defence_class_count(); i++) {
        const hl_defence_class *c = hl_defence_class_at(i);
        print_row(width, c->name, c->summary, origin(c));
    }
    printf("labelers (a hasher entry's `labeler:`, supervised hashers only):\n");
    for (int i = 0; i < hl_labeler_class_count(); i++)
        print_row(width, hl_labeler_class_at(i)->name, hl_labeler_class_at(i)->summary, NULL);
    return 0;
}

static int list_one(const char *kind, const char *name, const char *summary, const void *cls,
                    const hl_param_spec *specs, int n) {
    char *table = NULL;
    printf("%s %s: %s\n", kind, name, summary ? summary : "");
    if (origin(cls)) printf("plugin: %s\n", origin(cls));
    if (n == 0) {
        printf("no parameters\n");
        return 0;
    }
    if (hl_param_schema_format(specs, n, &table) < 0) {
        fprintf(stderr, "hashlab list: %s\n", hl_error_last());
        return 1;
    }
    printf("\n%s", table);
    free(table);
    return 0;
}

int hl_cmd_list(int argc, char **argv) {
    const char *name = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("%s", list_usage);
            return 0;
        } else if (strcmp(argv[i], "--plugin") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "hashlab list: --plugin needs a path\n%s", list_usage);
                return 2;
            }
            hl_config *node = hl_config_new(HL_CONFIG_SCALAR, argv[++i], "--plugin", 0, 0);
            hl_status st = node ? hl_plugins_load_config(node) : hl_error_set(HL_ENOMEM, "out of memory");
            hl_config_free(node);
            if (st < 0) {
                fprintf(stderr, "hashlab list: %s\n", hl_error_last());
                return 1;
            }
        } else if (argv[i][0] == '-' || name) {
            fprintf(stderr, "hashlab list: unexpected argument '%s'\n%s", argv[i], list_usage);
            return 2;
        } else {
            name = argv[i];
        }
    }
    if (hl_plugins_load_env() < 0) {
        fprintf(stderr, "hashlab list: %s\n", hl_error_last());
        return 1;
    }
    if (!name) return list_all();
    const hl_hasher_class *h = hl_hasher_class_find(name);
    if (h) return list_one("hasher", h->name, h->summary, h, h->params, h->n_params);
    const hl_attack_class *a = hl_attack_class_find(name);
    if (a) return list_one("attack", a->name, a->summary, a, a->params, a->n_params);
    const hl_defence_class *d = hl_defence_class_find(name);
    if (d) return list_one("defence", d->name, d->summary, d, d->params, d->n_params);
    const hl_labeler_class *l = hl_labeler_class_find(name);
    if (l) return list_one("labeler", l->name, l->summary, l, l->params, l->n_params);
    /* none: name every registry's candidates */
    int nh = hl_hasher_class_count(), na = hl_attack_class_count(), nd = hl_defence_class_count();
    int nl = hl_labeler_class_count();
    const char **names = malloc((size_t)(nh + na + nd + nl + 1) * sizeof *names);
    if (!names) return 1;
    for (int i = 0; i < nh; i++) names[i] = hl_hasher_class_at(i)->name;
    for (int i = 0; i < na; i++) names[nh + i] = hl_attack_class_at(i)->name;
    for (int i = 0; i < nd; i++) names[nh + na + i] = hl_defence_class_at(i)->name;
    for (int i = 0; i < nl; i++) names[nh + na + nd + i] = hl_labeler_class_at(i)->name;
    hl_registry_miss("hasher, attack, defence or labeler", name, names, nh + na + nd + nl);
    free(names);
    fprintf(stderr, "hashlab list: %s\n", hl_error_last());
    return 1;
}
