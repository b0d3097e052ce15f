/* lab/plugin.c — loading plugin shared objects (dlopen), file, ABI and name checks, the list of loaded plugins; the
 * classes of a loaded plugin are registered with hashers/registry.c and attacks/registry.c. */
#define _GNU_SOURCE /* realpath, dladdr1 */
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/plugin.h"

#include "defences/defence.h"
#include "core/strbuf.h"
#include "core/hash.h"
#include "lab/store.h"

static hl_plugin *g_plugins;
static int g_n, g_cap;

int hl_plugin_count(void) { return g_n; }

const hl_plugin *hl_plugin_at(int i) {
    HL_ASSERT(i >= 0 && i < g_n, "index %d of %d", i, g_n);
    return &g_plugins[i];
}

/* A plugin's defences (ABI 1 descriptors have no such member). */
static const hl_defence_class *const *defences_of(const hl_plugin_info *info) {
    return info->abi >= 2 ? info->defences : NULL;
}

const hl_plugin *hl_plugin_of(const void *cls) {
    for (int p = 0; p < g_n; p++) {
        for (const hl_defence_class *const *c = defences_of(g_plugins[p].info); c && *c; c++)
            if ((const void *)*c == cls) return &g_plugins[p];
        for (const hl_hasher_class *const *c = g_plugins[p].info->hashers; c && *c; c++)
            if ((const void *)*c == cls) return &g_plugins[p];
        for (const hl_attack_class *const *c = g_plugins[p].info->attacks; c && *c; c++)
            if ((const void *)*c == cls) return &g_plugins[p];
    }
    return NULL;
}

/* Who already provides a class `name` of this kind ("built-in" / a plugin path), or NULL. */
static const char *provider(bool hasher, const char *name) {
    if (hasher) {
        for (int i = 0; i < hl_hasher_builtin_count(); i++)
            if (strcmp(hl_hasher_builtin_at(i)->name, name) == 0) return "a built-in hasher";
    } else {
        for (int i = 0; i < hl_attack_builtin_count(); i++)
            if (strcmp(hl_attack_builtin_at(i)->name, name) == 0) return "a built-in attack";
    }
    for (int p = 0; p < g_n; p++) {
        if (hasher) {
            for (const hl_hasher_class *const *c = g_plugins[p].info->hashers; c && *c; c++)
                if (strcmp((*c)->name, name) == 0) return g_plugins[p].path;
        } else {
            for (const hl_attack_class *const *c = g_plugins[p].info->attacks; c && *c; c++)
                if (strcmp((*c)->name, name) == 0) return g_plugins[p].path;
        }
    }
    return NULL;
}

static bool valid_name(const char *s);

/* A plugin's defences: ABI, name, required functions, no clash with a built-in or another plugin's. */
static hl_status check_defences(const char *path, const hl_plugin_info *info) {
    const hl_defence_class *const *ds = defences_of(info);
    for (int i = 0; ds && ds[i]; i++) {
        const hl_defence_class *d = ds[i];
        if (d->abi != HL_DEFENCE_ABI)
            return hl_error_set(HL_EMISMATCH, "%s: defence '%s' has defence ABI %d, this hashlab expects %d; rebuild "
                                "the plugin against this hashlab", path, d->name ? d->name : "?", d->abi,
                                HL_DEFENCE_ABI);
        if (!valid_name(d->name))
            return hl_error_set(HL_EINVAL, "%s: defence %d has an invalid name '%s' (use [a-z0-9_-])", path, i,
                                d->name ? d->name : "(null)");
        if (!d->init || !d->inner || d->size < sizeof(hl_defence))
            return hl_error_set(HL_EINVAL, "%s: defence '%s' lacks init or inner, or has a size smaller than the base "
                                "struct", path, d->name);
        if (hl_defence_class_find(d->name))
            return hl_error_set(HL_EMISMATCH, "%s: defence '%s' is already provided (built-in or another plugin)",
                                path, d->name);
        hl_error_clear();
        for (int j = 0; j < i; j++)
            if (!strcmp(ds[j]->name, d->name))
                return hl_error_set(HL_EMISMATCH, "%s: defence '%s' is declared twice", path, d->name);
    }
    return HL_OK;
}

