"""Periods and cell keys are ordered by their value in its own type, never as text (issue 24, item 1).

Integer periods 0–19 sorted as text run 0, 1, 10, 11, ..., 19, 2, ..., 9: the monitor's "latest"
period was 9, so a covariate shift from period 10 on was never flagged and the looks were spent in
the wrong order. Dates and timestamps sorted by their ``repr`` had the same defect (``2024, 1, 10)``
before ``2024, 1, 9)``). These tests run integer, date, timestamp and string periods end to end on
DuckDB: the query contract's cell order, the monitor's latest period and its alert, the cumulative
looks and the report's charts and tables.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from decimal import Decimal
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import warehouse_causal as wc
from warehouse_causal.core.errors import InvalidParameterError
from warehouse_causal.meaning import PeriodAxis, period_sort_key
from warehouse_causal.warehouse.backends import QueryRunner
from warehouse_causal.warehouse.contract import Columns

DAYS = 20
START = dt.date(2024, 1, 1)


def _as_kind(day: int, kind: str) -> Any:
    """Period ``day`` (0-based) as a value of ``kind``; every kind keeps the days' order."""
    date = START + dt.timedelta(days=day)
    if kind == "int":
        return day
    if kind == "date":
        return date
    if kind == "timestamp":
        return dt.datetime(date.year, date.month, date.day, 6, 30)
    if kind == "timestamptz":
        return pd.Timestamp(date.year, date.month, date.day, 6, 30, tz="UTC")
    if kind == "string":
        return date.isoformat()  # ISO dates: text order is time order
    raise AssertionError(kind)


KINDS = ["int", "date", "timestamp", "timestamptz", "string"]


# -- the sort key and the period axis ------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_sort_key_orders_each_kind_in_its_own_type(kind: str) -> None:
    values = [_as_kind(d, kind) for d in range(DAYS)]
    shuffled = list(np.random.default_rng(0).permutation(np.array(values, dtype=object)))
    assert sorted(shuffled, key=period_sort_key) == values
    assert PeriodAxis.of(shuffled).latest == values[-1]


def test_sort_key_orders_decimals_numpy_values_and_nanosecond_timestamps() -> None:
    # DuckDB returns HUGEINT and DECIMAL keys as decimal.Decimal: they were sorted as text
    decimals = [Decimal(d) for d in range(DAYS)]
    assert sorted(reversed(decimals), key=period_sort_key) == decimals
    assert sorted([Decimal("10.5"), Decimal("9.25"), Decimal("-1")], key=period_sort_key) == [
        Decimal("-1"), Decimal("9.25"), Decimal("10.5")]
    numpy_ints = [np.int64(d) for d in (10, 2, 19, 0)]
    assert sorted(numpy_ints, key=period_sort_key) == [0, 2, 10, 19]
    stamps = [np.datetime64("2024-01-10"), np.datetime64("2024-01-09"), np.datetime64("2024-01-09T00:00:01")]
    assert sorted(stamps, key=period_sort_key) == [stamps[1], stamps[2], stamps[0]]
    ns = [pd.Timestamp("2024-01-01 00:00:00.000000002"), pd.Timestamp("2024-01-01 00:00:00.000000001")]
    assert sorted(ns, key=period_sort_key) == [ns[1], ns[0]]
    # 2**53 + 1 and 2**53 are one float: the key keeps integers exact
    assert sorted([2**53 + 1, 2**53], key=period_sort_key) == [2**53, 2**53 + 1]


def test_sort_key_puts_nan_after_every_number_and_null_last() -> None:
    # as DuckDB's ORDER BY does, so a sorted read-back and an ORDER BY query agree
    values = [float("nan"), 3.0, None, float("inf"), -float("inf"), 1.0]
    ordered = sorted(values, key=period_sort_key)
    assert ordered[:4] == [-float("inf"), 1.0, 3.0, float("inf")]
    assert np.isnan(ordered[4])
    assert ordered[5] is None
    table = ibis.duckdb.connect().create_table("t", pa.table({"p": pa.array(values, pa.float64())}))
    in_sql = table.order_by("p").p.to_pyarrow().to_pylist()
    assert [repr(v) for v in in_sql] == [repr(v) for v in ordered]


