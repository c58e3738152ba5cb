"""The dbt example's write-back step (dbt_example/analyze.py, issue 26) without dbt: a table is
replaced only when every row carries this step's marker value (a column merely named
``analysed_by`` is not enough), every target is checked before any is written, and the writes are
one transaction (a failure half-way leaves every table as it was)."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pandas as pd
import pytest

import warehouse_causal as wc

PROJECT = Path(__file__).resolve().parents[1] / "dbt_example"


@pytest.fixture(scope="module")
def analyze() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dbt_analyze", PROJECT / "analyze.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def con(tmp_path: Path) -> Any:
    connection = wc.connect(tmp_path / "warehouse.duckdb")
    yield connection
    connection.disconnect()


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    """What the step writes: an effects table and a monitoring table (small, real ones)."""
    effects = wc.ExperimentData(wc.datasets.tickets(rows=3000, teams=60), intent_to_treat="assigned",
                                cluster_by="team_id").add_metric("resolved").fit(wc.LinearModel).infer_effect()
    monitoring = pd.DataFrame({"layer": ["population"], "check": ["drift"], "status": ["ok"], "value": [0.1]})
    return {"experiment_effects": effects.to_pandas(), "experiment_monitoring": monitoring}


def _rows(con: Any, name: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in con.con.execute(f'SELECT * FROM "{name}"').fetchall()]


def _names(con: Any) -> set[str]:
    return {r[0] for r in con.con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def test_writes_both_with_the_marker_and_replaces_its_own(analyze: ModuleType, con: Any,
                                                          frames: dict[str, pd.DataFrame]) -> None:
    start = time.perf_counter()
    analyze.write_tables(con, frames)
    for name, frame in frames.items():
        written = con.table(name).to_pandas()
        assert len(written) == len(frame) and (written.analysed_by == analyze.MARKER).all()
    analyze.write_tables(con, frames)  # its own tables: replaced
    # an older version's tables: replaced too
    con.con.execute("UPDATE experiment_effects SET analysed_by = 'warehouse_causal 0.0.1'").fetchall()
    analyze.write_tables(con, frames)
    assert (con.table("experiment_effects").to_pandas().analysed_by == analyze.MARKER).all()
    assert not any(n.startswith("wc_staged_") for n in _names(con))  # the staged frames are gone
    assert time.perf_counter() - start < 20


@pytest.mark.parametrize("setup, why", [
    ("CREATE TABLE experiment_effects AS SELECT 'mine' AS analysed_by, 42 AS revenue",
     "1 of its 1 rows have an 'analysed_by' value other than 'warehouse_causal <version>'"),
    ("CREATE TABLE experiment_effects AS SELECT * FROM (VALUES ('warehouse_causal 1.0'), (NULL)) "
     "v(analysed_by)",
     "1 of its 2 rows have an 'analysed_by' value"),
    ("CREATE TABLE experiment_effects (analysed_by VARCHAR)", "it is empty"),
    ("CREATE TABLE experiment_effects AS SELECT 1 AS mine", "it has no 'analysed_by' column"),
    ("CREATE VIEW experiment_effects AS SELECT 'warehouse_causal 1.0' AS analysed_by", "it is a view"),
], ids=["other marker", "a NULL marker", "empty", "no marker column", "a view"])
def test_a_users_table_is_never_replaced(analyze: ModuleType, con: Any, frames: dict[str, pd.DataFrame],
                                         setup: str, why: str) -> None:
    con.con.execute(setup).fetchall()
    before = _rows(con, "experiment_effects")
    with pytest.raises(SystemExit, match="not written by this analysis step") as info:
        analyze.write_tables(con, frames)
    assert why in str(info.value) and "Nothing was written" in str(info.value)
    assert _rows(con, "experiment_effects") == before
    assert "experiment_monitoring" not in _names(con)  # checked first: the other target was not written


def test_a_refused_second_target_leaves_the_first_untouched(analyze: ModuleType, con: Any,
                                                            frames: dict[str, pd.DataFrame]) -> None:
    analyze.write_tables(con, {"experiment_effects": frames["experiment_effects"]})
    before = _rows(con, "experiment_effects")
    con.con.execute("CREATE TABLE experiment_monitoring AS SELECT 1 AS mine").fetchall()
    changed = {**frames, "experiment_effects": frames["experiment_effects"].assign(estimate=0.0)}
    with pytest.raises(SystemExit, match=r"'experiment_monitoring' \(it has no 'analysed_by' column\)"):
        analyze.write_tables(con, changed)
    assert _rows(con, "experiment_effects") == before
    assert _rows(con, "experiment_monitoring") == [(1,)]


class _FailingSecondWrite:
    """The DuckDB connection, except that the second CREATE fails (a disk full half-way)."""

    def __init__(self, raw: Any):
        self.raw, self.creates = raw, 0

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.startswith("CREATE OR REPLACE TABLE"):
            self.creates += 1
            if self.creates == 2:
                raise OSError("No space left on device")
        return self.raw.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def test_the_writes_are_one_transaction(analyze: ModuleType, con: Any,
                                        frames: dict[str, pd.DataFrame]) -> None:
    analyze.write_tables(con, frames)
    before = {name: _rows(con, name) for name in frames}
    changed = {name: frame.assign(analysed_by_run=2) for name, frame in frames.items()}
    with pytest.raises(OSError, match="No space left"):
        analyze.write_tables(SimpleNamespace(con=_FailingSecondWrite(con.con)), changed)
    assert {name: _rows(con, name) for name in frames} == before  # the first write was rolled back
    assert not any(n.startswith("wc_staged_") for n in _names(con))