static bool valid_name(const char *s) {
    if (!s || !*s) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-')) return false;
    return true;
}

/* Checks one class list (hasher: true/false) of a plugin against the ABI and registered names. */
static hl_status check_classes(const char *path, const hl_plugin_info *info, bool hasher) {
    const char *kind = hasher ? "hasher" : "attack";
    int expect = hasher ? HL_HASHER_ABI : HL_ATTACK_ABI;
    int count = 0;
    if (hasher)
        while (info->hashers && info->hashers[count]) count++;
    else
        while (info->attacks && info->attacks[count]) count++;
    for (int i = 0; i < count; i++) {
        int abi = hasher ? info->hashers[i]->abi : info->attacks[i]->abi;
        const char *name = hasher ? info->hashers[i]->name : info->attacks[i]->name;
        if (abi != expect)
            return hl_error_set(HL_EMISMATCH, "%s: %s '%s' has %s ABI %d, this hashlab expects %d; rebuild the "
                                "plugin against this hashlab", path, kind, name ? name : "?", kind, abi, expect);
        if (!valid_name(name))
            return hl_error_set(HL_EINVAL, "%s: %s %d has an invalid name '%s' (use [a-z0-9_-])", path, kind, i,
                                name ? name : "(null)");
        bool ok = hasher ? info->hashers[i]->forward && info->hashers[i]->init && info->hashers[i]->size >= sizeof(hl_hasher)
                         : info->attacks[i]->perturb && info->attacks[i]->size >= sizeof(hl_attack);
        if (!ok)
            return hl_error_set(HL_EINVAL, "%s: %s '%s' lacks a required function or has a size smaller than the "
                                "base struct", path, kind, name);
        const char *who = provider(hasher, name);
        if (who) return hl_error_set(HL_EMISMATCH, "%s: %s '%s' is already provided by %s", path, kind, name, who);
        for (int j = 0; j < i; j++) {
            const char *other = hasher ? info->hashers[j]->name : info->attacks[j]->name;
            if (strcmp(other, name) == 0)
                return hl_error_set(HL_EMISMATCH, "%s: %s '%s' is declared twice", path, kind, name);
        }
    }
    return HL_OK;
}

/* The file must be a complete ELF shared object for this machine before dlopen sees it: the loader maps segments
 * without checking them against the file size, so a truncated file would die with SIGBUS inside dlopen. Checks the
 * ELF header (magic, class, byte order, machine, type ET_DYN) and that the program headers, every segment's file
 * bytes and the section header table lie inside the file. */
static hl_status check_elf(const char *path) {
    hl_status st = HL_OK;
    ElfW(Ehdr) eh;
    ElfW(Phdr) *ph = NULL;
    struct stat sb;
    FILE *f = fopen(path, "rb");
    if (!f) return hl_error_set(HL_ENOTFOUND, "%s: cannot open plugin: %s", path, strerror(errno));
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = hl_error_set(HL_EFORMAT, "%s: not a plugin: not a regular file", path);
        goto done;
    }
    const uint64_t size = (uint64_t)sb.st_size;
    if (fread(&eh, 1, sizeof eh, f) != sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
        st = hl_error_set(HL_EFORMAT, "%s: cannot load plugin: not an ELF shared object (%llu bytes)", path,
                          (unsigned long long)size);
        goto done;
    }
    if (eh.e_ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32) || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        eh.e_type != ET_DYN) {
        st = hl_error_set(HL_EFORMAT, "%s: cannot load plugin: not a %d-bit little-endian shared object", path,
                          (int)(8 * sizeof(void *)));
        goto done;
    }
#if defined(__x86_64__)
    if (eh.e_machine != EM_X86_64) {
        st = hl_error_set(HL_EFORMAT, "%s: cannot load plugin: built for another machine (e_machine %d)", path,
                          (int)eh.e_machine);
        goto done;
    }
