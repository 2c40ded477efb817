#!/usr/bin/python3
"""Reason recovery: cvm's top reasons (churn_scores_YYYY_MM reason1..3)
against the generator's dominant hazard term (truth/monthly/<month>.csv,
column reason) of the same month, for every scored subscriber whose true
reason is not "none".

Prints JSON: per truth reason, the expected family, rows, the share whose
reason1 is it, the share having it among reason1..3, the same two within
deciles 1-3, and the full distribution of reason1.
usage: reasons.py DB TRUTH_DIR YYYY-MM
"""
import json
import sqlite3
import sys

import pandas as pd

EXPECTED = {
    "plan_mismatch": "plan_mismatch",
    "contract_expiry": "contract_expiry",
    "habitual_suspension": "habitual_suspension",
    "service": "service_complaints",
    "network": "network_problems",
    "competitor": "competitor_poaching",
    "social": "competitor_poaching",
    "relocation": "relocation",
    "low_quality": "new_user_quality",
}

db, tdir, month = sys.argv[1:4]
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
sc = pd.read_sql(
    f"SELECT subscriber_id, decile, reason1, reason2, reason3 "
    f"FROM churn_scores_{month[:4]}_{month[5:]}", con)
tr = pd.read_csv(f"{tdir}/monthly/{month}.csv",
                 usecols=["subscriber_id", "reason", "churn_prob"])
d = sc.merge(tr, on="subscriber_id", how="inner")
for k in ("reason1", "reason2", "reason3"):
    d[k] = d[k].fillna("(none)")
out = {"month": month, "scored": int(len(sc)), "joined": int(len(d)),
       "rows": []}
groups = list(EXPECTED) + ["competitor+social"]
for g in groups:
    if g == "competitor+social":
        s, exp = d[d.reason.isin(["competitor", "social"])], \
            "competitor_poaching"
    else:
        s, exp = d[d.reason == g], EXPECTED[g]
    if not len(s):
        continue
    top3 = (s.reason1 == exp) | (s.reason2 == exp) | (s.reason3 == exp)
    hi = s.decile <= 3
    dist = (s.reason1.value_counts(normalize=True) * 100).round(1)
    out["rows"].append({
        "truth": g, "expected": exp, "n": int(len(s)),
        "mean_churn_prob": float(s.churn_prob.mean()),
        "reason1_share": float((s.reason1 == exp).mean()),
        "top3_share": float(top3.mean()),
        "n_d1_3": int(hi.sum()),
        "reason1_share_d1_3": float((s.reason1[hi] == exp).mean())
        if hi.any() else None,
        "top3_share_d1_3": float(top3[hi].mean()) if hi.any() else None,
        "reason1_dist": {k: float(v) for k, v in dist.items()},
    })
print(json.dumps(out))
