#!/usr/bin/python3
"""Prints the churn bench's figures (from the files run.sh leaves in
WORKDIR/res) as a readable block, then as Markdown for bench/RESULTS.md.
usage: report.py RES_DIR
"""
import glob
import json
import os
import statistics
import sys

R = sys.argv[1]


def load(name):
    p = os.path.join(R, name)
    if not os.path.exists(p):
        return None
    with open(p) as f:
        txt = f.read().strip()
    return json.loads(txt) if txt else None


def runs(prefix):
    """The timed runs PREFIX_1.., in order, each with its parsed stdout."""
    out = []
    for p in sorted(glob.glob(os.path.join(R, prefix + "_*.time"))):
        base = os.path.basename(p)[:-5]
        t = load(base + ".time")
        t["out"] = load(base + ".out")
        out.append(t)
    return out


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def f(x, fmt="%.4f"):
    return "n/a" if x is None else fmt % x


def note_time(t, prefix):
    for s, text in t["notes"]:
        if text.split(": ", 1)[-1].startswith(prefix):
            return s
    return None


def cpu_at(t, when):
    """The process's CPU seconds at a time, from the trace."""
    c = 0.0
    for s in t.get("trace") or []:
        if s[0] > when:
            break
        c = s[3]
    return c


def train_stages(t):
    """Wall seconds reading (features, labels, matrices), fitting,
    calibrating + save; then the CPU seconds of the fit."""
    tr = note_time(t, "training")
    ca = note_time(t, "calibrating")
    if tr is None or ca is None:
        return None, None, None, None
    return tr, ca - tr, t["wall"] - ca, cpu_at(t, ca) - cpu_at(t, tr)


def score_stages(t):
    """Splits a `churn score` run on its I/O trace: reading the store (model
    file, wide table) until rchar stops climbing, computing (rchar and
    wchar flat), saving (wchar climbs: churn_scores_YYYY_MM, results).
    Returns (read, compute, save) seconds and the CPU seconds of each."""
    tr = t.get("trace") or []
    if len(tr) < 3:
        return None
    w0 = tr[0][2]
    iw = next((i for i, s in enumerate(tr) if s[2] - w0 > 1.0), len(tr) - 1)
    ir = 0
    for i in range(1, iw):
        if tr[i][1] - tr[i - 1][1] > 0.5:
            ir = i
    t_r, t_w = tr[ir][0], tr[iw][0]
    c_r, c_w = tr[ir][3], tr[iw][3]
    return {"read": t_r, "compute": t_w - t_r, "save": t["wall"] - t_w,
            "read_cpu": c_r, "compute_cpu": c_w - c_r,
            "save_cpu": t["cpu"] - c_w,
            "read_mb": tr[ir][1] - tr[0][1]}


env = load("env.json") or {}
bt = load("backtest.out")
bt_time = load("backtest.time")
orc = {r["month"]: r for r in (load("oracle.json") or [])}
rs = load("reasons.json")
trains = runs("train")
ev = load("eval.out")
peer = load("peer.json")
peer_time = load("peer.time")
big = load("big.json") or {}
s_nr = runs("score1m_noreasons")
s_r = runs("score1m_reasons")
s200 = load("score200k.time")
synth = load("synth.time")

L = []  # readable block
M = []  # markdown


def both(line=""):
    L.append(line)


both("=" * 78)
both(f"churn bench, {env.get('date')}: {env.get('cpu')}, {env.get('cores')} "
     f"cores, {env.get('mem_gb')} GB; load average at start "
     f"{env.get('load')}; cvm {env.get('commit')}; {env.get('threads')} "
     f"XGBoost thread(s) for cvm and the peer")
if synth:
    both(f"synth {env.get('n')} x 12 months: {synth['wall']:.1f} s wall, "
         f"{synth['cpu']:.1f} s CPU")

