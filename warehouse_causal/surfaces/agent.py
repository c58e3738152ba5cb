"""The agent tools: a few comprehensive functions over one fixed, read-only connection, each taking a
JSON object (checked against its published JSON Schema) and returning a self-describing JSON answer
or a structured error. :mod:`warehouse_causal.surfaces.mcp_server` serves them over MCP; they need no MCP
package and are tested directly too.

Safety, for anything an agent sends:

* one connection, chosen by whoever starts the server: DuckDB files are opened read-only with file
  access disabled inside SQL (``enable_external_access = false``, configuration locked); a spec
  cannot name another connection, a parquet path or a metric-catalog file;
* SQL only through the package's allow-list of scalar expressions (no statements, subqueries,
  functions outside the list), so a "write" is a refused expression before any query runs;
* a query budget per call (rows scanned and seconds, :mod:`warehouse_causal.warehouse.budget`);
* every failure is ``{"error": {"class", "parameter", "path", "message", "hint"}}``, never a
  traceback; the design must pass ``check_design`` before ``analyze`` or ``policy`` use it.
"""

from __future__ import annotations

import copy
import json
import math
import re
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import ibis
from ibis.backends import BaseBackend

import warehouse_causal as wc
from warehouse_causal.core.documents import DOCUMENT_LIMITS, check_shape
from warehouse_causal.core.errors import (
    DesignError,
    ExpressionError,
    InvalidParameterError,
    QueryError,
    WarehouseCausalError,
)
from warehouse_causal.core.tables import strict_json
from warehouse_causal.core.validation import Integer, Real, check_param
from warehouse_causal.surfaces import sentences
from warehouse_causal.surfaces.analysis_spec import (
    duckdb_path,
    engine_message,
    experiment_from,
    open_table,
    run_plan,
    run_spec,
    table_names,
)
from warehouse_causal.surfaces.answers import (
    analysis_answer,
    assumptions,
    estimand,
    query_log,
    sample_ratio_check,
)
from warehouse_causal.surfaces.spec_schema import (
    ANALYSIS_SCHEMA,
    DESIGN,
    MONITOR_SCHEMA,
    PLAN_SCHEMA,
    check_document,
)
from warehouse_causal.warehouse.backends import QueryRunner
from warehouse_causal.warehouse.budget import query_budget
from warehouse_causal.warehouse.contract import CLUSTER, Columns

__all__ = ["TOOLS", "Tool", "Toolbox", "open_connection", "tool_error"]


class DesignNotCheckedError(WarehouseCausalError):
    """A tool that estimates was called before ``check_design`` passed for that table and design."""


def _tool_schema(base: Mapping[str, Any], drop: tuple[str, ...], title: str) -> dict[str, Any]:
    schema = copy.deepcopy(dict(base))
    for key in drop:
        schema["properties"].pop(key, None)
    schema["properties"]["table"] = {"type": "string", "minLength": 1,
                                     "description": "a table of the server's connection (see describe)"}
    schema["title"] = title
    return schema


TABLE_NAME = {"type": "string", "minLength": 1, "description": "a table of the server's connection"}
DESCRIBE_SCHEMA: dict[str, Any] = {
    "type": "object", "title": "describe", "additionalProperties": False,
    "properties": {"tables": {"type": "array", "items": TABLE_NAME,
                              "description": "tables to describe (default: every table)"}},
}
CHECK_SCHEMA: dict[str, Any] = {
    "type": "object", "title": "check_design", "additionalProperties": False, "required": ["table", "design"],
    "properties": {"table": TABLE_NAME, "design": DESIGN},
}
ANALYZE_SCHEMA = _tool_schema(ANALYSIS_SCHEMA, ("connection", "metrics_file"), "analyze")
PLAN_TOOL_SCHEMA = _tool_schema(PLAN_SCHEMA, ("connection",), "plan")
MONITOR_TOOL_SCHEMA = _tool_schema(MONITOR_SCHEMA, ("connection", "metrics_file"), "monitor")
POLICY_SCHEMA: dict[str, Any] = {
    "type": "object", "title": "policy", "additionalProperties": False,
    "required": ["table", "design", "metric"],
    "properties": {
        "table": TABLE_NAME, "design": DESIGN,
        "metric": {"type": "string", "minLength": 1, "description": "the reward metric"},
        "covariates": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "segments": {"type": "array", "items": {"type": "string", "minLength": 1},
                     "description": "SQL conditions: P(each arm is best) per segment"},
        "contexts": {"type": "array", "items": {"type": "object"},
                     "description": "covariate values: Thompson-sampling probabilities per context"},
        "evaluate": {"type": "string", "minLength": 1,
                     "description": "a SQL CASE giving each row's arm: its off-policy value (needs "
                                    "design.propensity)"},
    },
}


