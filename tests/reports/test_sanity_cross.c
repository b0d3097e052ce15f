/* tests/reports/test_sanity_cross.c — the flags reports/sanity.c derives from one result.json: attack_raised_map. */
#include <string.h>

#include "core/io/json.h"
#include "reports/sanity.h"
#include "test_common.h"

static bool fact(const char *json, hl_sanity_fact *f, hl_config **root) {
    cr_assert_eq(hl_json_parse("result.json", json, strlen(json), root), HL_OK, "%s", hl_error_last());
    return hl_sanity_fact_of(*root, f);
}

#define CELL(targeted, adv, clean)                                                                                    \
    "{\"kind\":\"attack\",\"status\":\"done\",\"method\":\"adsh\",\"attack\":\"pgd\",\"norm\":\"linf\",\"eps\":\"4/255\"," \
    "\"bits\":32,\"seed\":0,\"attack_kind\":\"gradient\",\"attack_config\":{\"targeted\":" targeted "},"              \
    "\"conventions\":{\"topk\":\"all\"},\"metrics\":{\"mAP@all\":" adv ",\"mAP@all(clean)\":" clean                    \
    ",\"t-mAP@all\":0.5}}"

Test(sanity_cross, attack_that_raises_map_is_flagged) {
    hl_sanity_fact f;
    hl_config *root;
    /* ADSH + PGD-AT under PGD at 4/255 in suites/fashion_defence.yaml: 91.22 adversarial, 90.43 clean */
    cr_assert(fact(CELL("false", "0.9122", "0.9043"), &f, &root));
    cr_assert(strstr(f.flags, "attack_raised_map"), "%s", f.flags);
    cr_assert(strstr(f.evidence, "91.22") && strstr(f.evidence, "90.43"), "%s", f.evidence);
    hl_config_free(root);
    /* within the tolerance (0.005), below clean, or a targeted attack (its score is t-mAP): no flag */
    const char *quiet[] = {CELL("false", "0.909", "0.9043"), CELL("false", "0.50", "0.9043"),
                           CELL("true", "0.9122", "0.9043")};
    for (size_t i = 0; i < sizeof quiet / sizeof *quiet; i++) {
        cr_assert(fact(quiet[i], &f, &root));
        cr_assert(!strstr(f.flags, "attack_raised_map"), "case %zu: %s", i, f.flags);
        hl_config_free(root);
    }
}
