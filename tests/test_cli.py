"""The demo command runs end to end and recovers the simulated effects."""

from __future__ import annotations

import re

import pytest

from warehouse_causal.datasets.support_rollout import DemoTruth
from warehouse_causal.surfaces.cli import main


def test_demo_prints_effects_close_to_truth(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--rows", "40000", "--teams", "200", "--sql"]) == 0
    out = capsys.readouterr().out
    assert "Effect of using the assistant on compliers" in out
    assert "-- pass1" in out and "GROUP BY" in out
    truth = DemoTruth()
    for metric in ("resolved", "minutes", "csat"):
        row = re.search(rf"^\s*{metric}\s+all\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", out, re.M)
        assert row, metric
        estimate, lower, upper = (float(row.group(i)) for i in (2, 3, 4))
        std_error = (upper - lower) / (2 * 1.96)  # ~ t with 199 df
        assert abs(estimate - getattr(truth, metric)) < 4 * std_error  # a 1-in-15,000 miss
    assert "Projected to a future mix" in out and "Net value" in out


def test_unknown_command_exits_with_usage() -> None:
    with pytest.raises(SystemExit) as info:
        main(["nope"])
    assert info.value.code == 2


def _analysis(tmp_path, suffix: str = ".json", **extra: object):
    import json

    import warehouse_causal as wc
    from warehouse_causal.datasets.support_rollout import simulate_support_rollout

    con = wc.connect(tmp_path / "warehouse.duckdb")
    con.create_table("tickets", simulate_support_rollout(20_000, 100, seed=5))
    con.disconnect()
    spec = {"connection": "warehouse.duckdb", "table": "tickets",
            "design": {"intent_to_treat": "assigned", "treated": "used", "cluster_by": "team_id",
                       "expected_split": {"0": 0.5, "1": 0.5}},
            "metrics": ["resolved", "minutes"], "covariates": ["tenure", "region"],
            "segments": ["region = 'apac'"],
            "decision": {"primary": "resolved", "guardrails": {"minutes": 1.0}}, **extra}
    path = tmp_path / f"analysis{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(spec))
    else:
        import yaml

        path.write_text(yaml.safe_dump(spec))
    return path


def test_run_json_format_for_agents(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["run", str(_analysis(tmp_path)), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["design"]["covariance"] == "CR1" and document["design"]["n_clusters"] == 100
    assert [(e["metric"], e["segment"]) for e in document["effects"]] == [
        ("resolved", "all"), ("resolved", "region = 'apac'"), ("minutes", "all"),
        ("minutes", "region = 'apac'")]
    assert document["decision"][0]["verdict"] in ("ship", "don't ship", "inconclusive")
    assert set(document["effects"][0]) >= {"estimate", "std_error", "av_p_value", "p_adjusted"}


def test_run_table_report_and_sql(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _analysis(tmp_path, ".yaml")
    report = tmp_path / "memo.md"
    assert main(["run", str(path), "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "| resolved | 1 | all |" in out and "wrote" in out
    assert report.read_text().startswith("# Experiment decision memo")
    assert main(["run", str(path), "--sql"]) == 0
    sql = capsys.readouterr().out
    assert "-- pass 1: cross products" in sql and "GROUP BY" in sql and "| resolved" not in sql


def test_run_rejects_unknown_keys(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"table": "t", "design": {}, "metrics": [], "metric": []}')
    assert main(["run", str(path)]) == 2  # one line on stderr, no traceback (tests/test_cli_inputs.py)
    assert re.search(r"/metric unknown key .metric.", capsys.readouterr().err)


def test_run_mediation_from_parquet(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from tests.test_mediation import simulate_dag

    simulate_dag(200, 5, 3).to_parquet(tmp_path / "dag.parquet")
    spec = {"table": {"parquet": "dag.parquet"}, "design": {"intent_to_treat": "T", "cluster_by": "g"},
            "metrics": ["Y"], "covariates": ["X1", "X2"], "fit": {"interacted": False},
            "graph": "T -> M1 -> Y; T -> Y"}
    (tmp_path / "mediation.json").write_text(json.dumps(spec))
    assert main(["run", str(tmp_path / "mediation.json"), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["mediation"]
    assert [r["path"] for r in rows] == ["T -> M1 -> Y", "T -> Y", "through M1", "total"]
    assert rows[0]["estimate"] + rows[1]["estimate"] == pytest.approx(rows[3]["estimate"], rel=1e-10)


def test_plan_json_and_markdown_match_the_python_api(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    import warehouse_causal as wc
    from warehouse_causal.datasets.support_rollout import simulate_support_rollout

    history = simulate_support_rollout(20_000, 100, seed=5)
    con = wc.connect(tmp_path / "history.duckdb")
    con.create_table("history", history)
    con.disconnect()
    spec = {"connection": "history.duckdb", "table": "history",
            "plan": {"arms": {"0": 0.5, "1": 0.5}, "cluster_by": "team_id", "compliance": 0.6},
            "metrics": ["resolved"], "covariates": ["pre_resolution"],
            "power": {"n": [100, 400]}, "sample_size": {"mde": 0.05}}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(spec))
    assert main(["plan", str(path), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    expected = wc.ExperimentPlan(wc.table(history), cluster_by="team_id", compliance=0.6).add_metric(
        "resolved", "pre_resolution").power(n=[100, 400])
    assert [r["mde"] for r in document["power"]["rows"]] == pytest.approx(
        [r["mde"] for r in expected.to_dicts()], rel=1e-12)
    assert document["sample_size"]["rows"][0]["n"] == expected.sample_size(mde=0.05).to_dicts()[0]["n"]
    assert main(["plan", str(path)]) == 0
    assert "Minimum detectable LATE" in capsys.readouterr().out
    path.write_text(json.dumps({**spec, "design": {}}))
    assert main(["plan", str(path)]) == 2
    assert "unknown key 'design'" in capsys.readouterr().err


def test_run_over_time_in_json_and_the_html_report(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    import warehouse_causal as wc

    con = wc.connect(tmp_path / "warehouse.duckdb")
    con.create_table("tickets", wc.datasets.tickets(rows=4000, teams=60).to_pyarrow())
    con.disconnect()
    spec = {"connection": "warehouse.duckdb", "table": "tickets",
            "design": {"intent_to_treat": "assigned", "cluster_by": "team_id"},
            "metrics": ["resolved"], "over_time": {"time": "day", "looks": 3}}
    path = tmp_path / "analysis.json"
    path.write_text(json.dumps(spec))
    assert main(["run", str(path), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [r["through"] for r in document["over_time"]] == [0, 6, 13]  # spread over days 0-13
    last, whole = document["over_time"][-1], document["effects"][0]
    assert last["estimate"] == pytest.approx(whole["estimate"], rel=1e-12)
    report = tmp_path / "report.html"
    assert main(["run", str(path), "--report", str(report)]) == 0
    assert report.read_text().count('class="over-time"') == 1
