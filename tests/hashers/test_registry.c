/* tests/hashers/test_registry.c — hasher and attack registries: lookups, sorted listings, miss messages, schema
 * validation at create. */
#include <string.h>

#include "hashers/hasher.h"
#include "hashers/hasher.h"
#include "test_common.h"

static const hl_dataset_info k_info = {.c = 1, .h = 4, .w = 4, .nlabels = 3};

Test(registry, builtins_sorted_and_found) {
    static const char *const want[] = {"abml", "adsh", "bthash", "ddsh", "dpsh", "hashgan", "itq", "lsh", "nmlayer",
                                       "ssah"};
    cr_assert_eq(hl_hasher_builtin_count(), 10);
    cr_assert_eq(hl_hasher_class_count(), 10);
    for (int i = 0; i < 10; i++) cr_assert_str_eq(hl_hasher_class_at(i)->name, want[i]);
    const hl_hasher_class *c = hl_hasher_class_find("lsh");
    cr_assert(c);
    cr_assert_eq(c->abi, HL_HASHER_ABI);
    cr_assert_str_eq(c->name, "lsh");
    cr_assert(c->summary && strlen(c->summary) > 10);
    cr_assert_eq(hl_hasher_class_find("itq"), hl_hasher_builtin_at(6));
}

Test(registry, miss_messages) {
    cr_assert_null(hl_hasher_class_find("itg"));
    cr_assert_eq(hl_error_code(), HL_ENOTFOUND);
    cr_assert_str_eq(hl_error_last(), "unknown hasher 'itg' (known: abml, adsh, bthash, ddsh, dpsh, hashgan, itq, lsh, nmlayer, ssah; did you mean 'itq'?)");
    cr_assert_null(hl_hasher_class_find("zzzz"));
    cr_assert_str_eq(hl_error_last(), "unknown hasher 'zzzz' (known: abml, adsh, bthash, ddsh, dpsh, hashgan, itq, lsh, nmlayer, ssah)");
    cr_assert_null(hl_hasher_class_find("LSH"));
    cr_assert_str_eq(hl_error_last(), "unknown hasher 'LSH' (known: abml, adsh, bthash, ddsh, dpsh, hashgan, itq, lsh, nmlayer, ssah)");
    const char *names[] = {"dpsh", "hashnet"};
    cr_assert_eq(hl_registry_miss("hasher", "dsph", names, 2), HL_ENOTFOUND);
    cr_assert_str_eq(hl_error_last(), "unknown hasher 'dsph' (known: dpsh, hashnet; did you mean 'dpsh'?)");
    cr_assert_eq(hl_registry_miss("attack", "x", NULL, 0), HL_ENOTFOUND);
    cr_assert_str_eq(hl_error_last(), "unknown attack 'x' (known: none)");
}

Test(registry, create_unknown_name) {
    hl_hasher *h = (hl_hasher *)1;
    cr_assert_eq(hl_hasher_create(&h, "lhs", NULL, &k_info, 16, 1), HL_ENOTFOUND);
    cr_assert_null(h);
    cr_assert_str_eq(hl_error_last(), "unknown hasher 'lhs' (known: abml, adsh, bthash, ddsh, dpsh, hashgan, itq, lsh, nmlayer, ssah; did you mean 'lsh'?)");
}

static hl_config *params_with(const char *key, const char *val) {
    hl_config *m = hl_config_new(HL_CONFIG_MAP, NULL, "s.yaml", 3, 5);
    cr_assert(m);
    cr_assert_eq(hl_config_map_put(m, key, 4, 7, hl_config_new(HL_CONFIG_SCALAR, val, "s.yaml", 4, 14)), HL_OK);
    return m;
}

Test(registry, create_validates_params) {
    hl_hasher *h = NULL;
    hl_config *p = params_with("iter", "5");
    cr_assert_eq(hl_hasher_create(&h, "itq", p, &k_info, 8, 1), HL_EINVAL);
    cr_assert_null(h);
    cr_assert_str_eq(hl_error_last(), "s.yaml:4:7: unknown key 'iter' in hasher 'itq'; did you mean 'iters'? "
                                      "(valid: iters)");
    hl_config_free(p);
    p = params_with("iters", "-1");
    cr_assert_eq(hl_hasher_create(&h, "itq", p, &k_info, 8, 1), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "s.yaml:4:14: iters: -1 is out of range [0, 10000]");
    hl_config_free(p);
    p = params_with("center", "false");
    cr_assert_eq(hl_hasher_create(&h, "lsh", p, &k_info, 8, 1), HL_OK, "%s", hl_error_last());
    bool center = true;
    cr_assert_eq(hl_config_get_bool(h->cfg, "center", &center), HL_OK);
    cr_assert_not(center);
    hl_hasher_free(h);
    hl_config_free(p);
}

Test(registry, create_checks_bits_and_shape) {
    hl_hasher *h = NULL;
    cr_assert_eq(hl_hasher_create(&h, "lsh", NULL, &k_info, 0, 1), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "hasher 'lsh': bits must be in [1, 4096], got 0");
    cr_assert_eq(hl_hasher_create(&h, "itq", NULL, &k_info, 17, 1), HL_EINVAL);
    cr_assert_str_eq(hl_error_last(), "hasher 'itq': 17 bits exceed the image dimension 16");
    cr_assert_null(h);
    cr_assert_eq(hl_hasher_create(&h, "lsh", NULL, &k_info, 16, 1), HL_OK);
    cr_assert_eq(h->bits, 16);
    cr_assert_eq(hl_params_count(&h->params), 2);
    hl_hasher_free(h);
    hl_hasher_free(NULL);
}
