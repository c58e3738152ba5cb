"""Post-launch monitoring (wc.Monitor): simulated launches raise the right alerts (population shift,
effect decay, judge drift, a climbing served rate with a stable population), a quiet launch raises
none, the numbers equal statsmodels, each layer reads production once, bad input is refused, and in
a null world each repeated check's false-alarm rate over 30 daily looks stays at or below α."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import warehouse_causal as wc
from warehouse_causal.algebra.monitoring import (
    ClusterSums,
    cluster_mean,
    per_period_tests,
    spent_alpha,
    trend_test,
)
from warehouse_causal.monitoring.monitor import calibration_slope

REGIONS = ["emea", "apac", "amer"]


def experiment_rows(users: int = 3000, days: int = 7, seed: int = 1, effect: float = 0.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x, region = rng.normal(size=users), rng.choice(REGIONS, users, p=[0.5, 0.3, 0.2])
    arm = rng.integers(0, 2, users)
    user, day = np.repeat(np.arange(users), days), np.tile(np.arange(days), users)
    n = len(user)
    y = 1 + 0.5 * x[user] + effect * arm[user] + rng.normal(size=n) + rng.normal(scale=0.5, size=users)[user]
    quality = y + rng.normal(size=n)
    return pd.DataFrame(
        {
            "user": user,
            "day": day,
            "arm": arm[user],
            "x": x[user],
            "region": region[user],
            "y": y,
            "judge": 0.8 * quality + rng.normal(scale=0.5, size=n),
            "human": np.where(rng.random(n) < 0.2, quality, np.nan),
        }
    )


def production_rows(
    users: int = 3000,
    days: int = 30,
    seed: int = 2,
    effect: float = 0.5,
    shift: float = 0.0,
    decay: float = 0.0,
    judge_drift: float = 0.0,
    served_trend: float = 0.0,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x, region = rng.normal(loc=shift, size=users), rng.choice(REGIONS, users, p=[0.5, 0.3, 0.2])
    held = (rng.random(users) < 0.1).astype(int)
    user, day = np.repeat(np.arange(users), days), np.tile(np.arange(days), users)
    n = len(user)
    launched_effect = effect * np.exp(-decay * day)
    y = (
        1
        + 0.5 * x[user]
        + launched_effect * (1 - held[user])
        + rng.normal(size=n)
        + rng.normal(scale=0.5, size=users)[user]
    )
    quality = y + rng.normal(size=n)
    served = (rng.random(n) < 0.3 + served_trend * day / days).astype(int)
    return pd.DataFrame(
        {
            "user": user,
            "day": day,
            "x": x[user],
            "region": region[user],
            "y": y,
            "judge": (0.8 + judge_drift * day / days) * quality + rng.normal(scale=0.5, size=n),
            "human": np.where(rng.random(n) < 0.2, quality, np.nan),
            "in_holdout": held[user],
            "served": served,
            "label": np.where(served == 1, y, np.nan),
        }
    )


@pytest.fixture(scope="module")
def models() -> dict[str, wc.LinearModel]:
    rows = experiment_rows()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        exp = wc.ExperimentData(rows, intent_to_treat="arm", cluster_by="user")
        return {
            "y": exp.add_metric("y", ["x", "region"]).fit(wc.LinearModel),
            "judge": exp.add_metric("judge", ["x", "region"], calibrate_with="human").fit(wc.LinearModel),
        }


def _statuses(report: wc.MonitorReport) -> dict[str, str]:
    return {f"{r.layer}: {r.check}": r.status for r in report.rows}


def _every_layer(model: wc.LinearModel, production: pd.DataFrame) -> wc.MonitorReport:
    """A monitor with every optional layer on (holdout, feedback, guardrails by segment)."""
    return wc.Monitor(model, production, "day", holdout="in_holdout", served="served", labelled="label",
                      segments=["region = 'apac'"], guardrails={model.metrics[0]: -0.2}).check()


def test_a_quiet_launch_raises_no_alert(models: dict[str, wc.LinearModel]) -> None:
    report = _every_layer(models["y"], production_rows())
    assert report.alerts == [], report.to_pandas()
    assert {r.layer for r in report.rows} == {
        "population",
        "measurement",
        "persistence",
        "feedback",
        "guardrails",
    }
    assert all(r.guarantee and r.detail for r in report.rows)


def test_alerts_fire_for_shift_decay_drift_and_feedback(models: dict[str, wc.LinearModel]) -> None:
    shifted = _statuses(
        wc.Monitor(models["y"], production_rows(shift=0.4), "day", holdout="in_holdout").check()
    )
    assert shifted["population: covariate SMD (latest period)"] == "alert"
    assert shifted["persistence: trend of the effect on y"] == "ok"

    decayed = _statuses(
        wc.Monitor(models["y"], production_rows(decay=0.1), "day", holdout="in_holdout").check()
    )
    assert decayed["persistence: trend of the effect on y"] == "alert"
    assert decayed["persistence: effect vs the experiment"] == "alert"
    assert decayed["population: covariate SMD (latest period)"] == "ok"

    drifted = _statuses(wc.Monitor(models["judge"], production_rows(judge_drift=0.6), "day").check())
    assert drifted["measurement: judge calibration slope"] == "alert"

    feedback = wc.Monitor(
        models["y"], production_rows(served_trend=0.3), "day", served="served", labelled="label"
    )
    statuses = _statuses(feedback.check())
    assert statuses["feedback: trend of served rate"] == "alert"
    assert statuses["population: covariate SMD (latest period)"] == "ok"


def test_re_projection_follows_the_interacted_model(models: dict[str, wc.LinearModel]) -> None:
    """The projected effect is β_arm + Σ β_arm:c (x̄_production − x̄_experiment), by hand."""
    production = production_rows(shift=0.4)
    model = models["y"]
    row = wc.Monitor(model, production, "day").projection().to_dicts()[0]
    last, before = production[production.day == production.day.max()], experiment_rows()
    params = dict(zip(model.terms, model.params[:, 0], strict=True))
    expected = params["arm[1]"] + params["arm[1]:x"] * (last.x.mean() - before.x.mean())
    for level in ("apac", "emea"):
        shift = (last.region == level).mean() - (before.region == level).mean()
        expected += params[f"arm[1]:region[{level}]"] * shift
    assert row["projected_effect"] == pytest.approx(expected, rel=1e-9)


def test_period_effects_equal_statsmodels_cluster_robust_means(models: dict[str, wc.LinearModel]) -> None:
    production = production_rows(users=800, days=4)
    production = pd.concat([production, production[production.day == 2].assign(y=lambda d: d.y + 1.0)])
    table = wc.Monitor(models["y"], production, "day", holdout="in_holdout").persistence().to_dicts()
    for row in table:
        part = production[production.day == row["period"]]
        ses, means = {}, {}
        for held in (0, 1):
            group = part[part.in_holdout == held]
            fit = sm.OLS(group.y.to_numpy(), np.ones(len(group))).fit(
                cov_type="cluster", cov_kwds={"groups": group.user.to_numpy()}
            )
            means[held], ses[held] = fit.params[0], fit.bse[0]
        assert row["effect"] == pytest.approx(means[0] - means[1], rel=1e-9)
        assert row["std_error"] == pytest.approx(math.hypot(ses[0], ses[1]), rel=1e-9)


def test_each_layer_reads_production_once(models: dict[str, wc.LinearModel]) -> None:
    report = _every_layer(models["judge"], production_rows(days=10))
    purposes = [q.purpose for q in report.queries]
    assert purposes == [
        "monitor: experiment covariates",
        "monitor: production by period",
        "monitor: effect by period (holdout)",
        "monitor: guardrails by segment",
    ]
    assert max(q.rows for q in report.queries) <= 10 * 2  # periods × holdout: nothing row-level
    page = report.report()
    assert page.count('class="over-time"') == 1 and "Post-launch monitoring" in page
    assert '"checks"' in report.to_json()


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"production": "no x"}, wc.SchemaError, r"lacks \['x'\]"),
        ({"production": "empty"}, wc.DesignError, "no rows"),
        ({"production": "nan day"}, wc.DesignError, "NaN or infinite"),
        ({"holdout": "constant"}, wc.DesignError, "both present"),
        ({"holdout": "text"}, wc.SchemaError, "boolean or 0/1"),
        ({"production": "y as text"}, wc.SchemaError, "'y' is string in production"),
        ({"time": "nope"}, wc.SchemaError, "'time' parameter of Monitor"),
        ({"guardrails": {"revenue": 1.0}}, wc.InvalidParameterError, "not metrics of the experiment"),
        ({"guardrails": {"y": 0}}, wc.InvalidParameterError, "non-zero"),
        ({"segments": ["y > 1"]}, wc.DesignError, "not covariates"),
        ({"launched_arm": 7}, wc.InvalidParameterError, "launched_arm"),
        ({"experiment": "model"}, wc.InvalidParameterError, "fitted wc.LinearModel"),
    ],
)
def test_bad_input_is_refused(
    models: dict[str, wc.LinearModel], change: dict, error: type, match: str
) -> None:
    production = production_rows(users=200, days=3)
    kwargs: dict = {"holdout": None, "time": "day"}
    experiment: object = models["y"]
    kind = change.get("production")
    if kind == "no x":
        production = production.drop(columns="x")
    elif kind == "empty":
        production = production.assign(day=np.nan)
    elif kind == "nan day":  # a NaN (not NULL) period, made in the warehouse
        table = wc.table(production)
        production = table.mutate(day=(table.day == 0).ifelse(float("nan"), table.day.cast("float64")))
    elif kind == "y as text":
        production = production.assign(y=production.y.astype(str))
    if change.get("holdout") == "constant":
        kwargs["holdout"] = "in_holdout"
        production = production.assign(in_holdout=0)
    elif change.get("holdout") == "text":
        kwargs["holdout"] = "region"
    for key in ("time", "guardrails", "segments", "launched_arm"):
        if key in change:
            kwargs[key] = change[key]
    if change.get("experiment") == "model":
        experiment = "model"
    with pytest.raises(error, match=match):
        wc.Monitor(experiment, production, **kwargs).check()


def _arm_sums(values: np.ndarray) -> ClusterSums:
    """One row per unit in a period: the cluster sums are the rows."""
    n = float(len(values))
    return ClusterSums(n, float(values.sum()), float(values @ values), float(values.sum()), n, n)


@pytest.mark.slow
def test_null_world_false_alarms_over_30_daily_looks_stay_below_alpha() -> None:
    """600 simulated launches where nothing changes, each watched daily for 30 days with the
    Monitor's algebra (numpy sums per period: the same functions the warehouse path calls). A
    check's false alarm is an alert at any of the 30 looks. The union bound caps each rate at
    Σ_k α_k = 0.049 for 30 looks when the z-tests are exact; with 150 holdout units the estimated
    SEs give slightly heavier tails than the normal. The assertion allows two Monte Carlo standard
    errors above α (measured over 3,000 launches with two seeds: 3.8–4.5% for the per-period effect
    test, 4.5–5.9% for the judge slope, under 1% for the trends)."""
    alpha, days, replications = 0.05, 30, 600
    rng = np.random.default_rng(2026)
    alarms = {
        "effect vs experiment": 0,
        "effect trend": 0,
        "judge slope": 0,
        "served trend": 0,
        "gap trend": 0,
    }
    for _ in range(replications):
        users = 1500
        base_effect, base_se = 0.5 + rng.normal(0.0, 0.05), 0.05  # the experiment's estimate and SE
        held = rng.random(users) < 0.1
        user_effect = rng.normal(0.0, 0.5, users)
        effects, ses, slopes, slope_ses, served, served_var, gaps, gap_var = ([] for _ in range(8))
        audit_ref = calibration_slope(_audit(rng, 600))
        for _day in range(days):
            y = 1 + user_effect + 0.5 * ~held + rng.normal(size=users)
            (launched, se_l), (holdout, se_h) = (
                cluster_mean(_arm_sums(y[~held])),
                cluster_mean(_arm_sums(y[held])),
            )
            effects.append(launched - holdout)
            ses.append(math.hypot(se_l, se_h))
            slope, slope_se, _, _ = calibration_slope(_audit(rng, 300))
            slopes.append(slope)
            slope_ses.append(slope_se)
            is_served = (rng.random(users) < 0.3).astype(float)
            rate, se_rate = cluster_mean(_arm_sums(is_served))
            served.append(rate)
            served_var.append(se_rate**2)
            everyone, se_all = cluster_mean(_arm_sums(y))
            labelled, se_lab = cluster_mean(_arm_sums(y[is_served == 1]))
            gaps.append(labelled - everyone)
            gap_var.append(se_all**2 + se_lab**2)
        per_period = per_period_tests(np.array(effects), np.array(ses), base_effect, base_se, alpha)
        alarms["effect vs experiment"] += any(t.rejected for t in per_period)
        judge = per_period_tests(np.array(slopes), np.array(slope_ses), audit_ref[0], audit_ref[1], alpha)
        alarms["judge slope"] += any(t.rejected for t in judge)
        for name, values, variances in (
            ("effect trend", effects, np.array(ses) ** 2),
            ("served trend", served, served_var),
            ("gap trend", gaps, gap_var),
        ):
            # look K uses the first K periods, at the spent level of look K
            alarms[name] += any(
                trend_test(np.array(values[:k]), np.array(variances[:k]), alpha)[1].rejected
                for k in range(3, days + 1)
            )
    rates = {name: count / replications for name, count in alarms.items()}
    print(f"null world, false alarms over {days} daily looks in {replications} launches: {rates}")
    margin = 2.0 * math.sqrt(alpha * (1.0 - alpha) / replications)
    for name, rate in rates.items():
        assert rate <= alpha + margin, (name, rate)
    assert spent_alpha(alpha, 1) + sum(spent_alpha(alpha, k) for k in range(2, 10_000)) < alpha


def _audit(rng: np.random.Generator, n: int) -> list[float]:
    quality = rng.normal(1.0, 1.5, n)
    j, h = 0.8 * quality + rng.normal(scale=0.5, size=n), quality
    return [float(n), j.sum(), h.sum(), j @ j, h @ h, j @ h]


def test_cli_and_agent_tool_give_the_python_answer(tmp_path, capsys: pytest.CaptureFixture[str],
                                                    models: dict[str, wc.LinearModel]) -> None:
    import json

    from warehouse_causal.surfaces.agent import Toolbox
    from warehouse_causal.surfaces.cli import main

    path = tmp_path / "warehouse.duckdb"
    con = wc.connect(path)
    con.create_table("experiment", experiment_rows())
    con.create_table("production", production_rows(decay=0.1, days=12))
    con.disconnect()
    design = {"intent_to_treat": "arm", "cluster_by": "user"}
    monitor = {"production": "production", "time": "day", "holdout": "in_holdout",
               "guardrails": {"y": -0.2}, "segments": ["region = 'apac'"]}
    spec = {"table": "experiment", "design": design, "metrics": ["y"], "covariates": ["x", "region"],
            "monitor": monitor}
    (tmp_path / "monitor.json").write_text(json.dumps({"connection": "warehouse.duckdb", **spec}))
    assert main(["monitor", str(tmp_path / "monitor.json"), "--format", "json",
                 "--report", str(tmp_path / "m.html")]) == 0
    printed = json.loads(capsys.readouterr().out.split("\nwrote")[0])
    python = wc.Monitor(models["y"], production_rows(decay=0.1, days=12), "day", holdout="in_holdout",
                        guardrails={"y": -0.2}, segments=["region = 'apac'"]).check()
    for ours, theirs in zip(printed["checks"], python.to_dicts(), strict=True):
        assert ours["check"] == theirs["check"] and ours["status"] == theirs["status"]
        assert ours["statistic"] == pytest.approx(theirs["statistic"], rel=1e-9, nan_ok=True)
    assert (tmp_path / "m.html").read_text().startswith("<!DOCTYPE html>")

    tools = Toolbox.open(str(path))
    answer, failed = tools.call("monitor", spec)
    assert failed and answer["error"]["class"] == "DesignNotCheckedError"
    tools.call("check_design", {"table": "experiment", "design": design})
    answer, failed = tools.call("monitor", spec)
    assert not failed, answer
    assert [c["status"] for c in answer["checks"]] == [c["status"] for c in printed["checks"]]
    assert "trend of the effect on y" in answer["alerts"] and answer["next_steps"]
    bad, failed = tools.call("monitor", {**spec, "monitor": {**monitor, "holdout": 3}})
    assert failed and bad["error"]["path"] == "/monitor/holdout"


def test_guardrails_alone_check_the_holdout_levels(models: dict[str, wc.LinearModel]) -> None:
    production = production_rows(users=200, days=3).assign(in_holdout=0)
    monitor = wc.Monitor(models["y"], production, "day", holdout="in_holdout", guardrails={"y": -0.2})
    with pytest.raises(wc.DesignError, match="both present"):
        monitor.guardrail_segments()


@pytest.mark.parametrize("bad", [{"smd": float("nan")}, {"smd": -0.1}, {"projection_change": math.inf},
                                 {"null_rate": 1.5}, {"rows_ratio": "half"}, {"version_share": True}])
def test_thresholds_refuse_values_that_would_silence_a_check(bad: dict) -> None:
    with pytest.raises(wc.InvalidParameterError, match="parameter of Thresholds"):
        wc.Thresholds(**bad)


def test_integer_periods_are_ordered_as_numbers(models: dict[str, wc.LinearModel]) -> None:
    """Twelve integer days: the query's cells come back sorted as text (0, 1, 10, 11, 2, ...), so the
    "latest" period was day 9 and the trends ran over a shuffled axis. The shift starts on day 10:
    the latest period is day 11 everywhere, and the served rate climbing only over days 10-11 is
    read in day order."""
    production = production_rows(users=1500, days=12)
    late = production.day >= 10
    production.loc[late, "x"] += 1.0
    production["served"] = np.where(late, 1, production.served)
    monitor = wc.Monitor(models["y"], production, "day", served="served", version=("region", "emea"))
    assert [r["period"] for r in monitor.completeness()] == list(range(12))
    assert monitor.projection().to_dicts()[0]["period"] == 11
    drift = monitor.population_drift().to_dicts()
    assert [r["period"] for r in drift][:: len(monitor.covariates)] == list(range(12))
    last = production[production.day == 11]
    assert monitor.version_share() == pytest.approx((last.region != "emea").mean(), rel=1e-12)
    statuses = _statuses(monitor.check())
    assert statuses["population: covariate SMD (latest period)"] == "alert"
    served = [r["served_rate"] for r in monitor.feedback()]
    assert served[-2:] == [1.0, 1.0] and max(served[:10]) < 0.4


def test_covariate_means_are_in_their_units_and_skip_nulls(models: dict[str, wc.LinearModel]) -> None:
    """The means were of the centred column (x − the fit's centre) and divided the sum over non-NULL
    values by every row: half of x NULL on the last day halved its mean there, moved the projected
    effect, and the membership R² mixed rows with and without x."""
    production = production_rows(users=1500, days=4, shift=1.0)
    last = production.day == 3
    production.loc[last & (production.user % 2 == 0), "x"] = np.nan
    monitor = wc.Monitor(models["y"], production, "day")
    drift = [r for r in monitor.population_drift() if r["covariate"] == "x"]
    assert drift[0]["mean_experiment"] == pytest.approx(experiment_rows().x.mean(), rel=1e-9)
    for row in drift:
        assert row["mean_production"] == pytest.approx(production[production.day == row["period"]].x.mean(),
                                                       rel=1e-9)
    assert drift[-1]["mean_production"] > 0.9
    assert [math.isnan(r["membership_r2"]) for r in drift] == [False, False, False, True]
    model, before = models["y"], experiment_rows()
    params = dict(zip(model.terms, model.params[:, 0], strict=True))
    today = production[last]
    expected = params["arm[1]"] + params["arm[1]:x"] * (today.x.mean() - before.x.mean())
    for level in ("apac", "emea"):
        moved = (today.region == level).mean() - (before.region == level).mean()
        expected += params[f"arm[1]:region[{level}]"] * moved
    assert monitor.projection().to_dicts()[0]["projected_effect"] == pytest.approx(expected, rel=1e-9)
    statuses = _statuses(monitor.check())
    assert statuses["population: like-the-experiment (membership R²)"] == "not checked"
    assert statuses["measurement: NULL rate"] == "alert"
