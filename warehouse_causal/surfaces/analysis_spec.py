"""Run an analysis described by a JSON or YAML document (the CLI's ``run`` command).

Keys (all but ``table``, ``design.intent_to_treat`` and ``metrics`` optional)::

    connection: path to a DuckDB file, or duckdb://path (read-only; default: in-memory)
    table: a table name in that database, or {"parquet": "path/or/glob*.parquet"}
    design: {intent_to_treat, treated, propensity, instrument, cluster_by, control, weights,
             expected_split: {arm: share}, noncompliance}
    metrics: [column or SQL expression, or {ratio: name, numerator: ..., denominator: ...}, ...]
    covariates: [column or SQL expression, or {exposure_age: {time, exposure, by, max_age}}, ...]
    cap: {metric: upper percentile, or [lower, upper]}   # winsorization
    direction: lower, or {metric: higher | lower | neutral}   # which way is good (default higher)
    fit: {covariance, interacted, strategy, alpha}
    segments: [SQL condition, ...]
    effects: {relative, planned_n, adjust}
    decision: {primary, guardrails: {metric: tolerance}, higher_is_better, evidence, segment}
    graph: "T -> m1 -> y; T -> y"      # mediation of the first metric's effect
    quantiles: [{name, column, q} or a catalog name, ...]   # percentile effects (wc.Quantile)
    quantile_compliers: true            # quantiles as complier quantile effects (instrumented designs)
    projection: {mix: {condition: share, ...}, name}   # effects.project: a future mix of segments
    over_time: {time: column, looks: 20}   # the cumulative effect after each look (model.cumulative)
    metrics_file: metrics.yaml          # a metric catalog (wc.load_metrics): metrics and quantiles
                                        # may then name its entries; its caps and directions apply

A monitor document (the CLI's ``monitor`` command) is an analysis document's experiment part
(connection, table, design, metrics, covariates, cap, direction, fit, calibrate_with) and::

    monitor: {production: table, time, holdout, treated, unit, launched_arm, segments, guardrails,
              served, labelled, version: [column, tested version], expected_rows, thresholds: {...},
              alpha}

A plan document (the CLI's ``plan`` command) reads the history the same way::

    connection, table: as above (the pre-experiment history)
    plan: {arms: {arm: share}, cluster_by, compliance, propensity, time, unit}
    metrics, covariates: as above
    power: {alpha, power, n: [...], days: [...], sequential, correction}
    sample_size: {mde, relative}     # optional: the size that reaches this MDE

YAML needs PyYAML (``pip install 'warehouse_causal[yaml]'``); JSON needs nothing. Every document is
read within the limits of :mod:`warehouse_causal.core.documents` (a regular file of at most 1 MB,
depth 32, 1,000 entries per list or mapping, 100,000 values).
"""

from __future__ import annotations

import glob as globlib
import os
from pathlib import Path
from typing import Any

import duckdb

import warehouse_causal as wc
from warehouse_causal.core.errors import InvalidParameterError, SchemaError, closest_name
from warehouse_causal.design.catalog import read_document
from warehouse_causal.surfaces.spec_schema import ANALYSIS_SCHEMA, MONITOR_SCHEMA, PLAN_SCHEMA, check_document

__all__ = ["duckdb_path", "engine_message", "experiment_from", "load_monitor", "load_plan", "load_spec",
           "open_database", "open_table", "run_plan", "run_spec", "table_names"]

def load_spec(path: str | Path) -> dict[str, Any]:
    """Read an analysis document and check it against its JSON Schema (``warehouse-causal schema``)."""
    spec = read_document(path, "analysis settings")
    check_document(spec, ANALYSIS_SCHEMA, str(path))
    return spec


def load_plan(path: str | Path) -> dict[str, Any]:
    """Read a plan document and check it against its JSON Schema (``warehouse-causal schema plan``)."""
    spec = read_document(path, "plan settings")
    check_document(spec, PLAN_SCHEMA, str(path))
    return spec


def _table(spec: dict[str, Any], base: Path, con: Any = None) -> tuple[Any, Any]:
    """(connection, the experiment table); ``con`` (given by the agent server) is the only
    connection, and then ``table`` must be one of its tables."""
    if con is not None:
        return con, open_table(con, spec["table"])
    con = open_database(spec.get("connection"), base)
    source = spec["table"]
    if isinstance(source, dict) and "parquet" in source:
        return con, _read_parquet(con, base, source["parquet"])
    if isinstance(source, str):
        return con, open_table(con, source)
    raise InvalidParameterError("'table' must be a table name or {'parquet': path}.")


