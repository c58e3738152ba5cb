"""A comparison with a number written into SQL is exact at a sample value: DuckDB 1.5 read a float
literal through DECIMAL and missed the row equal to it by one unit in the last place (a quantile's
count at or below itself came out one short, and its standard error moved)."""

from __future__ import annotations

import numpy as np
import pandas as pd

import warehouse_causal as wc
from warehouse_causal.warehouse.contract import Columns
from warehouse_causal.warehouse.literals import exact_double


def test_counts_at_or_below_a_sample_value_equal_numpy() -> None:
    values = np.random.default_rng(7).normal(size=2_000)
    table = wc.table(pd.DataFrame({"y": values}))
    probes = values[:200]
    query = Columns()
    query.update("below", {i: (table.y <= exact_double(float(v))).ifelse(1, 0).sum()
                           for i, v in enumerate(probes)})
    found = query.aggregate(table).run(wc.warehouse.backends.QueryRunner(), "counts at or below")
    assert [int(found.total("below", i)) for i in range(len(probes))] == [int((values <= v).sum())
                                                                            for v in probes]


def test_non_finite_numbers_stay_literals() -> None:
    assert str(exact_double(float("inf")).op().value) == "inf"


def test_sums_that_overflow_are_named_as_overflow_not_as_zero_infinite_values() -> None:
    """A finite 1e160 beyond the probe's rows overflows the sums of squares: the error said "has 0
    infinite value(s)"."""
    import warnings

    import pytest

    n = 12_000
    df = pd.DataFrame({"arm": np.arange(n) % 2, "x": np.random.default_rng(1).normal(size=n),
                       "y": np.r_[np.ones(n - 1), 1e160]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        spec = wc.ExperimentData(wc.table(df), intent_to_treat="arm").add_metric("y", ["x"])
        with pytest.raises(wc.DesignError, match="no NaN or infinite value, but its weighted sums of squares "
                                                 "overflow"):
            spec.fit(wc.LinearModel, strategy="moments")
