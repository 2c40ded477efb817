/* bench_load.c - CSV -> columnar table throughput (parse + type check).
 *
 * usage: bench_load TABLE FILE.csv [runs]
 * Prints the median over runs of MB/s and rows/s of cvm_load_csv_table, and
 * the same for a reader-only pass (cvm_csv_next over every record), so the
 * cost of conversion is visible.  Times are the process CPU time (user +
 * system, one thread), the per-core figure, robust to a shared machine.
 */
#include "cvm/cvm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_load TABLE FILE.csv [runs]\n");
        return 2;
    }
    const cvm_tabledef *def = cvm_schema_find(argv[1]);
    int runs = argc > 3 ? atoi(argv[3]) : 5;
    if (!def || runs < 1 || runs > 100) {
        fprintf(stderr, "bench_load: bad table or runs\n");
        return 2;
    }
    cvm_ctx_t *ctx;
    cvm_ctx_new(&ctx);
    double t_load[100], t_read[100];
    uint64_t bytes = 0, rows = 0;
    for (int r = 0; r < runs; r++) {
        /* reader only */
        cvm_csv_reader_t *rd;
        cvm_csv_options_t co;
        cvm_csv_options_init(&co);
        double t0 = now();
        if (cvm_csv_open(ctx, argv[2], &co, &rd) != CVM_OK) {
            fprintf(stderr, "%s\n", cvm_ctx_errmsg(ctx));
            return 1;
        }
        cvm_csv_record_t rec;
        uint64_t n = 0, chk = 0;
        while (cvm_csv_next(rd, &rec) == CVM_OK) {
            n++;
            chk += rec.nfields;
        }
        bytes = cvm_csv_bytes_read(rd);
        cvm_csv_close(rd);
        t_read[r] = now() - t0;
        if (chk == 0) {
            return 1;
        }
        /* parse + check into the columnar table */
        cvm_load_options_t lo;
        cvm_load_options_init(&lo);
        lo.rejects_path = "/dev/null";
        cvm_load_result_t res;
        cvm_load_result_init(&res);
        cvm_table_t *t = NULL;
        t0 = now();
        if (cvm_load_csv_table(ctx, def, argv[2], &lo, &t, &res) != CVM_OK) {
            fprintf(stderr, "%s\n", cvm_ctx_errmsg(ctx));
            return 1;
        }
        t_load[r] = now() - t0;
        rows = res.rows_loaded;
        cvm_table_free(t);
        cvm_load_result_destroy(&res);
    }
    qsort(t_load, (size_t)runs, sizeof(double), cmp_d);
    qsort(t_read, (size_t)runs, sizeof(double), cmp_d);
    double ml = t_load[runs / 2], mr = t_read[runs / 2];
    printf("{\"file_mb\": %.1f, \"rows\": %llu, \"runs\": %d,\n"
           " \"reader_s\": %.3f, \"reader_mb_s\": %.0f,\n"
           " \"columnar_s\": %.3f, \"columnar_mb_s\": %.0f, "
           "\"columnar_rows_s\": %.0f}\n",
           (double)bytes / 1e6,
           (unsigned long long)rows,
           runs,
           mr,
           (double)bytes / 1e6 / mr,
           ml,
           (double)bytes / 1e6 / ml,
           (double)rows / ml);
    cvm_ctx_free(ctx);
    return 0;
}
