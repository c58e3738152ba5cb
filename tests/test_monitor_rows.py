"""The monitor's layer rows are typed (frozen dataclasses the checks read by attribute) and still read
as the dicts they replaced: same columns in the same order in ``to_dicts``/``to_pandas``, indexing by
column, equality with a dict. The monitor's inputs are frozen: nothing is set after construction."""

from __future__ import annotations

import dataclasses
import warnings

import pytest

import warehouse_causal as wc
from tests.test_monitor import experiment_rows, production_rows
from warehouse_causal.meaning import Status
from warehouse_causal.monitoring.monitor import Monitor
from warehouse_causal.monitoring.rows import LayerRow, PersistenceRow, settle

#: Each layer's columns, in order: the public output of ``to_dicts()`` / ``to_pandas()``.
COLUMNS = {
    "population": ["period", "covariate", "mean_experiment", "mean_production", "smd", "se_smd",
                   "membership_r2", "rows", "units"],
    "projection": ["metric", "arm", "estimand", "period", "experiment_effect", "projected_effect",
                   "std_error", "change_in_se", "interacted"],
    "completeness": ["period", "rows", "expected_rows", "rows_ratio", "worst_column", "null_rate"],
    "measurement": ["period", "look", "metric", "audited", "slope", "std_error", "agreement",
                    "experiment_slope", "experiment_agreement", "level", "p_value", "status", "finding",
                    "note"],
    "persistence": ["period", "look", "metric", "estimand", "effect", "std_error", "lower", "upper",
                    "level", "experiment_effect", "z", "p_value", "status", "finding", "note"],
    "effect_trend": ["metric", "estimand", "periods", "slope_per_period", "z", "p_value", "level",
                     "status", "finding", "note"],
    "feedback": ["period", "served_rate", "served_se", "labelled_share", "judge_population",
                 "judge_labelled"],
    "feedback_trend": ["series", "periods", "slope_per_period", "z", "p_value", "level", "status",
                       "finding", "note"],
    "guardrails": ["metric", "segment", "source", "estimand", "estimate", "std_error", "tolerance",
                   "p_value", "p_adjusted", "level", "status", "finding", "note"],
}


@pytest.fixture(scope="module")
def monitor() -> Monitor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        exp = wc.ExperimentData(experiment_rows(users=600), intent_to_treat="arm", cluster_by="user")
        model = exp.add_metric("judge", ["x", "region"], calibrate_with="human").fit(wc.LinearModel)
    return wc.Monitor(model, production_rows(users=300, days=5).assign(version="v1"), "day",
                      holdout="in_holdout", served="served", labelled="label", segments=["region = 'apac'"],
                      guardrails={"judge": -0.3}, version=("version", "v1"))


@pytest.fixture(scope="module")
def report(monitor: Monitor) -> wc.MonitorReport:
    return monitor.check()


def test_every_layer_keeps_its_columns_in_order(report: wc.MonitorReport) -> None:
    assert list(report.layers) == list(COLUMNS)
    for layer, columns in COLUMNS.items():
        table = report.layers[layer]
        assert [list(r) for r in table.to_dicts()] == [columns] * len(table), layer
        assert list(table.to_pandas().columns) == columns, layer


def test_typed_rows_read_as_the_dicts_they_replaced(report: wc.MonitorReport) -> None:
    for layer, table in report.layers.items():
        for row, as_dict in zip(table, table.to_dicts(), strict=True):
            if layer == "feedback":  # columns named after the metrics: a dict
                assert isinstance(row, dict)
                continue
            assert isinstance(row, LayerRow)
            assert row == as_dict and dict(row) == as_dict and list(row) == list(as_dict)
            assert len(row) == len(as_dict) and row.get("nothing", 7) == 7 and "nothing" not in row
            assert all(row[c] is getattr(row, c) for c in as_dict)
            with pytest.raises(KeyError):
                row["nothing"]
            with pytest.raises(dataclasses.FrozenInstanceError):
                row.period = 0


def test_settle_gives_a_typed_row_and_a_dict_the_same_status(report: wc.MonitorReport) -> None:
    row = report.layers["persistence"][0]
    for bad, reason in ((float("nan"), ""), (0.5, ""), (0.5, "no holdout rows")):
        typed = settle("persistence", dataclasses.replace(row, p_value=bad), "decay", reason)
        plain = settle("persistence", {**row.as_row(), "p_value": bad}, "decay", reason)
        assert isinstance(typed, PersistenceRow) and typed.as_row() == plain
    assert typed.status is Status.NOT_CHECKED and typed.note == "no holdout rows"


def test_an_itt_row_has_no_take_up_columns(report: wc.MonitorReport) -> None:
    row = report.layers["persistence"][0]
    assert row.take_up_difference is None and "take_up_difference" not in row
    late = dataclasses.replace(row, take_up_difference=0.4, first_stage_f=30.0)
    assert list(late)[-5:] == ["take_up_difference", "first_stage_f", "status", "finding", "note"]


def test_the_monitor_is_not_changed_after_construction(monitor: Monitor) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        monitor.inputs.time = "week"
    with pytest.raises(AttributeError):
        monitor.holdout = None
    with pytest.raises(TypeError):
        monitor.guardrails["judge"] = 1.0
    with pytest.raises(TypeError):
        monitor.covariates["x"] = None
    assert isinstance(monitor.segments, tuple) and isinstance(monitor.null_columns, tuple)


def test_each_aggregate_runs_once(monitor: Monitor, report: wc.MonitorReport) -> None:
    """The kept aggregates are not re-run by a layer called again."""
    before = len(monitor.runner.records)
    monitor.persistence()
    monitor.population_drift()
    monitor.measurement()
    assert len(monitor.runner.records) == before


def test_the_monitor_takes_no_new_attributes(monitor: Monitor) -> None:
    with pytest.raises(AttributeError):
        monitor.cache = {}
