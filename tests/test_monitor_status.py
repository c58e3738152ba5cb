"""A monitor check that could not run says so: its status is ``not checked`` (never ok), its sentence
says why, and every reader (alerts, caption, markdown, JSON, HTML, the agent) shows it apart from ok.
Sentences match their status. Property: for every check, a NaN or infinite statistic in any row it
reads never yields ok."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from tests.test_monitor import experiment_rows, production_rows
from warehouse_causal.core.tables import RowTable
from warehouse_causal.meaning import Status
from warehouse_causal.monitoring.checks import TESTED, build_report, settle


@pytest.fixture(scope="module")
def models() -> dict[str, wc.LinearModel]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        exp = wc.ExperimentData(experiment_rows(), intent_to_treat="arm", cluster_by="user")
        return {
            "y": exp.add_metric("y", ["x", "region"]).fit(wc.LinearModel),
            "judge": exp.add_metric("judge", ["x", "region"], calibrate_with="human").fit(wc.LinearModel),
        }


def _by_check(report: wc.MonitorReport) -> dict[str, Any]:
    return {r.check: r for r in report.rows}


@pytest.mark.parametrize("case", ["metric all NULL", "one row per period and level", "infinite metric"])
def test_a_persistence_check_that_could_not_run_is_not_checked(
    models: dict[str, wc.LinearModel], case: str
) -> None:
    """Issue 24 item 3: these gave a NaN statistic with status ok, "Every period's effect is consistent
    with the experiment's" and "Slope +nan per period"."""
    production = production_rows(users=300, days=5)
    if case == "metric all NULL":
        production = production.assign(y=np.nan)
        why = "no launched rows with a value of y"
    elif case == "one row per period and level":
        production = production.groupby(["day", "in_holdout"]).head(1)
        why = "fewer than 2 units (user) with a value of y"
    else:
        production.loc[production.index % 7 == 0, "y"] = np.inf
        why = "infinite (or overflowing) values of y"
    report = wc.Monitor(models["y"], production, "day", holdout="in_holdout").check()
    checks = _by_check(report)
    effect, trend = checks["effect vs the experiment"], checks["trend of the effect on y"]
    for row in (effect, trend):
        assert row.status is Status.NOT_CHECKED and not row.status.passed
        assert "consistent" not in row.detail and "nan" not in row.detail.lower()
        assert row.detail.startswith("Not checked")
    assert why in effect.detail
    assert "a trend needs 3 periods with an effect and a standard error; there are 0" in trend.detail
    assert {r.check for r in report.not_checked} >= {effect.check, trend.check}
    assert effect not in report.alerts and "not checked" in report.caption()
    layer = report.layers["persistence"].to_dicts()
    assert all(r["status"] is Status.NOT_CHECKED and r["note"] and r["finding"] == "" for r in layer)
    # every reader shows the word, apart from ok
    assert "| not checked |" in report.to_markdown()
    statuses = {c["check"]: c["status"] for c in json.loads(report.to_json())["checks"]}
    assert statuses["effect vs the experiment"] == "not checked"
    page = report.report()
    assert page.count('class="card unchecked"') == len(report.not_checked) and "NOT CHECKED" in page
    assert 'id="persistence"' not in page  # no period to draw
    frame = report.to_pandas()
    assert set(frame.loc[frame.status == "not checked", "check"]) == {r.check for r in report.not_checked}


def test_sentences_match_their_status(models: dict[str, wc.LinearModel]) -> None:
    """Issue 24 item 11: "Period 0 has 20,000 rows against 20,000 expected: check the logging
    pipeline" with status ok, and "Worst: - in period 0" when nothing is NULL."""
    production = production_rows(users=400, days=6)
    checks = _by_check(wc.Monitor(models["y"], production, "day").check())
    rows, nulls = checks["rows per period"], checks["NULL rate"]
    assert rows.status is Status.OK and "check the logging" not in rows.detail
    assert rows.detail.startswith("Every period has at least 50% of the 400 rows expected")
    assert nulls.status is Status.OK and "Worst" not in nulls.detail and " - " not in nulls.detail
    assert nulls.detail.startswith("No NULLs")
    short = production[~((production.day == 3) & (production.user % 4 != 0))]  # day 3: a quarter of rows
    short.loc[short.index[short.day == 0][:50], "x"] = np.nan
    checks = _by_check(wc.Monitor(models["y"], short, "day").check())
    assert checks["rows per period"].status is Status.ALERT
    assert checks["rows per period"].detail.startswith("Period 3 has 100 rows against 400 expected (25%)")
    assert checks["NULL rate"].status is Status.ALERT and checks["NULL rate"].detail.startswith(
        "Worst: x in period 0 (12.50% NULL)"
    )


