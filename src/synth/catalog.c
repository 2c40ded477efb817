/* catalog.c - the plan and product catalogs, and billing.
 *
 * Thirteen plans from an 8-yuan basic prepaid card to a 188-yuan business
 * plan (one of them retired before the simulation, so that long-standing
 * subscribers sit on a plan nobody can take any more), a pay-as-you-go tariff
 * for subscribers with no plan, six VAS products at different lifecycle
 * stages, and the contract, bundle and offer products.  Bills are computed
 * here from the plan and the usage with integer fen, by the rule documented
 * in docs/synth.md, so that a test can recompute every bill to the fen.
 */
#include "synth/synth_internal.h"

#include "cvm/datetime.h"
#include "cvm/schema.h"

/* Money in fen.  Columns: id, name, type, payment type, fee, voice min, SMS,
 * data MB, over voice, over SMS, over data per MB, LD and roaming surcharge
 * per minute, launch and retire month (relative to the first simulated
 * month; retire 0: still open). */
/* clang-format off */
const synth_plan cvm__synth_plans[SY_NPLANS] = {
    {"P08", "Basic 8 (乐享8元)", "basic", "prepaid", 800, 30, 20, 100, 19, 10, 10, 7, 7, -60, 0},
    {"P18", "Basic 18 (乐享18元)", "basic", "any", 1800, 100, 50, 500, 15, 10, 5, 7, 7, -48, 0},
    {"P19S", "Senior 19 (敬老19元)", "voice", "any", 1900, 200, 50, 100, 15, 10, 10, 0, 0, -36, 0},
    {"P28", "Voice 28 (畅聊28元)", "voice", "any", 2800, 300, 100, 300, 15, 10, 5, 0, 0, -48, 0},
    {"P29Y", "Youth 29 (青春卡29元)", "data", "prepaid", 2900, 50, 100, 8192, 19, 10, 2, 7, 7, -6, 0},
    {"P36", "Classic 36 (经典36元)", "combo", "any", 3600, 200, 100, 1024, 15, 10, 5, 7, 7, -96, -12},
    {"P38", "Data 38 (流量38元)", "data", "any", 3800, 100, 50, 3072, 19, 10, 2, 0, 0, -36, 0},
    {"P58", "Combo 58 (4G 58元)", "combo", "any", 5800, 500, 100, 5120, 15, 10, 2, 0, 0, -48, 0},
    {"P68F", "Family 68 (亲情68元)", "family", "postpaid", 6800, 800, 100, 6144, 15, 10, 2, 0, 0, -36, 0},
    {"P88", "Combo 88 (4G 88元)", "combo", "postpaid", 8800, 1000, 200, 10240, 12, 10, 1, 0, 0, -36, 0},
    {"P98F", "Family 98 (亲情98元)", "family", "postpaid", 9800, 1500, 200, 15360, 12, 10, 1, 0, 0, -24, 0},
    {"P128", "Combo 128 (4G 128元)", "combo", "postpaid", 12800, 1500, 300, 20480, 10, 10, 1, 0, 0, -24, 0},
    {"P188B", "Business 188 (商旅188元)", "business", "postpaid", 18800, 3000, 500, 30720, 10, 10, 1, 0, 0, -24, 0},
};
/* clang-format on */

/* No plan (bills.plan_id empty): every unit is charged. */
/* clang-format off */
const synth_plan cvm__synth_payg = {"", "pay as you go", "basic", "prepaid", 0, 0, 0, 0, 25, 10, 10, 7, 7, -240, 0};
/* clang-format on */

/* VAS launch months place each product at a lifecycle stage at the start:
 * video (intro), music (growth), securities (mature), ringback (late
 * mature), mobile newspaper and mailbox (decline). */
/* clang-format off */
const synth_product cvm__synth_products[PR_COUNT] = {
    {"RBT", "Ringback tone (彩铃)", "vas", "ringback", 500, -96, 0.020, 0.015, 12, 60},
    {"MUSIC", "Music (无线音乐)", "vas", "music", 1000, -15, 0.025, 0.030, 10, 80},
    {"NEWS", "Mobile newspaper (手机报)", "vas", "news", 300, -84, 0.010, 0.030, 12, 30},
    {"STOCK", "Mobile securities (手机证券)", "vas", "securities", 1000, -48, 0.004, 0.020, 12, 120},
    {"MAIL", "Mailbox (139邮箱)", "vas", "mailbox", 500, -120, 0.006, 0.030, 12, 40},
    {"VIDEO", "Mobile video (视频会员)", "vas", "other", 1500, -2, 0.030, 0.050, 8, 100},
    {"CT12", "12-month contract (合约12个月)", "bundle", NULL, 0, -240, 0, 0, 1, 1},
    {"CT24", "24-month contract (合约24个月)", "bundle", NULL, 0, -240, 0, 0, 1, 1},
    {"BD6", "6-month converted package (转兑包)", "bundle", NULL, 0, -120, 0, 0, 1, 1},
    {"DP1G", "1 GB data pack (流量包)", "data_pack", NULL, 1000, -36, 0, 0, 1, 1},
    {"TERM", "Handset with 24-month contract (购机合约)", "device", NULL, 0, -60, 0, 0, 1, 1},
};

/* clang-format on */

