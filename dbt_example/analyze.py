"""Run after ``dbt build``: analyse the materialised tables in the warehouse and write the effects
back as the table ``experiment_effects`` (downstream dbt models or BI read it from there).

    WC_DUCKDB_PATH=wc_example.duckdb python dbt_example/analyze.py
"""

from __future__ import annotations

import os
import sys

import warehouse_causal as wc


def main(path: str) -> int:
    con = wc.connect(path)
    assignments, events = con.table("assignments"), con.table("events")
    exp = wc.ExperimentData(assignments, intent_to_treat="arm", cluster_by="team_id",
                            expected_split={0: 0.5, 1: 0.5})
    common = {"source": events, "unit": "user_id", "time": "event_at", "exposure": "exposed_at"}
    revenue = wc.Metric("revenue", value="SUM(amount)", window=(0, 14), **common)
    pre_revenue = wc.Metric("pre_revenue", value="SUM(amount)", window=(-28, 0), **common)
    model = exp.add_metric(revenue, [pre_revenue, "tenure"]).fit(wc.LinearModel)
    effects = model.infer_effect(condition_on=["tenure > 5"])
    con.create_table("experiment_effects", effects.to_pandas(), overwrite=True)
    print(effects)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("WC_DUCKDB_PATH", "wc_example.duckdb")))
