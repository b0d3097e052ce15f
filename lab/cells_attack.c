/* lab/cells_attack.c — what an attack cell needs besides its scoring (lab/cells.c): the attack run in resumable
 * chunks of queries, and the reference codes of attacks that push away from class centres. */
#include <stdlib.h>
#include <string.h>

#include "core/io/npy.h"
#include "core/job.h"
#include "defences/defence.h"
#include "lab/runner_impl.h"

/* ---- resumable attack runs ---------------------------------------------------------------------------------------
 * The attacked queries go in chunks of ATTACK_CHUNK. After each chunk its adversarial images (float32, exactly what
 * the attack returned) are written to CELL/attack_partial/chunk_NNNN.npy and the attack's accumulators (counters,
 * trace, an ensemble's record: hl_attack_keep) with the attack's wall time to CELL/attack_state.safetensors, both
 * atomically. A run that finds them restores the accumulators, reads the finished chunks and attacks the rest; per
 * query results do not depend on the chunking (per-query seeds, batch-invariant victims), so the cell ends as an
 * uninterrupted one would, wall time aside. Both are removed when the cell is done (lab/runner.c). */
#define ATTACK_CHUNK 64
#define ATTACK_BATCH 64 /* images per batch of the attack at CIFAR sizes (its results do not depend on it) */

static hl_codes codes_rows(const hl_codes *c, int64_t i0, int64_t b) {
    return (hl_codes){.n = b, .bits = c->bits, .words = c->words, .w = c->w + i0 * c->words};
}

/* Registers what the job keeps (re-done before every save: traces appear with the first chunk). */
static hl_status attack_keep(hl_train_state *ts, const char *dir, const hl_cell *c, hl_attack *a, int64_t n,
                             int64_t nchunks, double *secs) {
    hl_train_state_init(ts, dir, HL_RUN_ATTACK_STATE, c->label, nchunks, c->key);
    hl_train_state_set_unit(ts, "chunk of queries");
    hl_train_state_blob(ts, "seconds", secs, sizeof *secs);
    return hl_attack_keep(a, ts, "", n);
}

