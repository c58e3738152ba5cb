"""Benchmark: warehouse_causal versus duckreg on a design duckreg supports (discrete regressors,
one outcome, HC1): ``y1 ~ arm + g1 + g2`` with g1, g2 numeric with 5 and 10 values.

duckreg 0.4 runs its queries through ibis' DuckDB backend, which does not work with duckdb 2.0;
run it from its own environment with duckdb 1.x and pass that interpreter::

    python3 -m venv /tmp/venv-duckreg && /tmp/venv-duckreg/bin/pip install "duckdb<2" duckreg
    python benchmarks/bench_duckreg.py --rows 10000000 --repeats 3 \
        --duckreg-python /tmp/venv-duckreg/bin/python
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import bench_data as data
from harness import emit, machine, repeat, stats


def _load_libraries() -> None:
    """Import what both methods load lazily (pandas, ibis' DuckDB backend) before the timer, so the
    timings compare the analyses, not the interpreter's first imports (about 1 s)."""
    import ibis
    import pandas  # noqa: F401

    ibis.duckdb  # noqa: B018


def run_warehouse(path: Path) -> dict:
    import warehouse_causal as wc

    _load_libraries()
    start = time.perf_counter()
    table = wc.connect().read_parquet(path)
    model = wc.ExperimentData(table, intent_to_treat="arm").add_metric("y1", ["g1", "g2"]).fit(
        wc.LinearModel, covariance="HC1", interacted=False
    )
    return {"seconds": time.perf_counter() - start, "strategy": model.strategy,
            "params": model.params[:, 0].tolist(), "se": model.std_errors[:, 0].tolist()}


def run_duckreg(path: Path) -> dict:
    import numpy as np
    from duckreg.estimators import DuckRegression

    _load_libraries()
    start = time.perf_counter()
    model = DuckRegression(db_name=None, table_name=f"read_parquet('{path}')",
                           formula="y1 ~ arm + g1 + g2", cluster_col="", seed=1, n_bootstraps=0)
    model.fit()
    model.fit_vcov()
    return {"seconds": time.perf_counter() - start, "strategy": "compressed",
            "params": np.asarray(model.point_estimate).tolist(),
            "se": np.sqrt(np.diag(model.vcov)).tolist()}


METHODS = {"warehouse_causal": run_warehouse, "duckreg": run_duckreg}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duckreg-python", default=None)
    parser.add_argument("--child", choices=list(METHODS))
    parser.add_argument("--path", type=Path)
    args = parser.parse_args()
    if args.child:
        emit(METHODS[args.child](args.path))
        return
    path = data.ensure(args.rows)
    print(f"{machine()}\nData: {args.rows:,} rows; y1 ~ arm + g1 + g2, HC1\n")
    print("| method | median s | min s | max s | peak RSS MB | arm estimate | arm SE |")
    print("|---|---|---|---|---|---|---|")
    for method in METHODS:
        python = args.duckreg_python if method == "duckreg" else None
        runs = repeat(__file__, ["--child", method, "--path", str(path)], args.repeats, python)
        med, lo, hi = stats(runs)
        print(f"| {method} | {med:.2f} | {lo:.2f} | {hi:.2f} | {stats(runs, 'peak_rss_mb')[0]:,.0f} "
              f"| {runs[0]['params'][1]:.10f} | {runs[0]['se'][1]:.10f} |", flush=True)


if __name__ == "__main__":
    main()
