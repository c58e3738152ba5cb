"""Hostile inputs at the edges (issue 26, "Inputs"): the CLI and document reading, the MCP tools,
the API calls that read documents or data. Each case asserts its specific error and a time limit:
every CLI failure is one line on stderr with exit code 2 (``--debug`` adds the traceback), a
document is bounded before it is parsed (regular file, 1 MB, depth 32, 1,000 entries, 100,000
values), and nothing blocks, reads without bound or runs for minutes."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import warehouse_causal as wc
from warehouse_causal.core.documents import DOCUMENT_LIMITS, check_shape, parse_document
from warehouse_causal.core.errors import DocumentError
from warehouse_causal.surfaces.agent import Toolbox
from warehouse_causal.surfaces.cli import main

ROOT = Path(__file__).resolve().parents[1]
DESIGN = {"intent_to_treat": "assigned", "cluster_by": "team_id"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file with a tickets table, and a valid analysis document next to it."""
    path = tmp_path_factory.mktemp("inputs")
    con = wc.connect(path / "warehouse.duckdb")
    con.create_table("tickets", wc.datasets.tickets(rows=3000, teams=60).to_pyarrow())
    con.disconnect()
    (path / "analysis.json").write_text(json.dumps(_spec()))
    return path


def _spec(**extra: Any) -> dict[str, Any]:
    return {"connection": "warehouse.duckdb", "table": "tickets", "design": DESIGN, "metrics": ["resolved"],
            **extra}


def _write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def _cli(capsys: pytest.CaptureFixture[str], args: list[str], seconds: float = 20.0) -> tuple[int, str, str]:
    """Run the CLI in a thread; fail when it has not returned within ``seconds``."""
    result: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.update(code=main(args)), daemon=True)
    start = time.perf_counter()
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"warehouse-causal {' '.join(args)} ran for more than {seconds} s"
    assert time.perf_counter() - start < seconds
    captured = capsys.readouterr()
    return result["code"], captured.out, captured.err


def _refused(capsys: pytest.CaptureFixture[str], args: list[str], *needles: str,
             seconds: float = 20.0) -> str:
    """Exit code 2 and exactly one line on stderr, naming the problem (no traceback)."""
    code, _, err = _cli(capsys, args, seconds)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warehouse-causal: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# -- the CLI and document reading ------------------------------------------------------------------


def test_a_valid_document_runs(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, ["run", str(folder / "analysis.json")], seconds=60)
    assert code == 0 and "| resolved |" in out


