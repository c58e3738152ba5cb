"""Silent wrong answers that must be right or a clear error (issue 13): label collisions, names
that differ only by case, precision at large offsets, constant metrics, shifted PPI sums, NaN/inf
inputs and nothing the user owns replaced."""

from __future__ import annotations

import importlib.util
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc

#: Exact rational arithmetic against float64 sums of O(1) values after the shift.
EXACT_RTOL = 1e-9


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(13)
    n = 600
    arm = rng.integers(0, 2, n)
    x = rng.normal(size=n)
    return pd.DataFrame({"arm": arm, "x": x, "region": rng.choice(["a", "b", "c"], n),
                         "y": 0.5 * arm + x + rng.normal(size=n)})


def _fit(df: pd.DataFrame, y: object, covariates: object = None, **options: object) -> wc.LinearModel:
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="arm")
    return exp.add_metric(y, covariates).fit(wc.LinearModel, **options)


# -- 1. labels --------------------------------------------------------------------------------


def test_metric_named_like_a_covariate_is_refused_naming_both(frame: pd.DataFrame) -> None:
    t = wc.table(frame)
    exp = wc.ExperimentData(t, intent_to_treat="arm")
    clash = r"covariate label 'x' is also the label of the metric reading \['y'\]"
    with pytest.raises(wc.SchemaError, match=clash):
        exp.add_metric([t.y.name("x")], ["x"])
    with pytest.raises(wc.SchemaError, match="'intent_to_treat' column"):
        exp.add_metric("y", [t.x.name("arm")])


