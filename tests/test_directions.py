"""The direction of good of a metric (issue 24, item 8): declared once in ``add_metric(direction=...)``
(or by a ``wc.Metric`` / ``wc.Ratio`` / catalog entry / analysis document) and read by decisions,
guardrails, the memo and the colours of the report and forest plot. A fall in minutes with a
passing guardrail was drawn red."""

from __future__ import annotations

import re
import warnings

import pytest

import warehouse_causal as wc
from warehouse_causal.meaning import Direction

HIGHER, LOWER, NEUTRAL = Direction.HIGHER, Direction.LOWER, Direction.NEUTRAL


@pytest.fixture(scope="module")
def exp() -> wc.ExperimentData:
    # minutes falls (classical 95% CI about [-1.32, -0.11]); resolved and csat rise
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        return wc.ExperimentData(wc.datasets.tickets(rows=20_000, teams=100, seed=2),
                                 intent_to_treat="assigned", cluster_by="team_id")


def _effects(exp: wc.ExperimentData, **options) -> wc.Effects:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        return exp.add_metric(["resolved", "minutes", "csat"], ["tenure"], **options).fit(
            wc.LinearModel).infer_effect()


def _card_classes(page: str) -> dict[str, str]:
    """metric -> the class of its summary card (the colour of its left border)."""
    cards = re.findall(r'<div class="card ([^"]*)"><div class="metric">([^ <]+)', page)
    return {metric: css for css, metric in cards}


def _forest_colours(page: str) -> dict[str, set[str]]:
    """metric -> the colours of its classical intervals in the forest plot."""
    panels = re.findall(r'aria-label="forest plot of ([^"]+)">(.*?)</svg>', page, re.S)
    return {m: set(re.findall(r'class="interval"[^>]*stroke="([^"]+)"', body)) for m, body in panels}


def test_a_lower_is_better_metric_improves_when_it_falls(exp: wc.ExperimentData) -> None:
    effects = _effects(exp, direction={"minutes": "lower"})
    assert effects.directions == {"resolved": HIGHER, "minutes": LOWER, "csat": HIGHER}
    row = next(r for r in effects.to_dicts() if r["metric"] == "minutes")
    assert row["ci_upper"] < 0  # the data: minutes falls
    decision = effects.decide("minutes", evidence="classical")
    assert decision.arms[0].verdict == "ship" and "improves (lower is better)" in decision.arms[0].reasons[0]
    assert dict(decision.directions) == {"minutes": LOWER}
    memo = effects.memo("minutes", evidence="classical")
    assert "Direction of good: lower is better for `minutes`; higher is better for the others." in memo
    assert "**1: ship**" in memo
    # the same data read as "higher is better" (the default): minutes got worse
    default = _effects(exp)
    assert default.directions["minutes"] is HIGHER
    assert default.decide("minutes", evidence="classical").arms[0].verdict == "don't ship"
    assert "Direction of good" not in default.memo("resolved")  # default memos are unchanged


def test_report_colours_follow_the_direction_not_the_sign(exp: wc.ExperimentData) -> None:
    """The issue: a guardrail reduction in minutes passed while its card and interval were red."""
    green, red = "#1a7f37", "#b42318"
    declared = _effects(exp, direction={"minutes": "lower"})
    decision = declared.decide("resolved", {"minutes": 0.5, "csat": -0.05}, evidence="classical")
    assert decision.arms[0].verdict == "ship"
    assert {c.metric: c.status for c in decision.arms[0].guardrails} == {"minutes": "pass", "csat": "pass"}
    for page in (declared.report(decision=decision), declared.report()):
        assert _card_classes(page) == {"resolved": "good", "minutes": "good", "csat": "good"}
        assert _forest_colours(page)["minutes"] == {green}
        assert "(lower is better)" in page
    # not declared: the guardrail's side says which way is bad, so the report agrees with the decision
    default = _effects(exp)
    decision = default.decide("resolved", {"minutes": 0.5}, evidence="classical")
    assert dict(decision.directions) == {"resolved": HIGHER, "minutes": LOWER}
    assert _card_classes(default.report(decision=decision))["minutes"] == "good"
    # without a decision or a declaration, higher is better (as before): a fall is worse
    page = default.report()
    assert _card_classes(page)["minutes"] == "bad" and _forest_colours(page)["minutes"] == {red}


