/* cmd_retention.c - `cvm retention`: the month's retention list. */
#include "cli.h"

#include "cvm/cvm.h"
#include "cvm/retention.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
    "usage: cvm retention --db FILE --month YYYY-MM [--out DIR] [--tier "
    "T]\n"
    "                     [--list-share X] [--blacklist F.csv] "
    "[--avoid CH,..] [--json]\n\n"
    "The retention list (维系清单) of month M from its churn scores: "
    "priority =\n"
    "churn probability x customer value (future lifetime value from `cvm "
    "value`,\nelse 12 x ARPU); black-listed subscribers excluded; the top "
    "share of the\ncandidates listed, split into three task classes "
    "(priority, secondary,\nlow-quality monitoring) and routed to a team "
    "(VIP, mid/high value, new\nusers) within each team's capacity; each row "
    "with the top reasons, the\nplan-fit advice and a contact channel that "
    "avoids grey-listed ones.\nStored as retention_YYYY_MM; with --out, one "
    "CSV per team.\n\n"
    "options:\n"
    "  --db FILE        the store\n"
    "  --month YYYY-MM  the month (run `cvm churn score` for it first)\n"
    "  --out DIR        write DIR/retention_YYYY_MM_<team>.csv\n"
    "  --tier T         only one value tier first: high, middle, low (all)\n"
    "  --list-share X   share of the candidates on the list (0.10)\n"
    "  --priority-share X, --secondary-share X\n"
    "                   shares of the list in the first two classes (0.3, "
    "0.4)\n"
    "  --capacity-vip N, --capacity-mid-high N, --capacity-new-user N\n"
    "                   rows per team, 0 = unlimited (2000, 10000, 5000)\n"
    "  --new-user-months N  tenure below N months: new-user team (6)\n"
    "  --blacklist F    CSV with subscriber_id: also excluded\n"
    "  --avoid CH,..    channels to avoid for everyone (sms, "
    "outbound_call,\n"
    "                   account_manager, app, email)\n"
    "  --json           the summary as JSON\n"
    "  -h, --help       this help\n";

static int num(const char *opt, const char *s, double lo, double hi, double *v)
{
    char *end;
    double x = strtod(s, &end);
    if (end == s || *end || !(x >= lo && x <= hi)) {
        return cli_usage_error("retention",
                               "%s wants a number in [%g, %g], not '%s'",
                               opt,
                               lo,
                               hi,
                               s);
    }
    *v = x;
    return 0;
}