@pytest.mark.parametrize("bad, message", [
    ([1, float("nan")], "NaN"),
    ([1, 2, float("inf")], "infinite"),
    ([Decimal(1), Decimal("NaN")], "NaN"),
    ([dt.date(2024, 1, 1), pd.NaT], "NULL"),
    ([np.datetime64("2024-01-01"), np.datetime64("NaT")], "NULL"),
    ([1, "2"], "mixes"),
])
def test_period_axis_refuses_periods_without_an_order(bad: list[Any], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        PeriodAxis.of(bad, owner="Monitor", name="day")


# -- the query contract --------------------------------------------------------------------------
def _cell_keys(values: list[Any], second: list[Any] | None = None) -> list[Any]:
    """The group keys of a DuckDB GROUP BY over ``values`` (and ``second``), read through Sums."""
    frame = pd.DataFrame({"p": values, **({"q": second} if second is not None else {})})
    table = ibis.memtable(frame)
    columns = Columns()
    columns.add("rows", None, table.count())
    by = {"p": table.p, **({"q": table.q} if second is not None else {})}
    sums = columns.aggregate(table, by).run(QueryRunner(), "test: cells")
    keys = [sums.key("p").tolist()]
    if second is not None:
        keys.append(sums.key("q").tolist())
    return list(zip(*keys, strict=True)) if second is not None else keys[0]


@pytest.mark.parametrize("kind", KINDS)
def test_contract_cells_come_back_in_the_order_of_their_keys(kind: str) -> None:
    values = [_as_kind(d, kind) for d in range(DAYS)]
    shuffled = list(np.random.default_rng(1).permutation(np.array(values, dtype=object)))
    keys = _cell_keys(shuffled)
    assert [period_sort_key(k) for k in keys] == sorted(period_sort_key(k) for k in keys)
    assert len(keys) == DAYS and keys[-1] == _cell_keys(values)[-1]
    if kind == "int":
        assert keys == list(range(DAYS))


def test_contract_orders_hugeint_keys_as_numbers_and_two_keys_lexicographically() -> None:
    table = ibis.memtable(pd.DataFrame({"p": np.arange(DAYS)}))
    columns = Columns()
    columns.add("rows", None, table.count())
    sums = columns.aggregate(table, {"p": table.p.cast("decimal(38, 0)")}).run(QueryRunner(), "test")
    assert [int(k) for k in sums.key("p")] == list(range(DAYS))
    pairs = _cell_keys([d % 12 for d in range(24)], [d // 12 for d in range(24)])
    assert pairs == sorted(pairs)


# -- the monitor ---------------------------------------------------------------------------------
def _experiment(seed: int = 1, users: int = 800) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x, arm = rng.normal(size=users), rng.integers(0, 2, users)
    return pd.DataFrame({"user": np.arange(users), "arm": arm, "x": x,
                         "y": 1 + 0.5 * x + 0.5 * arm + rng.normal(size=users)})


def _production(kind: str, shift_from: int | None, users: int = 200, seed: int = 2) -> pd.DataFrame:
    """``users`` rows per period over DAYS periods; x moves by 1 SD from period ``shift_from`` on."""
    rng = np.random.default_rng(seed)
    day = np.repeat(np.arange(DAYS), users)
    x = rng.normal(size=day.size) + (0.0 if shift_from is None else (day >= shift_from) * 1.0)
    y = 1 + 0.5 * x + 0.5 + rng.normal(size=day.size)
    period = [_as_kind(int(d), kind) for d in day]
    return pd.DataFrame({"user": np.arange(day.size), "period": period, "x": x, "y": y,
                         "held": (rng.random(day.size) < 0.2).astype(int)})


@pytest.fixture(scope="module")
def experiment_model() -> wc.LinearModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        return wc.ExperimentData(_experiment(), intent_to_treat="arm").add_metric("y", ["x"]).fit(
            wc.LinearModel)


def _status(report: wc.MonitorReport, check: str) -> str:
    return next(r.status for r in report.rows if r.check == check)


@pytest.mark.parametrize("kind", KINDS)
def test_monitor_flags_a_shift_from_period_10_on_at_the_true_latest_period(
        experiment_model: wc.LinearModel, kind: str) -> None:
    latest = _as_kind(DAYS - 1, kind)
    monitor = wc.Monitor(experiment_model, _production(kind, shift_from=10), "period", holdout="held")
    drift = monitor.population_drift().to_dicts()
    periods = [r["period"] for r in drift]
    assert [period_sort_key(p) for p in periods] == sorted(period_sort_key(p) for p in periods)
    assert _same(periods[-1], latest)
    assert _same(monitor.projection().to_dicts()[0]["period"], latest)
    report = monitor.check()
    assert _status(report, "covariate SMD (latest period)") == "alert", report.to_pandas()
    # the looks are spent in time order: period k (0-based) is look k + 1
    persistence = monitor.persistence().to_dicts()
    assert [_same(r["period"], _as_kind(i, kind)) for i, r in enumerate(persistence)] == [True] * DAYS


def test_monitor_stays_quiet_without_a_shift(experiment_model: wc.LinearModel) -> None:
    report = wc.Monitor(experiment_model, _production("int", shift_from=None), "period").check()
    assert _status(report, "covariate SMD (latest period)") == "ok", report.to_pandas()


def _same(found: Any, wanted: Any) -> bool:
    """One period value as the backend returned it equals the one the test wrote."""
    if isinstance(wanted, pd.Timestamp) or isinstance(found, pd.Timestamp):
        return bool(pd.Timestamp(found) == pd.Timestamp(wanted))
    return bool(found == wanted)


# -- cumulative looks and the report -------------------------------------------------------------
def _daily(kind: str, per_day: int = 120, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    day = np.repeat(np.arange(DAYS), per_day)
    arm = rng.integers(0, 2, day.size)
    return pd.DataFrame({"day": [_as_kind(int(d), kind) for d in day], "arm": arm,
                         "y": 1.0 + 0.3 * arm + rng.normal(size=day.size)})


@pytest.mark.parametrize("kind", ["int", "date", "timestamp"])
def test_cumulative_looks_and_their_chart_run_in_time_order(kind: str) -> None:
    model = wc.ExperimentData(_daily(kind), intent_to_treat="arm").add_metric("y").fit(wc.LinearModel)
    cumulative = model.cumulative("day", looks=DAYS)
    through = [r["through"] for r in cumulative.to_dicts()]
    assert [_same(t, _as_kind(i, kind)) for i, t in enumerate(through)] == [True] * DAYS
    page = model.infer_effect().report(cumulative=cumulative)
    chart = re.search(r'<div id="over-time".*?</div>', page, re.S)
    assert chart is not None
    labels = re.findall(r'text-anchor="middle">([^<]+)</text>', chart.group(0))
    expected = [str(_as_kind(i, kind)).removesuffix(" 00:00:00") for i in range(DAYS)]
    assert labels and labels == [e for e in expected if e in labels]  # shown labels keep time order
    assert labels[-1] == expected[-1]


def test_monitor_report_chart_runs_in_time_order(experiment_model: wc.LinearModel) -> None:
    report = wc.Monitor(experiment_model, _production("int", shift_from=None), "period",
                        holdout="held").check()
    page = report.report()
    chart = re.search(r'<div class="charts" id="persistence">.*?</div>', page, re.S)
    assert chart is not None
    labels = [int(v) for v in re.findall(r'text-anchor="middle">(\d+)</text>', chart.group(0))]
    assert labels == sorted(labels) and labels[-1] == DAYS - 1


def test_report_compliance_table_orders_numeric_levels_as_numbers() -> None:
    rng = np.random.default_rng(5)
    n = 3000
    assigned = rng.choice([0, 2, 10], n)
    used = np.where(rng.random(n) < 0.7, assigned, 0)
    frame = pd.DataFrame({"assigned": assigned, "used": used, "y": 1 + 0.2 * used + rng.normal(size=n)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        model = wc.ExperimentData(frame, intent_to_treat="assigned", treated="used").add_metric("y").fit(
            wc.LinearModel)
    page = model.infer_effect().report()
    table = re.search(r'<table id="compliance">.*?</table>', page, re.S)
    assert table is not None
    assert re.findall(r"<th>used = (\d+)</th>", table.group(0)) == ["0", "2", "10"]
    assert re.findall(r'<td class="label">assigned = (\d+)</td>', table.group(0)) == ["0", "2", "10"]
