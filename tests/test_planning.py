"""Planning (wc.ExperimentPlan): MDE, power, sample size, days, days left; each number against an
independent oracle (statsmodels power, closed forms, numpy) and simulated experiments of the planned
size whose rejection rate at the reported MDE is 80% (and 5% at no effect)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower

import warehouse_causal as wc
from tests.test_scans import scans
from warehouse_causal.algebra.power import sequential_radius
from warehouse_causal.core.errors import DesignError, InvalidParameterError

Z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)


def _history(n: int = 20_000, seed: int = 1, r2: float = 0.0, clusters: int | None = None,
             icc: float = 0.0, mean: float = 5.0) -> pd.DataFrame:
    """y = mean + signal + noise with Var(y) = 1: a covariate x explains r2 of it, and a cluster
    effect (when ``clusters``) a share ``icc`` of the rest."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    team = rng.integers(0, clusters, n) if clusters else np.arange(n)
    u = rng.normal(size=clusters)[team] if clusters else 0.0
    rest = 1.0 - r2
    y = mean + np.sqrt(r2) * x + np.sqrt(rest * icc) * u + np.sqrt(rest * (1 - icc)) * rng.normal(size=n)
    return pd.DataFrame({"y": y, "x": x, "team": team, "p": rng.uniform(0.2, 0.8, n)})


def test_two_arms_without_covariates_match_the_closed_form_and_statsmodels() -> None:
    df = _history()
    power = wc.ExperimentPlan(wc.table(df)).add_metric(y="y").power(n=[1_000, 4_000])
    rows = power.to_dicts()
    sd = df.y.std(ddof=1)
    for row in rows:
        expected = Z * sd * math.sqrt(2 / (row["n"] / 2))
        assert abs(row["mde"] / expected - 1) < 1e-9
        assert abs(row["mde_relative"] - row["mde"] / df.y.mean()) < 1e-12
        # statsmodels: the power at the reported MDE is the planned 80% (statsmodels adds the ~1e-6
        # chance of rejecting in the wrong direction; the t test at n/2 per arm is within 0.2 points)
        size = row["mde"] / sd
        normal = NormalIndPower().power(size, nobs1=row["n"] / 2, alpha=0.05, ratio=1.0)
        assert normal == pytest.approx(0.8, abs=1e-5)
        t_test = TTestIndPower().power(size, nobs1=row["n"] / 2, alpha=0.05, ratio=1.0)
        assert t_test == pytest.approx(0.8, abs=2e-3)
    assert {"metric", "n", "mde", "mde_relative"} <= set(power.to_pandas().columns)


def test_unequal_allocation_and_several_arms_with_a_correction() -> None:
    df = _history()
    arms = {"c": 0.5, "a": 0.3, "b": 0.2}
    power = wc.ExperimentPlan(wc.table(df), arms=arms).add_metric(y="y").power(n=[5_000], correction="holm")
    sd = df.y.std(ddof=1)
    z = stats.norm.ppf(1 - 0.05 / 4) + stats.norm.ppf(0.8)  # 2 comparisons x 1 metric
    for row in power.to_dicts():
        share = arms[row["arm"]]
        assert row["mde"] == pytest.approx(z * sd * math.sqrt(1 / (5_000 * share) + 1 / 2_500), rel=1e-9)


def test_compliance_and_covariates_scale_the_mde_as_the_formulas_say() -> None:
    df = _history(r2=0.75)
    table = wc.table(df)
    plain = wc.ExperimentPlan(table).add_metric(y="y").power(n=[2_000]).to_dicts()[0]
    late = wc.ExperimentPlan(table, compliance=0.5).add_metric(y="y").power(n=[2_000]).to_dicts()[0]
    adjusted = wc.ExperimentPlan(table).add_metric(y="y", exogeneous_covariates="x").power(n=[2_000])
    adjusted = adjusted.to_dicts()[0]
    assert late["mde"] == pytest.approx(2 * plain["mde"], rel=1e-12)
    # residual variance of y on [1, x] (numpy lstsq) over the raw variance: the R² the plan reports
    design = np.column_stack([np.ones(len(df)), df.x])
    resid = df.y - design @ np.linalg.lstsq(design, df.y, rcond=None)[0]
    r2 = 1 - (resid @ resid / (len(df) - 2)) / df.y.var(ddof=1)
    assert adjusted["variance_reduction"] == pytest.approx(r2, rel=1e-9)
    assert adjusted["mde"] / plain["mde"] == pytest.approx(math.sqrt(1 - r2), rel=1e-9)
    assert adjusted["mde"] / plain["mde"] == pytest.approx(0.5, abs=0.02)  # R² = 0.75 halves it


