"""Benchmark: one fit with 3 metrics and 5 covariates, interacted, CR1 (10,000 clusters) and HC1,
in the warehouse versus pulling the rows into pandas and fitting statsmodels OLS; and the scan
ratio: the fit's two passes against a bare ``SELECT sum(col), ...`` over the same columns, timed in
the same process on the same table.

``HC1-per-metric`` is the HC1 fit with ``cross_metric_covariance=False``: the per-metric
covariances that statsmodels computes (one metric at a time), without the blocks between metrics
(statsmodels' HC1 row serves for both). Each method runs in its own process (peak RSS is per
process). Usage::

    python benchmarks/bench_fit.py --rows 10000000 --repeats 3 [--covariance CR1 HC1 HC1-per-metric]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import bench_data as data
from harness import emit, machine, repeat, stats

COVARIATES = ["x1", "x2", "x3", "x4", "x5"]
METRICS = ["y1", "y2", "y3"]
COLUMNS = ["cluster_id", "arm", *COVARIATES, *METRICS]
COVARIANCES = ["CR1", "HC1", "HC1-per-metric"]


def run_warehouse(path: Path, covariance: str) -> dict:
    import warehouse_causal as wc
    from warehouse_causal.warehouse.backends import QueryRunner

    con = wc.connect()
    table = con.read_parquet(path)
    runner = QueryRunner()
    bare_query = table.aggregate(**{f"s_{c}": table[c].sum() for c in COLUMNS})
    runner.run(bare_query, "warm the file cache")
    runner.run(bare_query, "bare aggregate")
    bare = runner.records[-1].seconds
    start = time.perf_counter()
    cluster = "cluster_id" if covariance == "CR1" else None
    exp = wc.ExperimentData(table, intent_to_treat="arm", cluster_by=cluster)
    model = exp.add_metric(METRICS, COVARIATES).fit(
        wc.LinearModel, covariance=covariance.removesuffix("-per-metric"),
        cross_metric_covariance=not covariance.endswith("-per-metric"))
    seconds = time.perf_counter() - start
    per_query = {r.purpose: r.seconds for r in model.queries}
    passes = sum(s for p, s in per_query.items() if p.startswith(("pass 1", "pass 2")))
    return {"seconds": seconds, "estimate": float(model.params[1, 0]),
            "std_error": float(model.std_errors[1, 0]), "bare_seconds": bare,
            "passes_seconds": passes, "ratio": passes / bare, "queries": per_query}


def run_statsmodels(path: Path, covariance: str) -> dict:
    import duckdb
    import pandas as pd
    import statsmodels.api as sm

    start = time.perf_counter()
    df = duckdb.connect().execute(f"SELECT {', '.join(COLUMNS)} FROM read_parquet('{path}')").df()
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
            "std_error": float(result.bse["arm"])}


METHODS = {"warehouse_causal": run_warehouse, "pandas+statsmodels": run_statsmodels}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--covariance", nargs="+", default=COVARIANCES, choices=COVARIANCES)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--child", choices=list(METHODS))
    parser.add_argument("--path", type=Path)
    args = parser.parse_args()
    if args.child:
        emit(METHODS[args.child](args.path, args.covariance[0]))
        return
    path = data.ensure(args.rows)
    print(f"{machine()}\nData: {args.rows:,} rows ({path.name}), 3 metrics, 5 covariates, interacted\n")
    print("| covariance | method | median s | min s | max s | peak RSS MB | estimate (y1) | SE "
          "| scan ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    # All warehouse runs first: a 10 GB pandas process evicts the file from the page cache.
    for method in args.methods:
        for covariance in args.covariance:
            if method == "pandas+statsmodels" and covariance == "HC1-per-metric":
                continue  # statsmodels fits one metric at a time anyway: its HC1 row
            runs = repeat(__file__, ["--child", method, "--path", str(path), "--covariance", covariance],
                          args.repeats)
            med, lo, hi = stats(runs)
            rss = stats(runs, "peak_rss_mb")[0]
            ratio = ""
            if "ratio" in runs[0]:
                r_med, r_lo, r_hi = stats(runs, "ratio")
                bare = stats(runs, "bare_seconds")[0]
                ratio = f"{r_med:.1f}× (bare {bare:.2f} s; {r_lo:.1f}–{r_hi:.1f})"
            print(f"| {covariance} | {method} | {med:.2f} | {lo:.2f} | {hi:.2f} | {rss:,.0f} "
                  f"| {runs[0]['estimate']:.10f} | {runs[0]['std_error']:.10f} | {ratio} |", flush=True)
            if "queries" in runs[0]:
                for purpose in runs[0]["queries"]:
                    q = stats([{"s": r["queries"][purpose]} for r in runs], "s")
                    print(f"|  |  query: {purpose} | {q[0]:.2f} | {q[1]:.2f} | {q[2]:.2f} |  |  |  |  |")


if __name__ == "__main__":
    main()
