/* hashers/itq.c — ITQ (Gong & Lazebnik, CVPR'11): PCA to K dims, then the ITQ rotation (hashers/itq.h).
 * u = ((x − μ)·P)·R, stored fused as one linear layer: proj = (P·R)ᵀ [K, D], bias = −proj·μ (differentiable in x).
 * PCA: covariance by SYRK (OpenBLAS), top-K eigenvectors by LAPACK dsyevr; the SVDs by dgesvd (OpenBLAS bundles
 * LAPACK; Debian ships no LAPACKE header for it, so the Fortran entry points are declared here). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops/ops.h"
#include "hashers/hasher.h"
#include "hashers/itq.h"

/* Fortran LAPACK (gfortran ABI: every argument by reference, hidden string lengths last). */
extern void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n, double *a, const int *lda,
                    const double *vl, const double *vu, const int *il, const int *iu, const double *abstol, int *m,
                    double *w, double *z, const int *ldz, int *isuppz, double *work, const int *lwork, int *iwork,
                    const int *liwork, int *info, size_t l1, size_t l2, size_t l3);
extern void dgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, double *a, const int *lda,
                    double *s, double *u, const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork,
                    int *info, size_t l1, size_t l2);

/* Column-major K×K SVD A = U·diag(s)·VT (A is destroyed). */
static hl_status svd(int K, double *A, double *U, double *VT) {
    int info = 0, lwork = -1;
    double q = 0, *s = malloc((size_t)K * sizeof *s), *work = NULL;
    hl_status st = HL_OK;
    if (!s) return hl_error_set(HL_ENOMEM, "out of memory");
    dgesvd_("A", "A", &K, &K, A, &K, s, U, &K, VT, &K, &q, &lwork, &info, 1, 1);
    lwork = (int)q + 1;
    if (!(work = malloc((size_t)lwork * sizeof *work))) {
        st = hl_error_set(HL_ENOMEM, "out of memory");
        goto done;
    }
    dgesvd_("A", "A", &K, &K, A, &K, s, U, &K, VT, &K, work, &lwork, &info, 1, 1);
    if (info != 0) st = hl_error_set(HL_ENUMERIC, "itq: dgesvd failed (info %d)", info);
done:
    free(s);
    free(work);
    return st;
}

/* Z = V·R, B = sign(Z) into B; returns ‖B − Z‖². */
static double quantise(const double *V, int64_t n, int K, const double *R, double *Z, double *B) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, K, K, 1.0, V, K, R, K, 0.0, Z, K);
    double loss = 0;
    for (int64_t i = 0; i < n * K; i++) {
        B[i] = Z[i] >= 0 ? 1.0 : -1.0;
        loss += (B[i] - Z[i]) * (B[i] - Z[i]);
    }
    return loss;
}

hl_status hl_itq_rotation(const double *V, int64_t n, int K, int iters, uint64_t seed, double *R, double *loss) {
    hl_status st = HL_OK;
    size_t kk = (size_t)K * K;
    double *Z = malloc((size_t)n * K * sizeof *Z), *B = malloc((size_t)n * K * sizeof *B);
    double *C = malloc(kk * sizeof *C), *U = malloc(kk * sizeof *U), *VT = malloc(kk * sizeof *VT);
    if (!Z || !B || !C || !U || !VT) {
        st = hl_error_set(HL_ENOMEM, "itq: out of memory for %lld x %d projections", (long long)n, K);
        goto done;
    }
    hl_rng r = hl_rng_make(seed, 0x697471 /* "itq" */);
    for (size_t i = 0; i < kk; i++) C[i] = hl_rng_normal_at(r.seed, r.stream, i);
    HL_TRY(svd(K, C, U, VT));
    memcpy(R, U, kk * sizeof *R); /* a random orthogonal start */
    for (int t = 0; t <= iters; t++) {
        double q = quantise(V, n, K, R, Z, B);
        if (loss) loss[t] = q;
        if (t == iters) break;
        /* C = Bᵀ·V (row-major) is Cᵀ seen column-major; Cᵀ = Ŝ·Ω·Sᵀ, so LAPACK's U = Ŝ and VT = Sᵀ. */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, K, (int)n, 1.0, B, K, V, K, 0.0, C, K);
        HL_TRY(svd(K, C, U, VT));
        /* R = Ŝ·Sᵀ = U·VT (column-major product); written row-major via the transposed column-major product. */
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, K, K, K, 1.0, U, K, VT, K, 0.0, C, K);
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++) R[i * K + j] = C[j * K + i];
    }