#endif
    if (eh.e_phentsize != sizeof(ElfW(Phdr)) || eh.e_phnum == 0 ||
        (uint64_t)eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(ElfW(Phdr)) > size ||
        (eh.e_shnum && (uint64_t)eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize > size)) {
        st = hl_error_set(HL_EFORMAT, "%s: cannot load plugin: truncated or damaged ELF file (headers beyond its %llu "
                          "bytes)", path, (unsigned long long)size);
        goto done;
    }
    if (!(ph = malloc((size_t)eh.e_phnum * sizeof *ph))) {
        st = hl_error_set(HL_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if (fseek(f, (long)eh.e_phoff, SEEK_SET) != 0 || fread(ph, sizeof *ph, eh.e_phnum, f) != eh.e_phnum) {
        st = hl_error_set(HL_EFORMAT, "%s: cannot load plugin: unreadable program headers", path);
        goto done;
    }
    for (int i = 0; i < eh.e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && (ph[i].p_offset > size || ph[i].p_filesz > size - ph[i].p_offset)) {
            st = hl_error_set(HL_EFORMAT, "%s: cannot load plugin: truncated ELF file (segment %d needs bytes up to "
                              "%llu, the file has %llu)", path, i,
                              (unsigned long long)(ph[i].p_offset + ph[i].p_filesz), (unsigned long long)size);
            goto done;
        }
done:
    free(ph);
    fclose(f);
    return st;
}

/* The entry point must be a function: a data symbol of that name would be "called" and crash. */
static bool is_function(void *sym) {
    Dl_info di;
    const ElfW(Sym) *es = NULL;
    if (!dladdr1(sym, &di, (void **)&es, RTLD_DL_SYMENT) || !es) return false;
    int type = ELF64_ST_TYPE(es->st_info);
    return type == STT_FUNC || type == STT_GNU_IFUNC;
}

/* SHA-256 (hex) of a file's bytes. */
static hl_status file_sha256(const char *path, char out[65]) {
    FILE *f = fopen(path, "rb");
    if (!f) return hl_error_set(HL_EIO, "%s: cannot read plugin: %s", path, strerror(errno));
    hl_strbuf b = {0};
    char buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0) hl_strbuf_put(&b, buf, k);
    bool err = ferror(f);
    fclose(f);
    if (b.oom || err) {
        free(b.p);
        return hl_error_set(b.oom ? HL_ENOMEM : HL_EIO, "%s: cannot read plugin", path);
    }
    hl_sha256_hex(b.p ? b.p : "", b.n, out);
    free(b.p);
    return HL_OK;
}

static void unregister(const hl_plugin_info *info) {
    for (const hl_hasher_class *const *c = info->hashers; c && *c; c++) hl_hasher_class_unregister(*c);
    for (const hl_attack_class *const *c = info->attacks; c && *c; c++) hl_attack_class_unregister(*c);
    for (const hl_defence_class *const *c = defences_of(info); c && *c; c++) hl_defence_class_unregister(*c);
}

