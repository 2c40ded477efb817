#!/usr/bin/python3
"""Peer for the churn bench: python3-xgboost on the same store tables.

Training rows: the wide tables of the training months joined with their
labels (features_YYYY_MM x labels_YYYY_MM on subscriber_id), read with
pandas from SQLite; early stopping on the validation month (30 rounds of
no better log loss, as cvm); scale_pos_weight = negatives / positives of
the training rows.  AUC on the validation month and on the test month.
Then prediction throughput on a big wide table (e.g. 1M subscribers):
the pandas read (reported apart), predict_proba (median of 3), and the
path-approximation contributions (XGBoost pred_contribs + approx_contribs,
what cvm's reasons use) on the first CONTRIB_ROWS rows.

Prints JSON.
usage: peer_xgb.py DB TRAIN_MONTHS(comma) VALID TEST THREADS BIG_DB BIG_MONTH
                   [CONTRIB_ROWS]
"""
import json
import os
import sqlite3
import statistics
import sys
import time

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

db, train_months, valid, test, threads, big_db, big_month = sys.argv[1:8]
contrib_rows = int(sys.argv[8]) if len(sys.argv) > 8 else 100000
threads = int(threads)
train_months = train_months.split(",")


def tab(prefix, m):
    return f"{prefix}_{m[:4]}_{m[5:]}"


def clock():
    return time.monotonic(), time.process_time()


def since(c):
    return time.monotonic() - c[0], time.process_time() - c[1]


def read_month(con, m):
    q = (f"SELECT f.*, l.label AS __label FROM {tab('features', m)} f "
         f"JOIN {tab('labels', m)} l USING (subscriber_id) "
         f"ORDER BY f.subscriber_id")
    d = pd.read_sql(q, con)
    y = d.pop("__label").to_numpy().astype(np.int32)
    d = d.drop(columns=["subscriber_id"])
    return d.columns.tolist(), d.to_numpy(dtype=np.float32), y


out = {"xgboost": xgb.__version__, "pandas": pd.__version__,
       "threads": threads}
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
c = clock()
xs, ys = [], []
for m in train_months:
    cols, x, y = read_month(con, m)
    xs.append(x)
    ys.append(y)
x_tr, y_tr = np.vstack(xs), np.concatenate(ys)
del xs
cols_v, x_va, y_va = read_month(con, valid)
cols_t, x_te, y_te = read_month(con, test)
assert cols_v == cols and cols_t == cols
out["load_train_valid_test_s"] = round(since(c)[0], 2)
pos = int(y_tr.sum())
neg = int(len(y_tr) - pos)
out.update({"features": len(cols), "train_rows": int(len(y_tr)),
            "train_churners": pos, "valid_rows": int(len(y_va)),
            "valid_churners": int(y_va.sum()), "test_rows": int(len(y_te)),
            "scale_pos_weight": neg / pos})

clf = xgb.XGBClassifier(tree_method="hist", n_estimators=300, max_depth=6,
                        learning_rate=0.1, subsample=0.8,
                        colsample_bytree=0.8, scale_pos_weight=neg / pos,
                        early_stopping_rounds=30, eval_metric="logloss",
                        n_jobs=threads, random_state=20240601)
c = clock()
clf.fit(x_tr, y_tr, eval_set=[(x_va, y_va)], verbose=False)
wall, cpu = since(c)
out["fit_wall_s"], out["fit_cpu_s"] = round(wall, 2), round(cpu, 2)
out["best_iteration"] = int(clf.best_iteration)
out["rounds_kept"] = int(clf.best_iteration) + 1
it = (0, out["rounds_kept"])
out["valid_auc"] = roc_auc_score(
    y_va, clf.predict_proba(x_va, iteration_range=it)[:, 1])
out["test_auc"] = roc_auc_score(
    y_te, clf.predict_proba(x_te, iteration_range=it)[:, 1])
