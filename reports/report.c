/* reports/report.c — STUB: replaced by the real report builder. */
#include "reports/report.h"

hl_status hl_report_build(const char *rundir, const char *const *formats, int nformats, hl_report_summary *out) {
    (void)rundir;
    (void)formats;
    (void)nformats;
    (void)out;
    return hl_error_set(HL_EUNSUPPORTED, "report: not implemented yet");
}