@dataclass(frozen=True)
class Tool:
    """One tool: its name, what it does, its input JSON Schema and the Toolbox method that runs it."""

    name: str
    description: str
    input_schema: dict[str, Any]
    method: str


TOOLS: tuple[Tool, ...] = (
    Tool("describe", "List the tables of the connection: rows, columns with types, distinct and NULL "
         "counts, and candidate design columns (assignment, cluster, time, metrics); and the metric "
         "catalog. Start here.", DESCRIBE_SCHEMA, "describe"),
    Tool("check_design", "Validate a randomization before estimating: arms and control, compliance "
         "table (assignment x treatment), sample-ratio-mismatch test, clusters, the estimand it "
         "implies and its assumptions. Required before analyze and policy.", CHECK_SCHEMA, "check_design"),
    Tool("analyze", "The full analysis of a checked design (the same document as `warehouse-causal "
         "run`): effects per metric and arm (ITT/ATE or LATE), segments, relative lifts, anytime-valid "
         "intervals, cumulative effect over time, quantiles, mediation over a causal graph, decision "
         "with guardrails and a memo. The answer states the estimand, assumptions, checks, warnings, "
         "the SQL that ran and next steps.", ANALYZE_SCHEMA, "analyze"),
    Tool("plan", "Power, minimum detectable effect and sample size or days for a planned design, from "
         "a history table.", PLAN_TOOL_SCHEMA, "plan"),
    Tool("policy", "Decide which units get which arm: Bayesian P(best arm) per segment, Thompson-"
         "sampling probabilities per context, and the off-policy value of a deterministic policy "
         "(IPS, SNIPS, DM, DR) from a logged or randomized table.", POLICY_SCHEMA, "policy"),
    Tool("monitor", "After launch: check a checked experiment against production traffic - population "
         "drift and re-projected effects, the effect by period against a holdout (decay), judge "
         "calibration drift, logging completeness, feedback loops, guardrails by segment, treatment "
         "version. Each check states its threshold or error guarantee and what to do.",
         MONITOR_TOOL_SCHEMA, "monitor"),
)

_HINTS: dict[str, str] = {
    "SpecError": "Fix the argument at 'path'; the tool's input schema lists every key and type.",
    "SchemaError": "Call describe to see the tables and their columns.",
    "DesignError": "Call check_design to see what the data hold for this design.",
    "CollinearityError": "Drop one of the named terms.",
    "ExpressionError": "Write one SQL scalar expression over the table's columns (no statements, "
                       "subqueries or aggregates).",
    "QueryBudgetError": "Ask for less (fewer metrics, segments or looks) or a smaller table; the "
                        "budget is set when the server starts.",
    "DesignNotCheckedError": "Call check_design with this table and design first.",
    "DocumentError": "Send smaller arguments: at most 1,000 entries in one list or mapping, nested at most "
                     "32 deep.",
    "QueryError": "An expression could not be computed on the table's values (e.g. a CAST of a value that "
                  "does not convert); fix or drop the expression the message names.",
    "InvalidParameterError": "Fix the named parameter; the tool's input schema lists the allowed values.",
}


def tool_error(error: BaseException) -> dict[str, Any]:
    """A structured error: class, parameter (or column), JSON path when known, message, hint."""
    name = type(error).__name__
    message = str(error)
    found = re.search(r"'([\w.]+)' parameter", message)
    parameter = getattr(error, "column", None) or (found.group(1) if found else None)
    path = getattr(error, "path", None)
    if path and parameter is None:
        parameter = path.strip("/").replace("/", ".") or None
    if isinstance(error, duckdb.DataError):  # the engine refused a value at run time (conversion, range)
        message = f"The warehouse refused a query: {engine_message(error)}"
        name, error = "QueryError", QueryError(message)
    elif not isinstance(error, (WarehouseCausalError, ValueError, TypeError, KeyError)):
        name, message = "InternalError", f"{type(error).__name__}: {message}"
    hint = next((_HINTS[c.__name__] for c in type(error).__mro__ if c.__name__ in _HINTS),
                "Report this with the arguments if it persists.")
    return {"error": {"class": name, "parameter": parameter, "path": path, "message": message, "hint": hint}}


