/* lab/commands.h — the hashlab subcommands implemented outside main.c. Each takes the arguments after its own name
 * (argv[0] is the first option), prints errors to stderr and returns the process exit code: 0 success, 1 failure
 * of the work (message from hl_error_last()), 2 bad usage. */
#ifndef HL_LAB_COMMANDS_H
#define HL_LAB_COMMANDS_H

int hl_cmd_data(int argc, char **argv);            /* hashlab data fetch|info ...          (lab/cmd_data.c) */
int hl_cmd_score(int argc, char **argv);           /* hashlab score --query-codes ...      (lab/cmd_score.c) */
int hl_cmd_bench_retrieval(int argc, char **argv); /* hashlab bench retrieval ...          (lab/cmd_bench_retrieval.c) */
int hl_cmd_bench_lists(int argc, char **argv);     /* hashlab bench lists ...              (lab/cmd_bench_lists.c) */
int hl_cmd_list(int argc, char **argv);            /* hashlab list [NAME]                  (lab/cmd_list.c) */
int hl_cmd_run(int, char **);                   /* hashlab run SUITE ...                (lab/cmd_run.c) */
int hl_cmd_status(int, char **);                /* hashlab status RUNDIR                (lab/cmd_status.c) */
int hl_cmd_report(int argc, char **argv);          /* hashlab report RUNDIR [--format ...] (lab/cmd_report.c) */
int hl_cmd_embed(int argc, char **argv);           /* hashlab embed --backbone ...         (lab/cmd_embed.c) */
int hl_cmd_encode(int argc, char **argv);          /* hashlab encode --model ...           (lab/cmd_encode.c) */

/* Shared option parsing: integer in [lo, hi] (prints "hashlab: OPT needs ..." and returns -1 when invalid). */
long long hl_cli_parse_int(const char *opt, const char *val, long long lo, long long hi);

#endif