done:
    free(Z), free(B), free(C), free(U), free(VT);
    return st;
}

typedef struct itq {
    hl_hasher base;
    hl_tensor *proj, *bias;
    int iters;
} itq;

static const hl_param_spec itq_params[] = {
    {.name = "iters", .type = HL_PARAM_INT, .def = "50", .range = "[0, 10000]",
     .doc = "ITQ iterations (alternating sign and Procrustes rotation)"},
};

static hl_status itq_init(hl_hasher *self, const hl_config *cfg, const hl_dataset_info *info, int bits,
                          uint64_t seed) {
    hl_status st = HL_OK;
    itq *m = (itq *)self;
    int64_t d = (int64_t)info->c * info->h * info->w, it;
    (void)seed;
    if (bits > d) return hl_error_set(HL_EINVAL, "%d bits exceed the image dimension %lld", bits, (long long)d);
    HL_TRY(hl_config_get_int(cfg, "iters", &it));
    m->iters = (int)it;
    m->proj = hl_params_add(&self->params, "proj", 2, HL_SHAPE(bits, d));
    m->bias = hl_params_add(&self->params, "bias", 1, HL_SHAPE(bits));
    HL_TRY(hl_params_alloc(&self->params));
done:
    return st;
}

/* Mean μ [d] and the upper triangle of the covariance (row-major [d, d], float accumulation by SYRK). */
static void moments(const hl_dataset *ds, const int64_t *idx, int64_t n, int64_t d, float *buf, int64_t chunk,
                    double *mu, float *cov) {
    for (int64_t i0 = 0; i0 < n; i0 += chunk) {
        int64_t b = HL_MIN(chunk, n - i0);
        hl_dataset_read(ds, idx + i0, b, buf);
        for (int64_t i = 0; i < b; i++)
            for (int64_t j = 0; j < d; j++) mu[j] += buf[i * d + j];
    }
    for (int64_t j = 0; j < d; j++) mu[j] /= (double)n;
    for (int64_t i0 = 0; i0 < n; i0 += chunk) {
        int64_t b = HL_MIN(chunk, n - i0);
        hl_dataset_read(ds, idx + i0, b, buf);
        for (int64_t i = 0; i < b; i++)
            for (int64_t j = 0; j < d; j++) buf[i * d + j] -= (float)mu[j];
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)b, 1.0f, buf, (int)d, 1.0f, cov, (int)d);
    }
}

