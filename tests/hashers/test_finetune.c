/* tests/hashers/test_finetune.c — the fine-tuning keys every deep hasher shares (hashers/deep.h): `pretrained` and its
 * alias `init_from`, `freeze_until` (stage names checked with a did-you-mean; frozen weights and batch-norm
 * statistics bit-identical after a fit on an ImageNet backbone while later stages change) and `backbone_lr_mult`
 * (one SGD step moves the backbone by exactly the multiplier times the plain step; 0 keeps it fixed). Resuming a fit
 * with these keys: tests/hashers/test_resume.c. */
#include <math.h>
#include <string.h>

#include "core/io/checkpoint.h"
#include "hashers/deep.h"
#include "test_hashers.h"

static hl_status make_status(const char *method, const hl_dataset *d, const char *const *kv, hl_hasher **h) {
    hl_dataset_info info = hl_dataset_info_of(d);
    hl_config *p = hl_test_params(kv);
    hl_status st = hl_hasher_create(h, method, p, &info, 16, 3);
    hl_config_free(p);
    return st;
}

Test(finetune, keys_are_read_and_checked) {
    hl_dataset d;
    hl_test_synthetic(&d, 8, 3, 32, 2, 1);
    hl_hasher *h = NULL;
    const char *bad_stage[] = {"backbone", "resnet18", "freeze_until", "layr3", NULL};
    cr_assert_eq(make_status("dpsh", &d, bad_stage, &h), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "freeze_until") && strstr(hl_error_last(), "did you mean 'layer3'") &&
                  strstr(hl_error_last(), "conv1|layer1|layer2|layer3|layer4"),
              "%s", hl_error_last());
    const char *bad_small[] = {"backbone", "cnn-small", "freeze_until", "layer1", NULL};
    cr_assert_eq(make_status("dpsh", &d, bad_small, &h), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "conv1|conv2|conv3|fc1"), "%s", hl_error_last());
    const char *both[] = {"pretrained", "a.safetensors", "init_from", "b.safetensors", NULL};
    cr_assert_eq(make_status("dpsh", &d, both, &h), HL_EINVAL);
    cr_assert(strstr(hl_error_last(), "init_from") && strstr(hl_error_last(), "a.safetensors"), "%s", hl_error_last());
    const char *missing[] = {"pretrained", "/nonexistent/w.safetensors", NULL};
    cr_assert_lt(make_status("dpsh", &d, missing, &h), 0);
    cr_assert(strstr(hl_error_last(), "pretrained") && strstr(hl_error_last(), "/nonexistent/w.safetensors"), "%s",
              hl_error_last());
    const char *bad_mult[] = {"backbone_lr_mult", "-1", NULL};
    cr_assert_eq(make_status("dpsh", &d, bad_mult, &h), HL_EINVAL);
    hl_dataset_free(&d);
}

/* A torchvision-style resnet18 file (bare names, an fc the backbone does not declare) through `pretrained`, the same
 * through `init_from`. */
Test(finetune, pretrained_and_its_alias_load_torchvision_names) {
    hl_dataset d;
    hl_test_synthetic(&d, 8, 3, 32, 2, 1);
    hl_params src;
    hl_backbone sb;
    hl_params_init(&src);
    cr_assert_eq(hl_backbone_init(&sb, &src, "", "resnet18", 3, 32, 32), HL_OK);
    hl_linear_layer fc;
    hl_linear_layer_init(&fc, &src, "fc", 512, 1000, true);
    cr_assert_eq(hl_params_alloc(&src), HL_OK);
    hl_rng r = hl_rng_make(2, 9);
    hl_rng_uniform(&r, src.data, src.slab_len, -0.1f, 0.1f);
    hl_rng_uniform(&r, src.bufdata, src.buf_len, 0.5f, 1.5f);
    char *path = hl_test_path_alloc(hl_test_tmpdir(), "r18.safetensors");
    cr_assert_eq(hl_checkpoint_save(path, &src, NULL), HL_OK, "%s", hl_error_last());
    for (int alias = 0; alias <= 1; alias++) {
        const char *kv[] = {"backbone", "resnet18", alias ? "init_from" : "pretrained", path, NULL};
        hl_hasher *h = hl_test_make_hasher("dpsh", &d, kv, 16, 3);
        for (int i = 0; i < h->params.n_par + h->params.n_buf; i++) {
            const hl_params_entry *e = i < h->params.n_par ? &h->params.par[i] : &h->params.buf[i - h->params.n_par];
            if (strncmp(e->name, "backbone.", 9)) continue;
            const hl_tensor *t = hl_params_find(&src, e->name + 9);
            cr_assert_not_null(t, "%s", e->name);
            cr_assert_eq(memcmp(t->data, e->t->data, (size_t)hl_tensor_numel(t) * sizeof(float)), 0, "%s", e->name);
        }
        hl_hasher_free(h);
    }
    free(path);
    hl_params_free(&src);
    hl_dataset_free(&d);
}

/* Copies of every parameter and buffer (slab order). */
static float *copy_all(const hl_params *p) {
    float *c = malloc((size_t)(p->slab_len + p->buf_len) * sizeof *c);
    memcpy(c, p->data, (size_t)p->slab_len * sizeof *c);
    memcpy(c + p->slab_len, p->bufdata, (size_t)p->buf_len * sizeof *c);
    return c;
}

static const float *saved(const hl_params *p, const float *c, int i) {
    const hl_params_entry *e = i < p->n_par ? &p->par[i] : &p->buf[i - p->n_par];
    return (i < p->n_par ? c : c + p->slab_len) + e->offset;
}

