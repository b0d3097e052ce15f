/* eval/retrieval.c — STUB: replaced by the real implementation. */
#include "eval/retrieval.h"

void hl_retrieval_defaults(hl_retrieval_opts *o) {
    (void)o; 
    HL_ASSERT(0, "hl_retrieval_defaults: not implemented yet");
}

hl_status hl_retrieval_eval(const hl_codes *q, const hl_labels *ql, const hl_codes *db, const hl_labels *dbl, const hl_retrieval_opts *o, hl_retrieval_result *out, double *per_query_ap) {
    (void)q; (void)ql; (void)db; (void)dbl; (void)o; (void)out; (void)per_query_ap; 
    HL_ASSERT(0, "hl_retrieval_eval: not implemented yet");
    return HL_ERR;
}

hl_status hl_retrieval_topk(const hl_codes *q, const hl_codes *db, int64_t k, int64_t *idx, int *dist) {
    (void)q; (void)db; (void)k; (void)idx; (void)dist; 
    HL_ASSERT(0, "hl_retrieval_topk: not implemented yet");
    return HL_ERR;
}

hl_status hl_retrieval_pr_radius(const hl_codes *q, const hl_labels *ql, const hl_codes *db, const hl_labels *dbl, double *precision, double *recall) {
    (void)q; (void)ql; (void)db; (void)dbl; (void)precision; (void)recall; 
    HL_ASSERT(0, "hl_retrieval_pr_radius: not implemented yet");
    return HL_ERR;
}

hl_status hl_retrieval_pr_rank(const hl_codes *q, const hl_labels *ql, const hl_codes *db, const hl_labels *dbl, const int64_t *ranks, int m, double *precision, double *recall) {
    (void)q; (void)ql; (void)db; (void)dbl; (void)ranks; (void)m; (void)precision; (void)recall; 
    HL_ASSERT(0, "hl_retrieval_pr_rank: not implemented yet");
    return HL_ERR;
}

