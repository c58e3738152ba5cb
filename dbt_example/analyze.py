"""Run after ``dbt build``: analyse the materialised tables in the warehouse and write the effects
back as the table ``experiment_effects`` (downstream dbt models or BI read it from there).

    WC_DUCKDB_PATH=wc_example.duckdb python dbt_example/analyze.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import warehouse_causal as wc
from warehouse_causal.backends import table_exists

TABLE = "experiment_effects"
#: Every row this step writes carries this value; a table without it belongs to someone else.
MARKER = f"warehouse_causal {wc.__version__}"


def write_effects(con: Any, frame: Any) -> None:
    """Write ``frame`` as ``experiment_effects``, replacing only a table this step wrote before (it
    has the ``analysed_by`` column); a user's own table of that name is never replaced."""
    if table_exists(con, TABLE) and "analysed_by" not in con.table(TABLE).columns:
        raise SystemExit(
            f"{TABLE!r} already exists and was not written by this analysis step; rename or drop it "
            "first (it is left untouched).")
    con.create_table(TABLE, frame, overwrite=True)


def main(path: str) -> int:
    con = wc.connect(path)
    assignments = con.table("assignments")
    exp = wc.ExperimentData(assignments, intent_to_treat="arm", cluster_by="team_id",
                            expected_split={0: 0.5, 1: 0.5})
    catalog = wc.load_metrics(Path(__file__).with_name("metrics.yml"), con)  # the metric definitions
    model = exp.add_metric(catalog["revenue"], [catalog["pre_revenue"], "tenure"]).fit(wc.LinearModel)
    effects = model.infer_effect(condition_on=["tenure > 5"])
    write_effects(con, effects.to_pandas().assign(analysed_by=MARKER))
    print(effects)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("WC_DUCKDB_PATH", "wc_example.duckdb")))
