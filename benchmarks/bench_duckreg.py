"""Benchmark: warehouse_causal versus duckreg on the designs duckreg supports: discrete regressors,
one outcome, ``y1 ~ arm + g1 + g2`` with g1, g2 numeric with 5 and 10 values.

* ``hc1``: heteroskedasticity-robust errors. duckreg computes HC1 analytically from its compressed
  cells (``fit_vcov``); we run the compressed fit. Estimates and SEs must be identical.
* ``cluster``: errors clustered by ``cluster_id`` (arms are randomized by cluster). duckreg's only
  clustered errors are its cluster bootstrap (``n_bootstraps`` resamples, one query each; its
  analytic ``fit_vcov`` ignores ``cluster_col`` and returns HC1); we run the analytic CR1 fit.
  Estimates must be identical; the bootstrap SE is a noisy estimate of the CR SE.

duckreg 0.4 runs its queries through ibis' DuckDB backend, which does not work with duckdb 2.0;
run it from its own environment with duckdb 1.x and pass that interpreter::

    python3 -m venv /tmp/venv-duckreg && /tmp/venv-duckreg/bin/pip install "duckdb<2" duckreg
    python benchmarks/bench_duckreg.py --rows 10000000 --repeats 3 \
        --duckreg-python /tmp/venv-duckreg/bin/python [--design hc1 cluster] [--bootstraps 100]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import bench_data as data
from harness import emit, machine, repeat, stats

FORMULA = "y1 ~ arm + g1 + g2"
CLUSTER = "cluster_id"


def _load_libraries() -> None:
    """Import what both methods load lazily (pandas, ibis' DuckDB backend) before the timer, so the
    timings compare the analyses, not the interpreter's first imports (about 1 s)."""
    import ibis
    import pandas  # noqa: F401

    ibis.duckdb  # noqa: B018


def run_warehouse(path: Path, design: str, bootstraps: int) -> dict:
    import warehouse_causal as wc

    _load_libraries()
    clustered = design == "cluster"
    start = time.perf_counter()
    table = wc.connect().read_parquet(path)
    experiment = wc.ExperimentData(table, intent_to_treat="arm", cluster_by=CLUSTER if clustered else None)
    model = experiment.add_metric("y1", ["g1", "g2"]).fit(
        wc.LinearModel, covariance="CR1" if clustered else "HC1", interacted=False
    )
    return {"seconds": time.perf_counter() - start, "strategy": model.strategy,
            "queries": len(model.queries), "params": model.params[:, 0].tolist(),
            "se": model.std_errors[:, 0].tolist()}


def run_duckreg(path: Path, design: str, bootstraps: int) -> dict:
    import numpy as np
    from duckreg.estimators import DuckRegression

    _load_libraries()
    clustered = design == "cluster"
    start = time.perf_counter()
    model = DuckRegression(db_name=None, table_name=f"read_parquet('{path}')", formula=FORMULA,
                           cluster_col=CLUSTER if clustered else "", seed=1,
                           n_bootstraps=bootstraps if clustered else 0)
    model.fit()
    if not clustered:
        model.fit_vcov()
    return {"seconds": time.perf_counter() - start,
            "strategy": f"bootstrap B={bootstraps}" if clustered else "compressed",
            "queries": 1 + (1 + bootstraps if clustered else 0),  # compress, DISTINCT clusters, resamples
            "params": np.asarray(model.point_estimate).tolist(),
            "se": np.sqrt(np.diag(model.vcov)).tolist()}


METHODS = {"warehouse_causal": run_warehouse, "duckreg": run_duckreg}
SE_LABEL = {"hc1": "HC1 (analytic, both)", "cluster": "CR1 analytic / cluster bootstrap"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--design", nargs="+", choices=list(SE_LABEL), default=list(SE_LABEL))
    parser.add_argument("--bootstraps", type=int, default=100, help="duckreg's default")
    parser.add_argument("--duckreg-python", default=None)
    parser.add_argument("--child", choices=list(METHODS))
    parser.add_argument("--path", type=Path)
    args = parser.parse_args()
    if args.child:
        emit(METHODS[args.child](args.path, args.design[0], args.bootstraps))
        return
    path = data.ensure(args.rows)
    print(f"{machine()}\nData: {args.rows:,} rows; {FORMULA}\n")
    print("| design | method | how | queries | median s | min s | max s | peak RSS MB "
          "| arm estimate | arm SE |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for design in args.design:
        for method in METHODS:
            python = args.duckreg_python if method == "duckreg" else None
            child = ["--child", method, "--path", str(path), "--design", design,
                     "--bootstraps", str(args.bootstraps)]
            runs = repeat(__file__, child, args.repeats, python)
            med, lo, hi = stats(runs)
            first = runs[0]
            print(f"| {SE_LABEL[design]} | {method} | {first['strategy']} | {first['queries']} "
                  f"| {med:.2f} | {lo:.2f} | {hi:.2f} | {stats(runs, 'peak_rss_mb')[0]:,.0f} "
                  f"| {first['params'][1]:.10f} | {first['se'][1]:.10f} |", flush=True)


if __name__ == "__main__":
    main()
