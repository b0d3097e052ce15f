/* tests/lab/test_plugin.c — the example shared-object plugin (tests/plugins/example_plugin.c): loads, its hasher
 * is found and works; wrong ABI, duplicates, missing files and non-plugins are refused with messages. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "defences/defence.h"
#include "lab/plugin.h"
#include "test_common.h"

static void copy_file(const char *from, const char *to) {
    size_t n;
    unsigned char *b = hl_test_read_file(from, &n);
    hl_test_write_file(to, b, n);
    free(b);
}

Test(plugin, loads_and_runs) {
    cr_assert_eq(hl_plugin_load(HL_EXAMPLE_PLUGIN), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_plugin_count(), 1);
    cr_assert_str_eq(hl_plugin_at(0)->info->name, "example");
    const hl_hasher_class *c = hl_hasher_class_find("toy");
    cr_assert(c, "%s", hl_error_last());
    cr_assert_eq(hl_plugin_of(c), hl_plugin_at(0));
    cr_assert_null(hl_plugin_of(hl_hasher_class_find("lsh")));
    cr_assert_eq(hl_hasher_class_count(), hl_hasher_builtin_count() + 1);
    cr_assert_str_eq(hl_hasher_class_at(hl_hasher_class_count() - 1)->name, "toy");
    /* the miss message lists plugin classes too */
    cr_assert_null(hl_hasher_class_find("tyo"));
    cr_assert_str_eq(hl_error_last(), "unknown hasher 'tyo' (known: abml, adsh, bthash, ddsh, dpsh, hashgan, itq, lsh, nmlayer, ssah, toy; did you mean 'toy'?)");
    /* its defence is registered too (plugin ABI 2) */
    const hl_defence_class *d = hl_defence_class_find("toy-at");
    cr_assert(d, "%s", hl_error_last());
    cr_assert_eq(hl_plugin_of(d), hl_plugin_at(0));
    cr_assert_eq(hl_defence_class_count(), 5);
    /* loading the same file again is a no-op */
    cr_assert_eq(hl_plugin_load(HL_EXAMPLE_PLUGIN), HL_OK);
    cr_assert_eq(hl_plugin_count(), 1);

    /* the toy hasher: u_k = Σ_j s_kj (x_j − 0.5); on an all-white 1×2×2 image bits follow the sign of Σ_j s_kj */
    hl_dataset_info info = {.c = 1, .h = 2, .w = 2, .nlabels = 2};
    hl_hasher *h = NULL;
    cr_assert_eq(hl_hasher_create(&h, "toy", NULL, &info, 5, 0), HL_OK, "%s", hl_error_last());
    hl_ctx *ctx = hl_test_ctx();
    float x[4] = {1, 1, 1, 1};
    hl_codes codes;
    cr_assert_eq(hl_hasher_encode_images(&codes, h, ctx, x, 1, 1), HL_OK, "%s", hl_error_last());
    for (int k = 0; k < 5; k++) {
        int s = 0;
        for (int j = 0; j < 4; j++) s += (k * 7 + j * 3) % 5 < 2 ? 1 : -1;
        cr_assert_eq(hl_codes_bit(&codes, 0, k), s >= 0, "bit %d", k);
    }
    hl_codes_free(&codes);
    hl_hasher_free(h);
    hl_ctx_free(ctx);
    hl_plugins_unload_all();
    cr_assert_eq(hl_plugin_count(), 0);
    cr_assert_null(hl_hasher_class_find("toy"));
}

Test(plugin, abi_mismatch_refused) {
    cr_assert_eq(hl_plugin_load(HL_EXAMPLE_PLUGIN_BADABI), HL_EMISMATCH);
    char want[2048];
    snprintf(want, sizeof want, "%s: plugin ABI 999, this hashlab expects %d; rebuild the plugin against this hashlab",
             HL_EXAMPLE_PLUGIN_BADABI, HL_PLUGIN_ABI);
    cr_assert_str_eq(hl_error_last(), want);
    cr_assert_eq(hl_plugin_count(), 0);
    cr_assert_null(hl_hasher_class_find("toy"));
}