def test_a_utf8_byte_order_mark_is_accepted(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(folder, "bom.json", b"\xef\xbb\xbf" + json.dumps(_spec()).encode())
    code, out, err = _cli(capsys, ["run", str(path)], seconds=60)
    assert code == 0 and "| resolved |" in out, err
    yaml = pytest.importorskip("yaml")
    path = _write(folder, "bom.yaml", b"\xef\xbb\xbf" + yaml.safe_dump(_spec()).encode())
    assert _cli(capsys, ["run", str(path)], seconds=60)[0] == 0


@pytest.mark.parametrize("content", ["", "   \n\t\n"], ids=["empty", "blank"])
def test_an_empty_document(folder: Path, capsys: pytest.CaptureFixture[str], content: str) -> None:
    path = _write(folder, "empty.json", content)
    _refused(capsys, ["run", str(path)], "'" + str(path) + "' is empty", seconds=5)


def test_dev_null_is_not_a_regular_file(capsys: pytest.CaptureFixture[str]) -> None:
    _refused(capsys, ["run", os.devnull], "'/dev/null' is a device; give a regular file", seconds=5)


def test_a_missing_file(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _refused(capsys, ["run", str(folder / "nope.json")], "nope.json' does not exist", seconds=5)
    _refused(capsys, ["plan", str(folder / "nope.json")], "plan settings file", "does not exist", seconds=5)
    _refused(capsys, ["monitor", str(folder / "nope.yaml")], "monitor settings file", "does not exist",
             seconds=5)


def test_a_directory(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "settings.json").mkdir(exist_ok=True)
    _refused(capsys, ["run", str(folder / "settings.json")], "is a directory, not a file", seconds=5)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_report_that_cannot_be_written(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _refused(capsys, ["run", str(folder / "analysis.json"), "--report", "/dev/full"],
             "--report '/dev/full' cannot be written: No space left on device", seconds=60)


def test_a_report_in_a_missing_folder_is_refused_before_the_analysis(
        folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _refused(capsys, ["run", str(folder / "analysis.json"), "--report", str(folder / "no" / "memo.md")],
             "does not exist", seconds=5)
    _refused(capsys, ["run", str(folder / "analysis.json"), "--report", str(folder)], "is a directory",
             seconds=5)


def test_json_nested_100k_deep(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(folder, "deep.json", "[" * 100_000 + "]" * 100_000)
    _refused(capsys, ["run", str(path)], "nested deeper than 32 levels", seconds=5)
    nested: Any = "x"
    for _ in range(40):
        nested = [nested]
    path = _write(folder, "deep40.json", json.dumps(_spec(segments=[nested])))
    _refused(capsys, ["run", str(path)], "nested deeper than 32 levels at /segments/0/0", seconds=5)


def test_a_yaml_python_tag_is_refused_not_run(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("yaml")
    marker = folder / "tag-ran"
    path = _write(folder, "tag.yaml", f"table: !!python/object/apply:os.system ['touch {marker}']\n"
                                      "design: {intent_to_treat: assigned}\nmetrics: [resolved]\n")
    _refused(capsys, ["run", str(path)], "is not plain YAML data", "python/object/apply:os.system",
             "tags such as !!python/object are refused", seconds=5)
    assert not marker.exists()
    path = _write(folder, "tag2.yaml", "table: !!python/object:builtins.dict {}\n")
    _refused(capsys, ["run", str(path)], "python/object:builtins.dict", seconds=5)


def test_metrics_file_that_is_not_yaml(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(folder, "mf.json", json.dumps(_spec(metrics_file="warehouse.duckdb")))
    _refused(capsys, ["run", str(path)], "metric definitions file", "warehouse.duckdb' is not UTF-8 text",
             seconds=10)
    _write(folder, "metrics.yaml", "metrics: [unclosed\n")
    path = _write(folder, "mf2.json", json.dumps(_spec(metrics_file="metrics.yaml")))
    _refused(capsys, ["run", str(path)], "metrics.yaml' is not valid YAML", seconds=10)


def test_a_table_that_does_not_exist(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(folder, "nt.json", json.dumps(_spec(table="tickts")))
    _refused(capsys, ["run", str(path)], "No table 'tickts' in the connection; did you mean 'tickets'?",
             seconds=10)


def test_a_parquet_entry_that_is_not_parquet(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_parquet = _write(folder, "passwd", "root:x:0:0:root:/root:/bin/bash\n")
    path = _write(folder, "pq.json", json.dumps(_spec(table={"parquet": str(not_parquet)})))
    _refused(capsys, ["run", str(path)], "cannot be read as Parquet", seconds=10)
    path = _write(folder, "pq2.json", json.dumps(_spec(table={"parquet": "nothing/*.parquet"})))
    _refused(capsys, ["run", str(path)], "matches no file", seconds=10)
    if Path("/etc/passwd").exists():
        path = _write(folder, "pq3.json", json.dumps(_spec(table={"parquet": "/etc/passwd"})))
        _refused(capsys, ["run", str(path)], "{'parquet': '/etc/passwd'} cannot be read as Parquet",
                 seconds=10)


def _subprocess(args: list[str], seconds: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "warehouse_causal", *args], capture_output=True, text=True,
                          env=env, timeout=seconds)
    assert time.perf_counter() - start < seconds
    return done


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_dev_zero_is_refused_without_reading_it() -> None:
    done = _subprocess(["run", "/dev/zero"], seconds=60)  # unfixed: reads until memory runs out
    assert done.returncode == 2
    assert done.stderr.strip() == ("warehouse-causal: error: The analysis settings file '/dev/zero' is a "
                                   "device; give a regular file.")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_with_no_writer_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "analysis.json"
    os.mkfifo(fifo)
    done = _subprocess(["run", str(fifo)], seconds=60)  # unfixed: blocks forever in open()
    assert done.returncode == 2
    assert "is a FIFO (named pipe); give a regular file" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


ALIAS_BOMB = """\
connection: warehouse.duckdb
table: tickets
design: {intent_to_treat: assigned}
metrics: [resolved]
segments:
  - &a ["region = 'apac'", "region = 'apac'", "region = 'apac'", "region = 'apac'", "region = 'apac'"]
  - &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
  - &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
  - &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
  - &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
  - &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
  - &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
"""


def test_a_yaml_alias_bomb_in_segments(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("yaml")
    path = _write(folder, "bomb.yaml", ALIAS_BOMB)
    _refused(capsys, ["run", str(path)], "holds more than 100,000 values in all", "YAML aliases count",
             seconds=5)
    # an alias that stays small is ordinary YAML
    small = _write(folder, "alias.yaml", "connection: warehouse.duckdb\ntable: tickets\n"
                                        "design: {intent_to_treat: assigned, cluster_by: team_id}\n"
                                        "metrics: [&m resolved]\ndecision: {primary: *m}\n")
    assert _cli(capsys, ["run", str(small)], seconds=60)[0] == 0


def test_a_10_mb_document_with_600k_segments(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(folder, "huge.json", json.dumps(_spec(segments=["region = 'apac'"] * 600_000)))
    assert path.stat().st_size > 10_000_000
    _refused(capsys, ["run", str(path)], "is larger than 1 MB, the limit", seconds=5)
    path = _write(folder, "long.json", json.dumps(_spec(segments=["x"] * 1001)))
    _refused(capsys, ["run", str(path)], "/segments has more than 1,000 entries (1,001)", seconds=5)


def test_every_error_is_one_line_and_debug_shows_the_traceback(folder: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(folder, "empty.json", "")
    for args in (["--debug", "run", str(path)], ["run", str(path), "--debug"]):
        code, _, err = _cli(capsys, args, seconds=5)
        assert code == 2 and "Traceback (most recent call last)" in err and "DocumentError" in err
        assert err.strip().splitlines()[-1].startswith("warehouse-causal: error: ")


def test_document_connections(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(folder, "url.json", json.dumps(_spec(connection="duckdb://warehouse.duckdb")))
    assert _cli(capsys, ["run", str(path)], seconds=60)[0] == 0  # the same file, read-only
    path = _write(folder, "pg.json", json.dumps(_spec(connection="postgres://host/db")))
    _refused(capsys, ["run", str(path)], "is a postgres:// URL; it must be a DuckDB file", seconds=5)
    path = _write(folder, "nofile.json", json.dumps(_spec(connection="duckdb://missing.duckdb")))
    _refused(capsys, ["run", str(path)], "not an existing DuckDB file", seconds=5)
    path = _write(folder, "notdb.json", json.dumps(_spec(connection="analysis.json")))
    _refused(capsys, ["run", str(path)], "cannot be opened as a DuckDB database", seconds=10)


def _hold_lock(database: Path) -> subprocess.Popen[str]:
    """Another process with the DuckDB file open for writing (until killed)."""
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('locked', flush=True); sys.stdin.read()", str(database)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_a_database_locked_by_another_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "locked.duckdb"
    con = wc.connect(database)
    con.create_table("tickets", wc.datasets.tickets(rows=500, teams=20).to_pyarrow())
    con.disconnect()
    path = _write(tmp_path, "analysis.json", json.dumps(_spec(connection="locked.duckdb")))
    holder = _hold_lock(database)
    try:
        _refused(capsys, ["run", str(path)], "cannot be opened as a DuckDB database", "lock", seconds=10)
        _refused(capsys, ["mcp", "--connection", str(database)], "cannot be opened as a DuckDB database",
                 "lock", seconds=10)
    finally:
        holder.kill()
        holder.wait()


# -- the limits themselves ---------------------------------------------------------------------------


def test_the_limits_are_the_documented_ones() -> None:
    assert (DOCUMENT_LIMITS.max_bytes, DOCUMENT_LIMITS.max_depth, DOCUMENT_LIMITS.max_items,
            DOCUMENT_LIMITS.max_values) == (1_000_000, 32, 1_000, 100_000)
    check_shape({"segments": ["x"] * 1000}, "doc")
    with pytest.raises(DocumentError, match=r"doc: /segments has more than 1,000 entries"):
        check_shape({"segments": ["x"] * 1001}, "doc")
    with pytest.raises(DocumentError, match=r"doc: the document has more than 1,000 entries"):
        check_shape({str(i): i for i in range(1001)}, "doc")
    shared: list[Any] = ["x"] * 1000
    with pytest.raises(DocumentError, match="more than 100,000 values"):  # shared lists count each time
        check_shape([[shared] * 1000], "doc")
    nested: Any = "x"
    for _ in range(32):
        nested = [nested]
    check_shape(nested, "doc")
    with pytest.raises(DocumentError, match="nested deeper than 32 levels"):
        check_shape([nested], "doc")
    with pytest.raises(DocumentError, match=r"not valid JSON: Expecting value at line 1 column 7"):
        parse_document('{"a": }', "doc")


# -- the MCP tools -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file with a table in another schema too."""
    path = tmp_path_factory.mktemp("schemas") / "warehouse.duckdb"
    con = wc.connect(path)
    con.create_table("tickets", wc.datasets.tickets(rows=3000, teams=60).to_pyarrow())
    con.raw_sql("CREATE SCHEMA s; CREATE TABLE s.t AS SELECT 1 AS a; CREATE VIEW v AS SELECT 2 AS b")
    con.disconnect()
    return path


@pytest.fixture(scope="module")
def toolbox(schemas: Path) -> Toolbox:
    return Toolbox.open(str(schemas))


def test_describe_with_a_table_in_another_schema(toolbox: Toolbox) -> None:
    start = time.perf_counter()
    answer, failed = toolbox.call("describe", {})
    assert not failed, answer
    assert [t["table"] for t in answer["tables"]] == ["tickets", "v"]  # the default schema's tables
    answer, failed = toolbox.call("describe", {"tables": ["t"]})
    assert failed and answer["error"]["class"] == "SchemaError"
    assert "No table 't'" in answer["error"]["message"]
    assert time.perf_counter() - start < 20


@pytest.mark.parametrize("key", ["segments", "covariates", "metrics"])
def test_million_element_arrays_are_refused_at_once(toolbox: Toolbox, key: str) -> None:
    arguments = {"table": "tickets", "design": DESIGN, "metrics": ["resolved"],
                 key: ["tenure > 1"] * 1_000_000}
    start = time.perf_counter()
    answer, failed = toolbox.call("analyze", arguments)
    assert time.perf_counter() - start < 5
    assert failed and answer["error"]["class"] == "DocumentError"
    assert answer["error"]["path"] == f"/{key}" and answer["error"]["parameter"] == key
    assert f"/{key} has more than 1,000 entries (1,000,000)" in answer["error"]["message"]
    answer, failed = toolbox.call("describe", {"tables": ["tickets"] * 1_000_000})
    assert failed and "more than 1,000 entries" in answer["error"]["message"]


@pytest.mark.parametrize("seconds", [math.nan, math.inf, 0.0, -1.0, "10"], ids=repr)
def test_the_budget_is_refused_at_startup(schemas: Path, toolbox: Toolbox, seconds: Any) -> None:
    with pytest.raises(wc.InvalidParameterError,
                       match=r"'max_seconds' parameter of Toolbox \(--max-seconds\)"):
        Toolbox(toolbox.con, max_seconds=seconds)
    with pytest.raises(wc.InvalidParameterError, match="'max_rows_scanned' parameter"):
        Toolbox(toolbox.con, max_rows_scanned=0)


def test_max_seconds_nan_on_the_command_line(schemas: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _refused(capsys, ["mcp", "--connection", str(schemas), "--max-seconds", "nan"],
             "The 'max_seconds' parameter of Toolbox (--max-seconds) must be a finite number in (0, inf). "
             "Got nan instead.", seconds=5)


def test_a_duckdb_url_connection_is_the_file_read_only(schemas: Path) -> None:
    done = subprocess.run(  # a fresh process: DuckDB shares one instance per file within a process
        [sys.executable, "-c", "import sys; from warehouse_causal.surfaces.agent import Toolbox; "
         "con = Toolbox.open('duckdb://' + sys.argv[1]).con.con; print(con.execute(\"SELECT "
         "current_setting('access_mode'), current_setting('enable_external_access')\").fetchone())",
         str(schemas)], capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "('read_only', False)"
    with pytest.raises(wc.InvalidParameterError, match="must name a DuckDB file"):
        Toolbox.open("duckdb://")


def test_a_conversion_error_in_a_condition_is_a_structured_query_error(toolbox: Toolbox) -> None:
    design = {"intent_to_treat": "assigned", "cluster_by": "team_id"}
    assert not toolbox.call("check_design", {"table": "tickets", "design": design})[1]
    answer, failed = toolbox.call("analyze", {"table": "tickets", "design": design, "metrics": ["resolved"],
                                              "covariates": ["region", "tenure"],
                                              "segments": ["CAST(region AS INTEGER) > tenure"]})
    assert failed and answer["error"]["class"] == "QueryError", answer
    assert "Could not convert string" in answer["error"]["message"] and "CAST" in answer["error"]["hint"]


# -- the API -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def con() -> Any:
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({"arm": rng.integers(0, 2, n), "x": rng.normal(size=n),
                          "region": rng.choice(["a", "b"], n), "w": 1.0, "p": 0.5})
    frame["y"] = 0.3 * frame.arm + frame.x + rng.normal(size=n)
    connection = wc.connect()
    connection.create_table("t", frame)
    return connection


def _design(con: Any, frame_change: Any, **design: Any) -> wc.ExperimentData:
    frame = con.table("t").to_pandas()
    frame_change(frame)
    return wc.ExperimentData(wc.table(frame), intent_to_treat="arm", **design)


@pytest.mark.parametrize("change, design, match", [
    (lambda f: f.__setitem__("w", np.where(np.arange(len(f)) == 3, np.inf, 1.0)), {"weights": "w"},
     r"Found 1 infinite weights in the weights column 'w'"),
    (lambda f: f.__setitem__("w", 0.0), {"weights": "w"}, r"Every weight in the weights column 'w' is 0"),
    (lambda f: f.__setitem__("w", np.where(f.arm == 1, 0.0, 1.0)), {"weights": "w"},
     r"Every row of arm\(s\) \['1'\] of 'arm' has weight 0 in 'w'"),
    (lambda f: f.__setitem__("p", np.where(np.arange(len(f)) == 3, 1e-300, 0.5)), {"propensity": "p"},
     r"Found 1 propensities below 1e-09 in 'p'"),
    (lambda f: f.__setitem__("w", np.where(np.arange(len(f)) == 3, 1.5e308, 1.0)),
     {"weights": "w", "propensity": "p"}, r"weight \(weights × 1/propensity, from 'w'\) overflows"),
], ids=["inf weight", "all-zero weights", "an arm of zero weights", "propensity 1e-300", "overflow"])
def test_weights_and_propensities_get_their_own_message(con: Any, change: Any, design: dict[str, Any],
                                                       match: str) -> None:
    start = time.perf_counter()
    with pytest.raises(wc.DesignError, match=match):
        _design(con, change, **design).add_metric("y").fit(wc.LinearModel)
    assert time.perf_counter() - start < 10


def test_a_cap_of_three_values(con: Any) -> None:
    exp = wc.ExperimentData(con.table("t"), intent_to_treat="arm")
    with pytest.raises(wc.InvalidParameterError,
                       match=r"'cap' parameter of ExperimentData.add_metric: the cap of 'y' must be an upper "
                             r"percentile in \(0, 1\) or a \(lower, upper\) pair; got 3 values"):
        exp.add_metric("y", cap={"y": (0.1, 0.5, 0.9)})


def test_a_conversion_error_in_a_condition_names_the_condition(con: Any) -> None:
    model = wc.ExperimentData(con.table("t"), intent_to_treat="arm").add_metric("y", ["region", "x"]) \
        .fit(wc.LinearModel)
    with pytest.raises(wc.errors.QueryError, match=r"CAST\(region AS INTEGER\) > x"):
        model.infer_effect(condition_on=["CAST(region AS INTEGER) > x"])


def test_connect_to_a_locked_file_names_the_lock(tmp_path: Path) -> None:
    database = tmp_path / "locked.duckdb"
    wc.connect(database).disconnect()
    holder = _hold_lock(database)
    try:
        with pytest.raises(wc.InvalidParameterError, match=r"'target' parameter of connect.*lock"):
            wc.connect(database, read_only=True)
    finally:
        holder.kill()
        holder.wait()


def test_policy_on_an_empty_reward_distribution() -> None:
    from warehouse_causal.algebra.bayes import MultivariateT
    from warehouse_causal.decide.policy import RewardDistribution

    with pytest.raises(wc.InvalidParameterError, match=r"'arms' parameter of RewardDistribution is empty"):
        wc.Policy(RewardDistribution((), MultivariateT(np.zeros(0), np.zeros((0, 0)), math.inf), "y"))
    with pytest.raises(wc.InvalidParameterError, match=r"'rewards' parameter of RewardDistribution must be "
                                                       r"over the 2 arm\(s\)"):
        RewardDistribution((0, 1), MultivariateT(np.zeros(3), np.eye(3), math.inf), "y")
    one = RewardDistribution((0,), MultivariateT(np.zeros(1), np.eye(1), math.inf), "y")
    assert wc.Policy(one).decide(rng=0) == 0 and wc.Policy(one).probabilities() == {0: 1.0}


def _reward_model() -> str:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"arm": rng.integers(0, 2, 300), "x": rng.normal(size=300)})
    frame["y"] = frame.arm + frame.x + rng.normal(size=300)
    bayes = wc.ExperimentData(wc.table(frame), intent_to_treat="arm").add_metric("y", ["x"]) \
        .fit(wc.BayesianLinearRegression)
    return bayes.to_json()


def test_load_model_deep_json_and_paths(tmp_path: Path) -> None:
    start = time.perf_counter()
    with pytest.raises(DocumentError, match="load_model: the document is nested deeper than 32 levels"):
        wc.load_model("[" * 200_000 + "]" * 200_000)
    with pytest.raises(DocumentError, match="load_model: the document is nested deeper than 32 levels"):
        wc.load_model('{"a": ' + "[" * 200_000 + "]" * 200_000 + "}")
    assert time.perf_counter() - start < 5
    text = _reward_model()
    path = tmp_path / "model.json"
    path.write_text(text)
    assert wc.load_model(str(path)).to_json() == wc.load_model(path).to_json() \
        == wc.load_model(text).to_json()
    with pytest.raises(DocumentError,
                       match=r"load_model: 'nope\.json' is neither JSON text .* nor an existing file"):
        wc.load_model("nope.json")
    with pytest.raises(DocumentError, match=r"load_model: The reward model file '/dev/zero' is a device"):
        wc.load_model("/dev/zero")
    with pytest.raises(DocumentError, match=r"load_model: the document is not valid JSON"):
        wc.load_model("{not json")