hl_status hl_cell_attack_chunks(hl_run_state *rs, const hl_cell *c, const char *dir, hl_attack *a, hl_hasher *h,
                                const float *x, float *xa, int64_t n, const hl_attack_goal *goal, double *t_att) {
    hl_status st = HL_OK;
    const int64_t d = hl_dataset_image_size(&rs->data), nchunks = (n + ATTACK_CHUNK - 1) / ATTACK_CHUNK;
    int64_t done = 0;
    double secs = 0;
    char pdir[1300], p[1400];
    hl_train_state ts;
    hl_npy arr = {0};
    snprintf(pdir, sizeof pdir, "%s/attack_partial", dir);
    HL_TRY(attack_keep(&ts, dir, c, a, n, nchunks, &secs));
    st = hl_train_state_resume(&ts, &done);
    if (st == HL_EMISMATCH || st == HL_EFORMAT) { /* another job's state: start over */
        hl_msg(HL_LOG_WARN, "cell %s: %s; attacking from the first query", c->label, hl_error_last());
        hl_error_clear();
        hl_train_state_remove(&ts);
        done = 0, st = HL_OK;
    }
    if (st < 0) goto done;
    for (int64_t k = 0; k < done; k++) { /* the finished chunks' images */
        int64_t c0 = k * ATTACK_CHUNK, cn = HL_MIN(ATTACK_CHUNK, n - c0);
        snprintf(p, sizeof p, "%s/chunk_%04lld.npy", pdir, (long long)k);
        HL_TRY(hl_npy_read(p, &arr));
        if (arr.dtype != HL_NPY_F32 || arr.ndim != 2 || arr.shape[0] != cn || arr.shape[1] != d)
            HL_TRY(hl_error_set(HL_EMISMATCH, "%s: not the [%lld, %lld] float32 images of chunk %lld", p,
                                (long long)cn, (long long)d, (long long)k));
        memcpy(xa + c0 * d, arr.data, (size_t)(cn * d) * sizeof *xa);
        hl_npy_free(&arr);
    }
    if (done > 0)
        hl_msg(HL_LOG_INFO, "cell %s: resuming the attack at query %lld/%lld", c->label,
               (long long)(done * ATTACK_CHUNK), (long long)n);
    if (done < nchunks) HL_TRY(hl_store_mkdirs(pdir));
    for (int64_t k = done; k < nchunks; k++) {
        int64_t c0 = k * ATTACK_CHUNK, cn = HL_MIN(ATTACK_CHUNK, n - c0);
        hl_codes tgt, src;
        hl_labels tl;
        hl_attack_goal g = {.query_id = goal->query_id + c0, .judge = goal->judge, .first = c0, .total = n};
        if (goal->target) tgt = codes_rows(goal->target, c0, cn), g.target = &tgt;
        if (goal->source) src = codes_rows(goal->source, c0, cn), g.source = &src;
        if (goal->target_labels) {
            const hl_labels *L = goal->target_labels;
            tl = (hl_labels){.n = cn, .nlabels = L->nlabels, .words = L->words, .bits = L->bits + c0 * L->words};
            g.target_labels = &tl;
        }
        double t0 = hl_time_s();
        HL_TRY(hl_attack_run(a, h, rs->ctx, x + c0 * d, xa + c0 * d, cn, &g,
                             hl_batch_for_pixels(ATTACK_BATCH, d)));
        secs += hl_time_s() - t0;
        snprintf(p, sizeof p, "%s/chunk_%04lld.npy", pdir, (long long)k);
        HL_TRY(hl_npy_write(p, HL_NPY_F32, 2, HL_SHAPE(cn, d), xa + c0 * d));
        if (k + 1 < nchunks) { /* the last chunk's state is never needed: the cell finishes now */
            HL_TRY(attack_keep(&ts, dir, c, a, n, nchunks, &secs));
            const char *stop_at = getenv("HASHLAB_TEST_STOP_AFTER_CHUNK"); /* TEST-ONLY hook (runner.h) */
            if (stop_at && strtoll(stop_at, NULL, 10) == k + 1) hl_job_request_stop();
            st = hl_train_state_epoch_end(&ts, k + 1);
            if (st == HL_EINTR)
                hl_error_set(HL_EINTR, "interrupted after %lld of %lld attacked queries (kept: the finished queries, "
                             "the next run attacks the rest)", (long long)(c0 + cn), (long long)n);
            if (st < 0) goto done;
        }
    }
    *t_att = secs;
done:
    hl_npy_free(&arr);
    return st;
}

/* An HL_ATTACK_REFERENCE attack's codes to push away from (attacks/attack.h): each attacked query's class centre
 * (or, with params reference: mainstay, SAAT's mainstay) over the database codes and labels; the choice goes to
 * result.json's "reference". */
hl_status hl_cell_reference_codes(const hl_attack *a, const hl_labels *qlab, const hl_codes *db,
                                  const hl_labels *dblab, hl_codes *out, hl_config *res) {
    hl_status st = HL_OK;
    const char *kind = "centre";
    const hl_config *kn = hl_config_get(a->cfg, "reference");
    if (kn && kn->kind == HL_CONFIG_SCALAR) kind = kn->text;
    float *b = malloc((size_t)HL_MAX(1, db->n * db->bits) * sizeof *b);
    float *r = malloc((size_t)HL_MAX(1, qlab->n * db->bits) * sizeof *r);
    if (!b || !r) HL_TRY(hl_error_set(HL_ENOMEM, "out of memory for reference codes"));
    hl_codes_unpack(db, b);
    HL_TRY(hl_defence_centres(qlab, dblab, b, db->bits, !strcmp(kind, "mainstay"), r));
    HL_TRY(hl_codes_create(out, qlab->n, db->bits));
    hl_codes_pack(out, r);
    HL_TRY(hl_run_put_str(res, "reference", kind));
done:
    free(b), free(r);
    return st;
}