def test_cluster_design_effect_is_one_plus_m_minus_one_icc_for_equal_sizes() -> None:
    rng = np.random.default_rng(5)
    clusters, m = 400, 8
    team = np.repeat(np.arange(clusters), m)
    y = 2.0 + rng.normal(size=clusters)[team] * 0.5 + rng.normal(size=team.size)
    df = pd.DataFrame({"y": y, "team": team})
    row = wc.ExperimentPlan(wc.table(df), cluster_by="team").add_metric(y="y").power(n=[100]).to_dicts()[0]
    # numpy: pairwise within-cluster correlation of the residuals around the grand mean
    e = (y - y.mean()).reshape(clusters, m)
    sigma2 = (e**2).sum() / (y.size - 1)
    pairs = ((e.sum(axis=1) ** 2) - (e**2).sum(axis=1)).sum()
    icc = pairs / (clusters * m * (m - 1)) / sigma2
    # the plan divides by G − 1 clusters where the textbook ICC divides by G: a factor G/(G − 1)
    assert row["design_effect"] == pytest.approx(1 + (m - 1) * icc, rel=1.5 / (clusters - 1))
    assert row["rows"] == 100 * m and row["clusters"] == row["n"] == 100


def test_kish_effect_of_adaptive_weights() -> None:
    df = _history()
    row = wc.ExperimentPlan(wc.table(df), propensity="p").add_metric(y="y").power(n=[1_000]).to_dicts()[0]
    w = 1 / df.p
    assert row["kish_effect"] == pytest.approx(len(w) * (w**2).sum() / w.sum() ** 2, rel=1e-12)
    base = wc.ExperimentPlan(wc.table(df)).add_metric(y="y").power(n=[1_000]).to_dicts()[0]
    assert row["mde"] == pytest.approx(base["mde"] * math.sqrt(row["kish_effect"]), rel=1e-12)


def test_sequential_mde_uses_the_effects_confidence_sequence() -> None:
    """The anytime-valid MDE replaces z·SE by the half-width infer_effect reports at planned_n = n."""
    df = _history(n=3_000, r2=0.5)
    df["arm"] = np.random.default_rng(2).integers(0, 2, len(df))
    model = wc.ExperimentData(wc.table(df), intent_to_treat="arm").add_metric("y", ["x"]).fit(wc.LinearModel)
    effects = model.infer_effect(planned_n=3_000).to_dicts()[0]
    radius = (effects["av_ci_upper"] - effects["estimate"]) / effects["std_error"]
    planned = sequential_radius(3_000, len(model.terms), 0.05, clustered=False)
    assert planned == pytest.approx(radius, rel=1e-9)
    plan = wc.ExperimentPlan(wc.table(df)).add_metric("y", ["x"])
    fixed, anytime = (plan.power(n=[3_000], sequential=s).to_dicts()[0] for s in (False, True))
    assert anytime["planned_n"] == 3_000 and fixed["planned_n"] is None
    assert anytime["mde"] == pytest.approx((radius + stats.norm.ppf(0.8)) * fixed["se"], rel=1e-9)


def test_sample_size_inverts_the_mde() -> None:
    df = _history()
    power = wc.ExperimentPlan(wc.table(df)).add_metric(y="y").power(n=[1_000])
    row = power.to_dicts()[0]
    needed = power.sample_size(mde=row["mde"] / 2).to_dicts()[0]
    assert abs(needed["n"] - 4_000) <= 1  # SE ∝ 1/√n
    relative = power.sample_size(mde=0.01, relative=True).to_dicts()[0]
    assert relative["mde"] == pytest.approx(0.01 * df.y.mean())
    check = wc.ExperimentPlan(wc.table(df)).add_metric(y="y").power(n=[relative["n"], relative["n"] - 1])
    mdes = [r["mde"] for r in check.to_dicts()]
    assert mdes[0] <= relative["mde"] < mdes[1]


