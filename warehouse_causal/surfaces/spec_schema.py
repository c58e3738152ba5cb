"""The JSON Schema of analysis and plan documents (``warehouse-causal schema``), and the check that
runs before anything else: an error names the path in the document (``/design/cluster_by``).

The schemas use a small subset of JSON Schema (draft 2020-12): ``type``, ``properties``,
``required``, ``additionalProperties``, ``items``, ``enum``, ``minimum``/``maximum``,
``exclusiveMinimum``/``exclusiveMaximum``, ``minItems``/``maxItems``, ``minLength``, ``anyOf``.
:func:`check_document` implements exactly that subset (no dependency); ``tests/test_spec_schema.py``
checks that it agrees with the ``jsonschema`` package on valid and invalid documents. The MCP tools
publish the same schemas as their input schemas.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from warehouse_causal.core.errors import InvalidParameterError
from warehouse_causal.core.validation import parameters_schema
from warehouse_causal.fit.models import LinearFit
from warehouse_causal.fluent import LinearModel

__all__ = ["ANALYSIS_SCHEMA", "MONITOR_SCHEMA", "PLAN_SCHEMA", "SpecError", "check_document", "schema_errors"]

JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"


class SpecError(InvalidParameterError):
    """A document that does not match its schema; ``path`` is the JSON pointer of the first error."""

    def __init__(self, message: str, path: str):
        super().__init__(message)
        self.path = path


def _string(description: str) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "description": description}


COLUMN = _string("a column of the table")
SQL_OR_COLUMN = _string("a column name or one SQL scalar expression (DuckDB syntax, allow-listed)")
ARM = {"type": ["string", "integer", "boolean"], "description": "an arm label"}
PROBABILITY = {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}
SHARES = {"type": "object", "additionalProperties": {"type": "number", "exclusiveMinimum": 0},
          "description": "arm label -> planned share"}


def _object(properties: Mapping[str, Any], required: tuple[str, ...] = (), description: str = ""
            ) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": dict(properties),
                              "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    return schema


TABLE = {"anyOf": [_string("a table name in the connection"),
                   _object({"parquet": _string("a path or glob of parquet files")}, ("parquet",))]}
DESIGN = _object({
    "intent_to_treat": _string("the randomized assignment column"),
    "treated": _string("the arm actually received (default: intent_to_treat)"),
    "propensity": _string("probability of the assigned arm, in (0, 1]"),
    "instrument": _string("instrument for treated (default: intent_to_treat)"),
    "cluster_by": _string("cluster column: the unit of randomization"),
    "control": ARM,
    "weights": _string("non-negative analytic weights"),
    "expected_split": SHARES,
    "noncompliance": {"enum": ["two-sided", "one-sided"]},
}, ("intent_to_treat",), "the randomization (ExperimentData)")
METRIC = {"anyOf": [SQL_OR_COLUMN, _object({"ratio": _string("the ratio's name"),
                                            "numerator": SQL_OR_COLUMN, "denominator": SQL_OR_COLUMN},
                                           ("ratio", "numerator", "denominator"))]}
EXPOSURE_AGE = _object({"time": COLUMN, "exposure": COLUMN, "by": {"enum": ["day", "week"]},
                        "max_age": {"type": "integer", "minimum": 1, "maximum": 47}}, ("time", "exposure"))
COVARIATE = {"anyOf": [SQL_OR_COLUMN, _object({"exposure_age": EXPOSURE_AGE}, ("exposure_age",))]}
DIRECTION_VALUE = {"enum": ["higher", "lower", "neutral"],
                   "description": "which direction of the metric is good"}
DIRECTION = {"anyOf": [DIRECTION_VALUE, {"type": "object", "additionalProperties": DIRECTION_VALUE,
                                         "description": "metric or ratio name -> its direction of good"}]}
CAP = {"anyOf": [PROBABILITY, {"type": "array", "items": PROBABILITY, "minItems": 2, "maxItems": 2}]}
QUANTILE = {"anyOf": [_string("a quantile of the metric catalog"),
                      _object({"name": _string("the result's name"), "column": COLUMN, "q": PROBABILITY},
                              ("name", "column", "q"))]}
#: Generated from the declarations the calls check (``@validated``): a document accepts what the call
#: accepts. ``fit`` takes ``LinearModel.fit``'s options, ``effects`` those of ``infer_effect``.
FIT = parameters_schema(LinearFit._fit)
EFFECTS = parameters_schema(LinearModel.infer_effect)
DECISION = _object({"primary": _string("the primary metric"),
                    "guardrails": {"type": "object", "additionalProperties": {"type": "number"},
                                   "description": "metric -> the worst acceptable effect: t < 0 must "
                                                  "stay above t, t > 0 below t (the metric's bad side)"},
                    "higher_is_better": {"type": "boolean", "description": "for a primary that declares "
                                         "no direction (see 'direction')"},
                    "evidence": {"enum": ["anytime-valid", "classical"]},
                    "segment": {"type": "string"}}, ("primary",))
PROJECTION = _object({
    "mix": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0},
            "description": "SQL condition (a segment) -> its future share; the shares sum to 1"},
    "name": _string("the projection's label")}, ("mix",), "effects re-weighted to a future mix of segments")
OVER_TIME = _object({"time": COLUMN, "looks": {"type": "integer", "minimum": 2, "maximum": 100}}, ("time",))

ANALYSIS_SCHEMA: dict[str, Any] = {
    "$schema": JSON_SCHEMA,
    "title": "warehouse_causal analysis",
    **_object({
        "connection": _string("a DuckDB file relative to the document, or duckdb://path (opened read-only; "
                               "default: in-memory)"),
        "table": TABLE,
        "design": DESIGN,
        "metrics": {"type": "array", "items": METRIC, "minItems": 1},
        "covariates": {"type": "array", "items": COVARIATE},
        "cap": {"type": "object", "additionalProperties": CAP, "description": "winsorization"},
        "direction": DIRECTION,
        "fit": FIT,
        "segments": {"type": "array", "items": _string("a SQL condition on pre-treatment covariates")},
        "effects": EFFECTS,
        "decision": DECISION,
        "graph": _string('a causal graph, "T -> m -> y; T -> y" (mediation of the first metric)'),
        "quantiles": {"type": "array", "items": QUANTILE, "minItems": 1},
        "quantile_compliers": {"type": "boolean", "description": "quantiles as complier quantile effects "
                               "(Abadie, Angrist & Imbens 2002; binary instrument and treatment)"},
        "metrics_file": _string("a metric catalog (YAML/JSON) relative to the document"),
        "over_time": OVER_TIME,
        "projection": PROJECTION,
        "calibrate_with": _string("a human-label column (NULL outside the audit) that calibrates the "
                                  "judge metric"),
    }, ("table", "design", "metrics")),
}

PLAN_SCHEMA: dict[str, Any] = {
    "$schema": JSON_SCHEMA,
    "title": "warehouse_causal plan",
    **_object({
        "connection": ANALYSIS_SCHEMA["properties"]["connection"],
        "table": TABLE,
        "plan": _object({
            "arms": SHARES, "cluster_by": COLUMN,
            "compliance": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            "propensity": {"anyOf": [COLUMN, PROBABILITY]}, "time": COLUMN, "unit": COLUMN,
            "trigger": SQL_OR_COLUMN}),
        "metrics": {"type": "array", "items": SQL_OR_COLUMN, "minItems": 1},
        "covariates": {"type": "array", "items": SQL_OR_COLUMN},
        "power": _object({
            "alpha": PROBABILITY, "power": PROBABILITY,
            "n": {"type": "array", "items": {"type": "integer", "minimum": 2}, "minItems": 1},
            "days": {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}, "minItems": 1},
            "sequential": {"type": "boolean"},
            "correction": {"enum": ["none", "bonferroni", "holm"]}}),
        "sample_size": _object({"mde": {"type": "number", "exclusiveMinimum": 0},
                                "relative": {"type": "boolean"}}, ("mde",)),
    }, ("table", "metrics")),
}

THRESHOLDS = _object({name: {"type": "number", "minimum": 0} for name in (
    "smd", "membership_r2", "projection_change", "null_rate", "rows_ratio", "version_share")})
MONITOR = _object({
    "production": _string("the post-launch table"),
    "time": COLUMN,
    "holdout": _string("1/true on rows of the long-term holdout"),
    "treated": _string("the take-up column in production: then the LATE with the holdout as instrument "
                       "is compared with the experiment's LATE (default: the experiment's own column when "
                       "production has it, else the ITT)"),
    "unit": COLUMN,
    "launched_arm": ARM,
    "segments": {"type": "array", "items": _string("a SQL condition on pre-treatment covariates")},
    "guardrails": DECISION["properties"]["guardrails"],
    "served": COLUMN,
    "labelled": COLUMN,
    "version": {"type": "array", "items": {"type": ["string", "integer"]}, "minItems": 2, "maxItems": 2,
                "description": "[column, the treatment version the experiment tested]"},
    "expected_rows": {"type": "number", "exclusiveMinimum": 0},
    "thresholds": THRESHOLDS,
    "alpha": PROBABILITY,
}, ("production", "time"), "post-launch monitoring (wc.Monitor)")

#: A monitor document: the experiment as in an analysis document, and ``monitor``.
MONITOR_SCHEMA: dict[str, Any] = {
    "$schema": JSON_SCHEMA,
    "title": "warehouse_causal monitor",
    **_object({**{k: v for k, v in ANALYSIS_SCHEMA["properties"].items()
                  if k in ("connection", "table", "design", "metrics", "covariates", "cap", "direction",
                           "fit", "metrics_file", "calibrate_with")},
               "monitor": MONITOR}, ("table", "design", "metrics", "monitor")),
}

_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, Mapping),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


def _pointer(path: tuple[Any, ...]) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path) if path else "/"


def schema_errors(value: Any, schema: Mapping[str, Any], path: tuple[Any, ...] = ()) -> list[tuple[str, str]]:
    """Every (JSON pointer, message) where ``value`` breaks ``schema`` (the subset above)."""
    if "anyOf" in schema:
        branches = [schema_errors(value, option, path) for option in schema["anyOf"]]
        if all(branches):
            deepest = max(branches, key=lambda errors: max(len(p) for p, _ in errors))
            # an object that looks like one branch reports that branch's error; else say what fits
            if isinstance(value, Mapping) and any(isinstance(o, Mapping) and o.get("type") == "object"
                                                  for o in schema["anyOf"]):
                return deepest
            return [(_pointer(path), f"must be {_describe_any(schema['anyOf'])}; got {_show(value)}")]
        return []
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_TYPES[k](value) for k in kinds):
            return [(_pointer(path), f"must be {' or '.join(kinds)}; got {_show(value)}")]
    if isinstance(value, float) and not math.isfinite(value):
        return [(_pointer(path), f"must be a finite number; got {value}")]
    if "enum" in schema and value not in schema["enum"]:
        return [(_pointer(path), f"must be one of {schema['enum']}; got {_show(value)}")]
    errors = _bounds(value, schema, path)
    if isinstance(value, Mapping):
        errors += _object_errors(value, schema, path)
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append((_pointer(path), f"needs at least {schema['minItems']} item(s)"))
        if len(value) > schema.get("maxItems", math.inf):
            errors.append((_pointer(path), f"takes at most {schema['maxItems']} item(s)"))
        if "items" in schema:
            for i, item in enumerate(value):
                errors += schema_errors(item, schema["items"], (*path, i))
    return errors


def _bounds(value: Any, schema: Mapping[str, Any], path: tuple[Any, ...]) -> list[tuple[str, str]]:
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        return [(_pointer(path), "must not be empty")]
    if not _TYPES["number"](value):
        return []
    checks = [("minimum", lambda b: value >= b, "≥"), ("maximum", lambda b: value <= b, "≤"),
              ("exclusiveMinimum", lambda b: value > b, ">"), ("exclusiveMaximum", lambda b: value < b, "<")]
    return [(_pointer(path), f"must be {sign} {schema[key]}; got {value}")
            for key, ok, sign in checks if key in schema and not ok(schema[key])]


def _object_errors(value: Mapping[str, Any], schema: Mapping[str, Any], path: tuple[Any, ...]
                   ) -> list[tuple[str, str]]:
    """Unknown keys first (a misspelt key is usually why a required one is missing), then missing
    required keys, then the values."""
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    errors = [(_pointer((*path, key)), f"unknown key {key!r}; allowed: {sorted(properties)}")
              for key in value if key not in properties and extra is False]
    errors += [(_pointer(path), f"needs the {key!r} entry") for key in schema.get("required", ())
               if key not in value]
    for key, item in value.items():
        if key in properties:
            errors += schema_errors(item, properties[key], (*path, key))
        elif isinstance(extra, Mapping):
            errors += schema_errors(item, extra, (*path, key))
    return errors


def _describe_any(options: list[Mapping[str, Any]]) -> str:
    names = []
    for option in options:
        if option.get("type") == "object":
            names.append("{" + ", ".join(option.get("properties", {})) + "}")
        elif "type" in option:
            names.append(option.get("description") or str(option["type"]))
        else:
            names.append(str(option.get("enum", "a value")))
    return " or ".join(names)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_document(document: Any, schema: Mapping[str, Any], where: str) -> None:
    """Raise :class:`SpecError` naming the JSON path of the first error of ``document``."""
    errors = schema_errors(document, schema)
    if errors:
        path, message = errors[0]
        more = f" ({len(errors) - 1} more error(s))" if len(errors) > 1 else ""
        raise SpecError(f"{where}: {path} {message}{more}", path)