# ---- backtest + oracle -------------------------------------------------
rows = []
if bt:
    for r in bt["months"]:
        m = r["metrics"]
        o = orc.get(r["month"], {})
        oa = o.get("oracle_auc")
        rows.append([r["month"], r["validation_month"],
                     r["first_train_month"], r["train_rows"],
                     100 * m["base_rate"], m["auc"], oa,
                     (m["auc"] - oa) if oa is not None else None,
                     m["lift10"], m["ece"], m["brier"], m["pr_auc"],
                     r["fit_seconds"]])
both()
both("backtest (cvm churn backtest --from 2024-08 --to 2024-10): model of T "
     "validates on T-2, trains on T-5..T-3")
hdr = ("month", "valid", "train>=", "trainrows", "churn%", "AUC", "oracle",
       "AUC-orc", "lift10", "ECE", "Brier", "PR AUC", "fit s")
both("%-8s %-8s %-8s %9s %6s %7s %7s %8s %6s %7s %7s %7s %6s" % hdr)
for r in rows:
    both("%-8s %-8s %-8s %9d %6.2f %7.4f %7s %8s %6.2f %7.4f %7.4f %7.4f "
         "%6.1f" % (r[0], r[1], r[2], r[3], r[4], r[5], f(r[6]),
                    f(r[7], "%+.4f"), r[8], r[9], r[10], r[11], r[12]))
miss = [r[0] for r in rows if r[7] is not None and abs(r[7]) > 0.03]
if rows:
    both("target |AUC - oracle AUC| <= 0.03: " +
         ("MET in every month" if not miss else
          "MISSED in " + ", ".join(miss)))
if bt_time:
    both(f"backtest command: {bt_time['wall']:.1f} s wall, "
         f"{bt_time['cpu']:.1f} s CPU, peak RSS {bt_time['maxrss_mb']:.0f} MB")

both()
both("oracle variants (AUC against the same labels); T+1 churners have no "
     "T+2 row, so the oracle as defined scores them p_T+1 alone:")
both("%-8s %8s %9s %9s %9s | %9s %9s %9s | %8s %8s" % (
    "month", "churners", "hazard", "of them", "no T+2", "oracle", "p2 imp.",
    "p1 only", "model", "model"))
both("%-8s %8s %9s %9s %9s | %9s %9s %9s | %8s %8s" % (
    "", "(label)", "closures", "labelled", "row", "(defined)", "by p1", "",
    "-def.", "-p1 only"))
bt_auc = {r[0]: r[5] for r in rows}
for m, o in sorted(orc.items()):
    ma = bt_auc.get(m)
    both("%-8s %8d %9d %9d %9d | %9.4f %9.4f %9.4f | %8s %8s" % (
        m, o["churners"], o["hazard_churners"],
        o["labelled_hazard_churners"], o["churners_without_p2"],
        o["oracle_auc"], o["oracle_auc_p2_imputed"], o["oracle_auc_p1_only"],
        f(ma and ma - o["oracle_auc"], "%+.4f"),
        f(ma and ma - o["oracle_auc_p1_only"], "%+.4f")))
fair = [m for m, o in orc.items() if m in bt_auc and
        abs(bt_auc[m] - o["oracle_auc_p1_only"]) > 0.03]
if orc and bt_auc:
    both("against the p1-only oracle, |AUC - oracle| <= 0.03: " +
         ("met in every month" if not fair else
          "MISSED in " + ", ".join(sorted(fair))))
o10 = orc.get("2024-10", {})
if "model_auc" in o10:
    both(f"2024-10, model of `churn train --month 2024-08` (stored scores): "
         f"AUC {o10['model_auc']:.4f}")

# ---- reasons -----------------------------------------------------------
if rs:
    both()
    both(f"reasons, {rs['month']} (model trained --month 2024-08; "
         f"{rs['joined']} scored subscribers joined with the truth): truth's "
         f"dominant hazard term -> cvm's reasons")
    both("%-20s %-20s %7s %7s %7s %7s %7s %7s" % (
        "truth reason", "expected family", "n", "r1", "r1..3", "n d1-3",
        "r1 d1-3", "r1..3 d13"))
    for r in rs["rows"]:
        both("%-20s %-20s %7d %6.1f%% %6.1f%% %7d %6s%% %6s%%" % (
            r["truth"], r["expected"], r["n"], 100 * r["reason1_share"],
            100 * r["top3_share"], r["n_d1_3"],
            f(r["reason1_share_d1_3"] and 100 * r["reason1_share_d1_3"],
              "%.1f"),
            f(r["top3_share_d1_3"] and 100 * r["top3_share_d1_3"], "%.1f")))
    both("reason1 distribution per truth reason (% of its subscribers):")
    for r in rs["rows"]:
        d = sorted(r["reason1_dist"].items(), key=lambda kv: -kv[1])
        both(f"  {r['truth']}: " + ", ".join(f"{k} {v:.1f}" for k, v in d))