int cmd_retention(int argc, char **argv)
{
    enum {
        O_TIER = 1000,
        O_SHARE,
        O_PSHARE,
        O_SSHARE,
        O_CVIP,
        O_CMID,
        O_CNEW,
        O_NEWM,
        O_BLACK,
        O_AVOID
    };
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"month", required_argument, NULL, 'm'},
        {"out", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},
        {"tier", required_argument, NULL, O_TIER},
        {"list-share", required_argument, NULL, O_SHARE},
        {"priority-share", required_argument, NULL, O_PSHARE},
        {"secondary-share", required_argument, NULL, O_SSHARE},
        {"capacity-vip", required_argument, NULL, O_CVIP},
        {"capacity-mid-high", required_argument, NULL, O_CMID},
        {"capacity-new-user", required_argument, NULL, O_CNEW},
        {"new-user-months", required_argument, NULL, O_NEWM},
        {"blacklist", required_argument, NULL, O_BLACK},
        {"avoid", required_argument, NULL, O_AVOID},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *db = NULL, *out = NULL;
    int32_t month = -1;
    int json = 0, c, rc;
    double v;
    char avoid_buf[256] = "";
    cvm_retention_options_t o;
    cvm_retention_options_init(&o);
    while ((c = cli_getopt("retention", argc, argv, opts, help)) != -1) {
        rc = 0;
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'm':
            if (cvm_month_parse(optarg, strlen(optarg), &month) != 0) {
                return cli_usage_error(
                    "retention", "--month wants YYYY-MM, not '%s'", optarg);
            }
            break;
        case 'o':
            out = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case O_TIER:
            o.value_tier = optarg;
            break;
        case O_SHARE:
            if (!(rc = num("--list-share", optarg, 1e-9, 1, &v))) {
                o.list_share = v;
            }
            break;
        case O_PSHARE:
            if (!(rc = num("--priority-share", optarg, 0, 1, &v))) {
                o.priority_share = v;
            }
            break;
        case O_SSHARE:
            if (!(rc = num("--secondary-share", optarg, 0, 1, &v))) {
                o.secondary_share = v;
            }
            break;
        case O_CVIP:
            if (!(rc = num("--capacity-vip", optarg, 0, 1e12, &v))) {
                o.capacity_vip = (int64_t)v;
            }
            break;
        case O_CMID:
            if (!(rc = num("--capacity-mid-high", optarg, 0, 1e12, &v))) {
                o.capacity_mid_high = (int64_t)v;
            }
            break;
        case O_CNEW:
            if (!(rc = num("--capacity-new-user", optarg, 0, 1e12, &v))) {
                o.capacity_new_user = (int64_t)v;
            }
            break;
        case O_NEWM:
            if (!(rc = num("--new-user-months", optarg, 0, 600, &v))) {
                o.new_user_months = (int)v;
            }
            break;
        case O_BLACK:
            o.blacklist_path = optarg;
            break;
        case O_AVOID: {
            snprintf(avoid_buf, sizeof avoid_buf, "%s", optarg);
            int k = 0;
            for (char *save = NULL, *tok = strtok_r(avoid_buf, ",", &save);
                 tok && k < CVM_RETENTION_MAX_LIST - 1;
                 tok = strtok_r(NULL, ",", &save))
            {
                o.grey_channels[k++] = tok;
            }
            o.grey_channels[k] = NULL;
            break;
        }
        case CLI_EXIT_OK:
            return 0;
        default:
            return 2;
        }
        if (rc) {
            return rc;
        }
    }
    if (!db || month < 0) {
        return cli_usage_error("retention", "--db and --month are required");
    }
    cvm_ctx_t *ctx = NULL;
    cvm_store_t *s = NULL;
    if (cvm_ctx_new(&ctx) != CVM_OK) {
        return cli_fail("retention", "out of memory");
    }
    cvm_table_t *t = NULL;
    char *sum = NULL;
    rc = 0;
    cvm_status st = cvm_store_open(ctx, db, 0, &s);
    if (st == CVM_OK) {
        st = cvm_retention_build(s, month, &o, &t, &sum);
    }
    if (st == CVM_OK) {
        st = cvm_retention_save(s, month, t, sum);
    }
    if (st != CVM_OK) {
        rc = cli_fail("retention", "%s", cvm_ctx_errmsg(ctx));
        goto done;
    }
    char mm[8];
    cvm_month_format(month, mm);
    if (out) {
        static const char *const teams[] = {"vip", "mid_high", "new_user"};
        for (int k = 0; k < 3 && rc == 0; k++) {
            char path[4096];
            snprintf(path,
                     sizeof path,
                     "%s/retention_%.4s_%.2s_%s.csv",
                     out,
                     mm,
                     mm + 5,
                     teams[k]);
            if (cvm_csv_write_table(ctx, t, path, "team", teams[k], NULL) !=
                CVM_OK) {
                rc = cli_fail("retention", "%s", cvm_ctx_errmsg(ctx));
            }
        }
    }
    if (rc == 0 && json) {
        printf("%s\n", sum);
    } else if (rc == 0) {
        json_t *j = json_loads(sum, 0, NULL);
        printf("retention list of %s: %lld subscribers (of %lld "
               "candidates; %lld black-listed left out)\n",
               mm,
               (long long)json_integer_value(json_object_get(j, "rows")),
               (long long)json_integer_value(json_object_get(j, "candidates")),
               (long long)json_integer_value(
                   json_object_get(j, "excluded_black_list")));
        printf("value: %s\nexpected churners on the list %.0f, value at "
               "risk %.0f yuan\n\n",
               json_string_value(json_object_get(j, "value_basis")),
               json_real_value(json_object_get(j, "expected_churners")),
               json_real_value(json_object_get(j, "value_at_risk")));
        static const char *const cls[] = {
            "priority", "secondary", "monitoring"};
        static const char *const teams[] = {"vip", "mid_high", "new_user"};
        printf("%-12s %8s %8s %8s %8s\n",
               "class",
               "vip",
               "mid_high",
               "new_user",
               "total");
        json_t *bct = json_object_get(j, "by_class_team");
        for (int k = 0; k < 3; k++) {
            json_t *row = json_object_get(bct, cls[k]);
            long long tot = 0;
            printf("%-12s", cls[k]);
            for (int tm = 0; tm < 3; tm++) {
                long long x =
                    json_integer_value(json_object_get(row, teams[tm]));
                tot += x;
                printf(" %8lld", x);
            }
            printf(" %8lld\n", tot);
        }
        json_decref(j);
    }
done:
    cvm_free(sum);
    cvm_table_free(t);
    cvm_store_close(s);
    cvm_ctx_free(ctx);
    return rc;
}