def test_neutral_metrics_are_neither_good_nor_bad(exp: wc.ExperimentData) -> None:
    effects = _effects(exp, direction={"minutes": "neutral"})
    page = effects.report()
    assert _card_classes(page)["minutes"] == "moved"
    assert _forest_colours(page)["minutes"] == {"#1f5fbf"}
    with pytest.raises(wc.InvalidParameterError, match=r"'primary' .* 'minutes', declared 'neutral'"):
        effects.decide("minutes")
    # a neutral metric may be guarded on either side
    for tolerance in (1.0, -1.0, (">", -2.0)):
        check = effects.decide("resolved", {"minutes": tolerance}).arms[0].guardrails[0]
        assert check.direction is NEUTRAL


def test_effects_plot_colours_follow_the_direction(exp: wc.ExperimentData) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.colors import to_hex

    def colours(effects: wc.Effects) -> dict[str, set[str]]:
        figure = effects.plot()
        out = {ax.get_title(loc="left"): {to_hex(line.get_color()) for line in ax.get_lines()[1:]}
               for ax in figure.axes}
        matplotlib.pyplot.close(figure)
        return out

    assert colours(_effects(exp, direction={"minutes": "lower"}))["minutes"] == {"#1a7f37"}
    assert colours(_effects(exp))["minutes"] == {"#b42318"}


def test_guardrails_keep_their_sign_rule_and_must_guard_the_bad_side(exp: wc.ExperimentData) -> None:
    effects = _effects(exp, direction={"minutes": "lower", "csat": "higher"})
    # the documented rule, unchanged: t > 0 must stay below t, t < 0 above t
    checks = effects.decide("resolved", {"minutes": 0.5, "csat": -0.05}).arms[0].guardrails
    assert [(c.bound, c.tolerance, c.direction) for c in checks] == [("<", 0.5, LOWER), (">", -0.05, HIGHER)]
    with pytest.raises(wc.InvalidParameterError,
                       match=r"guards 'minutes' against a fall .*declared 'lower'.*\(0.5 or \('<', 0.5\)\)"):
        effects.decide("resolved", {"minutes": -0.5})
    with pytest.raises(wc.InvalidParameterError, match=r"guards 'csat' against a rise .*declared 'higher'"):
        effects.decide("resolved", {"csat": ("<", 0.0)})
    # undeclared metrics keep today's reading: the guarded side is the bad side
    check = _effects(exp).decide("resolved", {"csat": 0.05}).arms[0].guardrails[0]
    assert (check.bound, check.direction) == ("<", LOWER)


def test_higher_is_better_cannot_contradict_a_declared_primary(exp: wc.ExperimentData) -> None:
    effects = _effects(exp, direction={"minutes": "lower"})
    with pytest.raises(wc.InvalidParameterError, match=r"'higher_is_better' .* says True, but the primary "
                                                       "'minutes' is declared 'lower'"):
        effects.decide("minutes", higher_is_better=True)
    assert effects.decide("minutes", higher_is_better=False).arms[0].reasons  # agrees: fine
    with pytest.raises(wc.InvalidParameterError, match="higher_is_better"):
        effects.decide("minutes", higher_is_better="no")
    # undeclared: higher_is_better still says it (as before), and a guardrail on the primary keeps to it
    default = _effects(exp)
    assert default.decide("minutes", higher_is_better=False, evidence="classical").arms[0].verdict == "ship"
    with pytest.raises(wc.InvalidParameterError, match="guards 'minutes' against a fall"):
        default.decide("minutes", {"minutes": -1.0}, higher_is_better=False)


def test_one_direction_for_all_metrics_ratios_and_metric_objects() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        table = wc.datasets.tickets(rows=4_000, teams=40, seed=3)
        exp = wc.ExperimentData(table, intent_to_treat="assigned", cluster_by="team_id")
        ratio = wc.Ratio("minutes_per_resolution", "minutes", "resolved")
        spec = exp.add_metric(["csat", ratio], direction="lower")
        # the named metrics and ratios; the ratio's parts, not named in y, keep the default
        assert dict(spec.directions) == {"csat": LOWER, "minutes_per_resolution": LOWER}
        assert spec.direction_of("minutes") is HIGHER
        spec = exp.add_metric(["csat", ratio],
                              direction={"minutes_per_resolution": "Lower", "minutes": "down"})
        assert dict(spec.directions) == {"minutes": LOWER, "minutes_per_resolution": LOWER}
        declared = wc.Ratio("minutes_per_resolution", "minutes", "resolved", direction="lower")
        assert exp.add_metric([declared]).direction_of("minutes_per_resolution") is LOWER
        effects = exp.add_metric([declared, "csat"]).fit(wc.LinearModel).infer_effect()
        assert effects.directions["minutes_per_resolution"] is LOWER
        chained = exp.add_metric("csat").add_metric("minutes", direction="lower")
        assert chained.direction_of("minutes") is LOWER
        assert effects.combine({"csat": 1.0}, name="value").directions == {"value": HIGHER}


