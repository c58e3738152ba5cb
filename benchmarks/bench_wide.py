"""Benchmark: time-dynamic designs (issue 14, section 3): the README tour's design (support tickets,
team-randomized encouragement, 3 metrics, covariates pre_resolution, tenure, region) plain and with
a 14- or 30-level day covariate (what ``infer_effect(over="day")`` needs), CR1 by team. Each fit in
its own process. Target: adding the period covariate costs at most 2x the plain fit. Usage::

    python benchmarks/bench_wide.py --rows 1000000 --teams 2000 10000 --repeats 3
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from harness import emit, machine, query_rows, repeat, stats

COVARIATES = ["pre_resolution", "tenure", "region"]
DATA = Path(__file__).parent / "data"


def ensure(rows: int, teams: int) -> Path:
    """The tickets with a uniformly random day 0..29 (two day columns: 14 and 30 levels)."""
    import numpy as np

    from warehouse_causal.datasets.support_rollout import simulate_support_rollout

    path = DATA / f"tickets_{rows}_{teams}.parquet"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        df = simulate_support_rollout(rows, teams, 7)
        day = np.random.default_rng(1).integers(0, 30, len(df))
        df["day14"] = (day % 14).astype(str)
        df["day30"] = day.astype(str)
        df.to_parquet(path)
    return path


def run(path: Path, days: str) -> dict:
    import warehouse_causal as wc

    con = wc.connect()
    table = con.read_parquet(path)
    table.aggregate(n=table.count()).execute()  # warm the file cache
    exp = wc.ExperimentData(table, intent_to_treat="assigned", treated="used", cluster_by="team_id")
    covariates = COVARIATES + ([days] if days != "none" else [])
    start = time.perf_counter()
    model = exp.add_metric(["resolved", "minutes", "csat"], covariates).fit(wc.LinearModel)
    return {"seconds": time.perf_counter() - start, "queries": {r.purpose: r.seconds for r in model.queries},
            "terms": len(model.terms)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--teams", type=int, nargs="+", default=[2_000, 10_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child")
    parser.add_argument("--path", type=Path)
    args = parser.parse_args()
    if args.child:
        emit(run(args.path, args.child))
        return
    print(machine())
    print("| teams | period covariate | terms | median s | min s | max s | peak RSS MB | / plain |")
    print("|---|---|---|---|---|---|---|---|")
    for teams in args.teams:
        path = ensure(args.rows, teams)
        plain = None
        for days in ("none", "day14", "day30"):
            runs = repeat(__file__, ["--child", days, "--path", str(path)], args.repeats)
            median, low, high = stats(runs)
            plain = plain or median
            rss = max(r["peak_rss_mb"] for r in runs)
            print(f"| {teams:,} | {days} | {runs[0]['terms']} | {median:.2f} | {low:.2f} | {high:.2f} "
                  f"| {rss:.0f} | {median / plain:.1f}x |")
            print("\n".join(query_rows(runs, lead=1, gap=1)))


if __name__ == "__main__":
    main()
