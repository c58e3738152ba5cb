"""The six objectives of "Closing the Loop" (Creux & Wong 2026) on the simulated store, each printed
beside its truth:  python examples/closing_the_loop/analysis.py

1. the average effect on sales: ITT of the offer and LATE of the diverse ranking (encouragement);
2. anytime-valid monitoring: the cumulative effect and its confidence sequence, day by day;
3. segment effects: desktop and holiday shoppers;
4. a Thompson-sampling policy, and the off-policy value of "diverse ranking for desktop only";
5. the mechanism over the graph T -> searches -> views -> sales, T -> views;
6. the effect projected to a weaker economy (20% strong / 80% weak).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import warehouse_causal as wc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from store import POLICY, simulate_store

COVARIATES = ["desktop", "holiday", "strong", "pre_sales"]  # all measured before the experiment
GRAPH = "T -> searches -> views -> sales; T -> views"


def run(shoppers: int = 4000, seed: int = 2026, show: bool = True) -> list[tuple[str, float, float, float]]:
    """(objective, truth, lower, upper) for every interval that should contain its truth."""
    main, variant, truth = simulate_store(shoppers, seed=seed)
    checks: list[tuple[str, float, float, float]] = []

    def check(name: str, true: float, row: dict[str, Any], lower: str = "ci_lower",
              upper: str = "ci_upper") -> None:
        checks.append((name, true, row[lower], row[upper]))
        if show:
            print(f"{name:<42} truth {true:+.3f}   estimate {row['estimate']:+.3f} "
                  f"[{row[lower]:+.3f}, {row[upper]:+.3f}]")

    def pick(rows: list[dict[str, Any]], **match: object) -> dict[str, Any]:
        return next(r for r in rows if all(r[k] == v for k, v in match.items()))

    warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
    # 1. Average effect, from the encouragement variant: of the offer (ITT), of the ranking (LATE)
    offer = wc.ExperimentData(variant, intent_to_treat="offered", cluster_by="shopper")
    taken = wc.ExperimentData(variant, intent_to_treat="offered", treated="diverse", cluster_by="shopper",
                              noncompliance="one-sided")
    check("1. ITT of the offer on sales", truth.itt,
          offer.add_metric("sales", COVARIATES).fit(wc.LinearModel).infer_effect().to_dicts()[0])
    check("1. LATE of the diverse ranking on sales", truth.late,
          taken.add_metric("sales", COVARIATES).fit(wc.LinearModel).infer_effect().to_dicts()[0])

    # the main experiment: shoppers randomized to the diverse ranking
    exp = wc.ExperimentData(main, intent_to_treat="diverse", cluster_by="shopper")
    model = exp.add_metric(["sales", "searches", "views"], COVARIATES).fit(wc.LinearModel)

    # 2. Monitoring every day is peeking: the confidence sequence holds at every look at once
    for look in model.cumulative("day", looks=7):
        if look.metric == "sales":
            check(f"2. effect through day {look.through} (anytime)", truth.ate_by_day[look.through],
                  look._asdict(), "av_ci_lower", "av_ci_upper")

    # 3. Segments: does a slower site spare desktop shoppers? Holiday shoppers?
    segments = model.infer_effect(condition_on=["desktop = 1", "holiday = 1"]).to_dicts()
    for group, true in (("desktop", truth.desktop), ("holiday", truth.holiday)):
        check(f"3. effect on {group} shoppers", true, pick(segments, metric="sales", segment=f"{group} = 1"))

    # 4. Policy: Thompson sampling by device (it helps desktop, hurts mobile), and "desktop only"
    bayes = exp.add_metric("sales", COVARIATES).fit(wc.BayesianLinearRegression)
    for device in (1, 0):
        context = wc.ContextVector(desktop=device, holiday=0, strong=1, pre_sales=2.0)
        shown = wc.Policy(bayes.infer_reward(context)).probabilities()[1]
        checks.append((f"4. Thompson shows it, desktop={device}", float(device), round(shown), round(shown)))
        if show:
            print(f"4. Thompson sampling shows the diverse ranking to desktop={device}: {shown:.1%}")
    logged = wc.ExperimentData(main, intent_to_treat="diverse", propensity="p_assigned", cluster_by="shopper")
    value = logged.add_metric("sales", COVARIATES).fit(wc.LinearModel).evaluate_policy(POLICY).to_dicts()
    check("4. value of 'desktop only' (doubly robust)", truth.policy_value, pick(value, estimator="dr"))

    # 5. Mechanism: which paths carry the effect on sales?
    paths = model.infer_effect().with_graph(GRAPH).mediate_effect().to_pandas().to_dict(orient="records")
    check("5. T -> searches -> views -> sales", truth.via_searches,
          pick(paths, path="T -> searches -> views -> sales"))
    check("5. T -> views -> sales", truth.via_views, pick(paths, path="T -> views -> sales"))

    # 6. Projection to a weaker economy: 20% strong / 80% weak economic indicator
    projected = model.infer_effect().project({"strong = 1": 0.2, "strong = 0": 0.8}, name="weak economy")
    check("6. effect in a weaker economy", truth.weak_economy,
          pick(projected.to_dicts(), metric="sales", segment="weak economy"))
    return checks


if __name__ == "__main__":
    missed = [c for c in run() if not c[2] <= c[1] <= c[3]]
    print("every truth inside its interval" if not missed else f"missed: {missed}")