def test_days_count_distinct_returning_units_and_extrapolate() -> None:
    # unit u arrives on day u // 100 (100 new a day for 10 days) and returns every day after
    rows = [(u, d) for u in range(1_000) for d in range(u // 100, 10)]
    df = pd.DataFrame(rows, columns=["user", "day"])
    df["y"] = np.random.default_rng(3).normal(size=len(df))
    df["date"] = pd.Timestamp("2026-01-01") + pd.to_timedelta(df.day, unit="D")
    plan = wc.ExperimentPlan(wc.table(df), cluster_by="user", time="date")
    power = plan.add_metric(y="y").power(days=[1, 5, 10, 14])
    assert [r["n"] for r in power.to_dicts()] == [100, 500, 1_000, 1_400]  # 100 a day beyond day 10
    assert [r["days"] for r in power.to_dicts()] == [1, 5, 10, 14]
    assert power.sample_size(mde=power.to_dicts()[2]["mde"]).to_dicts()[0]["days"] == 10


def test_days_left_from_a_running_fit() -> None:
    df = _history(n=4_000)
    df["arm"] = np.random.default_rng(4).integers(0, 2, len(df))
    model = wc.ExperimentData(wc.table(df), intent_to_treat="arm").add_metric("y").fit(wc.LinearModel)
    se = model.infer_effect().to_dicts()[0]["std_error"]
    row = model.days_left(mde=0.05, traffic_per_day=500, relative=False).to_dicts()[0]
    assert row["n_needed"] == math.ceil(4_000 * (Z * se / 0.05) ** 2)
    assert row["days_left"] == math.ceil(row["n_more"] / 500)
    reached = model.days_left(mde=10.0, relative=False).to_dicts()[0]
    assert reached["n_more"] == 0 and reached["status"] == "reached"


def test_planning_reads_the_history_once_and_once_more_for_days() -> None:
    df = _history(n=5_000, clusters=100)
    df["day"] = np.arange(len(df)) % 10
    table = wc.table(df)
    power = wc.ExperimentPlan(table, cluster_by="team").add_metric("y", ["x"]).power(n=[50])
    assert scans(power.queries, table) == ["planning: history cross products by unit"]
    timed = wc.ExperimentPlan(table, cluster_by="team", time="day").add_metric("y", ["x"]).power(days=[3])
    assert len(scans(timed.queries, table)) == 2
    # a categorical covariate's levels: one small GROUP BY, as the fit's
    df["region"] = np.where(df.x > 0, "a", "b")
    table = wc.table(df)
    levels = wc.ExperimentPlan(table, cluster_by="team").add_metric("y", ["region"]).power(n=[50])
    assert scans(levels.queries, table) == ["levels of region", "planning: history cross products by unit"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"arms": {0: 0.5, 1: 0.4}}, "sum to 1"),
    ({"arms": {0: 1.0}}, "'arms' parameter"),
    ({"arms": {0: float("nan"), 1: 0.5}}, "'arms' parameter"),
    ({"compliance": 0.0}, "'compliance' parameter"),
    ({"compliance": 1.5}, "'compliance' parameter"),
    ({"propensity": 0.0}, "'propensity' parameter"),
    ({"cluster_by": "nope"}, "nope"),
])
def test_bad_plans_are_refused_before_any_query(kwargs: dict, message: str) -> None:
    with pytest.raises((InvalidParameterError, wc.SchemaError), match=message):
        wc.ExperimentPlan(wc.table(_history(n=100)), **kwargs)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"alpha": 1.0}, "'alpha' parameter"),
    ({"power": 0.0}, "'power' parameter"),
    ({"power": float("nan")}, "'power' parameter"),
    ({"n": [3]}, "too small"),
    ({"n": [0]}, "'n' parameter"),
    ({"n": []}, "must not be empty"),
    ({"n": [100], "days": [3]}, "not both"),
    ({"days": [3]}, "time="),
    ({"correction": "fdr"}, "'correction' parameter"),
])
def test_bad_power_requests_are_clear_errors(kwargs: dict, message: str) -> None:
    spec = wc.ExperimentPlan(wc.table(_history(n=500))).add_metric("y", ["x"])
    with pytest.raises(InvalidParameterError, match=message):
        spec.power(**kwargs)


