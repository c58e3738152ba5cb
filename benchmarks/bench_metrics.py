"""Benchmark: how an HC1 fit grows with the number of metrics M, with and without the covariance
between metrics (``cross_metric_covariance``). The HC meat sums w²·eₘ·eₗ·gₐ·g_b for every metric
pair m ≤ l, so the joint fit does M(M+1)/2 pairs of per-row sums and the per-metric fit M.

Metrics 4..M are y_{i mod 3} + ⌊i/3⌋·x_{i mod 5}, computed in the query. 5 covariates, interacted,
2 arms. Usage::

    python benchmarks/bench_metrics.py --rows 1000000 --repeats 3 [--metrics 1 3 6 9]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import bench_data as data
from harness import emit, machine, repeat, stats

COVARIATES = ["x1", "x2", "x3", "x4", "x5"]


def run(path: Path, n_metrics: int, joint: bool) -> dict:
    import warehouse_causal as wc

    table = wc.connect().read_parquet(path)
    metrics = {f"m{i}": table[f"y{i % 3 + 1}"] + (i // 3) * table[f"x{i % 5 + 1}"]
               for i in range(n_metrics)}
    table = table.mutate(**metrics)
    start = time.perf_counter()
    model = wc.ExperimentData(table, intent_to_treat="arm").add_metric(list(metrics), COVARIATES).fit(
        wc.LinearModel, covariance="HC1", cross_metric_covariance=joint)
    seconds = time.perf_counter() - start
    pass2 = next(r for r in model.queries if r.purpose.startswith("pass 2"))
    sums = sum(c.startswith("q_") for c in model.query_exprs["pass2"].columns)
    return {"seconds": seconds, "pass2_seconds": pass2.seconds, "sums": sums,
            "se": float(model.std_errors[1, -1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--metrics", type=int, nargs="+", default=[1, 3, 6, 9])
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--path", type=Path)
    parser.add_argument("--m", type=int)
    parser.add_argument("--joint", type=int)
    args = parser.parse_args()
    if args.child:
        emit(run(args.path, args.m, bool(args.joint)))
        return
    path = data.ensure(args.rows)
    print(f"{machine()}\nData: {args.rows:,} rows; HC1, 5 covariates, interacted\n")
    print("| metrics | cross-metric blocks | HC pass-2 sums per row | median s | min s | max s "
          "| pass 2 s (median) | SE of the last metric's arm |")
    print("|---|---|---|---|---|---|---|---|")
    for m in args.metrics:
        for joint in (1, 0):
            if m == 1 and not joint:
                continue  # one metric has no cross-metric blocks
            runs = repeat(__file__, ["--child", "--path", str(path), "--m", str(m), "--joint", str(joint)],
                          args.repeats)
            med, lo, hi = stats(runs)
            print(f"| {m} | {'yes' if joint else 'no'} | {runs[0]['sums']} | {med:.2f} | {lo:.2f} "
                  f"| {hi:.2f} | {stats(runs, 'pass2_seconds')[0]:.2f} | {runs[0]['se']:.10f} |", flush=True)


if __name__ == "__main__":
    main()
