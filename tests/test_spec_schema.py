"""The analysis and plan JSON Schemas: the package's own checker agrees with the ``jsonschema``
package (the oracle) on valid and invalid documents, and names the JSON path of the error."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from warehouse_causal.surfaces.cli import main
from warehouse_causal.surfaces.spec_schema import (
    ANALYSIS_SCHEMA,
    PLAN_SCHEMA,
    SpecError,
    check_document,
    schema_errors,
)

jsonschema = pytest.importorskip("jsonschema")

VALID: dict[str, Any] = {
    "connection": "w.duckdb", "table": "tickets",
    "design": {"intent_to_treat": "assigned", "treated": "used", "cluster_by": "team_id",
               "expected_split": {"0": 0.5, "1": 0.5}, "control": 0, "noncompliance": "one-sided"},
    "metrics": ["resolved", "minutes * 60",
                {"ratio": "aov", "numerator": "revenue", "denominator": "orders"}],
    "covariates": ["tenure", {"exposure_age": {"time": "day", "exposure": "exposed", "max_age": 10}}],
    "cap": {"minutes": 0.99, "revenue": [0.01, 0.99]},
    "direction": {"minutes": "lower", "aov": "neutral"},
    "fit": {"covariance": "CR1", "interacted": True, "alpha": 0.05},
    "segments": ["region = 'apac'"], "effects": {"relative": True, "planned_n": 400, "adjust": "bh"},
    "decision": {"primary": "resolved", "guardrails": {"minutes": 1.0}},
    "graph": "T -> m -> resolved; T -> resolved",
    "quantiles": ["latency_p95", {"name": "p50", "column": "minutes", "q": 0.5}],
    "over_time": {"time": "created_at", "looks": 14},
}

#: (change, expected JSON pointer of the error)
BROKEN: list[tuple[str, Any, str]] = [
    ("metric", ["x"], "/metric"),
    ("design", {"treated": "used"}, "/design"),
    ("design", {"intent_to_treat": "a", "cluster": "g"}, "/design/cluster"),
    ("design", {"intent_to_treat": 3}, "/design/intent_to_treat"),
    ("metrics", [], "/metrics"),
    ("metrics", ["ok", 5], "/metrics/1"),
    ("metrics", [{"ratio": "r", "numerator": "a"}], "/metrics/0"),
    ("fit", {"covariance": "HC9"}, "/fit/covariance"),
    ("fit", {"alpha": 1.5}, "/fit/alpha"),
    ("fit", {"interacted": "yes"}, "/fit/interacted"),
    ("effects", {"planned_n": 1}, "/effects/planned_n"),
    ("effects", {"planned_n": True}, "/effects/planned_n"),
    ("cap", {"minutes": 1.0}, "/cap/minutes"),
    ("cap", {"minutes": [0.1, 0.5, 0.9]}, "/cap/minutes"),
    ("direction", {"minutes": "down"}, "/direction/minutes"),
    ("direction", {"minutes": None}, "/direction/minutes"),
    ("direction", "Lower", "/direction"),
    ("direction", True, "/direction"),
    ("decision", {"primary": "x", "higher_is_better": "no"}, "/decision/higher_is_better"),
    ("segments", "region = 'apac'", "/segments"),
    ("over_time", {"looks": 3}, "/over_time"),
    ("over_time", {"time": "d", "looks": 1000}, "/over_time/looks"),
    ("decision", {"primary": "x", "guardrails": {"m": "big"}}, "/decision/guardrails/m"),
    ("table", 7, "/table"),
    ("table", {"csv": "x.csv"}, "/table/csv"),
]


def test_the_valid_document_passes_both_checkers() -> None:
    jsonschema.Draft202012Validator.check_schema(ANALYSIS_SCHEMA)
    jsonschema.Draft202012Validator.check_schema(PLAN_SCHEMA)
    jsonschema.validate(VALID, ANALYSIS_SCHEMA)
    assert schema_errors(VALID, ANALYSIS_SCHEMA) == []


@pytest.mark.parametrize(("key", "value", "pointer"), BROKEN)
def test_broken_documents_fail_both_checkers_at_the_same_path(key: str, value: Any, pointer: str) -> None:
    document = copy.deepcopy(VALID)
    document[key] = value
    oracle = list(jsonschema.Draft202012Validator(ANALYSIS_SCHEMA).iter_errors(document))
    assert oracle, "the oracle accepts the broken document"
    errors = schema_errors(document, ANALYSIS_SCHEMA)
    assert errors and errors[0][0] == pointer
    with pytest.raises(SpecError, match=pointer) as info:
        check_document(document, ANALYSIS_SCHEMA, "analysis.json")
    assert info.value.path == pointer


def test_non_finite_numbers_are_refused() -> None:
    document = copy.deepcopy(VALID)
    document["fit"]["alpha"] = float("nan")
    assert schema_errors(document, ANALYSIS_SCHEMA)[0][0] == "/fit/alpha"


def test_schema_command_prints_the_schema_and_run_names_the_path(tmp_path, capsys: pytest.CaptureFixture[str]
                                                                  ) -> None:
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(ANALYSIS_SCHEMA))
    assert main(["schema", "plan"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "warehouse_causal plan"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"table": "t", "design": {"intent_to_treat": "a", "clusterby": "g"},
                                "metrics": ["y"]}))
    assert main(["run", str(path)]) == 2  # the CLI prints the SpecError as one line
    assert "/design/clusterby unknown key 'clusterby'" in capsys.readouterr().err