# ---- training ----------------------------------------------------------
both()
tj = trains[0]["out"] if trains else None
if trains:
    st = [train_stages(t) for t in trains]
    both(f"cvm churn train --month 2024-08 ({len(trains)} runs): "
         f"{tj['train_rows']} training rows ({', '.join(tj['train_months'])})"
         f" + {tj['validation_rows']} validation rows, {tj['features']} "
         f"features, {tj['rounds']} rounds kept, pos_weight "
         f"{tj['pos_weight']:.1f}")
    both("  wall s:      " + " ".join(f"{t['wall']:.1f}" for t in trains) +
         f"   median {med([t['wall'] for t in trains]):.1f}")
    both("  CPU s:       " + " ".join(f"{t['cpu']:.1f}" for t in trains) +
         f"   median {med([t['cpu'] for t in trains]):.1f}")
    both("  read store:  " + " ".join(f(s[0], "%.1f") for s in st) +
         "   fit: " + " ".join(f(s[1], "%.1f") for s in st) +
         "   calibrate+save: " + " ".join(f(s[2], "%.1f") for s in st))
    both("  fit CPU s:   " + " ".join(f(s[3], "%.1f") for s in st))
    both(f"  peak RSS {med([t['maxrss_mb'] for t in trains]):.0f} MB; "
         f"validation 2024-08 AUC {tj['validation']['auc']:.4f} "
         f"(calibrated), ECE {tj['validation']['ece']:.4f}")
if ev:
    m = ev["metrics"]
    both(f"cvm churn eval --month 2024-10: AUC {m['auc']:.4f}, PR AUC "
         f"{m['pr_auc']:.4f}, lift10 {m['lift10']:.2f}, ECE {m['ece']:.4f}, "
         f"Brier {m['brier']:.4f}")
if s200:
    both(f"cvm churn score --month 2024-10 (200k, reasons): "
         f"{s200['wall']:.1f} s wall, {s200['cpu']:.1f} s CPU")

# ---- scoring 1M --------------------------------------------------------
def top_level(calls, fn, what="wall"):
    """Wall (or CPU) seconds in the completed calls of fn that are not
    nested in another call of fn."""
    iv = sorted(list(c[1:]) for c in calls if c[0] == fn and c[2] is not None)
    out = []
    for c in iv:  # union of overlapping calls (a tail call returns with
        # its caller: both finish breakpoints fire, in either order)
        if out and c[0] <= out[-1][1]:
            if c[1] > out[-1][1]:
                out[-1][1] = c[1]
                if len(c) > 3:
                    out[-1][3] = c[3]
            continue
        out.append(c)
    if what == "wall":
        return sum(c[1] - c[0] for c in out)
    if any(len(c) < 4 or c[2] is None or c[3] is None for c in out):
        return None
    return sum(c[3] - c[2] for c in out)


def gdb_stages(name):
    st, so = load(f"stages_{name}.json"), None
    p = os.path.join(R, f"stages_{name}.out")
    if os.path.exists(p):  # gdb prints its own lines before cvm's JSON
        with open(p) as fh:
            js = [x for x in fh if x.startswith("{")]
        so = json.loads(js[-1]) if js else None
    if not st or not so:
        return None
    c = st["calls"]
    read = top_level(c, "cvm_features_load")
    g = {"rows": so["rows"], "wall": st["wall"],
         "model_load": top_level(c, "cvm_model_load"), "read": read,
         "score": top_level(c, "cvm_churn_score") - read,
         "predict": top_level(c, "cvm_model_predict"),
         "contrib": top_level(c, "cvm_model_contributions_ex") +
         top_level(c, "cvm_model_contributions_by_feature"),
         "save": top_level(c, "cvm_churn_scores_save")}
    try:
        rc = top_level(c, "cvm_features_load", "cpu")
        g["read_cpu"] = rc
        g["score_cpu"] = top_level(c, "cvm_churn_score", "cpu") - rc
        g["predict_cpu"] = top_level(c, "cvm_model_predict", "cpu")
        g["contrib_cpu"] = top_level(c, "cvm_model_contributions_ex", "cpu")
    except TypeError:
        pass
    return g


