"""Answers say what the numbers say and nothing more (issue 24, item 7).

Every sentence of an agent or CLI answer comes from one rule of :mod:`warehouse_causal.surfaces.sentences`;
each rule is tested here against the numbers it describes (which metric and arm it names, which status
a NaN statistic gets), and the whole answers of the agent tools and of ``warehouse-causal run`` are
checked for the defects found: a metric called non-significant while one arm's effect is significant,
an unfilled ``{time}`` placeholder, a first-stage F of 4e35 (or inf, or negative) where treatment
follows assignment exactly, ``sample_ratio_ok: true`` with no p-value, a loose "at most" cluster
count, duplicated and dependency warnings, and route 0 called "control" in a policy ranking.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from warehouse_causal.meaning import Status
from warehouse_causal.surfaces import sentences
from warehouse_causal.surfaces.agent import Toolbox

#: A placeholder left in a sentence: braces around bare words, such as {time} or {primary, guardrails}.
PLACEHOLDER = re.compile(r"\{[^{}\"':]*\}")


def _shop(rows_per_arm: int = 3000, seed: int = 5) -> pd.DataFrame:
    """Three arms. 'revenue': arm 2 moves it by +1 (significant), arm 1 holds exactly arm 0's values
    (estimate 0, not significant); 'clicks': no effect. 'served' copies the arm (full compliance),
    'p' is the known assignment probability 1/3; 'created_at' dates each row."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=rows_per_arm)
    clicks = rng.normal(size=3 * rows_per_arm)
    frame = pd.DataFrame({
        "user_id": np.arange(3 * rows_per_arm),
        "arm": np.repeat([0, 1, 2], rows_per_arm),
        "revenue": np.concatenate([base, base[::-1], base + 1.0]),
        "clicks": clicks,
        "tenure": rng.normal(size=3 * rows_per_arm),
        "created_at": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 14, 3 * rows_per_arm),
                                                                   unit="D"),
    })
    frame["served"] = frame["arm"]
    frame["p"] = 1.0 / 3.0
    return frame


def _visits(users: int = 600, per_user: int = 4, seed: int = 2) -> pd.DataFrame:
    """Users randomized to 'arm'; take-up 'used' varies between a user's visits, so one user sits in
    several (assigned, used) cells."""
    rng = np.random.default_rng(seed)
    user = np.repeat(np.arange(users), per_user)
    arm = rng.integers(0, 2, users)[user]
    used = (arm * (rng.random(user.size) < 0.6)).astype(int)
    return pd.DataFrame({"user": user, "arm": arm, "used": used,
                         "y": 0.3 * used + rng.normal(size=user.size)})


def _routing() -> pd.DataFrame:
    return wc.datasets.routing(rows=4000).to_pandas()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sentences") / "warehouse.duckdb"
    con = wc.connect(path)
    con.create_table("shop", _shop())
    con.create_table("visits", _visits())
    con.create_table("routing", _routing())
    con.disconnect()
    return path


@pytest.fixture(scope="module")
def connection(warehouse: Path) -> Any:
    return Toolbox.open(str(warehouse)).con


@pytest.fixture()
def tools(connection: Any) -> Toolbox:
    return Toolbox(connection)


