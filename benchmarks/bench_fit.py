"""Benchmark: a fit with 3 metrics and 5 covariates, interacted, with CR1 (10,000 clusters) and with
HC1, in the warehouse versus pulling the rows into pandas and fitting statsmodels OLS.

Each run is its own process (peak RSS is per process). Usage:

    python benchmarks/bench_fit.py --rows 10000000 --repeats 3 [--covariance CR1 HC1]

writes ``benchmarks/data/bench_<rows>.parquet`` once, then prints a markdown results table.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"
COVARIATES = ["x1", "x2", "x3", "x4", "x5"]
METRICS = ["y1", "y2", "y3"]
CLUSTERS = 10_000


def generate(rows: int, path: Path, seed: int = 0, chunk: int = 1_000_000) -> None:
    """Write the synthetic experiment in chunks (cluster-randomized, 5 covariates, 3 metrics)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    cluster_arm = rng.integers(0, 2, CLUSTERS)
    writer = None
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        cluster = rng.integers(0, CLUSTERS, n)
        arm = cluster_arm[cluster]
        x = rng.normal(size=(n, 5))
        noise = rng.normal(size=(n, 3))
        cols = {"cluster_id": cluster, "arm": arm}
        cols.update({c: x[:, i] for i, c in enumerate(COVARIATES)})
        base = x @ np.array([0.5, 0.3, -0.2, 0.1, 0.0])
        for i, m in enumerate(METRICS):
            cols[m] = 1.0 + (0.1 * (i + 1)) * arm + base + 0.2 * arm * x[:, 0] + noise[:, i]
        batch = pa.table(cols)
        writer = writer or pq.ParquetWriter(path, batch.schema)
        writer.write_table(batch)
    assert writer is not None
    writer.close()


def run_warehouse(path: Path, covariance: str) -> dict:
    import warehouse_causal as wc

    start = time.perf_counter()
    con = wc.connect()
    table = con.read_parquet(path)
    cluster = "cluster_id" if covariance == "CR1" else None
    exp = wc.ExperimentData(table, intent_to_treat="arm", cluster_by=cluster)
    model = exp.add_metric(METRICS, COVARIATES).fit(wc.LinearModel, covariance=covariance)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "estimate": float(model.params[1, 0]),
            "std_error": float(model.std_errors[1, 0]), "queries": len(model.queries)}


def run_statsmodels(path: Path, covariance: str) -> dict:
    import duckdb
    import pandas as pd
    import statsmodels.api as sm

    start = time.perf_counter()
    df = duckdb.connect().execute(f"SELECT * FROM read_parquet('{path}')").df()
    cov = df[COVARIATES] - df[COVARIATES].mean()
    x = pd.concat([cov, cov.mul(df["arm"], axis=0).add_prefix("arm:")], axis=1)
    x.insert(0, "arm", df["arm"].astype(float))
    x = sm.add_constant(x)
    result = None
    for m in METRICS:
        if covariance == "CR1":
            fit = sm.OLS(df[m], x).fit(cov_type="cluster", cov_kwds={"groups": df["cluster_id"].to_numpy()})
        else:
            fit = sm.OLS(df[m], x).fit(cov_type="HC1")
        result = result or fit
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "estimate": float(result.params["arm"]),
            "std_error": float(result.bse["arm"]), "queries": 1}


METHODS = {"warehouse_causal": run_warehouse, "pandas+statsmodels": run_statsmodels}


def child(method: str, path: Path, covariance: str) -> None:
    out = METHODS[method](path, covariance)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=list(METHODS))
    parser.add_argument("--path", type=Path)
    parser.add_argument("--covariance", nargs="+", default=["CR1", "HC1"], choices=["CR1", "HC1"])
    args = parser.parse_args()
    if args.child:
        child(args.child, args.path, args.covariance[0])
        return
    DATA.mkdir(exist_ok=True)
    path = DATA / f"bench_{args.rows}.parquet"
    if not path.exists():
        generate(args.rows, path)
    results = {}
    for covariance in args.covariance:
        for method in METHODS:
            runs = []
            for _ in range(args.repeats):
                command = [sys.executable, __file__, "--child", method, "--path", str(path),
                           "--covariance", covariance]
                proc = subprocess.run(command, capture_output=True, text=True, check=True)
                runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            results[(method, covariance)] = runs
    import duckdb
    import ibis

    print(f"Machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, duckdb {duckdb.__version__}, ibis {ibis.__version__}")
    print(f"Data: {args.rows:,} rows, {CLUSTERS:,} clusters, 3 metrics, 5 covariates, interacted\n")
    print("| covariance | method | median s | min s | max s | peak RSS MB (median) | arm estimate (y1) "
          "| SE |")
    print("|---|---|---|---|---|---|---|---|")
    for (method, covariance), runs in results.items():
        secs = [r["seconds"] for r in runs]
        rss = statistics.median(r["peak_rss_mb"] for r in runs)
        print(f"| {covariance} | {method} | {statistics.median(secs):.2f} | {min(secs):.2f} "
              f"| {max(secs):.2f} | {rss:,.0f} | {runs[0]['estimate']:.10f} | {runs[0]['std_error']:.10f} |")


if __name__ == "__main__":
    main()