def open_database(connection: Any, base: Path) -> Any:
    """A document's ``connection``: a DuckDB file relative to the document (also written
    ``duckdb://path``), opened read-only, or in-memory DuckDB when absent, ``:memory:`` or
    ``duckdb://``. Any other URL is refused: a document analyses a DuckDB file (other warehouses: the
    Python API, or ``warehouse-causal mcp --connection URL``)."""
    path = duckdb_path(connection, "The 'connection' entry of the document")
    target = None if path is None else base / path
    try:
        return wc.connect(target, read_only=target is not None)  # an analysis writes nothing
    except duckdb.Error as err:
        raise InvalidParameterError(
            f"The 'connection' entry of the document names {str(target)!r}, which cannot be opened as a "
            f"DuckDB database: {engine_message(err)}") from None


def duckdb_path(connection: Any, owner: str) -> str | None:
    """The DuckDB file a connection string names (None: in-memory); ``duckdb://path`` is the path
    (``duckdb:///abs/path`` an absolute one). Other URLs, and URL parameters, are refused."""
    if connection is None or connection in ("", ":memory:"):
        return None
    text = str(connection)
    if "://" not in text:
        return text
    scheme, _, rest = text.partition("://")
    if scheme.lower() != "duckdb":
        raise InvalidParameterError(
            f"{owner} is a {scheme}:// URL; it must be a DuckDB file (a path, or duckdb://path). Other "
            "warehouses: the Python API (ibis.connect) or `warehouse-causal mcp --connection URL`.")
    if "?" in rest:
        raise InvalidParameterError(
            f"{owner} {text!r} has URL parameters; give the DuckDB file alone (it is opened read-only).")
    return None if rest in ("", ":memory:") else rest


def engine_message(err: BaseException) -> str:
    """The first line of an engine's error (DuckDB adds the SQL and a caret below it)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


def table_names(con: Any) -> list[str]:
    """The tables (and views) ``con.table(name)`` opens by their bare name: with DuckDB, those of
    the current database and schema and the temporary ones (not tables of other schemas)."""
    raw = getattr(con, "con", None)
    if raw is not None and hasattr(raw, "execute") and con.name == "duckdb":  # ibis list_tables: duckdb 2
        rows = raw.execute(
            "SELECT DISTINCT table_name FROM information_schema.tables WHERE (table_catalog = "
            "current_database() AND table_schema = current_schema()) OR table_catalog = 'temp' "
            "ORDER BY 1").fetchall()
        return [r[0] for r in rows]
    return list(con.list_tables())


def open_table(con: Any, name: str) -> Any:
    """``con.table(name)``, or a :class:`SchemaError` naming the table and the closest one."""
    names = table_names(con)
    if name not in names:
        close = closest_name(name, names)
        shown = names if len(names) <= 20 else [*names[:20], "..."]
        raise SchemaError(f"No table {name!r} in the connection" + (f"; did you mean {close!r}?" if close
                          else f"; it has {shown}."), column=None)
    return con.table(name)


def _read_parquet(con: Any, base: Path, pattern: str) -> Any:
    """``{"parquet": path or glob}``: every match must be a regular file (no FIFOs or devices), and
    the engine's refusal to read one (not Parquet) is an error naming the path."""
    where = f"The 'table' entry {{'parquet': {pattern!r}}}"
    full = str(base / pattern)
    if "://" not in pattern:
        matches = globlib.glob(full) if globlib.has_magic(full) else [full]
        if not any(os.path.lexists(m) for m in matches):
            raise InvalidParameterError(f"{where} matches no file (looked for {full!r}).")
        odd = [m for m in matches if not os.path.isfile(m)]
        if odd:
            raise InvalidParameterError(f"{where} matches {odd[0]!r}, which is not a regular file.")
    try:
        table = con.read_parquet(full)
        table.schema()
    except duckdb.Error as err:
        raise InvalidParameterError(f"{where} cannot be read as Parquet: {engine_message(err)}") from None
    return table


def experiment_from(table: Any, design: dict[str, Any]) -> wc.ExperimentData:
    """``ExperimentData`` of a document's ``design`` entry (JSON keys of ``expected_split`` that
    spell integers name integer arms)."""
    settings = dict(design)
    if "expected_split" in settings:
        settings["expected_split"] = {_arm(k): v for k, v in settings["expected_split"].items()}
    return wc.ExperimentData(table, **settings)


