"""Run after ``dbt build``: analyse the materialised tables in the warehouse and write the effects
back as the table ``experiment_effects``, and the post-launch checks of the ``production`` model as
``experiment_monitoring`` (downstream dbt models or BI read them from there).

    WC_DUCKDB_PATH=wc_example.duckdb python dbt_example/analyze.py

The write-back never replaces a table it did not write: every row this step writes carries
``analysed_by = 'warehouse_causal <version>'``, and an existing table of either name is replaced only
when every one of its rows carries such a value (a column merely named ``analysed_by`` is not
enough). Both targets are checked before either is written, and both are written in one
transaction: either both tables are new, or neither changed.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import warehouse_causal as wc

TABLE = "experiment_effects"
MONITORING = "experiment_monitoring"
#: Every row this step writes carries this value; a table without it belongs to someone else.
MARKER = f"warehouse_causal {wc.__version__}"
#: What any version of this step writes (a newer version may replace an older one's tables).
MARKER_PREFIX = "warehouse_causal "


def _quoted(raw: Any, name: str) -> str:
    """``name`` in the current database and schema, quoted (a temporary table of that name is not it)."""
    database, schema = raw.execute("SELECT current_database(), current_schema()").fetchall()[0]
    return ".".join('"' + part.replace('"', '""') + '"' for part in (database, schema, name))


def foreign(raw: Any, name: str) -> str | None:
    """Why the existing table ``name`` is not one this step wrote, or None (absent, or ours).

    Ours: a base table (not a view) with an ``analysed_by`` column whose every value starts with
    ``MARKER_PREFIX``; an empty table, or one with any other value (NULL included), is not."""
    found = raw.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = ? AND "
        "table_catalog = current_database() AND table_schema = current_schema()", [name]).fetchall()
    if not found:
        return None
    if any(kind != "BASE TABLE" for (kind,) in found):
        return "it is a view"
    columns = {c for (c,) in raw.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND "
        "table_catalog = current_database() AND table_schema = current_schema()", [name]).fetchall()}
    if "analysed_by" not in columns:
        return "it has no 'analysed_by' column"
    rows, ours = raw.execute(
        f"SELECT COUNT(*), COUNT(*) FILTER (WHERE starts_with(CAST(analysed_by AS VARCHAR), ?)) "
        f"FROM {_quoted(raw, name)}", [MARKER_PREFIX]).fetchall()[0]
    if rows == 0:
        return "it is empty, so nothing shows this step wrote it"
    if ours < rows:
        return (f"{rows - ours} of its {rows} rows have an 'analysed_by' value other than "
                f"'{MARKER_PREFIX}<version>'")
    return None


def write_tables(con: Any, frames: Mapping[str, Any]) -> None:
    """Write each frame as its table (with the ``analysed_by`` marker), all or none: every target is
    checked first, then all are replaced in one transaction. A target this step did not write stops
    the step (SystemExit naming it) before anything is written."""
    raw = con.con  # the DuckDB connection: one transaction around the checks and every write
    refused = [f"{name!r} ({why})" for name in frames if (why := foreign(raw, name)) is not None]
    if refused:
        raise SystemExit(
            f"{', '.join(refused)} already exist(s) and was not written by this analysis step; rename or "
            "drop it first. Nothing was written (every table is left untouched).")
    staged = {name: f"wc_staged_{uuid.uuid4().hex}" for name in frames}  # temporary views of the frames
    for name, frame in frames.items():
        raw.register(staged[name], frame.assign(analysed_by=MARKER))
    try:
        raw.execute("BEGIN TRANSACTION").fetchall()
        try:
            for name in frames:  # checked again inside the transaction: nothing changed in between
                why = foreign(raw, name)
                if why is not None:
                    raise SystemExit(f"{name!r} changed while this step ran ({why}); nothing was written.")
                target = _quoted(raw, name)
                raw.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {staged[name]}").fetchall()
            raw.execute("COMMIT").fetchall()
        except BaseException:
            raw.execute("ROLLBACK").fetchall()
            raise
    finally:
        for view in staged.values():
            raw.unregister(view)


def write_table(con: Any, name: str, frame: Any) -> None:
    """One table: :func:`write_tables` with a single target."""
    write_tables(con, {name: frame})


def main(path: str) -> int:
    con = wc.connect(path)
    assignments = con.table("assignments")
    exp = wc.ExperimentData(assignments, intent_to_treat="arm", cluster_by="team_id",
                            expected_split={0: 0.5, 1: 0.5})
    catalog = wc.load_metrics(Path(__file__).with_name("metrics.yml"), con)  # the metric definitions
    model = exp.add_metric(catalog["revenue"], [catalog["pre_revenue"], "tenure"]).fit(wc.LinearModel)
    effects = model.infer_effect(condition_on=["tenure > 5"])
    # after launch: the production model against the experiment (holdout teams kept on control)
    report = wc.Monitor(model, con.table("production"), "fortnight", holdout="in_holdout").check()
    write_tables(con, {TABLE: effects.to_pandas(), MONITORING: report.to_pandas()})
    print(effects)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1
                  else os.environ.get("WC_DUCKDB_PATH", "wc_example.duckdb")))
