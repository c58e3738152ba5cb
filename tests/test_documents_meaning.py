"""Documents reach the typed meanings too: complier quantile effects and the monitor's take-up column
can be asked for in analysis and monitor documents, and the rows say which estimand they are."""

from __future__ import annotations

import warnings

import pytest

import warehouse_causal as wc
from warehouse_causal.surfaces.analysis_spec import run_spec
from warehouse_causal.surfaces.spec_schema import MONITOR_SCHEMA, SpecError, check_document


def _run(spec: dict) -> dict:
    con = wc.connect()
    con.create_table("tickets", wc.datasets.tickets(rows=6_000, teams=120, seed=3).to_pyarrow())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        return run_spec(spec, con=con)


@pytest.mark.parametrize("compliers, estimand", [(False, "quantile ITT"), (True, "complier quantile effect")])
def test_an_analysis_document_asks_for_complier_quantiles(compliers: bool, estimand: str) -> None:
    result = _run({"table": "tickets", "design": {"intent_to_treat": "assigned", "treated": "used"},
                   "metrics": ["minutes"], "quantile_compliers": compliers,
                   "quantiles": [{"name": "minutes_p50", "column": "minutes", "q": 0.5}]})
    assert {r["estimand"] for r in result["quantiles"].to_dicts()} == {estimand}
    assert {r["estimand"] for r in result["effects"].to_dicts()} == {"LATE"}


def test_the_monitor_document_takes_the_production_take_up_column() -> None:
    document = {"table": "t", "design": {"intent_to_treat": "a"}, "metrics": ["y"],
                "monitor": {"production": "p", "time": "day", "holdout": "held", "treated": "used"}}
    check_document(document, MONITOR_SCHEMA, "monitor.json")
    document["monitor"]["treated"] = 3
    with pytest.raises(SpecError, match="/monitor/treated"):
        check_document(document, MONITOR_SCHEMA, "monitor.json")