Test(plugin, duplicate_names_refused) {
    const char *copy = hl_test_path(hl_test_tmpdir(), "copy.so");
    copy_file(HL_EXAMPLE_PLUGIN, copy);
    cr_assert_eq(hl_plugin_load(HL_EXAMPLE_PLUGIN), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_plugin_load(copy), HL_EMISMATCH);
    char *real = realpath(HL_EXAMPLE_PLUGIN, NULL);
    char want[2048];
    snprintf(want, sizeof want, "%s: hasher 'toy' is already provided by %s", copy, real);
    cr_assert_str_eq(hl_error_last(), want);
    free(real);
    cr_assert_eq(hl_plugin_count(), 1);
}

Test(plugin, bad_files) {
    cr_assert_eq(hl_plugin_load("/nonexistent/x.so"), HL_ENOTFOUND);
    cr_assert_str_eq(hl_error_last(), "/nonexistent/x.so: cannot open plugin: No such file or directory");
    const char *junk = hl_test_path(hl_test_tmpdir(), "junk.so");
    hl_test_write_file(junk, "not an ELF", 10);
    cr_assert_eq(hl_plugin_load(junk), HL_EFORMAT);
    cr_assert(strstr(hl_error_last(), "cannot load plugin"), "%s", hl_error_last());
}

Test(plugin, env_path_directory_and_config_list) {
    const char *dir = hl_test_tmpdir();
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/plugins", dir);
    cr_assert_eq(mkdir(sub, 0755), 0);
    copy_file(HL_EXAMPLE_PLUGIN, hl_test_path(sub, "example.so"));
    hl_test_write_file(hl_test_path(sub, "README"), "x", 1); /* not a .so: ignored */
    char env[2100];
    snprintf(env, sizeof env, "::%s", sub);
    setenv(HL_PLUGIN_ENV, env, 1);
    cr_assert_eq(hl_plugins_load_env(), HL_OK, "%s", hl_error_last());
    cr_assert_eq(hl_plugin_count(), 1);
    cr_assert(hl_hasher_class_find("toy"));
    hl_plugins_unload_all();

    /* `plugins:` entries are relative to the suite file's directory; errors carry the position */
    char suite[1100];
    snprintf(suite, sizeof suite, "%s/suite.yaml", dir);
    hl_config *list = hl_config_new(HL_CONFIG_SEQ, NULL, suite, 3, 10);
    cr_assert_eq(hl_config_seq_push(list, hl_config_new(HL_CONFIG_SCALAR, "plugins/example.so", suite, 3, 12)), HL_OK);
    cr_assert_eq(hl_plugins_load_config(list), HL_OK, "%s", hl_error_last());
    cr_assert(hl_hasher_class_find("toy"));
    cr_assert_eq(hl_config_seq_push(list, hl_config_new(HL_CONFIG_SCALAR, "missing.so", suite, 4, 12)), HL_OK);
    cr_assert_eq(hl_plugins_load_config(list), HL_ENOTFOUND);
    char want[4096];
    snprintf(want, sizeof want, "%s:4:12: %s/missing.so: cannot open plugin: No such file or directory", suite, dir);
    cr_assert_str_eq(hl_error_last(), want);
    hl_config_free(list);
}

/* Files that would crash the process if handed to dlopen or called blindly are refused with a message: an entry point
 * that is a data symbol, and the example plugin cut at many lengths (dlopen maps segments beyond a truncated file's
 * end and dies with SIGBUS when it touches them). */
Test(plugin, data_symbol_and_truncated_files_refused) {
    cr_assert_eq(hl_plugin_load(HL_DATA_SYMBOL_PLUGIN), HL_EFORMAT);
    cr_assert(strstr(hl_error_last(), "'hl_plugin_v1' is not a function"), "%s", hl_error_last());
    size_t n;
    unsigned char *b = hl_test_read_file(HL_EXAMPLE_PLUGIN, &n);
    const char *cut = hl_test_path(hl_test_tmpdir(), "cut.so");
    static const double frac[] = {0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99};
    for (size_t i = 0; i < HL_ARRAY_LEN(frac); i++) {
        size_t len = (size_t)(frac[i] * (double)n);
        hl_test_write_file(cut, b, len);
        cr_assert_eq(hl_plugin_load(cut), HL_EFORMAT, "cut at %zu of %zu bytes: %s", len, n, hl_error_last());
        cr_assert(strstr(hl_error_last(), cut) && strstr(hl_error_last(), "cannot load plugin"), "%s",
                  hl_error_last());
    }
    free(b);
    cr_assert_eq(hl_plugin_count(), 0);
}