static bool unchanged(const hl_params *p, const float *c, int i) {
    const hl_params_entry *e = i < p->n_par ? &p->par[i] : &p->buf[i - p->n_par];
    return !memcmp(saved(p, c, i), e->t->data, (size_t)hl_tensor_numel(e->t) * sizeof(float));
}

/* DPSH on resnet18 (3×32×32) with freeze_until layer2: conv1, layer1, layer2 — weights, batch-norm weights and
 * running statistics — are bit-identical after two epochs (and the end-of-fit batch-norm recalibration); every
 * tensor of layer3, layer4 and the head changed. */
Test(finetune, freeze_until_keeps_frozen_stages_bit_identical) {
    hl_dataset d;
    hl_test_synthetic(&d, 24, 3, 32, 3, 4);
    int64_t idx[24];
    for (int i = 0; i < 24; i++) idx[i] = i;
    const char *kv[] = {"backbone", "resnet18", "freeze_until", "layer2", "epochs", "2", "batch", "8",
                        "optimizer", "sgd", "lr", "0.01", "weight_decay", "1e-4", NULL};
    hl_hasher *h = hl_test_make_hasher("dpsh", &d, kv, 16, 3);
    float *before = copy_all(&h->params);
    cr_assert_eq(hl_hasher_fit(h, &d, idx, 24, true), HL_OK, "%s", hl_error_last());
    int frozen = 0, moved = 0;
    for (int i = 0; i < h->params.n_par + h->params.n_buf; i++) {
        const hl_params_entry *e = i < h->params.n_par ? &h->params.par[i] : &h->params.buf[i - h->params.n_par];
        bool late = !strncmp(e->name, "backbone.layer3", 15) || !strncmp(e->name, "backbone.layer4", 15) ||
                    !strncmp(e->name, "head.", 5);
        if (!late) {
            cr_assert(unchanged(&h->params, before, i), "frozen %s changed", e->name);
            frozen++;
        } else {
            cr_assert(!unchanged(&h->params, before, i), "%s did not change", e->name);
            moved++;
        }
    }
    cr_assert(frozen == 30 + 20 && moved > 0, "%d frozen tensors (30 parameters + 20 buffers)", frozen);
    free(before);
    hl_hasher_free(h);
    hl_dataset_free(&d);
}

/* One SGD step (momentum's first step is the plain gradient) from the same start on the same batch: with
 * backbone_lr_mult 0.25 every backbone parameter moves by 0.25 × its move with the multiplier 1, the head by the same
 * amount; with 0 the backbone does not move at all. No weight decay, so the move is lr × gradient exactly. */
Test(finetune, backbone_lr_mult_scales_the_backbone_step) {
    hl_dataset d;
    hl_test_synthetic(&d, 16, 1, 16, 2, 4);
    int64_t idx[16];
    for (int i = 0; i < 16; i++) idx[i] = i;
    static const char *mults[] = {"1", "0.25", "0"};
    float *start = NULL, *after[3];
    hl_params *p = NULL;
    hl_hasher *hs[3];
    for (int k = 0; k < 3; k++) {
        const char *kv[] = {"backbone", "cnn-small", "backbone_lr_mult", mults[k], "epochs", "1", "batch", "16",
                            "optimizer", "sgd", "lr", "0.05", "weight_decay", "0", "lr_schedule", "constant", NULL};
        hs[k] = hl_test_make_hasher("dpsh", &d, kv, 8, 3);
        if (!start) start = copy_all(&hs[k]->params);
        cr_assert_eq(hl_hasher_fit(hs[k], &d, idx, 16, true), HL_OK, "%s", hl_error_last());
        after[k] = copy_all(&hs[k]->params);
        p = &hs[k]->params;
    }
    int still = 0;
    for (int i = 0; i < p->n_par; i++) {
        const hl_tensor *t = hl_params_at(p, i);
        const bool bb = !strncmp(hl_params_name(p, i), "backbone.", 9);
        const float *s0 = saved(p, start, i), *a1 = saved(p, after[0], i), *aq = saved(p, after[1], i),
                    *a0 = saved(p, after[2], i);
        double d1 = 0, dq = 0, dmax = 0;
        for (int64_t j = 0; j < hl_tensor_numel(t); j++) {
            d1 = (double)a1[j] - s0[j], dq = (double)aq[j] - s0[j];
            dmax = fmax(dmax, fabs(d1));
            cr_assert(fabs(dq - (bb ? 0.25 : 1.0) * d1) <= 1e-6 * fabs(d1) + 1e-7, "%s[%lld]: step %g with the "
                      "multiplier, %g without", hl_params_name(p, i), (long long)j, dq, d1);
            if (bb) cr_assert_eq(a0[j], s0[j], "%s moved with backbone_lr_mult 0", hl_params_name(p, i));
        }
        still += dmax == 0; /* a bias right before a batch norm gets no gradient in training mode */
    }
    cr_assert_leq(still, 1, "%d tensors did not move", still);
    for (int k = 0; k < 3; k++) hl_hasher_free(hs[k]), free(after[k]);
    free(start);
    hl_dataset_free(&d);
}

/* Encoding and attack batches shrink with the image (hashers/hasher.h): unchanged up to 3×32×32, 1/49 at 224×224. */
Test(finetune, batches_scale_with_the_image_size) {
    cr_assert_eq(hl_batch_for_pixels(256, 3 * 32 * 32), 256);
    cr_assert_eq(hl_batch_for_pixels(256, 28 * 28), 256);
    cr_assert_eq(hl_batch_for_pixels(256, 3 * 224 * 224), 5);
    cr_assert_eq(hl_batch_for_pixels(64, 3 * 64 * 64), 16);
    cr_assert_eq(hl_batch_for_pixels(64, 3 * 224 * 224), 1);
}
