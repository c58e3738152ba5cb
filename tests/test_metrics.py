"""Metrics computed from a fact table inside the warehouse equal a pandas computation, share one
aggregation per source, and feed the same model as precomputed columns would."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from tests.helpers import ORACLE_RTOL, rel_diff


def _tables(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    units = 1_500
    exposure = pd.Timestamp("2026-01-10") + pd.to_timedelta(rng.integers(0, 10, units), unit="D")
    assignment = pd.DataFrame({"user_id": np.arange(units), "arm": rng.integers(0, 2, units),
                               "exposed_at": exposure, "tenure": rng.gamma(2, 2, units)})
    n_events = 12_000
    user = rng.integers(0, units, n_events)
    offset = pd.to_timedelta(rng.uniform(-30, 30, n_events), unit="D")
    after = offset >= pd.Timedelta(0)  # the treatment only moves spending after exposure
    lift = 1 + 0.2 * assignment.arm.to_numpy()[user] * after
    events = pd.DataFrame({"user_id": user,
                           "event_at": (assignment.exposed_at.to_numpy()[user] + offset).floor("s"),
                           "amount": rng.gamma(2, 10, n_events) * lift,
                           "order_id": rng.integers(0, 4_000, n_events)})
    return assignment, events


def _expected(assignment: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    merged = events.merge(assignment[["user_id", "exposed_at"]], on="user_id")
    days = (merged.event_at - merged.exposed_at) / pd.Timedelta(days=1)
    post = merged[(days >= 0) & (days < 14)].groupby("user_id")
    pre = merged[(days >= -28) & (days < 0)].groupby("user_id")
    out = assignment.set_index("user_id")
    out["revenue"] = post.amount.sum()
    out["orders"] = post.order_id.nunique()
    out["pre_revenue"] = pre.amount.sum()
    return out.fillna({"revenue": 0.0, "orders": 0.0, "pre_revenue": 0.0}).reset_index()


def _metrics(events_table) -> dict[str, wc.Metric]:
    common = {"source": events_table, "unit": "user_id", "time": "event_at", "exposure": "exposed_at"}
    return {
        "revenue": wc.Metric("revenue", value="SUM(amount)", window=(0, 14), **common),
        "orders": wc.Metric("orders", value="COUNT(DISTINCT order_id)", window=(0, 14), **common),
        "pre_revenue": wc.Metric("pre_revenue", value="SUM(amount)", window=(-28, 0), **common),
    }


def test_metrics_from_events_equal_pandas_and_feed_the_model() -> None:
    assignment, events = _tables()
    con = wc.connect()
    exp = wc.ExperimentData(con.create_table("assignment", assignment), intent_to_treat="arm")
    metrics = _metrics(con.create_table("events", events))
    spec = exp.add_metric([metrics["revenue"], metrics["orders"]], [metrics["pre_revenue"], "tenure"])
    model = spec.fit(wc.LinearModel)
    expected = _expected(assignment, events)
    direct = wc.ExperimentData(wc.table(expected), intent_to_treat="arm").add_metric(
        ["revenue", "orders"], ["pre_revenue", "tenure"]).fit(wc.LinearModel)
    assert rel_diff(model.params, direct.params) < ORACLE_RTOL
    assert rel_diff(model.cov, direct.cov) < ORACLE_RTOL
    joined = spec.experiment.table.order_by("user_id").to_pandas()
    np.testing.assert_allclose(joined.revenue, expected.revenue, rtol=1e-12)
    np.testing.assert_allclose(joined.orders, expected.orders)
    np.testing.assert_allclose(joined.pre_revenue, expected.pre_revenue, rtol=1e-12)
    pass1 = next(q for q in model.queries if q.purpose.startswith("pass 1")).sql
    # one aggregation of the events (3 metrics) + exposure per unit, then pass 1 by design cell
    assert pass1.count("GROUP BY") == 3
    assert pass1.count("FILTER") >= 3


def test_units_in_several_arms_are_flagged() -> None:
    assignment, events = _tables(1)
    assignment = pd.concat([assignment, assignment.iloc[:5].assign(arm=1 - assignment.arm.iloc[:5])])
    con = wc.connect()
    exp = wc.ExperimentData(con.create_table("assignment", assignment), intent_to_treat="arm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.SampleRatioMismatchWarning)
        with pytest.warns(wc.DesignWarning, match=r"5 unit\(s\) of 'user_id' appear in more than one arm"):
            exp.add_metric(_metrics(con.create_table("events", events))["revenue"])


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"value": "SUM(amount)", "unit": "uid"}, wc.SchemaError, "Did you mean 'user_id'"),
    ({"value": "amount", "unit": "user_id"}, wc.ExpressionError, "is not an aggregate"),
    ({"value": "SUM(amount) FILTER (WHERE 1 IN (SELECT 1))", "unit": "user_id"}, wc.ExpressionError,
     "The construct Filter"),
    ({"value": "SUM(amount)", "unit": "user_id", "window": (0, 7)}, wc.InvalidParameterError,
     "needs 'time'"),
    ({"value": "SUM(amount)", "unit": "user_id", "window": (7, 0), "time": "event_at",
      "exposure": "exposed_at"}, wc.InvalidParameterError, "finite numbers and start < end"),
])
def test_metric_errors(kwargs: dict, error: type, message: str) -> None:
    assignment, events = _tables(2)
    con = wc.connect()
    exp = wc.ExperimentData(con.create_table("assignment", assignment), intent_to_treat="arm")
    with pytest.raises(error, match=message):
        exp.add_metric(wc.Metric("m", source=con.create_table("events", events), **kwargs))
