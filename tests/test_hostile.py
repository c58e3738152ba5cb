"""Hostile inputs against the public API (issue 13): every one gets a specific error class and a
message that names the parameter (or the column, role or construct), before any heavy query; and
no table the user owns is touched by any of it.

Most cases are generated from the declared constraints of each entry point
(:mod:`warehouse_causal.core.validation`): each constraint lists values it refuses, so a new parameter
gets its hostile inputs by being declared. The rest are written out: unknown and ambiguous
columns, SQL that is not one row-level expression (injection attempts included), designs the data
cannot identify, NaN and inf where numbers are expected.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from warehouse_causal.core.validation import declared
from warehouse_causal.mechanisms.mediation import MediationSpec

# -- the user's warehouse -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("hostile") / "owned.duckdb"
    connection = wc.connect(path)
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({
        "arm": rng.integers(0, 2, n), "used": rng.integers(0, 2, n), "team": rng.integers(0, 40, n),
        "x": rng.normal(size=n), "region": rng.choice(["a", "b", "c"], n), "p": rng.uniform(0.2, 0.8, n),
        "w": rng.uniform(0.5, 2.0, n), "m": rng.normal(size=n), "judge": rng.normal(size=n),
        "human": np.where(rng.random(n) < 0.3, rng.normal(size=n), np.nan), "float_arm": rng.random(n),
        "one": np.ones(n, dtype=int), "with_null": np.where(rng.random(n) < 0.1, np.nan, 1.0),
    })
    frame["y"] = 0.5 * frame.arm + frame.x + rng.normal(size=n)
    frame["y2"] = frame.y * 2 + rng.normal(size=n)
    connection.create_table("experiment", frame)
    connection.create_table("users", pd.DataFrame({"user_id": range(5), "secret": list("abcde")}))
    return connection


def _snapshot(connection: Any) -> dict[str, tuple[tuple[str, ...], int, str]]:
    names = [r[0] for r in connection.raw_sql(
        "SELECT table_name FROM information_schema.tables ORDER BY table_name").fetchall()]
    out = {}
    for name in names:
        frame = connection.table(name).to_pandas()
        hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
        digest = hashlib.sha256(hashed).hexdigest()
        out[name] = (tuple(frame.columns), len(frame), digest)
    return out


BEFORE: dict[str, Any] = {}


def test_first_snapshot_the_users_tables(con: Any) -> None:
    BEFORE.update(_snapshot(con))
    assert set(BEFORE) == {"experiment", "users"}


@pytest.fixture(scope="module")
def t(con: Any) -> Any:
    return con.table("experiment")


@pytest.fixture(scope="module")
def exp(t: Any) -> wc.ExperimentData:
    return wc.ExperimentData(t, intent_to_treat="arm")


@pytest.fixture(scope="module")
def model(exp: wc.ExperimentData) -> wc.LinearModel:
    return exp.add_metric(["y", "y2"], ["x", "region"]).fit(wc.LinearModel)


@pytest.fixture(scope="module")
def effects(model: wc.LinearModel) -> wc.Effects:
    return model.infer_effect(condition_on=["region = 'a'", "region <> 'a'"])


@pytest.fixture(scope="module")
def bayes(exp: wc.ExperimentData) -> wc.BayesianLinearRegression:
    return exp.add_metric("y", ["x"]).fit(wc.BayesianLinearRegression)


# -- generated from the declarations -------------------------------------------------------------

#: entry point -> (the decorated function, a call maker, valid values of its required parameters)
Maker = Callable[[dict[str, Any]], Callable[..., Any]]
ENTRY_POINTS: dict[str, tuple[Callable[..., Any], Maker, dict[str, Any]]] = {
    "LinearModel.fit": (wc.LinearModel._fit, lambda f: f["exp"].add_metric("y").fit,
                        {"model": wc.LinearModel}),
    "LinearModel.infer_effect": (wc.LinearModel.infer_effect, lambda f: f["model"].infer_effect, {}),
    "LinearModel.calibrated_effect": (wc.LinearModel.calibrated_effect,
                                      lambda f: f["model"].calibrated_effect, {}),
    "LinearModel.evaluate_policy": (wc.LinearModel.evaluate_policy, lambda f: f["model"].evaluate_policy,
                                    {"policy": "CASE WHEN x > 0 THEN 1 ELSE 0 END"}),
    "BayesianLinearRegression.fit": (wc.BayesianLinearRegression._fit, lambda f: f["exp"].add_metric("y").fit,
                                     {"model": wc.BayesianLinearRegression}),
    "BayesianLinearRegression.infer_effect": (wc.BayesianLinearRegression.infer_effect,
                                              lambda f: f["bayes"].infer_effect, {}),
    "PosteriorEffects.infer_rank": (wc.PosteriorEffects.infer_rank,
                                    lambda f: f["bayes"].infer_effect().infer_rank, {}),
    "Effects.project": (wc.Effects.project, lambda f: f["effects"].project,
                        {"mix": {"region = 'a'": 0.5, "region <> 'a'": 0.5}}),
    "Effects.combine": (wc.Effects.combine, lambda f: f["effects"].combine,
                        {"weights": {"y": 1.0}, "name": "v"}),
    "Effects.decide": (wc.Effects.decide, lambda f: f["effects"].decide, {"primary": "y"}),
    "Policy.decide": (wc.Policy.decide, lambda f: f["policy"].decide, {}),
    "mediate_effect": (MediationSpec.mediate_effect,
                       lambda f: f["effects"].with_graph("arm -> m -> y").mediate_effect, {}),
    "Policy.probabilities": (wc.Policy.probabilities, lambda f: f["policy"].probabilities, {}),
}


def _generated() -> list[tuple[str, str, Any]]:
    cases = []
    for name, (function, _, _) in ENTRY_POINTS.items():
        for parameter, constraints in declared(function).items():
            for value in dict.fromkeys(map(_key, (v for c in constraints for v in c.invalid_examples()))):
                bad = _unkey(value)
                if not any(c.accepts(bad) for c in constraints):
                    cases.append((name, parameter, bad))
    return cases


def _key(value: Any) -> Any:  # NaN != NaN: deduplicate by repr
    return (type(value).__name__, repr(value))


_VALUES: dict[tuple[str, str], Any] = {}


def _unkey(key: tuple[str, str]) -> Any:
    return _VALUES[key]


for _name, (_function, _, _) in ENTRY_POINTS.items():
    for _constraints in declared(_function).values():
        for _value in (v for c in _constraints for v in c.invalid_examples()):
            _VALUES[_key(_value)] = _value
GENERATED = _generated()


@pytest.fixture(scope="module")
def fixtures(exp: wc.ExperimentData, model: wc.LinearModel, effects: wc.Effects,
             bayes: wc.BayesianLinearRegression) -> dict[str, Any]:
    policy = wc.Policy(bayes.infer_reward(wc.ContextVector(x=0.1)))
    return {"exp": exp, "model": model, "effects": effects, "bayes": bayes, "policy": policy}


@pytest.mark.parametrize(("entry", "parameter", "value"), GENERATED,
                         ids=[f"{e}-{p}-{v!r}"[:80] for e, p, v in GENERATED])
def test_declared_parameters_refuse_hostile_values(fixtures: dict[str, Any], entry: str, parameter: str,
                                                   value: Any) -> None:
    _, make, required = ENTRY_POINTS[entry]
    call = make(fixtures)
    with pytest.raises(wc.InvalidParameterError) as info:
        call(**{**required, parameter: value})
    message = str(info.value)
    assert f"The {parameter!r} parameter of {entry} must be" in message
    assert info.value.parameter == parameter  # type: ignore[attr-defined]


def test_enough_generated_cases() -> None:
    assert len(GENERATED) >= 140
    assert {e for e, _, _ in GENERATED} == set(ENTRY_POINTS)


def test_unknown_keywords_are_named(fixtures: dict[str, Any]) -> None:
    unknown = r"LinearModel\.fit got unknown parameter\(s\) \['bogus'\]"
    with pytest.raises(wc.InvalidParameterError, match=unknown):
        fixtures["exp"].add_metric("y").fit(wc.LinearModel, bogus=1)
    unknown = r"infer_effect got unknown parameter\(s\) \['segments'\]"
    with pytest.raises(wc.InvalidParameterError, match=unknown):
        fixtures["model"].infer_effect(segments=["x > 0"])


def test_numpy_numbers_are_numbers(exp: wc.ExperimentData) -> None:
    model = exp.add_metric("y").fit(wc.LinearModel, alpha=np.float32(0.1))
    assert model.alpha == pytest.approx(0.1) and isinstance(model.alpha, float)
    assert len(model.infer_effect(alpha=np.float64(0.2)).to_pandas()) == 1


# -- written out: constructor and helper parameters -----------------------------------------------

BAD_NAMES = [123, 1.5, ["arm"], b"arm", ("arm",), {"arm": 1}]


@pytest.mark.parametrize("role", ["intent_to_treat", "treated", "propensity", "instrument", "cluster_by",
                                  "weights"])
@pytest.mark.parametrize("value", BAD_NAMES, ids=repr)
def test_design_roles_take_column_names(t: Any, role: str, value: Any) -> None:
    kwargs = {"intent_to_treat": "arm", role: value}
    with pytest.raises(wc.InvalidParameterError, match=rf"The '{role}' parameter of ExperimentData must be"):
        wc.ExperimentData(t, **kwargs)


@pytest.mark.parametrize("value", [[0.5, 0.5], "0.5", {0: math.nan, 1: 0.5}, {0: math.inf, 1: 1.0},
                                   {0: -0.5, 1: 1.5}, {0: 0, 1: 1}, {}, {0: "half", 1: 0.5}], ids=repr)
def test_expected_split(t: Any, value: Any) -> None:
    with pytest.raises(wc.InvalidParameterError, match="'expected_split' parameter of ExperimentData"):
        wc.ExperimentData(t, intent_to_treat="arm", expected_split=value)


@pytest.mark.parametrize(("kwargs", "parameter"), [
    ({"noncompliance": "one_sided"}, "noncompliance"), ({"noncompliance": None}, "noncompliance"),
    ({"runner": "x"}, "runner"), ({"runner": 3}, "runner"),
], ids=repr)
def test_other_constructor_parameters(t: Any, kwargs: dict[str, Any], parameter: str) -> None:
    with pytest.raises(wc.InvalidParameterError, match=f"'{parameter}' parameter of ExperimentData"):
        wc.ExperimentData(t, intent_to_treat="arm", **kwargs)


def test_a_table_must_be_an_ibis_table(t: Any) -> None:
    for value in (None, "experiment", 3, [1, 2]):
        with pytest.raises(wc.InvalidParameterError, match="'table' parameter of ExperimentData"):
            wc.ExperimentData(value, intent_to_treat="arm")


@pytest.mark.parametrize("y", [123, 1.5, None, [], [1, 2], [None], {"y": 1}, b"y", [["y"]]], ids=repr)
def test_add_metric_y(exp: wc.ExperimentData, y: Any) -> None:
    expected = r"'y' parameter of ExperimentData\.add_metric|at least one metric"
    with pytest.raises(wc.InvalidParameterError, match=expected):
        exp.add_metric(y)


@pytest.mark.parametrize("covariates", [123, 1.5, [1], [None], {"x": 1}, [["x"]]], ids=repr)
def test_add_metric_covariates(exp: wc.ExperimentData, covariates: Any) -> None:
    with pytest.raises(wc.InvalidParameterError, match="'exogeneous_covariates' parameter"):
        exp.add_metric("y", covariates)


@pytest.mark.parametrize("value", [123, ["human"], 1.5], ids=repr)
def test_calibrate_with(exp: wc.ExperimentData, value: Any) -> None:
    with pytest.raises(wc.InvalidParameterError, match="'calibrate_with' parameter"):
        exp.add_metric("judge", calibrate_with=value)


@pytest.mark.parametrize("value", [123, 1.5, {"x": 1}, object()], ids=lambda v: type(v).__name__)
def test_condition_on(model: wc.LinearModel, value: Any) -> None:
    with pytest.raises(wc.InvalidParameterError, match="'condition_on' parameter of infer_effect"):
        model.infer_effect(condition_on=value)


@pytest.mark.parametrize(("kwargs", "parameter"), [
    ({"threads": 0}, "threads"), ({"threads": -1}, "threads"), ({"threads": 1.5}, "threads"),
    ({"threads": "4"}, "threads"), ({"threads": True}, "threads"), ({"read_only": "yes"}, "read_only"),
    ({"read_only": 1}, "read_only"),
], ids=repr)
def test_connect(kwargs: dict[str, Any], parameter: str) -> None:
    with pytest.raises(wc.InvalidParameterError, match=f"'{parameter}' parameter of connect"):
        wc.connect(**kwargs)


@pytest.mark.parametrize("target", [3, 1.5, ["a.duckdb"], b"x"], ids=repr)
def test_connect_target(target: Any) -> None:
    with pytest.raises(wc.InvalidParameterError, match="'target' parameter of connect"):
        wc.connect(target)


@pytest.mark.parametrize("name", [3, ["x"], b"x"], ids=repr)
def test_table_name(con: Any, name: Any) -> None:
    with pytest.raises(wc.InvalidParameterError, match="'name' parameter of table"):
        wc.table(pd.DataFrame({"a": [1]}), name=name, con=con)


@pytest.mark.parametrize("name", ["experiment", "users"])
def test_table_never_shadows(con: Any, name: str) -> None:
    with pytest.raises(wc.InvalidParameterError, match=f"'{name}', a table that already exists"):
        wc.table(pd.DataFrame({"a": [1]}), name=name, con=con)


@pytest.mark.parametrize(("kwargs", "parameter"), [
    ({"window": (0, math.inf)}, "window"), ({"window": (math.nan, 7)}, "window"),
    ({"window": (7, 0)}, "window"),
    ({"window": (0, 7, 14)}, "window"), ({"window": "0-7"}, "window"), ({"window": (0, "7")}, "window"),
    ({"fill": math.nan}, "fill"), ({"fill": math.inf}, "fill"), ({"fill": "0"}, "fill"),
    ({"name": 3}, "name"), ({"source": "events"}, "source"), ({"value": 3}, "value"),
    ({"unit": 3}, "unit"), ({"unit": ("a", "b", "c")}, "unit"), ({"time": 3}, "time"),
    ({"exposure": 3}, "exposure"),
], ids=repr)
def test_metric_parameters(t: Any, kwargs: dict[str, Any], parameter: str) -> None:
    base = {"name": "revenue", "source": t, "value": "SUM(m)", "unit": "team", "time": "x", "exposure": "x"}
    with pytest.raises(wc.InvalidParameterError, match=f"'{parameter}' parameter of Metric"):
        wc.Metric(**{**base, **kwargs})


@pytest.mark.parametrize("document", ["[1, 2, 3]", "{not json", '{"format": "other"}', "null", "3",
                                      '{"format": "warehouse_causal.RewardModel/1"}'], ids=repr)
def test_load_model_documents(document: str) -> None:
    with pytest.raises(wc.InvalidParameterError, match=r"load_model|reward model"):
        wc.load_model(document)


@pytest.mark.parametrize("document", [3, None, ["x"]], ids=repr)
def test_load_model_types(document: Any) -> None:
    with pytest.raises(wc.InvalidParameterError, match="'document' parameter of load_model"):
        wc.load_model(document)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, None, [1.0], {"a": 1}], ids=repr)
def test_context_values(value: Any) -> None:
    with pytest.raises(wc.InvalidParameterError, match="'x' parameter of ContextVector"):
        wc.ContextVector(x=value)


def test_context_is_immutable() -> None:
    context = wc.ContextVector(x=1.0)
    for mutate in (lambda: context.update(x=2.0), lambda: context.pop("x"), lambda: context.clear(),
                   lambda: context.__setitem__("x", 3.0), lambda: context.setdefault("y", 1.0)):
        with pytest.raises(TypeError, match="immutable"):
            mutate()
    assert context == {"x": 1.0}


@pytest.mark.parametrize("value", [None, "reward", 3, {"a": 1}], ids=repr)
def test_policy_takes_a_reward_distribution(value: Any) -> None:
    with pytest.raises(wc.InvalidParameterError, match="'reward_distribution' parameter of Policy"):
        wc.Policy(value)


@pytest.mark.parametrize("model", [None, "LinearModel", 3, wc.Effects], ids=repr)
def test_fit_takes_a_model_class(exp: wc.ExperimentData, model: Any) -> None:
    with pytest.raises(wc.InvalidParameterError, match=r"'model' parameter of ModelSpec\.fit"):
        exp.add_metric("y").fit(model)


# -- written out: columns ----------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "value", "near"), [
    ("intent_to_treat", "arms", "arm"), ("treated", "usd", "used"), ("cluster_by", "teams", "team"),
    ("propensity", "pp", "p"), ("weights", "ww", "w"), ("instrument", "arn", "arm"),
])
def test_unknown_design_columns_suggest_the_closest(t: Any, role: str, value: str, near: str) -> None:
    kwargs = {"intent_to_treat": "arm", role: value}
    with pytest.raises(wc.SchemaError, match=rf"Column '{value}' given as '{role}' is not in the table\. "
                                             rf"Did you mean '{near}'\?") as info:
        wc.ExperimentData(t, **kwargs)
    assert info.value.column == value and info.value.suggestion == near


@pytest.mark.parametrize("name", ["yy", "Y2", "xx", "regin", "y_", "judgee"])
def test_unknown_metric_or_covariate(exp: wc.ExperimentData, name: str) -> None:
    with pytest.raises(wc.SchemaError, match=f"'{name}' given as"):
        exp.add_metric(name)
    with pytest.raises(wc.SchemaError, match=f"'{name}' given as"):
        exp.add_metric("y", [name])


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"intent_to_treat": "float_arm"}, wc.SchemaError, "arms must be boolean, integer or string"),
    ({"intent_to_treat": "one"}, wc.DesignError, "single arm"),
    ({"intent_to_treat": "arm", "propensity": "x"}, wc.DesignError, "propensities outside"),
    ({"intent_to_treat": "arm", "weights": "x"}, wc.DesignError, "negative weights"),
    ({"intent_to_treat": "arm", "propensity": "with_null"}, wc.DesignError, "NULL or NaN propensities"),
    ({"intent_to_treat": "arm", "treated": "used", "noncompliance": "one-sided"}, wc.DesignError,
     "noncompliance='one-sided'"),
    ({"intent_to_treat": "arm", "control": 7}, wc.DesignError, "control=7 is not an arm"),
    ({"intent_to_treat": "arm", "propensity": "region"}, wc.SchemaError, "must be numeric"),
])
def test_designs_the_data_cannot_identify(t: Any, kwargs: dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=re.escape(match) if "(" in match else match):
        wc.ExperimentData(t, **kwargs)


@pytest.mark.parametrize(("y", "covariates", "error", "match"), [
    ("arm", None, wc.DesignError, "the 'intent_to_treat' column"),
    ("y", ["arm"], wc.DesignError, "cannot be design columns"),
    ("y", ["y"], wc.DesignError, "also a metric"),
    ("y", ["y2 + y"], wc.DesignError, "also a metric"),
    ("region", None, wc.DesignError, "string column"),
    ("y", ["x", "x"], wc.InvalidParameterError, "unique"),
])
def test_roles_that_would_change_the_estimand(exp: wc.ExperimentData, y: Any, covariates: Any, error: type,
                                              match: str) -> None:
    with pytest.raises(error, match=match):
        exp.add_metric(y, covariates)


# -- written out: SQL that is not one row-level expression of the table ----------------------------

INJECTIONS = [
    "x; DROP TABLE users", "x); DROP TABLE users; --", "(SELECT secret FROM users)", "x FROM users",
    "EXISTS (SELECT 1)", "x IN (SELECT user_id FROM users)", "SUM(x)", "AVG(x) OVER ()",
    "ROW_NUMBER() OVER (ORDER BY x)", "users.secret", "main.experiment.x", "read_csv('/etc/passwd')",
    "read_parquet('x.parquet')", "CURRENT_DATE", "random()", "pg_sleep(1)", "load_extension('x')",
    "COPY experiment TO 'x.csv'", "ATTACH 'x.db'", "PRAGMA version", "x; SELECT 1", "LIKE x",
    "CAST(x AS BLOB)", "CAST(x AS STRUCT(a INT))", "getenv('HOME')", "x ~ 'a'", "regexp_matches(region, 'a')",
    "CASE region WHEN 'a' THEN 1 ELSE 0 END", "x LIKE region", "1", "'a'", "", "   ", "x IS 1",
    "x IN (y, 2)", "INTERVAL 1 DAY", "x::VARCHAR || 'a'", "version()", "current_setting('threads')",
    "(", "x +", "x ++ 1 )",
]


@pytest.mark.parametrize("sql", INJECTIONS)
def test_sql_that_is_not_a_row_level_expression(exp: wc.ExperimentData, sql: str) -> None:
    with pytest.raises((wc.ExpressionError, wc.SchemaError)):
        exp.add_metric("y", [sql])


@pytest.mark.parametrize("sql", INJECTIONS[:20])
def test_conditions_and_policies_are_held_to_the_same_rules(model: wc.LinearModel, sql: str) -> None:
    with pytest.raises((wc.ExpressionError, wc.SchemaError, wc.DesignError)):
        model.infer_effect(condition_on=[sql])


@pytest.mark.parametrize(("condition", "error", "match"), [
    ("arm = 1", wc.DesignError, "intent_to_treat"), ("y > 0", wc.DesignError, "outcome"),
    ("x", wc.ExpressionError, "is a column, not a condition"), ("x + 1", wc.ExpressionError, "not a boolean"),
    ("m > 0", wc.DesignError, "not a covariate"), ("region = 'zz'", wc.DesignError, "has no rows"),
])
def test_conditions_that_change_the_estimand(model: wc.LinearModel, condition: str, error: type, match: str
                                             ) -> None:
    with pytest.raises(error, match=match):
        model.infer_effect(condition_on=[condition])


# -- written out: NaN, inf and empty where numbers are expected --------------------------------------

NON_FINITE = [math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("value", NON_FINITE, ids=repr)
def test_non_finite_numbers(effects: wc.Effects, value: float) -> None:
    with pytest.raises(wc.InvalidParameterError, match="'mix' parameter"):
        effects.project({"region = 'a'": value, "region <> 'a'": 0.5})
    with pytest.raises(wc.InvalidParameterError, match="'weights' parameter"):
        effects.combine({"y": 1.0, "y2": value}, name="v")
    with pytest.raises(wc.InvalidParameterError, match="'guardrails' parameter"):
        effects.decide("y", {"y2": value})
    with pytest.raises(wc.InvalidParameterError, match="'guardrails' parameter"):
        effects.decide("y", {"y2": ("<", value)})


@pytest.mark.parametrize(("call", "match"), [
    (lambda e: e.combine({}, name="v"), "non-empty"), (lambda e: e.project({}), "non-empty"),
    (lambda e: e.combine("y", name="v"), "'weights' parameter"),
    (lambda e: e.combine({"nope": 1.0}, name="v"), "not in these effects"),
    (lambda e: e.project({"region = 'a'": 0.2, "region <> 'a'": 0.2}), "sum to 1"),
    (lambda e: e.decide("nope"), "decide needs effects on"),
    (lambda e: e.decide("y", {"y2": 0}), "finite non-zero"),
    (lambda e: e.decide("y", {"y2": ("=", 1.0)}), "'guardrails' parameter"),
    (lambda e: e.decide("y", evidence="bayesian"), "'evidence' parameter"),
])
def test_effects_inputs(effects: wc.Effects, call: Callable[[wc.Effects], Any], match: str) -> None:
    with pytest.raises(wc.InvalidParameterError, match=match):
        call(effects)


def test_nan_never_reaches_a_policy(bayes: wc.BayesianLinearRegression) -> None:
    for value in NON_FINITE:
        with pytest.raises(wc.InvalidParameterError):
            bayes.infer_reward({"x": value})
    with pytest.raises(wc.InvalidParameterError, match=r"'draws' parameter of Policy\.probabilities"):
        wc.Policy(bayes.infer_reward({"x": 0.0})).probabilities(draws=0)


# -- the user's tables are as they were ---------------------------------------------------------------


def test_last_nothing_the_user_owns_changed(con: Any, tmp_path: Path) -> None:
    assert BEFORE, "the first test of this module records the snapshot"
    after = _snapshot(con)
    assert after == BEFORE