static hl_status itq_fit(hl_hasher *self, const hl_dataset *ds, const int64_t *idx, int64_t n, bool labels) {
    (void)labels;
    hl_status st = HL_OK;
    itq *m = (itq *)self;
    int K = self->bits, D, found = 0, info = 0, lwork = -1, liwork = -1, il, iu, iw = 0;
    int64_t d = hl_dataset_image_size(ds), chunk = 256;
    double *mu = calloc((size_t)d, sizeof *mu), *A = malloc((size_t)(d * d) * sizeof *A);
    double *w = malloc((size_t)d * sizeof *w), *Zv = malloc((size_t)(d * K) * sizeof *Zv), *work = NULL;
    double *V = malloc((size_t)(n * K) * sizeof *V), *R = malloc((size_t)K * K * sizeof *R), q = 0, zero = 0;
    float *cov = calloc((size_t)(d * d), sizeof *cov), *buf = malloc((size_t)(chunk * d) * sizeof *buf);
    float *P = malloc((size_t)(d * K) * sizeof *P), *vb = malloc((size_t)(chunk * K) * sizeof *vb);
    float *proj = malloc((size_t)(K * d) * sizeof *proj), *bias = malloc((size_t)K * sizeof *bias);
    int *isuppz = malloc((size_t)(2 * K) * sizeof *isuppz), *iwork = NULL;
    if (!mu || !A || !w || !Zv || !V || !R || !cov || !buf || !P || !vb || !isuppz || !proj || !bias) {
        st = hl_error_set(HL_ENOMEM, "out of memory for PCA of %lld dimensions", (long long)d);
        goto done;
    }
    moments(ds, idx, n, d, buf, chunk, mu, cov);
    for (int64_t i = 0; i < d; i++) /* full symmetric matrix (row-major upper -> both triangles) */
        for (int64_t j = i; j < d; j++) A[i * d + j] = A[j * d + i] = (double)cov[i * d + j] / (double)n;
    D = (int)d, il = D - K + 1, iu = D;
    dsyevr_("V", "I", "U", &D, A, &D, &zero, &zero, &il, &iu, &zero, &found, w, Zv, &D, isuppz, &q, &lwork, &iw,
            &liwork, &info, 1, 1, 1);
    lwork = (int)q + 1, liwork = iw + 1;
    if (!(work = malloc((size_t)lwork * sizeof *work)) || !(iwork = malloc((size_t)liwork * sizeof *iwork))) {
        st = hl_error_set(HL_ENOMEM, "out of memory");
        goto done;
    }
    dsyevr_("V", "I", "U", &D, A, &D, &zero, &zero, &il, &iu, &zero, &found, w, Zv, &D, isuppz, work, &lwork, iwork,
            &liwork, &info, 1, 1, 1);
    if (info != 0 || found != K) {
        st = hl_error_set(HL_ENUMERIC, "PCA: dsyevr failed (info %d, %d of %d eigenvectors)", info, found, K);
        goto done;
    }
    /* P [d, K] row-major, largest eigenvalue first; column j of Zv (ascending) is eigenvector j. */
    for (int64_t i = 0; i < d; i++)
        for (int j = 0; j < K; j++) P[i * K + j] = (float)Zv[(int64_t)(K - 1 - j) * d + i];
    for (int64_t i0 = 0; i0 < n; i0 += chunk) { /* V = (X − μ)·P */
        int64_t b = HL_MIN(chunk, n - i0);
        hl_dataset_read(ds, idx + i0, b, buf);
        for (int64_t i = 0; i < b; i++)
            for (int64_t j = 0; j < d; j++) buf[i * d + j] -= (float)mu[j];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, K, (int)d, 1.0f, buf, (int)d, P, K, 0.0f, vb,
                    K);
        for (int64_t i = 0; i < b * K; i++) V[i0 * K + i] = vb[i];
    }
    HL_TRY(hl_itq_rotation(V, n, K, m->iters, self->seed, R, NULL));
    for (int k = 0; k < K; k++) { /* proj[k][i] = Σ_j P[i][j] R[j][k]; bias[k] = −Σ_i proj[k][i] μ[i] */
        double bk = 0;
        for (int64_t i = 0; i < d; i++) {
            double s = 0;
            for (int j = 0; j < K; j++) s += (double)P[i * K + j] * R[j * K + k];
            proj[k * d + i] = (float)s;
            bk -= s * mu[i];
        }
        bias[k] = (float)bk;
    }
    hl_tensor_upload(m->proj, proj); /* to the hasher's device */
    hl_tensor_upload(m->bias, bias);
done:
    free(mu), free(A), free(w), free(Zv), free(work), free(V), free(R), free(cov), free(buf), free(P), free(vb);
    free(proj), free(bias);
    free(isuppz), free(iwork);
    return st;
}

static hl_tensor *itq_forward(hl_hasher *self, hl_ctx *ctx, hl_tensor *x) {
    itq *m = (itq *)self;
    return hl_linear(ctx, hl_flatten(ctx, x), m->proj, m->bias);
}

const hl_hasher_class hl_hasher_itq = {
    .abi = HL_HASHER_ABI,
    .name = "itq",
    .summary = "ITQ (Gong & Lazebnik, CVPR'11): PCA then an iteratively learned rotation minimising quantisation "
               "loss",
    .cite = "@inproceedings{gong2011itq,\n  author = {Yunchao Gong and Svetlana Lazebnik},\n  title = {Iterative Quantization: A Procrustean Approach to Learning Binary Codes},\n  booktitle = {Proceedings of the IEEE Conference on Computer Vision and Pattern Recognition (CVPR)},\n  pages = {817--824},\n  year = {2011}\n}\n",
    .params = itq_params,
    .n_params = (int)HL_ARRAY_LEN(itq_params),
    .size = sizeof(itq),
    .flags = HL_HASHER_DIFFERENTIABLE | HL_HASHER_NEEDS_FIT | HL_HASHER_LINEAR | HL_HASHER_DEVICE,
    .init = itq_init,
    .fit = itq_fit,
    .forward = itq_forward,
};
