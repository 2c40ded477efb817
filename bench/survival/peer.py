#!/usr/bin/python3
"""Peer for bench/survival: statsmodels on the same CSV as `cvm survival`.

usage: peer.py km|cox FILE.csv
  km:  Kaplan-Meier per international_plan group (SurvfuncRight, log-type
       limits like R's and cvm's default) and the log-rank test (survdiff).
  cox: Cox regression, Efron ties (PHReg), on international_plan,
       voice_mail_plan, service_calls, day_minutes (the text columns coded
       0/1 against "no", as cvm does).
Prints the read and fit times and a few figures to compare with cvm's.
"""
import sys
import time

import numpy as np
import pandas as pd
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff


def main():
    what, path = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    df = pd.read_csv(path)
    t1 = time.perf_counter()
    tm = df["tenure_days"].to_numpy(dtype=float)
    ev = df["churned"].to_numpy(dtype=float)
    if what == "km":
        g = df["international_plan"].to_numpy()
        out = []
        for level in sorted(set(g)):
            m = g == level
            sf = SurvfuncRight(tm[m], ev[m])
            ci = sf.quantile_ci(0.5, method="log")
            s = sf.surv_prob
            st = sf.surv_times
            at = [float(s[np.searchsorted(st, x, side="right") - 1])
                  for x in (90, 365, 730)]
            out.append((level, sf.quantile(0.5), ci, at))
        chi, p = survdiff(tm, ev, g)
        t2 = time.perf_counter()
        for level, med, ci, at in out:
            print("peer km %s: median %g (%s-%s), S(90,365,730) = %s" %
                  (level, med, ci[0], ci[1],
                   ", ".join("%.6f" % x for x in at)))
        print("peer log-rank chi-square %.4f (p %.3g)" % (chi, p))
    else:
        x = np.column_stack([
            (df["international_plan"] == "yes").to_numpy(dtype=float),
            (df["voice_mail_plan"] == "yes").to_numpy(dtype=float),
            df["service_calls"].to_numpy(dtype=float),
            df["day_minutes"].to_numpy(dtype=float),
        ])
        res = PHReg(tm, x, status=ev, ties="efron").fit()
        t2 = time.perf_counter()
        print("peer cox coef %s" % ", ".join("%.6f" % b for b in res.params))
        print("peer cox se   %s" % ", ".join("%.6f" % b for b in res.bse))
        print("peer cox loglik %.3f" % res.llf)
    print("peer %s: read %.2f s, fit %.2f s" % (what, t1 - t0, t2 - t1))


if __name__ == "__main__":
    main()