def open_connection(target: str, read_only: bool = True) -> BaseBackend:
    """The server's one connection: a DuckDB file (read-only, file access in SQL disabled), also
    written ``duckdb://path``, or an ibis URL of another warehouse (``bigquery://…``: use a read-only
    role there)."""
    if "://" in target and not target.lower().startswith("duckdb://"):
        return ibis.connect(target)
    path = duckdb_path(target, "The --connection")
    if path is None:
        raise InvalidParameterError("The --connection must name a DuckDB file (an in-memory database would "
                                    "be empty) or a warehouse URL.")
    try:
        con = wc.connect(path, read_only=read_only)
    except duckdb.Error as err:
        raise InvalidParameterError(f"The --connection {target!r} cannot be opened as a DuckDB database: "
                                    f"{engine_message(err)}") from None
    if read_only:
        con.con.execute("SET enable_external_access = false")
        con.con.execute("SET lock_configuration = true")
    return con


def _budget(max_rows_scanned: Any, max_seconds: Any) -> tuple[int, float]:
    """The per-call budget, refused when the server starts (not on every call: a NaN budget would
    fail each one): a positive whole number of rows, a finite positive number of seconds."""
    return (check_param(max_rows_scanned, "max_rows_scanned", "Toolbox (--max-rows-scanned)", Integer(1)),
            check_param(max_seconds, "max_seconds", "Toolbox (--max-seconds)", Real(0, math.inf)))


