#!/usr/bin/python3
"""Writes a usage-table CSV of N rows (default 1,000,000) for the load bench.

Values look like real monthly usage: minutes with one decimal, counts, MB with
two decimals.  Deterministic (seeded)."""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
out = sys.argv[2] if len(sys.argv) > 2 else "usage_bench.csv"
cols = ["subscriber_id", "month", "voice_local_min", "voice_ld_intra_min",
        "voice_ld_inter_min", "voice_ld_intl_min", "voice_roam_intra_min",
        "voice_roam_inter_min", "voice_offpeak_min", "voice_onnet_min",
        "voice_offnet_min", "voice_competitor_min", "voice_in_min",
        "calls_out", "calls_in", "contacts", "competitor_contacts",
        "competitor_operators", "sms_out", "mms_out", "data_mb", "vpn_min",
        "cells", "active_days"]
rnd = random.Random(20261124)
with open(out, "w") as f:
    f.write(",".join(cols) + "\n")
    for i in range(1, n + 1):
        r = rnd.random
        mins = [round(r() * 400, 1), round(r() * 60, 1), round(r() * 30, 1),
                round(r() * 2, 1), round(r() * 20, 1), round(r() * 15, 1),
                round(r() * 100, 1), round(r() * 250, 1), round(r() * 150, 1),
                round(r() * 80, 1), round(r() * 300, 1)]
        cnt = [int(r() * 300), int(r() * 300), int(r() * 80), int(r() * 20),
               int(r() * 3), int(r() * 200), int(r() * 10)]
        tail = [round(r() * 8000, 2), round(r() * 50, 1), int(r() * 60),
                int(r() * 31)]
        f.write("%d,2025-06,%s,%s,%s\n" % (
            i, ",".join(map(str, mins)), ",".join(map(str, cnt)),
            ",".join(map(str, tail))))
