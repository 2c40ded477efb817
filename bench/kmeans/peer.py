#!/usr/bin/python3
"""scikit-learn peer of `cvm segment kmeans` for bench/kmeans/run.sh.

Reads a CSV file, keeps its numeric columns, z-scores them with the
population standard deviation (a constant column stays 0, as in cvm), fits
KMeans (k-means++, n_init restarts, Lloyd) or MiniBatchKMeans, and prints one
JSON line: rows, features, read and fit seconds, inertia, iterations.  The
thread count is OpenMP's (set OMP_NUM_THREADS), as for cvm.

    peer.py FILE.csv --k K [--n-init N] [--seed S] [--minibatch]
            [--batch-size B] [--gen N OUT.csv]

--gen N OUT.csv writes the benchmark's Gaussian mixture instead: N rows x 20
features, 8 overlapping components (centers N(0, 1), per-component noise
sd 0.5..2), three decimals, seed 42.
"""
import argparse
import json
import sys
import time

import numpy as np


def gen(n, path):
    rng = np.random.default_rng(42)
    d, k = 20, 8
    centers = rng.normal(0, 1.0, size=(k, d))
    scales = rng.uniform(0.5, 2.0, size=(k, 1))
    lab = rng.integers(0, k, size=n)
    x = centers[lab] + rng.normal(size=(n, d)) * scales[lab]
    header = ",".join(f"f{j}" for j in range(d))
    np.savetxt(path, x, fmt="%.3f", delimiter=",", header=header, comments="")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv", nargs="?")
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--n-init", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--minibatch", action="store_true")
    ap.add_argument("--batch-size", type=int, default=4096)
    ap.add_argument("--gen", nargs=2, metavar=("N", "OUT"))
    a = ap.parse_args()
    if a.gen:
        gen(int(a.gen[0]), a.gen[1])
        return
    import pandas as pd
    import sklearn
    from sklearn.cluster import KMeans, MiniBatchKMeans

    t0 = time.perf_counter()
    df = pd.read_csv(a.csv)
    x = df.select_dtypes(include="number").to_numpy(dtype=np.float64)
    t1 = time.perf_counter()
    sd = x.std(axis=0)
    sd[sd == 0] = 1
    x = (x - x.mean(axis=0)) / sd
    t2 = time.perf_counter()
    if a.minibatch:
        m = MiniBatchKMeans(
            n_clusters=a.k,
            n_init=a.n_init,
            batch_size=a.batch_size,
            random_state=a.seed,
        )
    else:
        m = KMeans(n_clusters=a.k, n_init=a.n_init, random_state=a.seed)
    m.fit(x)
    t3 = time.perf_counter()
    print(
        json.dumps(
            {
                "peer": "scikit-learn " + sklearn.__version__,
                "rows": x.shape[0],
                "features": x.shape[1],
                "read_seconds": t1 - t0,
                "scale_seconds": t2 - t1,
                "fit_seconds": t3 - t2,
                "inertia": float(m.inertia_),
                "iterations": int(m.n_iter_),
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
