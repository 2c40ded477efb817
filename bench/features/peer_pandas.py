#!/usr/bin/python3
"""Peer for the wide-table bench: 20 features of cvm's dictionary computed
with pandas groupby from the synth CSVs of the 3 window months, end to end
(read + compute).  Prints JSON with the seconds of each phase.

usage: peer_pandas.py CSV_DIR M0 M1 M2
"""
import json
import sys
import time

import pandas as pd

d, months = sys.argv[1], sys.argv[2:5]
t0 = time.time()
ucols = ["subscriber_id", "month", "voice_local_min", "voice_ld_intra_min",
         "voice_ld_inter_min", "voice_ld_intl_min", "voice_roam_intra_min",
         "voice_roam_inter_min", "voice_onnet_min", "voice_offnet_min",
         "voice_competitor_min", "sms_out", "data_mb", "cells",
         "active_days"]
usage = pd.concat([pd.read_csv(f"{d}/usage/{m}.csv", usecols=ucols)
                   for m in months])
bcols = ["subscriber_id", "month", "plan_fee", "voice_fee", "data_fee",
         "total", "arrears", "balance"]
bills = pd.concat([pd.read_csv(f"{d}/bills/{m}.csv", usecols=bcols)
                   for m in months])
t1 = time.time()
g = usage.groupby("subscriber_id")
f = pd.DataFrame({
    "avg_voice_local_min": g.voice_local_min.mean(),
    "avg_voice_ld_intra_min": g.voice_ld_intra_min.mean(),
    "avg_voice_ld_inter_min": g.voice_ld_inter_min.mean(),
    "avg_voice_ld_intl_min": g.voice_ld_intl_min.mean(),
    "avg_voice_roam_intra_min": g.voice_roam_intra_min.mean(),
    "avg_voice_roam_inter_min": g.voice_roam_inter_min.mean(),
    "avg_voice_onnet_min": g.voice_onnet_min.mean(),
    "avg_voice_offnet_min": g.voice_offnet_min.mean(),
    "avg_sms_out": g.sms_out.mean(),
    "avg_data_mb": g.data_mb.mean(),
    "avg_cells": g.cells.mean(),
    "avg_active_days": g.active_days.mean(),
    "months_with_usage": g.month.count(),
    "cells_max": g.cells.max(),
})
last = usage[usage.month == months[-1]].set_index("subscriber_id")
f["last_data_mb"] = last.data_mb
f["competitor_min_share"] = (g.voice_competitor_min.sum() /
                             (g.voice_local_min.sum() +
                              g.voice_ld_intra_min.sum() +
                              g.voice_ld_inter_min.sum() +
                              g.voice_ld_intl_min.sum()))
gb = bills.groupby("subscriber_id")
f["arpu"] = gb.total.mean()
f["avg_plan_fee_billed"] = gb.plan_fee.mean()
f["arrears_max"] = gb.arrears.max()
f["balance_min"] = gb.balance.min()
t2 = time.time()
assert f.shape[1] == 20
print(json.dumps({"rows": int(f.shape[0]), "features": int(f.shape[1]),
                  "read_s": round(t1 - t0, 2), "compute_s": round(t2 - t1, 2),
                  "total_s": round(t2 - t0, 2)}))