hl_status hl_plugin_load(const char *path) {
    hl_status st = HL_OK;
    void *handle = NULL;
    char *real = realpath(path, NULL);
    if (!real) return hl_error_set(HL_ENOTFOUND, "%s: cannot open plugin: %s", path, strerror(errno));
    for (int p = 0; p < g_n; p++)
        if (strcmp(g_plugins[p].path, real) == 0) goto done; /* already loaded */
    HL_TRY(check_elf(real));
    handle = dlopen(real, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *e = dlerror();
        st = hl_error_set(HL_EFORMAT, "%s: cannot load plugin: %s", path, e ? e : "dlopen failed");
        goto done;
    }
    void *sym = dlsym(handle, HL_PLUGIN_SYMBOL);
    if (!sym) {
        st = hl_error_set(HL_EFORMAT, "%s: not a hashlab plugin (no '%s' symbol)", path, HL_PLUGIN_SYMBOL);
        goto done;
    }
    if (!is_function(sym)) {
        st = hl_error_set(HL_EFORMAT, "%s: not a hashlab plugin ('%s' is not a function)", path, HL_PLUGIN_SYMBOL);
        goto done;
    }
    hl_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry); /* object pointer -> function pointer (POSIX) */
    const hl_plugin_info *info = entry();
    if (!info) {
        st = hl_error_set(HL_EFORMAT, "%s: %s() returned NULL", path, HL_PLUGIN_SYMBOL);
        goto done;
    }
    if (info->abi != HL_PLUGIN_ABI && info->abi != 1) {
        st = hl_error_set(HL_EMISMATCH, "%s: plugin ABI %d, this hashlab expects %d; rebuild the plugin against "
                          "this hashlab", path, info->abi, HL_PLUGIN_ABI);
        goto done;
    }
    HL_TRY(check_classes(path, info, true));
    HL_TRY(check_classes(path, info, false));
    HL_TRY(check_defences(path, info));
    if (g_n == g_cap) {
        int cap = g_cap ? 2 * g_cap : 8;
        hl_plugin *np = realloc(g_plugins, (size_t)cap * sizeof *np);
        if (!np) {
            st = hl_error_set(HL_ENOMEM, "%s: out of memory", path);
            goto done;
        }
        g_plugins = np, g_cap = cap;
    }
    for (const hl_hasher_class *const *c = info->hashers; c && *c; c++)
        if ((st = hl_hasher_class_register(*c)) < 0) goto unregister;
    for (const hl_attack_class *const *c = info->attacks; c && *c; c++)
        if ((st = hl_attack_class_register(*c)) < 0) goto unregister;
    for (const hl_defence_class *const *c = defences_of(info); c && *c; c++)
        if ((st = hl_defence_class_register(*c)) < 0) goto unregister;
    g_plugins[g_n] = (hl_plugin){.path = real, .handle = handle, .info = info};
    if ((st = file_sha256(real, g_plugins[g_n].sha256)) < 0) goto unregister;
    g_n++;
    hl_msg(HL_LOG_DEBUG, "loaded plugin %s (%s)", real, info->name ? info->name : "?");
    real = NULL, handle = NULL;
    goto done;
unregister:
    unregister(info);
done:
    if (handle) dlclose(handle);
    free(real);
    return st;
}

static bool ends_with_so(const char *s) {
    size_t n = strlen(s);
    return n > 3 && strcmp(s + n - 3, ".so") == 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A file, or a directory's *.so files in name order. */
static hl_status load_entry(const char *path) {
    hl_status st = HL_OK;
    struct stat sb;
    char **names = NULL;
    int n = 0, cap = 0;
    DIR *d = NULL;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) return hl_plugin_load(path);
    if (!(d = opendir(path))) return hl_error_set(HL_EIO, "%s: cannot open plugin directory: %s", path, strerror(errno));
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || !ends_with_so(e->d_name)) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **nn = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn) { st = hl_error_set(HL_ENOMEM, "%s: out of memory", path); goto done; }
            names = nn;
        }
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        if (!(names[n] = malloc(len))) { st = hl_error_set(HL_ENOMEM, "%s: out of memory", path); goto done; }
        snprintf(names[n++], len, "%s/%s", path, e->d_name);
    }
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) HL_TRY(hl_plugin_load(names[i]));
done:
    if (d) closedir(d);
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return st;
}

hl_status hl_plugins_load_env(void) {
    hl_status st = HL_OK;
    const char *env = getenv(HL_PLUGIN_ENV);
    if (!env || !*env) return HL_OK;
    char *copy = strdup(env), *save = NULL;
    if (!copy) return hl_error_set(HL_ENOMEM, "%s: out of memory", HL_PLUGIN_ENV);
    for (char *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
        if (!*tok) continue;
        if ((st = load_entry(tok)) < 0) {
            hl_error_wrap("%s", HL_PLUGIN_ENV);
            break;
        }
    }
    free(copy);
    return st;
}