score_rows = []
for key, label, rr, thr in (
        ("score1m_noreasons", "--no-reasons", s_nr, env.get("threads")),
        ("score1m_reasons", "reasons (path approx.)", s_r,
         env.get("threads")),
        ("allcores_noreasons", "--no-reasons", [], env.get("cores"))):
    g = gdb_stages(key)
    if not rr and not g:
        continue
    sts = [score_stages(t) for t in rr]
    score_rows.append({
        "key": key, "label": label, "threads": thr,
        "rows": rr[0]["out"]["rows"] if rr else g["rows"],
        "wall": med([t["wall"] for t in rr]),
        "cpu": med([t["cpu"] for t in rr]),
        "rss": med([t["maxrss_mb"] for t in rr]),
        "io_read": med([s["read"] for s in sts if s]),
        "walls": [t["wall"] for t in rr], "g": g})


def rate(rows, secs):
    return f(secs and rows / secs, "%.0f")


if score_rows:
    both()
    both(f"cvm churn score --month 2024-04 on {score_rows[0]['rows']} "
         f"subscribers ({big.get('source', '?')}), model of step 4: wall, "
         f"CPU, RSS medians of {len(s_nr)} plain runs; stages from one more "
         f"run under gdb (time of each library call)")
    both("%-22s %3s %6s %6s %6s | %6s %6s %6s %7s %7s %6s | %9s %9s %9s "
         "%9s" % ("", "thr", "wall", "CPU", "RSS", "read", "score", "score",
                  "predict", "reasons", "save", "rows/s", "rows/", "rows/s",
                  "rows/s"))
    both("%-22s %3s %6s %6s %6s | %6s %6s %6s %7s %7s %6s | %9s %9s %9s "
         "%9s" % ("", "", "s", "s", "MB", "s", "s", "CPU s", "s", "s", "s",
                  "scoring", "CPU-s", "predict", "command"))
    for s in score_rows:
        g = s["g"] or {}
        both("%-22s %3s %6s %6s %6s | %6s %6s %6s %7s %7s %6s | %9s %9s %9s "
             "%9s" % (
                 s["label"], s["threads"], f(s["wall"], "%.1f"),
                 f(s["cpu"], "%.1f"), f(s["rss"], "%.0f"),
                 f(g.get("read"), "%.1f"), f(g.get("score"), "%.2f"),
                 f(g.get("score_cpu"), "%.2f"),
                 f(g.get("predict"), "%.2f"),
                 f(g.get("contrib") or None, "%.1f"),
                 f(g.get("save"), "%.1f"), rate(s["rows"], g.get("score")),
                 rate(s["rows"], g.get("score_cpu")),
                 rate(s["rows"], g.get("predict")),
                 rate(s["rows"], s["wall"] or g.get("wall"))))
        if s["walls"]:
            both("    plain runs, wall s: " +
                 " ".join("%.1f" % w for w in s["walls"]) +
                 f"; read (I/O trace) {f(s['io_read'], '%.1f')} s")
    nr = score_rows[0]
    if nr["g"]:
        best = max(nr["rows"] / s["g"]["score"] for s in score_rows
                   if s["g"] and s["label"] == "--no-reasons")
        both("target >= 500,000 subscribers/s (scoring, --no-reasons): " +
             ("MET" if best >= 500000 else "MISSED") +
             f" (best {best:.0f}/s for the scoring alone; "
             f"{nr['rows'] / (nr['wall'] or nr['g']['wall']):.0f}/s for the "
             f"whole command with {nr['threads']} thread(s))")