def _ok(tools: Toolbox, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    answer, failed = tools.call(name, arguments)
    assert not failed, answer
    json.dumps(answer, allow_nan=False)
    return answer


def _analyze(tools: Toolbox, table: str, design: dict[str, Any], **spec: Any) -> dict[str, Any]:
    _ok(tools, "check_design", {"table": table, "design": design})
    return _ok(tools, "analyze", {"table": table, "design": design, **spec})


def _strings(value: Any, skip: tuple[str, ...] = ("queries",)) -> list[str]:
    """Every string of an answer, outside the keys in ``skip`` (the SQL that ran)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k not in skip for s in _strings(v, skip)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v, skip)]
    return []


# -- the sentence rules, against the numbers they describe ----------------------------------------

def _contrast(metric: str, arm: str, lower: float, upper: float) -> sentences.Contrast:
    return sentences.Contrast(metric, arm, "0", (lower + upper) / 2, lower, upper)


SIGNIFICANT, COVERS, NEGATIVE, MISSING = (0.1, 0.3), (-0.1, 0.2), (-0.4, -0.1), (math.nan, math.nan)


@pytest.mark.parametrize("intervals", [
    {("revenue", "1"): COVERS, ("revenue", "2"): SIGNIFICANT},             # mixed arms of one metric
    {("revenue", "1"): SIGNIFICANT, ("revenue", "2"): SIGNIFICANT},        # all significant
    {("revenue", "1"): COVERS, ("revenue", "2"): COVERS, ("clicks", "1"): COVERS},  # none
    {("revenue", "1"): NEGATIVE, ("clicks", "1"): COVERS, ("clicks", "2"): SIGNIFICANT},
    {("revenue", "1"): MISSING, ("revenue", "2"): COVERS},                 # an interval not computed
    {("revenue", "1"): (0.0, 0.3), ("revenue", "2"): (-0.2, 0.0)},         # a bound exactly at 0
])
def test_significance_sentences_name_exactly_the_pairs_they_describe(
        intervals: dict[tuple[str, str], tuple[float, float]]) -> None:
    contrasts = [_contrast(m, a, lo, hi) for (m, a), (lo, hi) in intervals.items()]
    covers = sentences.not_significant(contrasts, 0.05)
    below = sentences.significantly_worse(contrasts, ["revenue", "clicks", "orders"], {})  # higher is better
    missing = sentences.no_interval(contrasts)
    for c in contrasts:
        name = sentences.contrast_name(c)
        finite = math.isfinite(c.ci_lower) and math.isfinite(c.ci_upper)
        assert (covers is not None and name in covers) == (finite and c.ci_lower <= 0 <= c.ci_upper), covers
        assert (below is not None and name in below) == (finite and c.ci_upper < 0), below
        assert (missing is not None and name in missing) == (not finite), missing
    if covers is not None:
        assert "95% interval" in covers


def test_sample_ratio_rule_never_passes_without_a_p_value() -> None:
    for p in (None, math.nan, math.inf):
        check = sentences.sample_ratio(p, 0.001)
        assert check.status is Status.NOT_CHECKED and check.as_dict()["p_value"] is None
        assert check.as_dict()["ok"] is None and "not tested" in check.sentence
    assert sentences.sample_ratio(0.5, 0.001).status is Status.OK
    assert sentences.sample_ratio(0.5, 0.001).as_dict()["ok"] is True
    alert = sentences.sample_ratio(1e-6, 0.001)
    assert alert.status is Status.ALERT and alert.as_dict()["ok"] is False and "mismatch" in alert.sentence


def test_first_stage_rule_reads_finite_statistics_only() -> None:
    row = wc.fit.diagnostics.FirstStageRow
    rows = [row("d[1]", 25.0, 30.0, "HC1"), row("d[2]", 4.0, 5.0, "HC1"),
            row("d[3]", math.inf, math.inf, "HC1"), row("d[4]", math.nan, 3.0, "HC1")]
    out = sentences.first_stage_rows(rows)
    assert [r["status"] for r in out] == ["ok", "alert", "not checked", "not checked"]
    assert out[2]["f_statistic"] is None and out[2]["f_homoskedastic"] is None
    assert out[3]["f_statistic"] is None and out[3]["f_homoskedastic"] == 3.0
    text = sentences.first_stage(rows, exact=(), treated="d", assigned="z")
    assert "d[2]" in text and "d[1]" in text and "inf" not in text and "nan" not in text
    exact = sentences.first_stage((), exact=("d[1]", "d[2]"), treated="d", assigned="z", all_exact=True)
    assert exact == "Treatment 'd' follows assignment 'z' exactly (no first stage to test)."
    assert "not checked" in sentences.first_stage((), exact=(), treated="d", assigned="z")


def test_warnings_keep_the_packages_own_once_in_order() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("b", wc.DesignWarning, stacklevel=1)
        warnings.warn("dependency", DeprecationWarning, stacklevel=1)
        warnings.warn("a", wc.WeakInstrumentWarning, stacklevel=1)
        warnings.warn("pandas option", FutureWarning, stacklevel=1)
        warnings.warn("b", wc.DesignWarning, stacklevel=1)
    assert sentences.package_warnings(caught) == ["b", "a"]
    assert sentences.package_warnings(["x", "y", "x"]) == ["x", "y"]


def test_over_time_step_is_filled_from_the_data() -> None:
    assert '"time": "created_at"' in sentences.over_time_step(["created_at"])
    several = sentences.over_time_step(["created_at", "updated_at"])
    assert "'created_at'" in several and "'updated_at'" in several
    for step in (sentences.over_time_step([]), several, sentences.over_time_step(["day"]),
                 sentences.decision_step(["revenue", "clicks"])):
        assert not PLACEHOLDER.search(step), step


def test_cluster_count_sentence_states_the_count_and_mixed_clusters() -> None:
    assert sentences.clusters(600, 0, "user") == "600 clusters of 'user'; each holds one assignment arm."
    assert "12 of 600" in sentences.clusters(600, 12, "user")


def test_statistics_that_are_not_finite_become_null() -> None:
    assert [sentences.statistic(v) for v in (1.5, math.nan, math.inf, -math.inf, None)] == [
        1.5, None, None, None, None]


# -- whole answers ---------------------------------------------------------------------------------

def test_mixed_arms_are_named_per_metric_and_arm(tools: Toolbox) -> None:
    answer = _analyze(tools, "shop", {"intent_to_treat": "arm"}, metrics=["revenue", "clicks"])
    rows = {(r["metric"], r["arm"]): r for r in answer["effects"] if r["segment"] == "all"}
    assert rows[("revenue", "1")]["ci_lower"] < 0 < rows[("revenue", "1")]["ci_upper"]
    assert rows[("revenue", "2")]["ci_lower"] > 0  # the precondition: one arm significant, one not
    (step,) = [s for s in answer["next_steps"] if s.startswith("No significant effect")]
    for (metric, arm), r in rows.items():
        covers = r["ci_lower"] <= 0 <= r["ci_upper"]
        assert (f"{metric!r} arm {arm} vs 0" in step) == covers, (metric, arm, step)
    assert "'revenue' arm 2" not in step


def test_no_answer_holds_an_unfilled_placeholder(tools: Toolbox) -> None:
    answers = [
        _analyze(tools, "shop", {"intent_to_treat": "arm"}, metrics=["revenue", "clicks"]),
        _analyze(tools, "visits", {"intent_to_treat": "arm", "treated": "used", "cluster_by": "user"},
                 metrics=["y"]),
        _ok(tools, "check_design", {"table": "shop", "design": {"intent_to_treat": "arm"}}),
        _ok(tools, "describe", {}),
        _ok(tools, "plan", {"table": "shop", "metrics": ["revenue"], "power": {"n": [1000]}}),
    ]
    for answer in answers:
        for text in _strings(answer):
            assert not PLACEHOLDER.search(text), text
    steps = answers[0]["next_steps"]
    assert any('"time": "created_at"' in s for s in steps), steps  # filled from the table's time column


def test_exact_compliance_under_a_propensity_design_has_no_first_stage_number(tools: Toolbox) -> None:
    design = {"intent_to_treat": "arm", "treated": "served", "propensity": "p"}
    answer = _analyze(tools, "shop", design, metrics=["revenue"])
    assert answer["first_stage"] == [] and answer["checks"]["first_stage"] == []
    assert answer["checks"]["first_stage_status"] == "ok"
    assert answer["checks"]["first_stage_detail"] == (
        "Treatment 'served' follows assignment 'arm' exactly (no first stage to test).")
    assert answer["checks"]["weak_instrument"] == []
    everything = json.dumps(answer)
    assert "Weak instrument" not in everything and '"inf"' not in everything
    with warnings.catch_warnings():
        warnings.simplefilter("error", wc.WeakInstrumentWarning)
        model = wc.ExperimentData(tools.con.table("shop"), **design).add_metric("revenue").fit(wc.LinearModel)
    assert len(model.first_stage) == 0


def test_sample_ratio_is_not_ok_without_a_test(tools: Toolbox) -> None:
    design = {"intent_to_treat": "route", "propensity": "p_route"}
    check = _ok(tools, "check_design", {"table": "routing", "design": design})
    assert check["sample_ratio_p_value"] is None and check["sample_ratio_ok"] is None
    assert check["sample_ratio"]["status"] == "not checked"
    assert any("expected_split" in s for s in check["next_steps"])
    answer = _ok(tools, "analyze", {"table": "routing", "design": design, "metrics": ["reward"]})
    assert answer["checks"]["sample_ratio_ok"] is None
    assert answer["checks"]["sample_ratio"]["status"] == "not checked"
    tested = {"intent_to_treat": "arm", "expected_split": {"0": 1, "1": 1, "2": 1}}
    check = _ok(tools, "check_design", {"table": "shop", "design": tested})
    assert check["sample_ratio_ok"] is True and check["sample_ratio"]["status"] == "ok"


def test_check_design_counts_clusters_exactly(tools: Toolbox) -> None:
    frame = _visits()
    design = {"intent_to_treat": "arm", "treated": "used", "cluster_by": "user"}
    check = _ok(tools, "check_design", {"table": "visits", "design": design})
    assert "clusters_at_most" not in check
    assert check["clusters"] == frame.user.nunique() == 600
    assert check["clusters_with_several_arms"] == 0
    assert "600 clusters of 'user'" in check["clusters_detail"]
    assert not any("at most" in s for s in _strings(check))


def test_answers_carry_only_the_packages_warnings_once(tools: Toolbox, monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    import warehouse_causal.surfaces.agent as agent

    original = agent.run_spec

    def noisy(*args: Any, **kwargs: Any) -> Any:
        warnings.warn("fetch_arrow_table() is deprecated", DeprecationWarning, stacklevel=1)
        warnings.warn("The 'future.infer_string' option is deprecated", FutureWarning, stacklevel=1)
        warnings.warn("The 'future.infer_string' option is deprecated", FutureWarning, stacklevel=1)
        warnings.warn("Something about the design.", wc.DesignWarning, stacklevel=1)
        warnings.warn("Something about the design.", wc.DesignWarning, stacklevel=1)
        return original(*args, **kwargs)

    monkeypatch.setattr(agent, "run_spec", noisy)
    answer = _analyze(tools, "shop", {"intent_to_treat": "arm"}, metrics=["revenue"])
    assert answer["warnings"].count("Something about the design.") == 1
    assert not [w for w in answer["warnings"] if "deprecated" in w]
    assert len(answer["warnings"]) == len(set(answer["warnings"]))


def test_cli_json_carries_only_the_packages_warnings_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    import warehouse_causal.surfaces.cli as cli
    from warehouse_causal.surfaces.cli import main

    con = wc.connect(tmp_path / "w.duckdb")
    con.create_table("shop", _shop(800))
    con.disconnect()
    (tmp_path / "a.json").write_text(json.dumps({
        "connection": "w.duckdb", "table": "shop", "design": {"intent_to_treat": "arm"},
        "metrics": ["revenue", "clicks"]}))
    original = cli.run_spec

    def noisy(*args: Any, **kwargs: Any) -> Any:
        warnings.warn("fetch_arrow_table() is deprecated", FutureWarning, stacklevel=1)
        warnings.warn("twice", wc.DesignWarning, stacklevel=1)
        warnings.warn("twice", wc.DesignWarning, stacklevel=1)
        return original(*args, **kwargs)

    monkeypatch.setattr(cli, "run_spec", noisy)
    assert main(["run", str(tmp_path / "a.json"), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["warnings"] == ["twice"]
    for text in _strings(document):
        assert not PLACEHOLDER.search(text), text
    assert main(["run", str(tmp_path / "a.json")]) == 0
    out = capsys.readouterr().out
    assert out.count("warning: twice") == 1 and "deprecated" not in out


def test_policy_ranking_names_routes_by_their_labels(tools: Toolbox) -> None:
    design = {"intent_to_treat": "route", "propensity": "p_route"}
    _ok(tools, "check_design", {"table": "routing", "design": design})
    answer = _ok(tools, "policy", {"table": "routing", "design": design, "metric": "reward",
                                   "covariates": ["x", "segment"], "segments": ["segment = 1"],
                                   "contexts": [{"x": 0.9, "segment": 1}]})
    ranked = {r["arm"] for r in answer["rank"]}
    assert ranked == {"0", "1", "2"} == set(answer["contexts"][0]["probabilities"])
    assert {r["arm"] for r in answer["rank"] if r["is_control"]} == {"0"}  # the design's control only


def test_nan_statistics_are_null_and_not_checked(tools: Toolbox) -> None:
    """Six teams: balance cannot be tested with clusters as the units (p-value NaN)."""
    rng = np.random.default_rng(1)
    team = np.repeat(np.arange(6), 50)
    frame = pd.DataFrame({"team": team, "arm": np.array([0, 1, 0, 1, 0, 1])[team],
                          "x": rng.normal(size=team.size), "y": rng.normal(size=team.size)})
    con = wc.connect()
    con.create_table("teams", frame)
    local = Toolbox(con)
    design = {"intent_to_treat": "arm", "cluster_by": "team"}
    answer = _analyze(local, "teams", design, metrics=["y"], covariates=["x"])
    (row,) = answer["checks"]["balance"]
    assert row["p_value"] is None and row["status"] == "not checked"
    # six clusters: the answer does not assume them numerous enough for cluster-robust inference
    assert answer["design"]["inference"] == "randomization"
    assert not [a for a in answer["assumptions"] if "numerous enough" in a]
    assert any("re-draws" in a for a in answer["assumptions"])


def test_worse_follows_the_metric_direction_not_the_sign() -> None:
    """A fall in minutes (lower is better) is not "worse"; a rise is, and a neutral metric is never."""
    from warehouse_causal.meaning import Direction

    fall, rise = _contrast("minutes", "1", -0.4, -0.1), _contrast("minutes", "2", 0.1, 0.4)
    lower = {"minutes": Direction.LOWER}
    worse = sentences.significantly_worse([fall, rise], ["minutes", "resolved"], lower)
    assert worse is not None and sentences.contrast_name(rise) in worse
    assert sentences.contrast_name(fall) not in worse and "lower is better" in worse
    neutral = {"minutes": Direction.NEUTRAL}
    assert sentences.significantly_worse([fall, rise], ["minutes", "resolved"], neutral) is None
