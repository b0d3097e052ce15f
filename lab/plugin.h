/* lab/plugin.h — run-time plugins: hasher, attack and defence classes from shared objects, registered with their
 * registries (the loader sits in lab/ because it knows all three; hashers/, attacks/ and defences/ only keep the
 * lists).
 *
 * A plugin is a shared object that exports one function, HL_PLUGIN_SYMBOL:
 *
 *     #include "lab/plugin.h"
 *     static const hl_hasher_class *const my_hashers[] = {&my_hasher, NULL};
 *     static const hl_plugin_info info = {.abi = HL_PLUGIN_ABI, .name = "mine", .hashers = my_hashers};
 *     const hl_plugin_info *hl_plugin_v1(void) { return &info; }
 *
 * built with `cc -shared -fPIC -I<hashlab> my.c -o my.so` and nothing else: it calls hl_* functions of the
 * hashlab executable that loads it (which exports them; see CMakeLists.txt). tests/plugins/example_plugin.c is a
 * complete example.
 *
 * Loading (not thread-safe; do it at start-up): hl_plugin_load(path) first checks the file is a complete ELF shared
 * object for this machine (a truncated file would otherwise crash inside dlopen), dlopens it, checks that the entry
 * point is a function symbol (not data of that name), calls it and checks, before registering anything: the descriptor's abi == HL_PLUGIN_ABI and every class's abi ==
 * HL_HASHER_ABI / HL_ATTACK_ABI ("lib.so: plugin ABI 999, this hashlab expects 1; rebuild the plugin against this
 * hashlab"), classes have a name and the required functions, and no name clashes with a built-in, another loaded
 * plugin or another class of the same plugin ("lib.so: hasher 'toy' is already provided by /x/other.so"). On any
 * failure nothing is registered and the object is closed. Loading a file already loaded (same real path) is a
 * no-op. Registered classes are found by hl_hasher_class_find / hl_attack_class_find.
 *
 * Sources: hl_plugins_load_config (a suite's `plugins:` list of paths, relative ones resolved against the suite
 * file's directory — the current directory for a path given in a command-line override, lab/overrides.h) and hl_plugins_load_env (HASHLAB_PLUGIN_PATH: colon-separated files or directories; a directory
 * contributes its *.so files in name order).
 */
#ifndef HL_LAB_PLUGIN_H
#define HL_LAB_PLUGIN_H

#include "attacks/attack.h"
#include "hashers/hasher.h"

#define HL_PLUGIN_ABI 2 /* 2: defences; plugins built for 1 (no `defences` member) still load */
#define HL_PLUGIN_SYMBOL "hl_plugin_v1"
#define HL_PLUGIN_ENV "HASHLAB_PLUGIN_PATH"

typedef struct hl_plugin_info {
    int abi;                                     /* HL_PLUGIN_ABI */
    const char *name;                            /* for messages and `hashlab list` */
    const hl_hasher_class *const *hashers;       /* NULL-terminated; NULL = none */
    const struct hl_attack_class *const *attacks; /* NULL-terminated; NULL = none */
    const struct hl_defence_class *const *defences; /* (ABI 2) NULL-terminated; NULL = none (defences/defence.h) */
} hl_plugin_info;

typedef const hl_plugin_info *(*hl_plugin_entry_fn)(void);

/* A loaded plugin. */
typedef struct hl_plugin {
    char *path;                /* real path */
    void *handle;              /* dlopen handle */
    const hl_plugin_info *info;
    char sha256[65];           /* of the file's bytes at load: part of the key of every cell its classes compute
                                * (lab/suite.h), so a rebuilt plugin re-runs its cells */
} hl_plugin;

hl_status hl_plugin_load(const char *path);
/* `plugins:` node: a list (or one scalar) of paths; errors carry the node's file:line:col. NULL node: nothing. */
hl_status hl_plugins_load_config(const hl_config *list);
/* HASHLAB_PLUGIN_PATH (unset or empty: nothing). */
hl_status hl_plugins_load_env(void);

/* DIR/plugins.json, atomically: {"plugins": [{"path": real path, "sha256": hex}, ...]} of the loaded plugins, so
 * `hashlab status` and the tests can load the same files (and notice when one changed: the cell keys differ). */
hl_status hl_plugins_write_list(const char *dir);
/* Loads every plugin DIR/plugins.json lists (none when the file is absent); a listed file that is missing or fails
 * to load is skipped with a warning (its cells then show as pending: their keys need the plugin). */
hl_status hl_plugins_load_list(const char *dir);

int hl_plugin_count(void);
const hl_plugin *hl_plugin_at(int i);
/* The plugin providing a class (by class pointer), or NULL for a built-in. */
const hl_plugin *hl_plugin_of(const void *cls);

/* Unregisters and closes every plugin (tests). No instance of a plugin class may remain. */
void hl_plugins_unload_all(void);

#endif