# ---- peer ---------------------------------------------------------------
def srow(key):
    return next((s for s in score_rows if s["key"] == key and s["g"]), None)


nr, wr, ac = srow("score1m_noreasons"), srow("score1m_reasons"), \
    srow("allcores_noreasons")
cv_fit = med([train_stages(t)[1] for t in trains]) if trains else None
cmp_rows = []
if peer:
    P = peer
    cmp_rows = [
        ("validation AUC 2024-08", f(tj and tj["validation"]["auc"]),
         "%.4f (train API %.4f)" % (P["valid_auc"], P["train_api_valid_auc"])),
        ("AUC 2024-10", f(ev and ev["metrics"]["auc"]),
         "%.4f (train API %.4f)" % (P["test_auc"], P["train_api_test_auc"])),
        ("rounds kept (early stopping 30)", str(tj and tj["rounds"]),
         "%d (train API %d)" % (P["rounds_kept"], P["train_api_rounds_kept"])),
        ("fit, wall s", f(cv_fit, "%.1f"),
         "%.1f XGBClassifier / %.1f xgb.train" % (
             P["fit_wall_s"], P["train_api_fit_wall_s"])),
        ("fit, CPU s", f(trains and med([train_stages(t)[3]
                                         for t in trains]), "%.1f"),
         "%.1f / %.1f" % (P["fit_cpu_s"], P["train_api_fit_cpu_s"])),
        ("peak RSS MB (train command / peer)",
         f(trains and med([t["maxrss_mb"] for t in trains]), "%.0f"),
         f(peer_time and peer_time["maxrss_mb"], "%.0f")),
        ("read train+valid+test tables, s", f(trains and med(
            [train_stages(t)[0] for t in trains]), "%.1f") + " (train+valid)",
         "%.1f" % P["load_train_valid_test_s"]),
        ("read the 1M wide table, s", f(nr and nr["g"]["read"], "%.1f"),
         "%.1f read_sql + %.1f to numpy" % (P["big_read_sql_s"],
                                           P["big_to_numpy_s"])),
        ("predict 1M, rows/s (%s thr)" % P["threads"],
         rate(nr["rows"], nr["g"]["predict"]) if nr else "n/a",
         "%.0f (via DMatrix %.0f)" % (P["predict_rows_per_s"],
                                      P["dmatrix_predict_rows_per_s"])),
        ("predict 1M, rows per CPU-s (%s thr)" % P["threads"],
         rate(nr["rows"], nr["g"].get("predict_cpu")) if nr else "n/a",
         "%.0f" % P["predict_rows_per_cpu_s"]),
        ("predict 1M, rows/s (%s thr)" % P["all_cores"],
         rate(ac["rows"], ac["g"]["predict"]) if ac else "n/a",
         "%.0f" % P["predict_all_rows_per_s"]),
        ("path-approx. contributions, rows per CPU-s",
         rate(wr["rows"], wr["g"].get("contrib_cpu")) if wr else "n/a",
         "%.0f" % (P["contrib_rows"] / P["contrib_cpu_s"])),
        ("path-approx. contributions, rows/s",
         rate(wr["rows"], wr["g"]["contrib"]) if wr else "n/a",
         "%.0f (%d rows)" % (P["contrib_rows_per_s"], P["contrib_rows"])),
    ]
    both()
    both(f"peer: xgboost {P['xgboost']} (Debian python3-xgboost), pandas "
         f"{P['pandas']}, n_jobs {P['threads']}; same rows: "
         f"{P['train_rows']} train ({P['train_churners']} churners), "
         f"{P['valid_rows']} validation; scale_pos_weight "
         f"{P['scale_pos_weight']:.1f}")
    both("%-42s %-22s %s" % ("", "cvm", "peer"))
    for r in cmp_rows:
        both("%-42s %-22s %s" % r)
    both(f"peer predict walls {P['predict_wall_s']} s, CPU "
         f"{P['predict_cpu_s']} s; via DMatrix {P['dmatrix_predict_wall_s']}"
         f" s; all cores {P['predict_all_wall_s']} s; contributions "
         f"{P['contrib_wall_s']} s wall, {P['contrib_cpu_s']} s CPU")