def test_histories_that_cannot_be_planned_from() -> None:
    df = _history(n=200, clusters=1)
    with pytest.raises(DesignError, match="1 clusters"):
        wc.ExperimentPlan(wc.table(df), cluster_by="team").add_metric("y").power()
    df = _history(n=200)
    df.loc[3, "y"] = None
    with pytest.raises(DesignError, match="NULL"):
        wc.ExperimentPlan(wc.table(df)).add_metric("y").power()
    df["y"] = 1.0
    with pytest.raises(DesignError, match="constant"):
        wc.ExperimentPlan(wc.table(df)).add_metric("y").power()
    df["c"] = "a"
    df["y"] = np.arange(len(df), dtype=float)
    with pytest.raises(InvalidParameterError, match="string category"):
        wc.ExperimentPlan(wc.table(df)).add_metric("c")
    with pytest.raises(DesignError, match="one level"):
        wc.ExperimentPlan(wc.table(df)).add_metric("y", ["c"]).power()
    with pytest.raises(InvalidParameterError, match="'mde' parameter"):
        wc.ExperimentPlan(wc.table(_history(n=200))).add_metric("y").power().sample_size(mde=-1.0)


# -- simulated experiments of the planned size: the reported MDE is detected 80% of the time ------


@dataclass(frozen=True)
class Design:
    name: str
    r2: float = 0.0
    clusters: int | None = None
    icc: float = 0.0
    share: float = 0.5
    compliance: float = 1.0
    sequential: bool = False


DESIGNS = [
    Design("A/B with a covariate", r2=0.5),
    Design("unequal split", share=0.3),
    Design("cluster-randomized", r2=0.3, clusters=500, icc=0.3),
    Design("encouragement", compliance=0.6),
    Design("anytime-valid", r2=0.5, sequential=True),
]


def _reject(y: np.ndarray, arm: np.ndarray, x: np.ndarray, cluster: np.ndarray | None,
            radius: float | None) -> bool:
    """Lin's regression (arm, x, arm·(x − x̄)) with HC1 (or CR1) errors, in numpy."""
    xc = x - x.mean()
    design = np.column_stack([np.ones_like(y), arm, xc, arm * xc])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    e = y - design @ beta
    bread = np.linalg.inv(design.T @ design)
    n, k = design.shape
    if cluster is None:
        scores = design * e[:, None]
        factor = n / (n - k)
    else:
        codes = np.unique(cluster, return_inverse=True)[1]
        scores = np.column_stack([np.bincount(codes, design[:, j] * e) for j in range(k)])
        g = scores.shape[0]
        factor = g / (g - 1) * (n - 1) / (n - k)
    cov = factor * bread @ (scores.T @ scores) @ bread
    z = beta[1] / math.sqrt(cov[1, 1])
    return abs(z) > (stats.norm.ppf(0.975) if radius is None else radius)