def test_agent_lists_checks_that_could_not_run(models: dict[str, wc.LinearModel], tmp_path) -> None:
    from warehouse_causal.surfaces.agent import Toolbox

    path = tmp_path / "warehouse.duckdb"
    con = wc.connect(path)
    con.create_table("experiment", experiment_rows(users=600))
    con.create_table("production", production_rows(users=200, days=4).assign(y=np.nan))
    con.disconnect()
    design = {"intent_to_treat": "arm", "cluster_by": "user"}
    spec = {
        "table": "experiment",
        "design": design,
        "metrics": ["y"],
        "covariates": ["x", "region"],
        "monitor": {"production": "production", "time": "day", "holdout": "in_holdout"},
    }
    tools = Toolbox.open(str(path))
    tools.call("check_design", {"table": "experiment", "design": design})
    answer, failed = tools.call("monitor", spec)
    assert not failed, answer
    assert answer["not_checked"] == ["effect vs the experiment", "trend of the effect on y"]
    assert any(step.startswith("Not checked") for step in answer["next_steps"])
    statuses = {c["check"]: c["status"] for c in answer["checks"]}
    assert statuses["effect vs the experiment"] == "not checked"


# -- property: NaN or infinite statistics never read as ok ---------------------------------------


class _Replay:
    """A monitor that replays given layer tables: what ``build_report`` reads, and nothing else."""

    def __init__(self, monitor: wc.Monitor, layers: dict[str, RowTable], share: float):
        for name in (
            "thresholds",
            "model",
            "holdout",
            "served",
            "labelled",
            "guardrails",
            "version",
            "runner",
        ):
            setattr(self, name, getattr(monitor, name))
        self.layers, self.share = layers, share

    def population_drift(self) -> RowTable:
        return self.layers["population"]

    def projection(self) -> RowTable:
        return self.layers["projection"]

    def completeness(self) -> RowTable:
        return self.layers["completeness"]

    def feedback(self) -> RowTable:
        return self.layers["feedback"]

    def version_share(self) -> float:
        return self.share

    def __getattr__(self, name: str) -> Any:  # the layers called with alpha
        layer = {
            "measurement": "measurement",
            "persistence": "persistence",
            "effect_trend": "effect_trend",
            "feedback_trend": "feedback_trend",
            "guardrail_segments": "guardrails",
        }[name]
        return lambda alpha: self.layers[layer]


def _latest(rows: list[dict[str, Any]]) -> list[int]:
    return [i for i, r in enumerate(rows) if r["period"] == rows[-1]["period"]]


#: (layer, statistic column, rows it is injected into at once, the check that reads it)
PROBES: list[tuple[str, str, str, Any]] = [
    ("population", "smd", "each latest", lambda r: "covariate SMD (latest period)"),
    ("population", "se_smd", "each latest", lambda r: "covariate SMD (latest period)"),
    ("population", "mean_production", "each latest", lambda r: "covariate SMD (latest period)"),
    ("population", "membership_r2", "all latest", lambda r: "like-the-experiment (membership R²)"),
    ("projection", "change_in_se", "each", lambda r: f"re-projected effect on {r['metric']}"),
    ("completeness", "rows_ratio", "each", lambda r: "rows per period"),
    ("completeness", "null_rate", "each", lambda r: "NULL rate"),
    *[("measurement", s, "each", lambda r: "judge calibration slope") for s in TESTED["measurement"][1]],
    *[("persistence", s, "each", lambda r: "effect vs the experiment") for s in TESTED["persistence"][1]],
    *[
        ("effect_trend", s, "each", lambda r: f"trend of the effect on {r['metric']}")
        for s in TESTED["effect_trend"][1]
    ],
    *[
        ("feedback_trend", s, "each", lambda r: f"trend of {r['series']}")
        for s in TESTED["feedback_trend"][1]
    ],
    *[("guardrails", s, "each", lambda r: "harm by segment") for s in TESTED["guardrails"][1]],
]


