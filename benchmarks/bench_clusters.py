"""Benchmark: clustered fits at high cardinality (issue 14, section 2).

Tables of ``clusters`` users with ``per_cluster`` rows each (consecutive rows, so every cluster has
exactly that many), 3 metrics, 5 covariates, interacted, randomized by cluster. Per method, in its
own process: the CR1 fit (clustered by user) and the HC1 fit of the same data, with their queries,
and the design validation with and without ``cluster_by``. Targets: CR1 at most 1.5× HC1;
validation with ``cluster_by`` at most 1.5× without. Usage::

    python benchmarks/bench_clusters.py --clusters 1000000 --per-cluster 1 5 --repeats 3
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import bench_data as data
from harness import emit, machine, query_rows, repeat, stats

COVARIATES = ["x1", "x2", "x3", "x4", "x5"]
METRICS = ["y1", "y2", "y3"]
METHODS = ("CR1 fit", "HC1 fit", "validate", "validate with cluster_by")


def run(path: Path, method: str) -> dict:
    import warehouse_causal as wc

    con = wc.connect()
    table = con.read_parquet(path)
    table.aggregate(n=table.count()).execute()  # warm the file cache
    start = time.perf_counter()
    if method.startswith("validate"):
        cluster = "cluster_id" if method.endswith("cluster_by") else None
        exp = wc.ExperimentData(table, intent_to_treat="arm", cluster_by=cluster)
        queries = {r.purpose: r.seconds for r in exp.runner.records}
        return {"seconds": time.perf_counter() - start, "queries": queries}
    cluster = "cluster_id" if method == "CR1 fit" else None
    exp = wc.ExperimentData(table, intent_to_treat="arm", cluster_by=cluster)
    model = exp.add_metric(METRICS, COVARIATES).fit(wc.LinearModel, covariance=method.split()[0])
    return {"seconds": time.perf_counter() - start, "estimate": float(model.params[1, 0]),
            "std_error": float(model.std_errors[1, 0]), "n_clusters": model.n_clusters,
            "queries": {r.purpose: r.seconds for r in model.queries}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clusters", type=int, default=1_000_000)
    parser.add_argument("--per-cluster", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=METHODS)
    parser.add_argument("--path", type=Path)
    args = parser.parse_args()
    if args.child:
        emit(run(args.path, args.child))
        return
    print(machine())
    print("| clusters | rows per cluster | method | median s | min s | max s | peak RSS MB | SE (y1) |")
    print("|---|---|---|---|---|---|---|---|")
    for per_cluster in args.per_cluster:
        path = data.ensure(args.clusters * per_cluster, 5, per_cluster)
        for method in METHODS:
            runs = repeat(__file__, ["--child", method, "--path", str(path)], args.repeats)
            median, low, high = stats(runs)
            rss = max(r["peak_rss_mb"] for r in runs)
            se = f"{runs[0]['std_error']:.10f}" if "std_error" in runs[0] else ""
            print(f"| {args.clusters:,} | {per_cluster} | {method} | {median:.2f} | {low:.2f} | {high:.2f} "
                  f"| {rss:.0f} | {se} |")
            print("\n".join(query_rows(runs, lead=2, gap=0)))


if __name__ == "__main__":
    main()