@pytest.mark.parametrize("design", DESIGNS, ids=[d.name for d in DESIGNS])
def test_simulated_experiments_detect_the_mde_80_percent_of_the_time(design: Design) -> None:
    history = _history(n=60_000, seed=11, r2=design.r2, clusters=design.clusters and 6_000, icc=design.icc)
    # 2,000 replications: the rejection rate's standard error is 0.9 points at 80%, 0.5 at 5%
    plan = wc.ExperimentPlan(wc.table(history), arms={0: 1 - design.share, 1: design.share},
                             cluster_by="team" if design.clusters else None, compliance=design.compliance)
    size = design.clusters or 2_000
    spec = plan.add_metric("y", ["x"] if design.r2 else None)
    row = spec.power(n=[size], sequential=design.sequential).to_dicts()[0]
    radius = sequential_radius(size, 4, 0.05, False) if design.sequential else None
    rng = np.random.default_rng(7)
    reps = 2_000
    rates = {}
    for effect in (row["mde"], 0.0):
        hits = 0
        for _ in range(reps):
            df = _history(n=size * (10 if design.clusters else 1), seed=int(rng.integers(2**31)),
                          r2=design.r2, clusters=design.clusters, icc=design.icc)
            unit = df.team.to_numpy()
            units = design.clusters or size
            assigned = (rng.permutation(units) < round(units * design.share)).astype(float)[unit]
            takes = assigned * (rng.uniform(size=len(df)) < design.compliance)
            y = df.y.to_numpy() + effect * takes
            hits += _reject(y, assigned, df.x.to_numpy(), unit if design.clusters else None, radius)
        rates[effect] = hits / reps
    assert 0.77 <= rates[row["mde"]] <= 0.83, rates
    assert rates[0.0] <= 0.065, rates
    if not design.sequential:  # the confidence sequence is conservative at a fixed n, by design
        assert rates[0.0] >= 0.035, rates


def test_categorical_covariates_are_their_dummies() -> None:
    df = _history(n=5_000, r2=0.3)
    df["region"] = np.where(df.x > 0.5, "b", np.where(df.x < -0.5, "c", "a"))
    table = wc.table(df)
    by_name = wc.ExperimentPlan(table).add_metric("y", ["region"]).power(n=[1_000]).to_dicts()[0]
    dummies = ["CASE WHEN region = 'b' THEN 1 ELSE 0 END", "CASE WHEN region = 'c' THEN 1 ELSE 0 END"]
    by_hand = wc.ExperimentPlan(table).add_metric("y", dummies).power(n=[1_000]).to_dicts()[0]
    assert by_name["mde"] == pytest.approx(by_hand["mde"], rel=1e-12)
    assert by_name["variance_reduction"] > 0.2


@pytest.mark.parametrize("clustered", [False, True])
def test_a_trigger_plans_on_triggered_units_and_reports_the_diluted_effect(clustered: bool) -> None:
    df = _history(n=20_000, clusters=2_000 if clustered else None, icc=0.2)
    df["hit"] = df.x > 0.3  # rows that would see the change
    table = wc.table(df)
    cluster = "team" if clustered else None
    plan = wc.ExperimentPlan(table, cluster_by=cluster, trigger="hit")
    row = plan.add_metric("y").power(n=[1_000]).to_dicts()[0]
    units = df.groupby("team").hit.any() if clustered else df.hit
    share = units.mean()
    assert row["trigger_share"] == pytest.approx(share, rel=1e-12)
    assert row["triggered"] == round(1_000 * share)
    # the triggered rows alone, planned at the triggered units: the same MDE
    alone = wc.ExperimentPlan(wc.table(df[df.hit]), cluster_by=cluster).add_metric("y").power(
        n=[round(1_000 * share)]).to_dicts()[0]
    exact = alone["mde"] * math.sqrt(round(1_000 * share) / (1_000 * share))  # alone was planned at a whole n
    assert row["mde"] == pytest.approx(exact, rel=1e-9)
    assert row["mde_overall"] == pytest.approx(row["mde"] * share, rel=1e-12)
    assert row["mde_overall_relative"] == pytest.approx(row["mde_overall"] / df.y.mean(), rel=1e-9)
    with pytest.raises(InvalidParameterError, match="'trigger' parameter"):
        wc.ExperimentPlan(table, trigger="x + 1")


