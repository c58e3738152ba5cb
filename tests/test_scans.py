"""How many times a full analysis reads the fact data, counted from the query runner's log.

A scan is a query whose expression reads the experiment table without a row bound (a ``LIMIT`` of
at most ``PROBE_ROWS`` rows below every aggregate). Performance target: at most 3 scans for effects of
every arm × metric × ≥ 5 segments with anytime-valid columns and a projection.
"""

from __future__ import annotations

import ibis.expr.operations as ops
import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from warehouse_causal.effects.segments import ALL
from warehouse_causal.warehouse.shifts import PROBE_ROWS

LEVELS = ["br", "de", "fr", "in", "jp", "us"]


def _bounded(limit: ops.Limit) -> bool:
    return limit.n <= PROBE_ROWS and not limit.parent.find(ops.Aggregate)


def scans(records, table) -> list[str]:
    """Purposes of the records that scan ``table`` (reads it, not under a small LIMIT)."""
    source = table.op()
    out = []
    for record in records:
        node = record.expr.op()
        if source not in node.find(type(source)):
            continue
        limits = [lim for lim in node.find(ops.Limit) if source in lim.parent.find(type(source))]
        if any(_bounded(lim) for lim in limits):
            continue
        out.append(record.purpose)
    return out


@pytest.fixture(scope="module")
def fact():
    rng = np.random.default_rng(7)
    n, clusters = 20_000, 400
    cluster = rng.integers(0, clusters, n)
    arm = rng.integers(0, 3, clusters)[cluster]
    df = pd.DataFrame({"team": cluster, "arm": arm, "country": rng.choice(LEVELS, n)})
    for j in range(5):
        df[f"x{j}"] = rng.normal(size=n)
    for m in range(3):
        df[f"y{m}"] = 1.0 + 0.1 * m * arm + df.x0 + (df.country == "us") * 0.3 * arm + rng.normal(size=n)
    return wc.table(df, "scan_fact")


def _analysis(fact, cluster_by):
    exp = wc.ExperimentData(fact, intent_to_treat="arm", cluster_by=cluster_by)
    model = exp.add_metric(["y0", "y1", "y2"], ["x0", "x1", "x2", "x3", "x4", "country"]).fit(
        wc.LinearModel
    )
    effects = model.infer_effect([f"country = '{c}'" for c in LEVELS[:5]] + ["country IN ('us', 'jp')"])
    table = effects.to_pandas()
    projected = effects.project({"country = 'us'": 0.7, "country = 'de'": 0.3})
    return exp, model, effects, table, projected


@pytest.mark.parametrize("cluster_by", [None, "team"])
def test_full_analysis_reads_the_fact_table_at_most_three_times(fact, cluster_by):
    _, model, effects, table, projected = _analysis(fact, cluster_by)
    assert {"av_p_value", "av_ci_lower", "av_ci_upper"} <= set(table.columns)
    assert len(set(effects.segment) - {ALL}) >= 5 and len(set(effects.metric)) == 3
    assert len(set(effects.arm)) == 2
    records = [*model.queries, *effects.queries, *projected.queries]
    found = scans(records, fact)
    assert len(found) <= 3, found
    if cluster_by:  # many dummies: pass 1 by (cluster, cell) gives the clustered meat too
        assert found == ["validate design", "pass 1: cross products by cluster and design cell"]
    else:
        assert found == ["validate design", "pass 1: cross products by design cell",
                         "pass 2: HC scores by design cell"]


def test_segments_from_cells_equal_the_filter_aggregate(fact):
    """Segment effects computed from the pass-1 cells equal the ones from a scan of the table."""
    exp = wc.ExperimentData(fact, intent_to_treat="arm")
    model = exp.add_metric("y1", ["x0", "x1", "country"]).fit(wc.LinearModel)
    conditions = ["country = 'us'", "country IN ('de', 'fr')"]
    from_cells = model.infer_effect(conditions).to_pandas()
    # An ibis expression bound to the table cannot be re-resolved on the cells: it scans instead.
    bound = [fact.country == "us", fact.country.isin(["de", "fr"])]
    from_scan = model.infer_effect(bound)
    assert any(r.purpose.startswith("segments: sizes") for r in from_scan.queries)
    from_scan = from_scan.to_pandas()
    np.testing.assert_allclose(from_cells["estimate"], from_scan["estimate"], rtol=1e-10)
    np.testing.assert_allclose(from_cells["std_error"], from_scan["std_error"], rtol=1e-10)
    np.testing.assert_array_equal(from_cells["n"], from_scan["n"])


def test_a_condition_on_a_numeric_covariate_scans(fact):
    model = wc.ExperimentData(fact, intent_to_treat="arm").add_metric("y1", ["x0", "country"]).fit(
        wc.LinearModel
    )
    effects = model.infer_effect(["x0 > 0", "country = 'us'"])
    assert [r.purpose for r in effects.queries] == ["segments: sizes and covariate means"]


def test_over_a_categorical_covariate_uses_the_cells(fact):
    model = wc.ExperimentData(fact, intent_to_treat="arm").add_metric("y1", ["x0", "country"]).fit(
        wc.LinearModel
    )
    effects = model.infer_effect(over="country")
    assert not scans(effects.queries, fact)
    assert set(effects.segment) == {ALL, *(f"country={c}" for c in LEVELS)}