@dataclass
class Toolbox:
    """The tools over one connection. ``catalog`` (a ``wc.load_metrics`` file chosen by the operator)
    lets specs name metrics; ``max_rows_scanned``/``max_seconds`` are each call's query budget."""

    con: BaseBackend
    catalog: wc.MetricCatalog | None = None
    max_rows_scanned: int = 2_000_000_000
    max_seconds: float = 300.0
    require_checked_design: bool = True
    _checked: set[str] = field(default_factory=set, repr=False)
    #: One call at a time: warning capture is process-wide, and the calls share one connection.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.max_rows_scanned, self.max_seconds = _budget(self.max_rows_scanned, self.max_seconds)

    @classmethod
    def open(cls, target: str, read_only: bool = True, metrics: str | Path | None = None,
             **limits: Any) -> Toolbox:
        _budget(limits.get("max_rows_scanned", cls.max_rows_scanned),
                limits.get("max_seconds", cls.max_seconds))
        con = open_connection(target, read_only)  # after the budget is known to be valid
        catalog = wc.load_metrics(metrics, con) if metrics is not None else None
        return cls(con, catalog, **limits)

    # -- dispatch --------------------------------------------------------------------------------
    def call(self, name: str, arguments: Mapping[str, Any] | None) -> tuple[dict[str, Any], bool]:
        """Run tool ``name``: (answer, is_error). Never raises for bad input."""
        tool = next((t for t in TOOLS if t.name == name), None)
        try:
            if tool is None:
                raise InvalidParameterError(f"No tool {name!r}; the tools are {[t.name for t in TOOLS]}.")
            check_shape({} if arguments is None else arguments, f"The arguments of {tool.name}",
                        DOCUMENT_LIMITS)  # before the schema walks them: bounded work per call
            check_document({} if arguments is None else arguments, tool.input_schema, tool.name)
            arguments = dict(arguments or {})
            with self._lock, warnings.catch_warnings(record=True) as caught, query_budget(
                    self.max_rows_scanned, self.max_seconds) as budget:
                warnings.simplefilter("always")
                method: Callable[[dict[str, Any]], dict[str, Any]] = getattr(self, tool.method)
                answer = method(arguments)
            answer["warnings"] = sentences.package_warnings([*answer.get("warnings", []), *caught])
            answer["budget"] = {"rows_scanned": budget.rows_scanned, "queries": budget.queries,
                                "max_rows_scanned": budget.max_rows_scanned,
                                "max_seconds": budget.max_seconds}
            return strict_json(answer), False
        except Exception as error:  # every failure becomes a structured answer, never a traceback
            return tool_error(error), True

    def call_json(self, name: str, arguments: Mapping[str, Any] | None) -> tuple[str, bool]:
        answer, failed = self.call(name, arguments)
        return json.dumps(answer, default=str, allow_nan=False), failed

    # -- helpers ---------------------------------------------------------------------------------
    def _table(self, name: str) -> Any:
        return open_table(self.con, name)

    @staticmethod
    def _design_key(table: str, design: Mapping[str, Any]) -> str:
        return json.dumps([table, design], sort_keys=True, default=str)

    def _require_checked(self, table: str, design: Mapping[str, Any]) -> None:
        if self.require_checked_design and self._design_key(table, design) not in self._checked:
            raise DesignNotCheckedError(
                f"The design {dict(design)} on table {table!r} has not passed check_design in this session.")

    def _experiment(self, table: str, design: Mapping[str, Any]) -> wc.ExperimentData:
        return experiment_from(self._table(table), dict(design))

    # -- tools -----------------------------------------------------------------------------------
    def describe(self, arguments: dict[str, Any]) -> dict[str, Any]:
        names = arguments.get("tables") or table_names(self.con)
        tables = [_describe_table(self._table(n), n, self.con) for n in names]
        catalog = {} if self.catalog is None else {
            name: type(entry).__name__ for name, entry in self.catalog.entries.items()}
        return {"tables": tables, "metric_catalog": catalog,
                "next_steps": ["Pick the assignment column and the unit of randomization, then call "
                               "check_design."]}

    def check_design(self, arguments: dict[str, Any]) -> dict[str, Any]:
        table, design = arguments["table"], arguments["design"]
        exp = self._experiment(table, design)
        summary = exp.design
        self._checked.add(self._design_key(table, design))
        srm = sample_ratio_check(exp)
        answer: dict[str, Any] = {
            "table": table, "nobs": summary.nobs, "arms": [str(a) for a in summary.arms],
            "control": summary.control, "control_reason": summary.control_reason}
        if exp.cluster_by is not None:
            count, mixed = _cluster_counts(exp)
            answer.update(clusters=count, clusters_with_several_arms=mixed,
                          clusters_detail=sentences.clusters(count, mixed, exp.cluster_by))
        steps = {"ok": ["Call analyze with this design and the metrics."],
                 "alert": [srm["detail"]],
                 "not checked": ["Call analyze with this design and the metrics.",
                                 "Give 'expected_split' in the design (each arm's planned share) to test the "
                                 "sample ratio."]}[srm["status"]]
        return {
            **answer,
            "compliance": [{"assigned": str(a), "treated": str(t), "instrument": str(i), "rows": n}
                           for a, t, i, n in summary.cells],
            "sample_ratio": srm, "sample_ratio_p_value": srm["p_value"], "sample_ratio_ok": srm["ok"],
            "estimand": estimand(exp), "assumptions": assumptions(exp, clustered=exp.cluster_by is not None),
            "queries": query_log(exp.runner.records),
            "next_steps": steps,
        }

    def analyze(self, arguments: dict[str, Any]) -> dict[str, Any]:
        self._require_checked(arguments["table"], arguments["design"])
        self._table(arguments["table"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", wc.WarehouseCausalWarning)
            result = run_spec(arguments, con=self.con, catalog=self.catalog)
        return analysis_answer(result, caught)

    def monitor(self, arguments: dict[str, Any]) -> dict[str, Any]:
        self._require_checked(arguments["table"], arguments["design"])
        self._table(arguments["table"])
        self._table(arguments["monitor"]["production"])
        report = run_spec(arguments, con=self.con, catalog=self.catalog)["monitor"]
        return {"caption": report.caption(), "checks": report.to_dicts(),
                "alerts": [r.check for r in report.alerts],
                "not_checked": [r.check for r in report.not_checked],  # could not run: not ok either
                "layers": {name: table.to_dicts() for name, table in report.layers.items()},
                "queries": query_log(report.queries),
                "next_steps": [r.detail for r in (*report.alerts, *report.not_checked)]
                or ["Nothing to act on; run again next period."]}

    def plan(self, arguments: dict[str, Any]) -> dict[str, Any]:
        self._table(arguments["table"])
        result = run_plan(arguments, con=self.con)
        power = result["power"]
        answer: dict[str, Any] = {"caption": power.caption(), "power": power.to_dicts(),
                                  "queries": query_log(power.queries)}
        if "sample_size" in result:
            answer["sample_size"] = result["sample_size"].to_dicts()
        answer["next_steps"] = ["Run the experiment for the planned size; watch it with analyze's "
                                "'over_time' and 'effects.planned_n' set to the planned size."]
        return answer

    def policy(self, arguments: dict[str, Any]) -> dict[str, Any]:
        table, design = arguments["table"], arguments["design"]
        self._require_checked(table, design)
        exp = self._experiment(table, design)
        spec = exp.add_metric(arguments["metric"], arguments.get("covariates") or None)
        answer: dict[str, Any] = {}
        if not exp.is_iv:
            bayes = spec.fit(wc.BayesianLinearRegression)
            ranking = bayes.infer_effect(condition_on=arguments.get("segments")).infer_rank()
            answer["rank"] = ranking.to_dict(orient="records")
            answer["contexts"] = [
                {"context": context, "probabilities": {str(k): v for k, v in wc.Policy(
                    bayes.infer_reward(wc.ContextVector(**context))).probabilities().items()}}
                for context in arguments.get("contexts") or []]
        elif arguments.get("contexts") or arguments.get("segments"):
            raise DesignError("Bayesian ranking and Thompson sampling need a design without an instrument "
                              "(fit the assignment's effect: drop 'treated').")
        if "evaluate" in arguments:
            model = spec.fit(wc.LinearModel)
            answer["evaluation"] = model.evaluate_policy(arguments["evaluate"]).to_dicts()
            answer["evaluation_assumptions"] = [
                "The logged propensities are the true probabilities of the logged arms (known logging).",
                "Every arm the policy chooses had a positive logging probability there (overlap).",
                "DM and DR lean on the interacted linear reward model; IPS and SNIPS do not."]
        if not answer:
            raise ExpressionError("Nothing to do: give 'segments' or 'contexts' (ranking, Thompson "
                                  "sampling) or 'evaluate' (a policy's off-policy value).")
        answer["next_steps"] = ["Serve the Thompson-sampling probabilities, then evaluate the served "
                                "policy off-line from its log with 'evaluate'."]
        return answer


def _cluster_counts(exp: wc.ExperimentData) -> tuple[int, int]:
    """The exact number of clusters and of clusters holding more than one assignment arm (one
    aggregate over a GROUP BY cluster, declared through the query contract)."""
    table, cluster = exp.table, str(exp.cluster_by)
    inner = Columns()
    inner.add("arms", None, table[exp.intent_to_treat].nunique())
    per_cluster = inner.aggregate(table, by={CLUSTER: table[cluster]})
    outer = Columns()
    outer.add("clusters", None, per_cluster.key(CLUSTER).count())
    outer.add("mixed", None, (per_cluster["arms", None] > 1).ifelse(1, 0).sum())
    found = outer.aggregate(per_cluster.table).run(exp.runner, f"clusters of {cluster}")
    return int(found.total("clusters")), int(found.total("mixed"))


#: Columns whose distinct count is at most this are candidate assignment / segment columns.
FEW_LEVELS = 12


def _describe_table(table: Any, name: str, con: BaseBackend) -> dict[str, Any]:
    """Rows, per-column types, distinct and NULL counts (one aggregate), and candidate roles."""
    schema = table.schema()
    aggs = Columns()
    aggs.add("rows", None, table.count())
    for column in schema.names:
        aggs.add("distinct", column, table[column].nunique())
        aggs.add("nulls", column, table[column].isnull().sum())
    runner = QueryRunner()
    found = aggs.aggregate(table).run(runner, f"describe {name}")
    columns: list[dict[str, Any]] = []
    roles: dict[str, list[str]] = {"assignment": [], "cluster": [], "time": [], "metric": [], "segment": []}
    rows = int(found.total("rows"))
    for column in schema.names:
        kind = schema[column]
        distinct, nulls = int(found.total("distinct", column)), int(found.total("nulls", column))
        columns.append({"name": column, "type": str(kind), "distinct": distinct, "nulls": nulls})
        if kind.is_temporal():
            roles["time"].append(column)
        elif 2 <= distinct <= FEW_LEVELS and not kind.is_floating():
            roles["assignment" if distinct <= 5 else "segment"].append(column)
        elif (kind.is_integer() or kind.is_string()) and rows > distinct > 1 and distinct >= rows ** 0.5 / 4:
            roles["cluster"].append(column)
        if kind.is_numeric() or kind.is_boolean():
            roles["metric"].append(column)
    return {"table": name, "rows": rows, "columns": columns, "candidate_columns": roles,
            "queries": query_log(runner.records)}