def test_bad_directions_are_clear_errors(exp: wc.ExperimentData) -> None:
    owner = r"ExperimentData\.add_metric"
    for bad in [float("nan"), True, 1, ["lower"], "LOWERs", b"lower"]:
        with pytest.raises(wc.InvalidParameterError, match=f"The 'direction' parameter of {owner}"):
            exp.add_metric(["resolved"], direction=bad)
    for bad in [None, float("nan"), "sideways", 0]:
        with pytest.raises(wc.InvalidParameterError, match=f"'direction' parameter of {owner}.*'resolved'"):
            exp.add_metric(["resolved"], direction={"resolved": bad})
    with pytest.raises(wc.InvalidParameterError, match=r"names 'minuts', which is not a metric"):
        exp.add_metric(["resolved"], direction={"minuts": "lower"})
    with pytest.raises(wc.InvalidParameterError, match="names 1, which is not a metric"):
        exp.add_metric(["resolved"], direction={1: "lower"})
    with pytest.raises(wc.InvalidParameterError, match="The 'direction' parameter of Metric"):
        wc.Metric("m", exp.table, "COUNT(*)", "team_id", direction="bigger")
    with pytest.raises(wc.InvalidParameterError, match="The 'direction' parameter of Ratio"):
        wc.Ratio("r", "minutes", "resolved", direction=-1)
    declared = wc.Ratio("r", "minutes", "resolved", direction="lower")
    with pytest.raises(wc.InvalidParameterError, match=r"says 'higher' for 'r', but its definition.*'lower'"):
        exp.add_metric([declared], direction={"r": "higher"})
    with pytest.raises(wc.InvalidParameterError, match="says 'higher' for 'r'"):
        exp.add_metric([declared], direction="higher")


def test_an_analysis_document_declares_directions(tmp_path) -> None:
    from warehouse_causal.surfaces.analysis_spec import run_spec
    from warehouse_causal.surfaces.spec_schema import ANALYSIS_SCHEMA, SpecError, check_document

    warehouse = wc.connect(tmp_path / "w.duckdb")
    warehouse.create_table("tickets", wc.datasets.tickets(rows=20_000, teams=100, seed=2).to_pyarrow())
    warehouse.disconnect()
    document = {"connection": "w.duckdb", "table": "tickets",
                "design": {"intent_to_treat": "assigned", "cluster_by": "team_id"},
                "metrics": ["resolved", "minutes"], "direction": {"minutes": "lower"},
                "decision": {"primary": "minutes", "evidence": "classical"}}
    check_document(document, ANALYSIS_SCHEMA, "analysis")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        result = run_spec(document, tmp_path)
        assert result["model"].spec.direction_of("minutes") is LOWER
        assert result["decision"].arms[0].verdict == "ship"
        assert run_spec({**document, "direction": "lower", "decision": {"primary": "resolved"}}, tmp_path
                        )["effects"].directions == {"resolved": LOWER, "minutes": LOWER}
        with pytest.raises(wc.InvalidParameterError, match="higher_is_better"):
            run_spec({**document, "decision": {"primary": "minutes", "higher_is_better": True}}, tmp_path)
    for bad, pointer in [({"minutes": "down"}, "/direction/minutes"), ("Lower", "/direction"),
                         (["lower"], "/direction")]:
        with pytest.raises(SpecError) as info:
            check_document({**document, "direction": bad}, ANALYSIS_SCHEMA, "analysis")
        assert info.value.path == pointer


def test_monitor_cards_are_green_only_for_checks_that_ran_and_passed() -> None:
    """A check that did not run (NaN statistic) was drawn with the green border of a pass."""
    from warehouse_causal.meaning import Status
    from warehouse_causal.monitoring.checks import CheckRow, MonitorReport
    from warehouse_causal.monitoring.report import render_monitor_html

    rows = tuple(CheckRow("design", name, 0.1, 0.2, status, "g", "d") for name, status in
                 [("passed", Status.OK), ("no data", Status.NOT_CHECKED), ("moved", Status.ALERT),
                  ("declined", Status.REFUSED)])
    report = MonitorReport(rows)
    page = render_monitor_html(report, report.layers)
    cards = re.findall(r'<div class="card ([^"]*)"><div class="metric">design · ([^<]+)<', page)
    found = {name: css for css, name in cards}
    assert found == {"passed": "good", "no data": "unchecked", "moved": "bad", "declined": "unchecked"}
    assert list(found) == ["moved", "no data", "declined", "passed"]  # alerts first, passes last