both("=" * 78)
print("\n".join(L))

# ---- Markdown ------------------------------------------------------------
M.append("## Churn models on the store (issue 5)")
M.append("")
M.append(f"- Machine: {env.get('cpu')}, {env.get('cores')} cores, "
         f"{env.get('mem_gb')} GB, shared with other jobs (load average "
         f"{env.get('load')} at the start); date {env.get('date')}; cvm "
         f"{env.get('commit')} RelWithDebInfo; {env.get('threads')} XGBoost "
         f"thread(s) for cvm (its default) and the peer unless noted.")
M.append(f"- Data: `cvm synth --subscribers {env.get('n')} --months 12 "
         f"--start 2024-01 --seed 7` (store + truth); scoring on "
         f"`{big.get('source', '?')}`. Reproduce: `sh bench/churn/run.sh "
         f"BUILD_DIR [WORKDIR]` (about an hour the first time).")
M.append("")
if rows:
    M.append("**Backtest** (`cvm churn backtest --from 2024-08 --to "
             "2024-10`: the model of T validates on T-2 and trains on the 3 "
             "months before; verified on T's labels = churn in T+1..T+2). "
             "Oracle: the generator's own probability "
             "1-(1-p<sub>T+1</sub>)(1-p<sub>T+2</sub>) on the same rows and "
             "labels.")
    M.append("")
    M.append("| month T | validation | training | train rows | churn rate "
             "| AUC | oracle AUC | AUC - oracle | top-decile lift | ECE | "
             "Brier | fit s |")
    M.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | "
             "---: | ---: | ---: |")
    for r in rows:
        M.append("| %s | %s | %s.. | %d | %.2f%% | %.4f | %s | %s | %.2f | "
                 "%.4f | %.4f | %.1f |" % (
                     r[0], r[1], r[2], r[3], r[4], r[5], f(r[6]),
                     f(r[7], "%+.4f"), r[8], r[9], r[10], r[12]))
    M.append("")
if orc:
    M.append("Oracle variants. Every labelled churner is a hazard closure "
             "(no suspension-only churners in this data), but about half "
             "of them close in T+1 and have no T+2 row, so the oracle as "
             "defined scores them p<sub>T+1</sub> alone while survivors get "
             "both months: it is biased low by who survived. Without that "
             "look-ahead: p<sub>T+2</sub> imputed by p<sub>T+1</sub> where "
             "absent, or p<sub>T+1</sub> alone (the hazard set at the start "
             "of T+1, the closest to what is knowable at the end of T).")
    M.append("")
    M.append("| month T | churners | of them closed in T+1 (no T+2 row) | "
             "oracle AUC as defined | p<sub>T+2</sub> imputed | "
             "p<sub>T+1</sub> only | model - defined | model - "
             "p<sub>T+1</sub> only |")
    M.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for m, o in sorted(orc.items()):
        ma = bt_auc.get(m)
        M.append("| %s | %d | %d | %.4f | %.4f | %.4f | %s | %s |" % (
            m, o["churners"], o["churners_without_p2"], o["oracle_auc"],
            o["oracle_auc_p2_imputed"], o["oracle_auc_p1_only"],
            f(ma and ma - o["oracle_auc"], "%+.4f"),
            f(ma and ma - o["oracle_auc_p1_only"], "%+.4f")))
    M.append("")
