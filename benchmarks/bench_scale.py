"""Benchmark: how a full analysis scales, under a DuckDB memory limit of 2 GB.

One analysis = ExperimentData + fit (CR1, 3 metrics, interacted, covariates x1..xK + country) +
segment effects with anytime-valid columns. Three sweeps, each run in its own process:

* rows: 1M, 10M, 100M (K = 5, five country segments);
* covariates: K = 1, 5, 10, 20 at 10M rows (the k² cross products);
* segments: 5 conditions on ``country`` (answered from the pass-1 cells) vs 5 and 20 conditions on
  the numeric ``x1`` (one more scan: one aggregate with 5 or 20 0/1 indicators) at 10M rows.

Usage::

    python benchmarks/bench_scale.py --sweep rows covariates segments --repeats 3 [--max-rows 100000000]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import bench_data as data
from harness import emit, machine, repeat, stats

METRICS = ["y1", "y2", "y3"]
MEMORY_LIMIT = "2GB"


def conditions(kind: str, count: int) -> list[str]:
    if kind == "country":
        return [f"country = 'c{i}'" for i in range(count)]
    cuts = [-2.0 + 4.0 * (i + 0.5) / count for i in range(count)]
    return [f"x1 > {c:.3f}" for c in cuts]


def run(path: Path, k: int, kind: str, count: int) -> dict:
    import warehouse_causal as wc

    con = wc.connect(threads=2)
    con.raw_sql(f"SET memory_limit = '{MEMORY_LIMIT}'").fetchall()
    table = con.read_parquet(path)
    start = time.perf_counter()
    exp = wc.ExperimentData(table, intent_to_treat="arm", cluster_by="cluster_id")
    covariates = [f"x{j + 1}" for j in range(k)] + ["country"]
    model = exp.add_metric(METRICS, covariates).fit(wc.LinearModel)
    fit_seconds = time.perf_counter() - start
    effects = model.infer_effect(conditions(kind, count))
    frame = effects.to_pandas()
    seconds = time.perf_counter() - start
    records = [*model.queries, *effects.queries]
    scans = [r for r in records if not r.purpose.startswith(("probe", "segments: conditions on"))]
    return {"seconds": seconds, "fit_seconds": fit_seconds, "rows_back": max(r.rows for r in records),
            "scans": len(scans), "effects": len(frame),
            "estimate": float(frame.loc[frame.segment == "all", "estimate"].iloc[0])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sweep", nargs="+", default=["rows", "covariates", "segments"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-rows", type=int, default=100_000_000)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--path", type=Path)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--kind", default="country")
    parser.add_argument("--count", type=int, default=5)
    args = parser.parse_args()
    if args.child:
        emit(run(args.path, args.k, args.kind, args.count))
        return
    plan = []
    if "rows" in args.sweep:
        plan += [(rows, 5, "country", 5) for rows in (1_000_000, 10_000_000, 100_000_000)
                 if rows <= args.max_rows]
    if "covariates" in args.sweep:
        plan += [(10_000_000, k, "country", 5) for k in (1, 5, 10, 20)]
    if "segments" in args.sweep:
        plan += [(10_000_000, 5, kind, n) for kind, n in (("country", 5), ("x1", 5), ("x1", 20))]
    print(f"{machine()}\nDuckDB memory_limit {MEMORY_LIMIT}, 2 threads; CR1, 3 metrics, interacted\n")
    print("| rows | K | segments | median s | min s | max s | fit s (median) | scans | max rows back "
          "| peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for rows, k, kind, count in plan:
        path = data.ensure(rows, 20 if k > 5 else 5)
        runs = repeat(__file__, ["--child", "--path", str(path), "--k", str(k), "--kind", kind,
                                 "--count", str(count)], args.repeats)
        med, lo, hi = stats(runs)
        label = f"{count} on {kind}"
        print(f"| {rows:,} | {k} | {label} | {med:.2f} | {lo:.2f} | {hi:.2f} "
              f"| {stats(runs, 'fit_seconds')[0]:.2f} | {runs[0]['scans']} | {runs[0]['rows_back']} "
              f"| {stats(runs, 'peak_rss_mb')[0]:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
