"""Run after ``dbt build``: analyse the materialised tables in the warehouse and write the effects
back as the table ``experiment_effects``, and the post-launch checks of the ``production`` model as
``experiment_monitoring`` (downstream dbt models or BI read them from there).

    WC_DUCKDB_PATH=wc_example.duckdb python dbt_example/analyze.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import warehouse_causal as wc
from warehouse_causal.warehouse.backends import table_exists

TABLE = "experiment_effects"
MONITORING = "experiment_monitoring"
#: Every row this step writes carries this value; a table without it belongs to someone else.
MARKER = f"warehouse_causal {wc.__version__}"


def write_table(con: Any, name: str, frame: Any) -> None:
    """Write ``frame`` as ``name``, replacing only a table this step wrote before (it has the
    ``analysed_by`` column); a user's own table of that name is never replaced."""
    if table_exists(con, name) and "analysed_by" not in con.table(name).columns:
        raise SystemExit(
            f"{name!r} already exists and was not written by this analysis step; rename or drop it "
            "first (it is left untouched).")
    con.create_table(name, frame.assign(analysed_by=MARKER), overwrite=True)


def main(path: str) -> int:
    con = wc.connect(path)
    assignments = con.table("assignments")
    exp = wc.ExperimentData(assignments, intent_to_treat="arm", cluster_by="team_id",
                            expected_split={0: 0.5, 1: 0.5})
    catalog = wc.load_metrics(Path(__file__).with_name("metrics.yml"), con)  # the metric definitions
    model = exp.add_metric(catalog["revenue"], [catalog["pre_revenue"], "tenure"]).fit(wc.LinearModel)
    effects = model.infer_effect(condition_on=["tenure > 5"])
    write_table(con, TABLE, effects.to_pandas())
    print(effects)
    # after launch: the production model against the experiment (holdout teams kept on control)
    report = wc.Monitor(model, con.table("production"), "fortnight", holdout="in_holdout").check()
    write_table(con, MONITORING, report.to_pandas())
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("WC_DUCKDB_PATH", "wc_example.duckdb")))
