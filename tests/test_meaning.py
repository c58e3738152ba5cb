"""The meaning types: a status that NaN cannot turn into ok, directions, estimands, period axes
ordered in their own type, and the covariance object."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import warehouse_causal as wc
from warehouse_causal.meaning import Covariance, Direction, Estimand, EstimandKind, PeriodAxis, Status


@given(st.booleans(), st.sampled_from([math.nan, math.inf, -math.inf, None, "x"]))
def test_a_statistic_that_is_not_a_finite_number_is_never_ok(alert: bool, bad: object) -> None:
    status = Status.of(alert, 1.0, bad)
    assert status is Status.NOT_CHECKED and not status.passed and not status.ran


def test_status_words_and_the_worst_of_many() -> None:
    assert str(Status.NOT_CHECKED) == "not checked" and Status.of(False, 0.3).passed
    assert Status.worst([Status.OK, Status.NOT_CHECKED]) is Status.NOT_CHECKED
    assert Status.worst([Status.OK, Status.ALERT, Status.NOT_CHECKED]) is Status.ALERT
    assert Status.worst([]) is Status.NOT_CHECKED  # nothing ran: nothing passed


@pytest.mark.parametrize("spelling, expected", [
    (None, Direction.HIGHER), ("Lower", Direction.LOWER), ("decrease", Direction.LOWER),
    ("higher", Direction.HIGHER), ("neutral", Direction.NEUTRAL),
])
def test_direction_spellings(spelling: object, expected: Direction) -> None:
    assert Direction.parse(spelling) is expected


def test_direction_says_which_change_is_good_and_refuses_nonsense() -> None:
    assert Direction.LOWER.is_good(-2.0) is True and Direction.LOWER.is_good(1.0) is False
    assert Direction.HIGHER.is_good(math.nan) is None and Direction.NEUTRAL.is_good(3.0) is None
    with pytest.raises(wc.InvalidParameterError, match="'direction' parameter of add_metric"):
        Direction.parse("up-ish")


def test_estimand_labels() -> None:
    late = Estimand(EstimandKind.LATE, "used", "1", "0", "compliers", "team")
    assert late.short == "LATE" and "complier average effect" in late.sentence
    assert "'1' vs '0'" in late.sentence and EstimandKind.QUANTILE_ITT.value == "quantile ITT"


@pytest.mark.parametrize("values, latest", [
    (list(range(20)), 19),
    ([dt.date(2026, 1, d) for d in (10, 2, 31)], dt.date(2026, 1, 31)),
    ([pd.Timestamp("2026-01-10"), pd.Timestamp("2026-01-09 23:00")], pd.Timestamp("2026-01-10")),
    (["b", "a", "c"], "c"),
    ([2.5, 10.0, -1.0], 10.0),
])
def test_periods_are_ordered_in_their_own_type(values: list[object], latest: object) -> None:
    axis = PeriodAxis.of(values)
    assert axis.latest == latest and list(axis) == sorted(values)


@pytest.mark.parametrize("values, match", [
    ([1, None], "NULL periods"), ([1.0, math.nan], "NaN or infinite"), ([1, "a"], "mixes kinds"),
])
def test_periods_refuse_what_cannot_be_ordered(values: list[object], match: str) -> None:
    with pytest.raises(wc.InvalidParameterError, match=match):
        PeriodAxis.of(values)


def test_covariance_requires_its_cluster_and_names_itself() -> None:
    assert Covariance.choose(None, None) == Covariance("HC1")
    assert Covariance.choose(None, "team").label == "CR1 by team"
    assert Covariance("HC3").meat_leverage_power == 2 and Covariance("HC2").needs_leverage
    assert math.isnan(Covariance("CR1", "team").factor(100, 3, 1))  # one cluster: no factor, not a number
    with pytest.raises(wc.InvalidParameterError, match="needs cluster_by"):
        Covariance("CR1")
    with pytest.raises(wc.InvalidParameterError, match="must be one of"):
        Covariance("HC9")