def run_spec(spec: dict[str, Any], base: Path = Path("."), *, con: Any = None,
             catalog: wc.MetricCatalog | None = None) -> dict[str, Any]:
    """Run the analysis; returns the fitted objects by name (model, effects, decision, mediation,
    quantiles, over_time). ``con`` and ``catalog`` are fixed by the agent server."""
    con, table = _table(spec, base, con)
    exp = experiment_from(table, spec["design"])
    if "metrics_file" in spec:
        catalog = wc.load_metrics(base / spec["metrics_file"], con)
    metrics = [catalog[m] if catalog is not None and isinstance(m, str) and m in catalog else _metric(m)
               for m in spec["metrics"]]
    covariates = [_covariate(c) for c in spec.get("covariates") or []]
    cap = {k: v for k, v in catalog.caps.items() if _uses(k, metrics)} if catalog is not None else {}
    cap.update({k: tuple(v) if isinstance(v, list) else v for k, v in dict(spec.get("cap") or {}).items()})
    named = exp.add_metric(metrics, covariates, cap=cap or None, calibrate_with=spec.get("calibrate_with"),
                           direction=spec.get("direction"))
    model = named.fit(wc.LinearModel, **spec.get("fit", {}))
    if "monitor" in spec:
        return {"experiment": exp, "model": model, "monitor": _monitor(spec["monitor"], model, con)}
    effects = model.infer_effect(condition_on=spec.get("segments"), **spec.get("effects", {}))
    out: dict[str, Any] = {"experiment": exp, "model": model, "effects": effects}
    if "decision" in spec:
        out["decision"] = effects.decide(**spec["decision"])
    if "graph" in spec:
        out["mediation"] = effects.with_graph(spec["graph"]).mediate_effect()
    if "quantiles" in spec:
        quantiles = [catalog[q] if catalog is not None and isinstance(q, str) else _quantile(q)
                     for q in spec["quantiles"]]
        out["quantiles"] = exp.infer_quantiles(quantiles, alpha=effects.alpha,
                                               compliers=bool(spec.get("quantile_compliers", False)))
    if "projection" in spec:
        out["projection"] = effects.project(**spec["projection"])
    if "over_time" in spec:
        out["over_time"] = model.cumulative(**spec["over_time"])
    return out


def load_monitor(path: str | Path) -> dict[str, Any]:
    """Read a monitor document and check it against its JSON Schema (``warehouse-causal schema monitor``)."""
    spec = read_document(path, "monitor settings")
    check_document(spec, MONITOR_SCHEMA, str(path))
    return spec


def _monitor(settings: dict[str, Any], model: Any, con: Any) -> Any:
    """The monitoring report of a monitor document's ``monitor`` entry."""
    settings = dict(settings)
    production = open_table(con, settings.pop("production"))
    alpha = settings.pop("alpha", 0.05)
    if "version" in settings:
        settings["version"] = tuple(settings["version"])
    if "thresholds" in settings:
        settings["thresholds"] = wc.Thresholds(**settings["thresholds"])
    if "launched_arm" in settings:
        settings["launched_arm"] = _arm(settings["launched_arm"])
    return wc.Monitor(model, production, settings.pop("time"), **settings).check(alpha)


def _uses(name: str, metrics: list[Any]) -> bool:
    """Whether a catalog cap applies: the metric, or a ratio's part, is in this analysis."""
    for metric in metrics:
        parts = [metric.numerator, metric.denominator] if isinstance(metric, wc.Ratio) else [metric]
        if any(getattr(p, "name", p) == name for p in parts):
            return True
    return False


def _covariate(entry: Any) -> Any:
    """A covariates entry: a column or SQL expression, or {exposure_age: {time, exposure, ...}}."""
    if not isinstance(entry, dict):
        return entry
    if set(entry) != {"exposure_age"} or not isinstance(entry["exposure_age"], dict):
        raise InvalidParameterError(
            "A covariates entry that is a mapping must be {exposure_age: {time, exposure, by, "
            f"max_age}}}}; got {entry!r}.")
    return wc.exposure_age(**entry["exposure_age"])


def _quantile(entry: Any) -> wc.Quantile:
    if not isinstance(entry, dict) or set(entry) != {"name", "column", "q"}:
        raise InvalidParameterError(f"A quantiles entry must be {{name, column, q}}; got {entry!r}.")
    return wc.Quantile(entry["name"], entry["column"], entry["q"])


def run_plan(spec: dict[str, Any], base: Path = Path("."), *, con: Any = None) -> dict[str, Any]:
    """Run the plan; returns the power table and, when asked, the sample sizes."""
    settings = dict(spec.get("plan", {}))
    if "arms" in settings:
        settings["arms"] = {_arm(k): v for k, v in settings["arms"].items()}
    plan = wc.ExperimentPlan(_table(spec, base, con)[1], **settings)
    power = plan.add_metric(spec["metrics"], spec.get("covariates")).power(**spec.get("power", {}))
    out: dict[str, Any] = {"power": power}
    if "sample_size" in spec:
        out["sample_size"] = power.sample_size(**spec["sample_size"])
    return out


def _metric(entry: Any) -> Any:
    """A metrics entry: a column or SQL expression, or a ratio ``{ratio, numerator, denominator}``."""
    if not isinstance(entry, dict):
        return entry
    if set(entry) != {"ratio", "numerator", "denominator"}:
        raise InvalidParameterError(
            f"A metrics entry that is a mapping must be a ratio {{ratio, numerator, denominator}}; got "
            f"keys {sorted(entry)}.")
    return wc.Ratio(entry["ratio"], entry["numerator"], entry["denominator"])


def _arm(key: Any) -> Any:
    """JSON object keys are strings; arms are often integers."""
    if isinstance(key, str) and key.lstrip("-").isdigit():
        return int(key)
    return key
