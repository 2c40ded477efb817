#!/usr/bin/python3
"""Oracle AUC per month from the generator's truth, with cvm's label.

For subscriber i of labels_YYYY_MM (month T; label = churn in T+1..T+2:
closed, or suspended >= 7 days in a month), the oracle score is
1 - (1 - p_{T+1})(1 - p_{T+2}), p_m = truth/monthly/<m>.csv's churn_prob
(0 when the subscriber has no row in m).  Besides the AUC against the
label, it splits the label: "hazard" churners are those the generator's
hazard closed in T+1 or T+2 (truth column churned = 1); the rest were
labelled churners through a suspension the hazard does not carry.  The
oracle AUC against the hazard churners alone (the others counted as
stayers) says how much of the gap is the label, not the model.

Two variants that do not use who survived T+1 (see below): p2 imputed by
p1 where the subscriber has no T+2 row, and p1 alone.

With --scores TABLE, the same three AUCs for a stored score table
(churn_scores_YYYY_MM of month T) beside the oracle's.

Prints JSON, one object per month.
usage: oracle.py DB TRUTH_DIR MONTH... [--scores MONTH:TABLE]
"""
import json
import sqlite3
import sys

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


def shift(month, k):
    t = int(month[:4]) * 12 + int(month[5:]) - 1 + k
    return "%04d-%02d" % (t // 12, t % 12 + 1)


def truth(tdir, month):
    return pd.read_csv(f"{tdir}/monthly/{month}.csv",
                       usecols=["subscriber_id", "churn_prob", "churned"],
                       index_col="subscriber_id")


args = [a for a in sys.argv[1:] if not a.startswith("--scores")]
scores = {}
for a in sys.argv[1:]:
    if a.startswith("--scores"):
        m, tab = a.split("=", 1)[1].split(":")
        scores[m] = tab
db, tdir, months = args[0], args[1], args[2:]
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
out = []
for m in months:
    lab = pd.read_sql(f"SELECT subscriber_id, label FROM labels_{m[:4]}_{m[5:]}",
                      con, index_col="subscriber_id")
    t1, t2 = truth(tdir, shift(m, 1)), truth(tdir, shift(m, 2))
    p1 = t1.churn_prob.reindex(lab.index).fillna(0).to_numpy()
    p2 = t2.churn_prob.reindex(lab.index).fillna(0).to_numpy()
    c1 = t1.churned.reindex(lab.index).fillna(0).to_numpy()
    c2 = t2.churned.reindex(lab.index).fillna(0).to_numpy()
    y = lab.label.to_numpy().astype(int)
    hz = ((c1 + c2) > 0).astype(int)
    oracle = 1 - (1 - p1) * (1 - p2)
    # p2 exists only for those still there in T+2: a T+1 churner's oracle
    # score loses its second month, so the oracle as defined ranks the
    # churners of T+1 lower than its own hazard says.  Two variants that
    # do not look at who survived T+1: p2 imputed by p1 where absent, and
    # p1 alone (rank-equivalent to 1-(1-p1)^2).
    in2 = lab.index.isin(t2.index)
    p2i = np.where(in2, p2, p1)
    oracle_imp = 1 - (1 - p1) * (1 - p2i)
    r = {"month": m, "rows": int(len(y)), "churners": int(y.sum()),
         "hazard_churners": int(hz.sum()),
         "labelled_hazard_churners": int((hz & y).sum()),
         "missing_in_both": int(((~lab.index.isin(t1.index)) &
                                 (~lab.index.isin(t2.index))).sum()),
         "oracle_auc": roc_auc_score(y, oracle),
         "oracle_auc_p2_imputed": roc_auc_score(y, oracle_imp),
         "oracle_auc_p1_only": roc_auc_score(y, p1),
         "churners_without_p2": int((y & ~in2).sum()),
         "oracle_auc_hazard_only": roc_auc_score(hz, oracle),
         "oracle_sum_prob": float(oracle.sum())}
    # Oracle AUC on the label without the suspension-only churners
    # (they are left out, not counted as stayers).
    keep = (y == 0) | (hz == 1)
    r["oracle_auc_without_suspension_churners"] = roc_auc_score(y[keep],
                                                                oracle[keep])
    if m in scores:
        s = pd.read_sql(f"SELECT subscriber_id, prob FROM {scores[m]}", con,
                        index_col="subscriber_id").prob.reindex(lab.index)
        ok = s.notna().to_numpy()
        sp = s.to_numpy()
        r["scored_rows"] = int(ok.sum())
        r["model_auc"] = roc_auc_score(y[ok], sp[ok])
        r["model_auc_hazard_only"] = roc_auc_score(hz[ok], sp[ok])
        k2 = keep & ok
        r["model_auc_without_suspension_churners"] = roc_auc_score(y[k2],
                                                                   sp[k2])
    out.append(r)
print(json.dumps(out))