# The same parameters through xgb.train on plain DMatrix objects, as cvm
# calls the library: XGBClassifier 1.7 evaluates its eval_set through a
# QuantileDMatrix, which is much slower per round (dmlc/xgboost#10793).
c = clock()
dtr = xgb.DMatrix(x_tr, y_tr, nthread=threads)
dva = xgb.DMatrix(x_va, y_va, nthread=threads)
par = {"objective": "binary:logistic", "tree_method": "hist",
       "max_depth": 6, "eta": 0.1, "subsample": 0.8,
       "colsample_bytree": 0.8, "scale_pos_weight": neg / pos,
       "eval_metric": "logloss", "nthread": threads, "seed": 20240601}
bst = xgb.train(par, dtr, 300, evals=[(dva, "valid")],
                early_stopping_rounds=30, verbose_eval=False)
wall, cpu = since(c)
out["train_api_fit_wall_s"] = round(wall, 2)
out["train_api_fit_cpu_s"] = round(cpu, 2)
out["train_api_rounds_kept"] = int(bst.best_iteration) + 1
it2 = (0, out["train_api_rounds_kept"])
out["train_api_valid_auc"] = roc_auc_score(
    y_va, bst.predict(dva, iteration_range=it2))
out["train_api_test_auc"] = roc_auc_score(
    y_te, bst.predict(xgb.DMatrix(x_te, nthread=threads),
                      iteration_range=it2))
del x_tr, x_va, x_te, dtr, dva, bst
con.close()

# Throughput on the big table.
bcon = sqlite3.connect(f"file:{big_db}?mode=ro", uri=True)
c = clock()
parts = []
for chunk in pd.read_sql(f"SELECT * FROM {tab('features', big_month)}",
                         bcon, chunksize=200000):
    parts.append(chunk)
big = pd.concat(parts, ignore_index=True)
del parts
out["big_read_sql_s"] = round(since(c)[0], 2)
c = clock()
ids = big.pop("subscriber_id").to_numpy()
assert big.columns.tolist() == cols, "the big table's features differ"
xb = big.to_numpy(dtype=np.float32)
del big
out["big_to_numpy_s"] = round(since(c)[0], 2)
out["big_rows"] = int(len(ids))


def timed3(fn):
    walls, cpus = [], []
    for _ in range(3):
        c = clock()
        fn()
        w, u = since(c)
        walls.append(w)
        cpus.append(u)
    return ([round(w, 3) for w in walls], [round(u, 3) for u in cpus],
            len(ids) / statistics.median(walls),
            len(ids) / statistics.median(cpus))


# predict_proba on a numpy array goes through inplace_predict (no DMatrix).
(out["predict_wall_s"], out["predict_cpu_s"], out["predict_rows_per_s"],
 out["predict_rows_per_cpu_s"]) = timed3(
    lambda: clf.predict_proba(xb, iteration_range=it))
booster = clf.get_booster()


# As cvm does it: a DMatrix built with 1 thread, then predict.
def via_dmatrix():
    booster.predict(xgb.DMatrix(xb, nthread=1), iteration_range=it)


(out["dmatrix_predict_wall_s"], out["dmatrix_predict_cpu_s"],
 out["dmatrix_predict_rows_per_s"], _) = timed3(via_dmatrix)
ncores = os.cpu_count()
clf.set_params(n_jobs=ncores)
out["all_cores"] = ncores
(out["predict_all_wall_s"], _, out["predict_all_rows_per_s"], _) = timed3(
    lambda: clf.predict_proba(xb, iteration_range=it))
clf.set_params(n_jobs=threads)
n = min(contrib_rows, len(ids))
dm = xgb.DMatrix(xb[:n], nthread=threads)
c = clock()
cb = booster.predict(dm, pred_contribs=True, approx_contribs=True,
                     iteration_range=it)
w, u = since(c)
out["contrib_rows"] = n
out["contrib_wall_s"], out["contrib_cpu_s"] = round(w, 3), round(u, 3)
out["contrib_rows_per_s"] = n / w
print(json.dumps(out))