@pytest.fixture(scope="module")
def quiet(models: dict[str, wc.LinearModel]) -> tuple[wc.Monitor, wc.MonitorReport]:
    """Every layer on, a quiet launch: every check ran and is ok."""
    production = production_rows(users=1500, days=8).assign(version="v1")
    monitor = wc.Monitor(
        models["judge"],
        production,
        "day",
        holdout="in_holdout",
        served="served",
        labelled="label",
        segments=["region = 'apac'"],
        guardrails={"judge": -0.3},
        version=("version", "v1"),
    )
    report = monitor.check()
    assert report.alerts == [] and report.not_checked == [], report.to_pandas()
    return monitor, report


def test_every_layer_status_comes_from_its_statistics(quiet: tuple[wc.Monitor, wc.MonitorReport]) -> None:
    """The layer rows the property test replays get their status from the same rule (``settle``)."""
    _, report = quiet
    for layer in TESTED:
        for row in report.layers[layer].to_dicts():
            again = settle(layer, dict(row), "alert")
            assert again["status"] is row["status"] is Status.OK, (layer, row)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize(
    ("layer", "column", "where", "check"), PROBES, ids=[f"{p[0]}.{p[1]}" for p in PROBES]
)
def test_nan_or_infinite_statistics_never_read_as_ok(
    quiet: tuple[wc.Monitor, wc.MonitorReport], layer: str, column: str, where: str, check: Any, bad: float
) -> None:
    monitor, report = quiet
    rows = list(report.layers[layer])  # typed rows (rows.DriftRow, ...): the checks read attributes
    targets = (
        [_latest(rows)]
        if where == "all latest"
        else [[i] for i in _latest(rows)]
        if where == "each latest"
        else [[i] for i in range(len(rows))]
    )
    for indices in targets:
        changed = list(rows)
        for i in indices:
            changed[i] = replace(changed[i], **{column: bad})
            if layer in TESTED:  # the layer's own rule, as the monitor applies it
                changed[i] = settle(layer, changed[i], "alert")
        layers = {**report.layers, layer: RowTable(changed, report.layers[layer].caption())}
        name = check(changed[indices[0]])
        found = {r.check: r for r in build_report(_Replay(monitor, layers, 0.0), 0.05).rows}[name]
        assert found.status != Status.OK, (layer, column, indices, found)
        assert found.status is Status.ALERT or found.detail.startswith("Not checked"), found.detail


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_a_nan_version_share_is_not_ok(quiet: tuple[wc.Monitor, wc.MonitorReport], bad: float) -> None:
    monitor, report = quiet
    found = _by_check(build_report(_Replay(monitor, dict(report.layers), bad), 0.05))[
        "rows not on version 'v1'"
    ]
    assert found.status != Status.OK


def test_nan_statistics_from_the_algebra_are_not_ok(
    monkeypatch: pytest.MonkeyPatch, quiet: tuple[wc.Monitor, wc.MonitorReport]
) -> None:
    """Through the real layers: the R² and the judge slopes made NaN where they are computed."""
    import warehouse_causal.monitoring.measurement as measurement_layer
    import warehouse_causal.monitoring.population as population_layer

    monitor, _ = quiet
    monkeypatch.setattr(population_layer, "membership_r2", lambda *a: math.nan)
    monkeypatch.setattr(measurement_layer, "calibration_slope", lambda sums: (math.nan,) * 3 + (sums[0],))
    fresh = wc.Monitor(monitor.model, monitor.production, "day", holdout="in_holdout", served="served")
    checks = _by_check(fresh.check())
    assert checks["like-the-experiment (membership R²)"].status is Status.NOT_CHECKED
    assert checks["judge calibration slope"].status is Status.NOT_CHECKED
    assert "calibration slope is undefined" in checks["judge calibration slope"].detail


def test_membership_r2_is_nan_not_one_when_undefined() -> None:
    """min(1, NaN) is 1 in Python: an undefined R² read as 'fully distinguishable'."""
    from warehouse_causal.algebra.monitoring import membership_r2

    sums = np.array([math.inf]), np.array([[math.inf]])
    assert math.isnan(membership_r2(10.0, *sums, 10.0, np.array([1.0]), np.array([[1.0]])))


def test_frame_of_statuses_reads_as_words(quiet: tuple[wc.Monitor, wc.MonitorReport]) -> None:
    _, report = quiet
    frame = report.to_pandas()
    assert isinstance(frame, pd.DataFrame) and set(frame.status.map(str)) == {"ok"}