static const synth_plan *plan_of(int p)
{
    return p == SY_NOPLAN ? &cvm__synth_payg : &cvm__synth_plans[p];
}

static int64_t over(int64_t used, int64_t incl)
{
    return used > incl ? used - incl : 0;
}

void cvm__synth_charges(int plan, const synth_usage *u, synth_bill *b)
{
    const synth_plan *P = plan_of(plan);
    int64_t voice_out = (int64_t)u->local + u->ld_intra + u->ld_inter;
    memset(b, 0, sizeof *b);
    b->plan = P->fee;
    b->voice = over(voice_out, P->voice) * P->ov_voice;
    b->ld = (int64_t)u->ld_inter * P->ld;
    b->roam = (int64_t)u->roam_inter * P->roam;
    b->sms = over(u->sms, P->sms) * P->ov_sms + (int64_t)u->mms * 30;
    /* Data in tenths of MB: round half up to the fen. */
    b->data = (over(u->data10, (int64_t)P->data_mb * 10) * P->ov_data + 5) / 10;
    b->other = (int64_t)u->intl * 100;
}

int64_t cvm__synth_cost(int plan, const synth_usage *u)
{
    synth_bill b;
    cvm__synth_charges(plan, u, &b);
    return b.plan + b.voice + b.ld + b.roam + b.sms + b.data + b.other;
}

int cvm__synth_plan_open(int plan, int k, int postpaid)
{
    const synth_plan *P = &cvm__synth_plans[plan];
    if (P->launch > k || (P->retire && P->retire <= k)) {
        return 0;
    }
    return P->pay[0] == 'a' ||
           !strcmp(P->pay, postpaid ? "postpaid" : "prepaid");
}

int cvm__synth_best_plan(int k,
                         int postpaid,
                         const synth_usage *u,
                         int64_t *cost)
{
    int best = postpaid ? -1 : SY_NOPLAN;
    int64_t bc = postpaid ? INT64_MAX : cvm__synth_cost(SY_NOPLAN, u);
    for (int p = 0; p < SY_NPLANS; p++) {
        if (!cvm__synth_plan_open(p, k, postpaid)) {
            continue;
        }
        int64_t c = cvm__synth_cost(p, u);
        if (c < bc) {
            bc = c;
            best = p;
        }
    }
    *cost = bc;
    return best;
}

double cvm__synth_lifecycle(int product, int k)
{
    const synth_product *D = &cvm__synth_products[product];
    double t = (double)(k - D->launch);
    if (t < 0) {
        return 0;
    }
    double rise = 1.0 - exp(-t / D->rise);
    double late = t - 3.0 * D->rise;
    return rise * (late > 0 ? exp(-late / D->decay) : 1.0);
}

/* ==== The catalog tables ==== */

static void date_or_empty(FILE *f, int32_t am, int have)
{
    if (have) {
        char b[16];
        cvm_date_format(cvm_month_first_day(am), b);
        fputs(b, f);
    }
}

cvm_status cvm__synth_write_catalog(synth_t *S)
{
    FILE *f = cvm__synth_open(S, S->dir, "plans.csv", "plans");
    if (!f) {
        return cvm__synth_io_error(S, "plans.csv");
    }
    for (int p = 0; p < SY_NPLANS; p++) {
        const synth_plan *P = &cvm__synth_plans[p];
        fprintf(f,
                "%s,%s,%s,%s,%d.%02d,%d,%d,%d,%d.%02d,%d.%02d,%d.%02d,"
                "%d.%02d,%d.%02d,",
                P->id,
                P->name,
                P->type,
                P->pay,
                P->fee / 100,
                P->fee % 100,
                P->voice,
                P->sms,
                P->data_mb,
                P->ov_voice / 100,
                P->ov_voice % 100,
                P->ov_sms / 100,
                P->ov_sms % 100,
                P->ov_data / 100,
                P->ov_data % 100,
                P->ld / 100,
                P->ld % 100,
                P->roam / 100,
                P->roam % 100);
        date_or_empty(f, S->start + P->launch, 1);
        fputc(',', f);
        date_or_empty(f, S->start + P->retire, P->retire != 0);
        fputc('\n', f);
    }
    S->res->rows[cvm__synth_table_index("plans")] += SY_NPLANS;
    S->res->bytes += (uint64_t)ftell(f);
    if (ferror(f) | fclose(f)) {
        return cvm__synth_io_error(S, "plans.csv");
    }
    f = cvm__synth_open(S, S->dir, "products.csv", "products");
    if (!f) {
        return cvm__synth_io_error(S, "products.csv");
    }
    for (int p = 0; p < PR_COUNT; p++) {
        const synth_product *D = &cvm__synth_products[p];
        fprintf(f,
                "%s,%s,%s,%s,%d.%02d,",
                D->id,
                D->name,
                D->category,
                D->vas_type ? D->vas_type : "",
                D->fee / 100,
                D->fee % 100);
        date_or_empty(f, S->start + D->launch, 1);
        fputc('\n', f);
    }
    S->res->rows[cvm__synth_table_index("products")] += PR_COUNT;
    S->res->bytes += (uint64_t)ftell(f);
    if (ferror(f) | fclose(f)) {
        return cvm__synth_io_error(S, "products.csv");
    }
    return CVM_OK;
}
