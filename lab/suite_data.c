/* lab/suite_data.c — image-list datasets in suites: the mapping's schema, its checks, the resolved fields; see
 * suite_data.h. */
#include "lab/suite_data.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/data/lists.h"
#include "core/data/split.h"

static const hl_param_spec image_list_fields[] = {
    {"image_list", HL_PARAM_STRING, NULL, NULL, NULL,
     "folder holding DeepHash-pytorch's train.txt, test.txt and database.txt", NULL, 0, false},
    {"image_size", HL_PARAM_INT, "224", "[8, 4096]", NULL, "images resized to image_size x image_size", NULL, 0, false},
    {"channels", HL_PARAM_INT, "3", "[1, 3]", NULL, "3 (RGB) or 1 (gray)", NULL, 0, false},
    {"root", HL_PARAM_STRING, "null", NULL, NULL, "where the lists' relative image paths resolve (default: image_list)",
     NULL, 0, false},
    {"name", HL_PARAM_STRING, "null", NULL, NULL, "the dataset's name in results (default: image_list's last folder)",
     NULL, 0, false},
};

static const hl_param_spec dataset_map = {
    "dataset", HL_PARAM_MAP, NULL, NULL, NULL,
    "image lists: {image_list: DIR, image_size: 224, channels: 3, root: DIR, name: NAME}", image_list_fields,
    (int)HL_ARRAY_LEN(image_list_fields), false};

const hl_param_spec *hl_suite_dataset_map_spec(void) { return &dataset_map; }

bool hl_suite_dataset_is_lists(const hl_config *d) {
    return d && (d->kind == HL_CONFIG_MAP || (d->kind == HL_CONFIG_SCALAR && hl_lists_known_find(d->text)));
}

static const char *scalar_text(const hl_config *n) {
    return n && n->kind == HL_CONFIG_SCALAR && !hl_config_is_null_text(n->text) && n->text[0] ? n->text : NULL;
}

static bool is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

void hl_suite_check_dataset(const hl_config *root, hl_config_errors *errs) {
    const hl_config *d = hl_config_get(root, "dataset"), *p = hl_config_get(root, "protocol");
    const bool lists = hl_suite_dataset_is_lists(d);
    if (d && d->kind == HL_CONFIG_MAP) {
        const hl_config *il = hl_config_get(d, "image_list"), *rt = hl_config_get(d, "root");
        const hl_config *ch = hl_config_get(d, "channels");
        const char *dir = scalar_text(il), *r = scalar_text(rt);
        char hex[65];
        if (dir && !is_dir(dir))
            hl_config_errors_add(errs, il->file, il->line, il->col, "dataset.image_list: %s: no such folder (it must "
                                 "hold %s, DeepHash-pytorch's layout)", dir, HL_LISTS_FILES);
        else if (dir && hl_lists_hash(dir, hex) < 0)
            hl_config_errors_add(errs, il->file, il->line, il->col, "dataset.image_list: %s", hl_error_last());
        if (r && !is_dir(r))
            hl_config_errors_add(errs, rt->file, rt->line, rt->col, "dataset.root: %s: no such folder (where the "
                                 "lists' relative image paths resolve)", r);
        int64_t c = 0;
        if (ch && ch->kind == HL_CONFIG_SCALAR && hl_config_parse_int(ch->text, &c) && c == 2)
            hl_config_errors_add(errs, ch->file, ch->line, ch->col, "dataset.channels: 2: images are read as gray (1) "
                                 "or RGB (3)");
    }
    if (!p || p->kind != HL_CONFIG_SCALAR) {
        hl_error_clear();
        return;
    }
    char canon[64] = "";
    if (!strcmp(p->text, "lists")) {
        if (!lists && d && d->kind == HL_CONFIG_SCALAR)
            hl_config_errors_add(errs, p->file, p->line, p->col, "protocol: lists takes the split from an image "
                                 "list's %s; dataset '%s' has none (lists: dataset: {image_list: DIR} or %s)",
                                 HL_LISTS_FILES, d->text, hl_lists_known_names());
    } else if (lists && hl_split_protocol_check(p->text, canon) < 0) {
        hl_config_errors_add(errs, p->file, p->line, p->col, "protocol: unknown '%s': image lists take lists (their "
                             "own split) or random:Q/T", p->text);
    } else if (lists && strncmp(canon, "random", 6)) {
        hl_config_errors_add(errs, p->file, p->line, p->col, "protocol: %s is stratified by class and needs "
                             "single-label data; image lists are multi-label: use lists (their own split) or "
                             "random:Q/T", p->text);
    }
    hl_error_clear();
}

/* Last component of a folder path ("a/b/" -> "b"). */
static void last_component(const char *dir, char *buf, size_t n) {
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--;
    size_t b = len;
    while (b > 0 && dir[b - 1] != '/') b--;
    snprintf(buf, n, "%.*s", (int)(len - b), dir + b);
}

hl_status hl_suite_fill_dataset(hl_suite *s, hl_config_errors *errs) {
    hl_status st = HL_OK;
    hl_config *r = s->resolved;
    const hl_config *d = hl_config_get(r, "dataset");
    hl_suite_lists *l = &s->lists;
    memset(l, 0, sizeof *l);
    if (d->kind == HL_CONFIG_MAP) {
        int64_t size = 0, ch = 0;
        const char *dir = scalar_text(hl_config_get(d, "image_list")), *name = scalar_text(hl_config_get(d, "name"));
        const char *root = scalar_text(hl_config_get(d, "root"));
        HL_TRY(hl_config_get_int(d, "image_size", &size));
        HL_TRY(hl_config_get_int(d, "channels", &ch));
        l->on = true;
        l->image_size = (int)size;
        l->channels = (int)ch;
        snprintf(l->dir, sizeof l->dir, "%s", dir ? dir : "");
        snprintf(l->root, sizeof l->root, "%s", root ? root : "");
        if (name) snprintf(s->dataset_name, sizeof s->dataset_name, "%s", name);
        else last_component(l->dir, s->dataset_name, sizeof s->dataset_name);
        s->dataset = s->dataset_name;
        if (hl_lists_hash(l->dir, l->sha256) < 0) {
            const hl_config *il = hl_config_path(s->raw, "dataset.image_list");
            hl_config_errors_add(errs, il ? il->file : "", il ? il->line : 0, il ? il->col : 0,
                                 "dataset.image_list: %s", hl_error_last());
            hl_error_clear();
        }
    } else {
        HL_TRY(hl_config_get_string(r, "dataset", &s->dataset));
        if (!hl_lists_known_find(s->dataset)) return HL_OK;
        const char *data_root = scalar_text(hl_config_get(r, "data_root"));
        l->on = true;
        l->set = s->dataset;
        l->image_size = 224;
        l->channels = 3;
        /* found here: hashed for the keys; not here: the run says where it looked */
        if (hl_lists_find(s->dataset, data_root, l->dir, sizeof l->dir) < 0 || hl_lists_hash(l->dir, l->sha256) < 0) {
            l->dir[0] = 0;
            l->sha256[0] = 0;
        }
        hl_error_clear();
    }
    if (!hl_config_get(s->raw, "protocol")) { /* image lists: their own split by default */
        hl_config *p = hl_config_new(HL_CONFIG_SCALAR, "lists", "<default>", 0, 0);
        if (!p) return hl_error_set(HL_ENOMEM, "out of memory loading a suite");
        p->quoted = true;
        hl_config_map_remove(r, "protocol");
        HL_TRY(hl_config_map_put(r, "protocol", 0, 0, p));
    }
done:
    return st;
}