@pytest.mark.parametrize("strategy", ["moments", "compressed"])
@pytest.mark.parametrize("name", ["Intercept", "arm[1]", "region[b]", "arm[1]:x"])
def test_columns_named_like_internal_terms_fit_like_any_column(frame: pd.DataFrame, name: str,
                                                               strategy: str) -> None:
    extra = np.random.default_rng(1).integers(0, 3, size=len(frame)).astype(float)
    x = frame.x if strategy == "moments" else frame.x.round().clip(-2, 2)
    plain = _fit(frame.assign(extra=extra, x=x), "y", ["x", "region", "extra"], strategy=strategy)
    clash = _fit(frame.assign(**{name: extra}, x=x), "y", ["x", "region", name], strategy=strategy)
    assert clash.strategy == strategy
    assert name in clash.terms and len(set(clash.terms)) == len(clash.terms)
    np.testing.assert_allclose(clash.params, plain.params, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(clash.cov, plain.cov, rtol=1e-10, atol=1e-14)
    effect = clash.infer_effect().to_pandas().estimate.iloc[0]
    assert effect == pytest.approx(plain.infer_effect().to_pandas().estimate.iloc[0], rel=1e-12)


# -- 2. case ------------------------------------------------------------------------------------


def test_names_that_differ_only_by_case_are_ambiguous(frame: pd.DataFrame) -> None:
    t = wc.table(frame.assign(ARM=frame.arm))
    with pytest.raises(wc.SchemaError, match=r"ambiguous.*\['ARM', 'arm'\]"):
        wc.ExperimentData(t, intent_to_treat="arm")
    base = wc.table(frame.assign(Y=-frame.y))
    exp = wc.ExperimentData(base, intent_to_treat="arm")
    for spec in ["Y", "y", "Y + 1", base.Y * 2]:
        with pytest.raises(wc.SchemaError, match=r"\['Y', 'y'\]"):
            exp.add_metric(spec)
    with pytest.raises(wc.SchemaError, match="ambiguous"):
        exp.add_metric("x", ["y"])
    # a name without a case twin is fine
    assert exp.add_metric("x").metrics[0].label == "x"


# -- 3. precision --------------------------------------------------------------------------------


def _solve(a: list[list[Fraction]], b: list[Fraction]) -> list[Fraction]:
    k = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for c in range(k):
        pivot = next(r for r in range(c, k) if m[r][c] != 0)
        m[c], m[pivot] = m[pivot], m[c]
        for r in range(k):
            if r != c and m[r][c] != 0:
                f = m[r][c] / m[c][c]
                m[r] = [u - f * v for u, v in zip(m[r], m[c], strict=True)]
    return [m[i][k] / m[i][i] for i in range(k)]


def _exact_hc1(x: np.ndarray, y: list[int] | list[float]) -> tuple[float, float]:
    """Arm coefficient and its HC1 standard error in exact rational arithmetic (column 1 of x)."""
    n, k = x.shape
    rows = [[Fraction(float(v)) for v in row] for row in x]
    ys = [Fraction(v) for v in y]
    a = [[sum(r[i] * r[j] for r in rows) for j in range(k)] for i in range(k)]
    beta = _solve(a, [sum(r[i] * yv for r, yv in zip(rows, ys, strict=True)) for i in range(k)])
    resid = [yv - sum(r[j] * beta[j] for j in range(k)) for r, yv in zip(rows, ys, strict=True)]
    unit = [Fraction(int(i == 1)) for i in range(k)]
    a_inv_e1 = _solve(a, unit)  # row 1 of A^-1 (A symmetric)
    score = [sum(a_inv_e1[j] * r[j] for j in range(k)) * e for r, e in zip(rows, resid, strict=True)]
    variance = Fraction(n, n - k) * sum(s * s for s in score)
    return float(beta[1]), float(np.sqrt(float(variance)))


@pytest.mark.parametrize("offset", [1.23456789e9, 1.23456789e11, 1.23456789e13])
def test_large_offsets_match_exact_arithmetic(offset: float) -> None:
    rng = np.random.default_rng(3)
    n = 300
    arm = rng.integers(0, 2, n)
    x = rng.normal(size=n) + offset
    y = 0.5 * arm + 0.3 * (x - offset) + rng.normal(size=n) + offset
    model = _fit(pd.DataFrame({"arm": arm, "x": x, "y": y}), "y", ["x"], interacted=False)
    design = np.column_stack([np.ones(n), arm, x - np.round(np.mean(x))])
    # x − c is exact for doubles of one magnitude, and the arm coefficient does not depend on c
    estimate, se = _exact_hc1(design, [float(v) for v in y])
    assert model.params[1, 0] == pytest.approx(estimate, rel=EXACT_RTOL)
    assert np.sqrt(model.cov[1, 1]) == pytest.approx(se, rel=EXACT_RTOL)


def test_int64_near_two_to_the_62_keeps_every_digit() -> None:
    rng = np.random.default_rng(4)
    n = 300
    arm = rng.integers(0, 2, n)
    y = (2**62 + rng.poisson(5, n) + 3 * arm).astype(np.int64)
    model = _fit(pd.DataFrame({"arm": arm, "y": y}), "y")
    estimate, se = _exact_hc1(np.column_stack([np.ones(n), arm]), [int(v) for v in y])
    assert se > 0.1
    assert model.params[1, 0] == pytest.approx(estimate, rel=EXACT_RTOL)
    assert np.sqrt(model.cov[1, 1]) == pytest.approx(se, rel=EXACT_RTOL)


def test_a_poor_probe_shift_is_re_centred(monkeypatch: pytest.MonkeyPatch) -> None:
    """A probe whose rows are unlike the rest (here: a shift of 0 for data at 1e9) makes pass 1
    cancel; the fit notices from the sums and runs pass 1 once more around the mean it found."""
    from warehouse_causal.fit import grouped

    probe = grouped.probe

    def probe_of_other_rows(spec: object, runner: object) -> grouped.Probe:
        found = probe(spec, runner)  # type: ignore[arg-type]
        return grouped.Probe({label: 0.0 for label in found.shifts}, found.distinct, found.levels)

    monkeypatch.setattr(grouped, "probe", probe_of_other_rows)
    rng = np.random.default_rng(5)
    n = 400
    arm = rng.integers(0, 2, n)
    x = rng.normal(size=n)
    y = 0.5 * arm + x + rng.normal(size=n) + 1.23456789e9
    model = _fit(pd.DataFrame({"arm": arm, "x": x, "y": y}), "y", ["x"], interacted=False,
                 strategy="moments")
    assert [q.purpose for q in model.queries].count("pass 1: cross products by design cell (re-centred)") == 1
    estimate, se = _exact_hc1(np.column_stack([np.ones(n), arm, x]), [float(v) for v in y])
    assert model.params[1, 0] == pytest.approx(estimate, rel=EXACT_RTOL)
    assert np.sqrt(model.cov[1, 1]) == pytest.approx(se, rel=EXACT_RTOL)


# -- 7. constant metric -------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["moments", "compressed"])
def test_constant_metric_is_named(frame: pd.DataFrame, strategy: str) -> None:
    df = frame.assign(flat=3.25)
    with pytest.raises(wc.DesignError, match="metric 'flat' is constant"):
        _fit(df, ["y", "flat"], ["region"], strategy=strategy)


# -- 8. PPI sums are shifted ---------------------------------------------------------------------


def test_ppi_estimates_do_not_move_with_an_offset() -> None:
    rng = np.random.default_rng(8)
    n = 4000
    arm = rng.integers(0, 2, n)
    human = 1.0 + 0.4 * arm + rng.normal(size=n)
    judge = human + 0.3 + rng.normal(scale=0.5, size=n)
    audited = rng.random(n) < 0.2

    def effects(offset: float) -> pd.DataFrame:
        df = pd.DataFrame({"arm": arm, "judge": judge + offset,
                           "human": np.where(audited, human + offset, np.nan)})
        exp = wc.ExperimentData(wc.table(df), intent_to_treat="arm")
        model = exp.add_metric("judge", calibrate_with="human").fit(wc.LinearModel)
        return model.calibrated_effect().to_pandas()

    base, moved = effects(0.0), effects(1e6)
    np.testing.assert_allclose(moved.estimate, base.estimate, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(moved.std_error, base.std_error, rtol=1e-9)


# -- 5. NaN and inf never flow on ------------------------------------------------------------------


@pytest.fixture(scope="module")
def effects(frame: pd.DataFrame) -> wc.Effects:
    return _fit(frame.assign(y2=frame.y * 2), ["y", "y2"], ["region"]).infer_effect(
        condition_on=["region = 'a'", "region <> 'a'"])


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_weights_and_thresholds_are_refused(effects: wc.Effects, bad: float) -> None:
    with pytest.raises(wc.InvalidParameterError, match=r"'mix' parameter of Effects\.project"):
        effects.project({"region = 'a'": bad, "region <> 'a'": 0.5})
    with pytest.raises(wc.InvalidParameterError, match=r"'weights' parameter of Effects\.combine"):
        effects.combine({"y": bad}, name="value")
    with pytest.raises(wc.InvalidParameterError, match=r"'guardrails' parameter of Effects\.decide"):
        effects.decide("y", {"y2": bad})
    with pytest.raises(wc.InvalidParameterError, match=r"'guardrails' parameter of Effects\.decide"):
        effects.decide("y", {"y2": (">", bad)})
    with pytest.raises(wc.InvalidParameterError, match=r"'expected_split' parameter of ExperimentData"):
        wc.ExperimentData(effects.model.spec.experiment.table, intent_to_treat="arm",
                          expected_split={0: 0.5, 1: bad})
    with pytest.raises(wc.InvalidParameterError, match=r"'tenure' parameter of ContextVector"):
        wc.ContextVector(tenure=bad)


def test_empty_combine_is_refused(effects: wc.Effects) -> None:
    with pytest.raises(wc.InvalidParameterError, match="non-empty mapping"):
        effects.combine({}, name="value")


def _reward_model(frame: pd.DataFrame) -> tuple[wc.BayesianLinearRegression, str]:
    exp = wc.ExperimentData(wc.table(frame), intent_to_treat="arm")
    bayes = exp.add_metric("y", ["x"]).fit(wc.BayesianLinearRegression)
    return bayes, bayes.to_json()


def test_reward_models_and_policies_refuse_nan(frame: pd.DataFrame) -> None:
    bayes, text = _reward_model(frame)
    with pytest.raises(wc.InvalidParameterError, match=r"'x' parameter of RewardModel\.infer_reward"):
        bayes.infer_reward({"x": float("nan")})
    data = json.loads(text)
    data["posteriors"][0]["mean"][1] = None
    with pytest.raises(wc.InvalidParameterError, match="NaN or infinite"):
        wc.load_model(json.dumps(data).replace("null", "NaN", 1))
    data = json.loads(text)
    data["posteriors"][0]["scale"][1][1] = -abs(data["posteriors"][0]["scale"][1][1]) - 1.0
    with pytest.raises(wc.InvalidParameterError, match="positive semi-definite"):
        wc.load_model(json.dumps(data))
    for document in ["[1, 2, 3]", "{not json", '{"format": "other"}']:
        with pytest.raises(wc.InvalidParameterError, match=r"load_model|reward model"):
            wc.load_model(document)
    policy = wc.Policy(bayes.infer_reward(wc.ContextVector(x=0.3)))
    with pytest.raises(wc.InvalidParameterError, match=r"'draws' parameter of Policy\.probabilities"):
        policy.probabilities(draws=0)
    assert sum(policy.probabilities(draws=1000).values()) == pytest.approx(1.0)


# -- 6. nothing the user owns is replaced ------------------------------------------------------------


def test_table_never_shadows_an_existing_table(tmp_path: Path) -> None:
    con = wc.connect(tmp_path / "owned.duckdb")
    con.create_table("victim", pd.DataFrame({"a": [1, 2, 3]}))
    with pytest.raises(wc.InvalidParameterError, match="'victim', a table that already exists"):
        wc.table(pd.DataFrame({"a": [9]}), name="victim", con=con)
    assert con.table("victim").count().execute() == 3
    fresh = wc.table(pd.DataFrame({"a": [9]}), name="fresh", con=con)
    assert fresh.count().execute() == 1


def test_read_only_connections_create_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo.duckdb"
    with pytest.raises(wc.InvalidParameterError, match="not an existing DuckDB file"):
        wc.connect(missing, read_only=True)
    assert not missing.exists()
    assert wc.connect(":memory:") is not None
    assert not Path(":memory:").exists()


def test_cli_spec_with_a_wrong_connection_creates_no_file(tmp_path: Path) -> None:
    from warehouse_causal.surfaces.analysis_spec import run_spec

    spec = {"connection": "nope.duckdb", "table": "t", "design": {"intent_to_treat": "arm"}, "metrics": ["y"]}
    with pytest.raises(wc.InvalidParameterError, match="not an existing DuckDB file"):
        run_spec(spec, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_dbt_analysis_step_never_replaces_a_users_table(tmp_path: Path) -> None:
    path = Path(__file__).resolve().parents[1] / "dbt_example" / "analyze.py"
    spec = importlib.util.spec_from_file_location("analyze_step", path)
    assert spec is not None and spec.loader is not None
    analyze = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(analyze)
    con = wc.connect(tmp_path / "w.duckdb")
    con.create_table("experiment_effects", pd.DataFrame({"mine": [1]}))
    with pytest.raises(SystemExit, match="not written by this analysis step"):
        analyze.write_table(con, "experiment_effects", pd.DataFrame({"estimate": [0.1]}))
    assert list(con.table("experiment_effects").columns) == ["mine"]
    # a column named analysed_by is not enough: its values must be the step's marker (issue 26)
    con.create_table("experiment_effects", pd.DataFrame({"analysed_by": ["x"]}), overwrite=True)
    with pytest.raises(SystemExit, match="not written by this analysis step"):
        analyze.write_table(con, "experiment_effects", pd.DataFrame({"estimate": [0.1]}))
    assert con.table("experiment_effects").analysed_by.execute().tolist() == ["x"]
    con.create_table("experiment_effects", pd.DataFrame({"analysed_by": [analyze.MARKER]}), overwrite=True)
    analyze.write_table(con, "experiment_effects", pd.DataFrame({"estimate": [0.1]}))
    assert con.table("experiment_effects").estimate.execute().tolist() == [0.1]
    assert con.table("experiment_effects").analysed_by.execute().tolist() == [analyze.MARKER]


# -- consistency, parser depth, threads ----------------------------------------------------------


def test_anytime_valid_answers_are_never_more_confident_than_classical_ones() -> None:
    """With clusters the classical p uses t(G − 1) and the sequence a Gaussian mixture; in extreme
    tails the mixture alone would give the smaller p-value."""
    rng = np.random.default_rng(21)
    team = np.repeat(np.arange(60), 20)
    arm = (team % 2).astype(int)
    df = pd.DataFrame({"team": team, "arm": arm, "y": 3.0 * arm + rng.normal(size=1200)})
    exp = wc.ExperimentData(wc.table(df), intent_to_treat="arm", cluster_by="team")
    rows = exp.add_metric("y").fit(wc.LinearModel).infer_effect(planned_n=60).to_pandas()
    assert (rows.av_p_value >= rows.p_value).all()
    assert (rows.av_ci_lower <= rows.ci_lower).all() and (rows.av_ci_upper >= rows.ci_upper).all()


@pytest.mark.parametrize("depth", [41, 3_000])
def test_deeply_nested_sql_is_a_clear_error(frame: pd.DataFrame, depth: int) -> None:
    exp = wc.ExperimentData(wc.table(frame), intent_to_treat="arm")
    with pytest.raises(wc.ExpressionError, match=r"nest|longer than"):
        exp.add_metric("y", ["(" * depth + "x" + ")" * depth])
    with pytest.raises(wc.ExpressionError, match="nested too deeply"):
        exp.add_metric("y", ["NOT " * 400 + "x > 0"])


def test_threads_sharing_one_connection_wait_for_each_other(frame: pd.DataFrame) -> None:
    import threading

    con = wc.connect()
    exp = wc.ExperimentData(wc.table(frame, "shared_by_threads", con), intent_to_treat="arm")
    expected = exp.add_metric("y", ["x"]).fit(wc.LinearModel).params[1, 0]
    results: list[float] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(exp.add_metric("y", ["x"]).fit(wc.LinearModel).params[1, 0])
        except BaseException as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(results) == 6
    np.testing.assert_allclose(results, expected, rtol=1e-12)


# -- frozen results ------------------------------------------------------------------------------


def test_results_are_read_only_and_compare_by_value(frame: pd.DataFrame) -> None:
    exp = wc.ExperimentData(wc.table(frame), intent_to_treat="arm")
    model = exp.add_metric("y", ["x", "region"]).fit(wc.LinearModel)
    again = exp.add_metric("y", ["x", "region"]).fit(wc.LinearModel)
    other = exp.add_metric("y", ["x", "region"]).fit(wc.LinearModel, covariance="HC3")
    assert model == again and model != other and model.infer_effect() == again.infer_effect()
    with pytest.raises(TypeError, match="unhashable"):
        hash(model)
    for array in (model.params, model.cov, model.moments.matrix, model.moments.cells.n,
                  model.infer_effect().estimate, model.infer_effect().cov):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 1.0
    for mapping in (model.covariate_means, model.query_exprs, model.moments.cells.sums):
        with pytest.raises(TypeError, match="does not support item assignment"):
            mapping["x"] = 1.0  # type: ignore[index]
    context = wc.ContextVector(x=1.0)
    with pytest.raises(TypeError, match="immutable"):
        context |= {"x": 2.0}