@pytest.mark.parametrize("clustered", [False, True])
def test_an_a_a_split_of_the_history_agrees_with_the_planned_standard_error(clustered: bool) -> None:
    """Assign the history's units to arms by a hash in SQL and fit the planned model with the
    design's covariance: its SE, scaled to the planned n, is the plan's (up to the split's noise)."""
    df = _history(n=40_000, r2=0.4, clusters=4_000 if clustered else None, icc=0.3)
    table = wc.table(df)
    unit = table.team
    assigned = table.mutate(arm=(unit.hash().abs() % 1000 < 500).cast("int64"))
    exp = wc.ExperimentData(assigned, intent_to_treat="arm", cluster_by="team" if clustered else None)
    model = exp.add_metric("y", ["x"]).fit(wc.LinearModel, inference="classical")
    se = model.infer_effect().to_dicts()[0]["std_error"]
    units = model.n_clusters if clustered else model.nobs
    plan = wc.ExperimentPlan(table, cluster_by="team" if clustered else None).add_metric("y", ["x"])
    planned = plan.power(n=[1_000]).to_dicts()[0]["se"]
    assert units == (df.team.nunique() if clustered else len(df))
    # measured: 0.99994 (rows) and 0.9996 (clusters) of the plan's SE
    assert se * math.sqrt(units / 1_000) == pytest.approx(planned, rel=0.01)


def test_the_plan_report_draws_a_power_curve_per_metric_and_the_plot_runs() -> None:
    df = _history(n=5_000, clusters=500)
    df["z"] = df.y * 2
    power = wc.ExperimentPlan(wc.table(df), cluster_by="team", arms={0: 0.4, 1: 0.3, 2: 0.3}).add_metric(
        ["y", "z"]).power(n=[100, 200, 400])
    page = power.report()
    assert page.count('<svg class="power"') == 2 and page.count('class="power-curve"') == 4
    assert "http" not in page and "<script" not in page  # self-contained
    assert "planned units" in page and ">0%<" in page  # axis label and ticks
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    ax = power.plot()
    assert len(ax.get_lines()) == 4 and ax.get_xlabel() == "clusters"


def test_days_without_new_units_count_and_an_unreachable_size_says_so() -> None:
    """A history whose units all arrive on day 0 and return for 5 days: day 3 still has those
    units (no growth), the rate beyond the history is 0, and a size it cannot reach takes forever."""
    rows = [(u, d) for u in range(300) for d in range(5)]
    df = pd.DataFrame(rows, columns=["user", "day"])
    df["y"] = np.random.default_rng(1).normal(size=len(df))
    power = wc.ExperimentPlan(df, cluster_by="user", time="day").add_metric("y").power(days=[1, 3, 10])
    assert [r["n"] for r in power.to_dicts()] == [300, 300, 300]
    far = power.sample_size(mde=0.01).to_dicts()[0]
    assert far["days"] == math.inf and far["n"] > 300
    assert '"days": "inf"' in power.sample_size(mde=0.01).to_json()  # strict JSON: no bare Infinity


def test_plan_accepts_both_spellings_of_the_covariates_and_refuses_both_at_once() -> None:
    df = _history(n=2_000, clusters=200)
    plan = wc.ExperimentPlan(wc.table(df))
    paper = plan.add_metric("y", exogeneous_covariates=["x"]).power(n=[500]).to_dicts()
    alias = plan.add_metric("y", exogenous_covariates=["x"]).power(n=[500]).to_dicts()
    assert paper == alias
    with pytest.raises(wc.InvalidParameterError, match="not both"):
        plan.add_metric("y", exogeneous_covariates=["x"], exogenous_covariates=["x"])


def test_sample_size_takes_one_mde_per_metric_when_there_are_several() -> None:
    """One absolute number for several metrics (minutes and a rate alike) is refused; a dict gives
    each metric its own MDE, equal to planning that metric alone."""
    df = _history(n=3_000, clusters=300)
    df["z"] = df.y * 10 + 3
    power = wc.ExperimentPlan(wc.table(df)).add_metric(["y", "z"]).power(n=[500])
    with pytest.raises(wc.InvalidParameterError, match="one absolute MDE for 2 metrics"):
        power.sample_size(mde=0.1)
    both = {r["metric"]: r["n"] for r in power.sample_size(mde={"y": 0.1, "z": 1.0}).to_dicts()}
    alone = wc.ExperimentPlan(wc.table(df)).add_metric("y").power(n=[500]).sample_size(mde=0.1)
    assert both["y"] == alone.to_dicts()[0]["n"] and both["z"] == both["y"]  # z = 10 y: 10× the MDE
    relative = power.sample_size(mde=0.05, relative=True).to_dicts()
    assert {r["metric"] for r in relative} == {"y", "z"}