if rs:
    M.append(f"**Reasons** ({rs['month']}, model `churn train --month "
             f"2024-08`, default path approximation): subscribers by the "
             f"truth's dominant hazard term; share whose reason1 is the "
             f"matching family, share with it among reason1..3, the same in "
             f"deciles 1-3, and the most frequent reason1.")
    M.append("")
    M.append("| truth reason | family | n | reason1 | reason1..3 | n (d1-3) "
             "| reason1 (d1-3) | reason1..3 (d1-3) | most frequent reason1 |")
    M.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rs["rows"]:
        d = sorted(r["reason1_dist"].items(), key=lambda kv: -kv[1])[:3]
        M.append("| %s | %s | %d | %.1f%% | %.1f%% | %d | %s | %s | %s |" % (
            r["truth"], r["expected"], r["n"], 100 * r["reason1_share"],
            100 * r["top3_share"], r["n_d1_3"],
            f(r["reason1_share_d1_3"] and 100 * r["reason1_share_d1_3"],
              "%.1f%%"),
            f(r["top3_share_d1_3"] and 100 * r["top3_share_d1_3"], "%.1f%%"),
            ", ".join(f"{k} {v:.0f}%" for k, v in d)))
    M.append("")
if trains:
    st = [train_stages(t) for t in trains]
    M.append("**Training** (`cvm churn train --month 2024-08`, medians of "
             "%d; CPU = user + system of the process): %d training rows "
             "(%s) + %d validation rows, %d features; %.1f s wall, %.1f s "
             "CPU, peak RSS %.0f MB; of the wall time: reading the store "
             "%.1f s, fitting %.1f s (%.1f s CPU; %d rounds), calibration "
             "+ metrics + save %.1f s." % (
                 len(trains), tj["train_rows"], ", ".join(tj["train_months"]),
                 tj["validation_rows"], tj["features"],
                 med([t["wall"] for t in trains]),
                 med([t["cpu"] for t in trains]),
                 med([t["maxrss_mb"] for t in trains]),
                 med([s[0] for s in st]), med([s[1] for s in st]),
                 med([s[3] for s in st]), tj["rounds"],
                 med([s[2] for s in st])))
    M.append("")
if score_rows:
    M.append(f"**Scoring** `cvm churn score --month 2024-04` on "
             f"{score_rows[0]['rows']:,} subscribers: wall, CPU, peak RSS "
             f"medians of {len(s_nr)} runs; stages from one more run under "
             f"gdb timing each library call (read = `cvm_features_load`, the "
             f"wide table from SQLite; scoring = the rest of "
             f"`cvm_churn_score`: predict, reasons, deciles; save = "
             f"`churn_scores_2024_04`).")
    M.append("")
    M.append("| mode | threads | wall s | CPU s | peak RSS MB | read s | "
             "scoring s (CPU s) | of which predict s | of which "
             "contributions s | save s | rows/s scoring (per CPU-s) | "
             "rows/s command |")
    M.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
             "---: | ---: | ---: |")
    for s in score_rows:
        g = s["g"] or {}
        M.append("| %s | %s | %s | %s | %s | %s | %s (%s) | %s | %s | %s | "
                 "%s (%s) | %s |" % (
                     s["label"], s["threads"],
                     f(s["wall"] or g.get("wall"), "%.1f"),
                     f(s["cpu"], "%.1f"), f(s["rss"], "%.0f"),
                     f(g.get("read"), "%.1f"), f(g.get("score"), "%.2f"),
                     f(g.get("score_cpu"), "%.2f"),
                     f(g.get("predict"), "%.2f"),
                     f(g.get("contrib") or None, "%.1f"),
                     f(g.get("save"), "%.1f"),
                     rate(s["rows"], g.get("score")),
                     rate(s["rows"], g.get("score_cpu")),
                     rate(s["rows"], s["wall"] or g.get("wall"))))
    M.append("")
if cmp_rows:
    M.append(f"**Peer** in the same run: xgboost {peer['xgboost']} (Debian "
             f"python3-xgboost), XGBClassifier(tree_method=hist, 300 "
             f"rounds, depth 6, eta 0.1, subsample 0.8, colsample_bytree "
             f"0.8, scale_pos_weight = neg/pos, early stopping 30 on "
             f"2024-08), n_jobs {peer['threads']}, the same rows read from "
             f"the store with pandas {peer['pandas']}; also `xgb.train` with "
             f"the same parameters on plain DMatrix objects.")
    M.append("")
    M.append("| | cvm | peer |")
    M.append("| --- | ---: | ---: |")
    for r in cmp_rows:
        M.append("| %s | %s | %s |" % r)
    M.append("")
print()
print("\n".join(M))