hl_status hl_plugins_load_config(const hl_config *list) {
    hl_status st = HL_OK;
    if (!list || list->kind == HL_CONFIG_NULL) return HL_OK;
    int64_t n = list->kind == HL_CONFIG_SEQ ? hl_config_len(list) : 1;
    for (int64_t i = 0; i < n; i++) {
        const hl_config *e = list->kind == HL_CONFIG_SEQ ? hl_config_at(list, i) : list;
        const char *p;
        char buf[PATH_MAX + 1];
        if ((st = hl_config_as_string(e, &p)) < 0) return st;
        /* relative to the suite file's directory; a command-line override's ("<override ...>"): to the current one */
        if (p[0] != '/' && e->file && e->file[0] != '<' && strchr(e->file, '/')) {
            int dl = (int)(strrchr(e->file, '/') - e->file);
            snprintf(buf, sizeof buf, "%.*s/%s", dl, e->file, p);
            p = buf;
        }
        if ((st = load_entry(p)) < 0) {
            char where[512];
            return hl_error_wrap("%s", hl_config_where(e, where, sizeof where));
        }
    }
    return st;
}

void hl_plugins_unload_all(void) {
    for (int p = 0; p < g_n; p++) {
        unregister(g_plugins[p].info);
        dlclose(g_plugins[p].handle);
        free(g_plugins[p].path);
    }
    free(g_plugins);
    g_plugins = NULL, g_n = g_cap = 0;
}

hl_status hl_plugins_write_list(const char *dir) {
    hl_status st = HL_OK;
    char p[4200];
    hl_config *root = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0), *list = hl_config_new(HL_CONFIG_SEQ, NULL, "", 0, 0);
    if (!root || !list) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
    for (int i = 0; i < g_n; i++) {
        hl_config *e = hl_config_new(HL_CONFIG_MAP, NULL, "", 0, 0), *a = hl_config_new(HL_CONFIG_SCALAR, g_plugins[i].path, "", 0, 0),
                  *h = hl_config_new(HL_CONFIG_SCALAR, g_plugins[i].sha256, "", 0, 0);
        if (a) a->quoted = true;
        if (h) h->quoted = true;
        if (!e || !a || !h) {
            hl_config_free(e), hl_config_free(a), hl_config_free(h);
            HL_TRY(hl_error_set(HL_ENOMEM, "out of memory"));
        }
        if ((st = hl_config_map_put(e, "path", 0, 0, a)) < 0) { /* map_put and seq_push free their value on failure */
            hl_config_free(h), hl_config_free(e);
            goto done;
        }
        if ((st = hl_config_map_put(e, "sha256", 0, 0, h)) < 0) {
            hl_config_free(e);
            goto done;
        }
        if ((st = hl_config_seq_push(list, e)) < 0) goto done;
    }
    HL_TRY(hl_config_map_put(root, "plugins", 0, 0, list));
    list = NULL;
    snprintf(p, sizeof p, "%s/plugins.json", dir);
    st = hl_store_write_json(p, root);
done:
    hl_config_free(list);
    hl_config_free(root);
    return st;
}

hl_status hl_plugins_load_list(const char *dir) {
    char p[4200];
    hl_config *root = NULL;
    snprintf(p, sizeof p, "%s/plugins.json", dir);
    if (access(p, F_OK) != 0) return HL_OK;
    if (hl_store_read_json(p, &root) < 0) {
        hl_msg(HL_LOG_WARN, "%s", hl_error_last());
        hl_error_clear();
        return HL_OK;
    }
    const hl_config *list = hl_config_get(root, "plugins");
    for (int64_t i = 0; list && list->kind == HL_CONFIG_SEQ && i < hl_config_len(list); i++) {
        const hl_config *path = hl_config_get(hl_config_at(list, i), "path");
        if (!path || path->kind != HL_CONFIG_SCALAR) continue;
        if (hl_plugin_load(path->text) < 0) {
            hl_msg(HL_LOG_WARN, "plugin of this run not loaded (its cells show as pending): %s", hl_error_last());
            hl_error_clear();
        }
    }
    hl_config_free(root);
    return HL_OK;
}
