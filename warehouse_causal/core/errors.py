"""Every exception and warning the package raises, plus the small ``check_*`` helpers.

Each error also inherits the matching built-in (``ValueError`` …) so generic handlers still catch it,
and carries attributes (``column``, ``terms`` …) so programs and agents can act on it.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "CollinearityError",
    "CovariateImbalanceWarning",
    "DesignError",
    "DesignWarning",
    "DocumentError",
    "ExpressionError",
    "InvalidParameterError",
    "OverlapWarning",
    "PrecisionWarning",
    "QueryBudgetError",
    "QueryError",
    "SampleRatioMismatchWarning",
    "SchemaError",
    "UnsupportedBackendError",
    "WarehouseCausalError",
    "WarehouseCausalWarning",
    "WeakInstrumentWarning",
    "check_alpha",
    "check_case_distinct",
    "check_option",
    "closest_name",
]


class WarehouseCausalError(Exception):
    """Base class of every error raised by warehouse_causal."""


class InvalidParameterError(WarehouseCausalError, ValueError):
    """A parameter has a value outside its allowed set."""


class DocumentError(InvalidParameterError):
    """A document (a settings file, a metric catalog, a reward model, an agent's arguments) that
    cannot be read: missing, not a regular file, too large, too deep, too long, not UTF-8, not
    JSON/YAML. ``source`` names the file (or the text's role), ``path`` the JSON pointer when known."""

    def __init__(self, message: str, source: str | None = None, path: str | None = None):
        super().__init__(message)
        self.source = source
        self.path = path


class QueryError(WarehouseCausalError, ValueError):
    """The engine refused a query at run time because of the data it read (a value that does not
    convert, a division by zero the engine treats as an error, a number out of range); ``purpose``
    names the query and the message the expression."""

    def __init__(self, message: str, purpose: str | None = None):
        super().__init__(message)
        self.purpose = purpose


class SchemaError(WarehouseCausalError, ValueError):
    """A column is missing or has a type the role does not accept."""

    def __init__(self, message: str, column: str | None = None, suggestion: str | None = None):
        super().__init__(message)
        self.column = column
        self.suggestion = suggestion


class DesignError(WarehouseCausalError, ValueError):
    """The data cannot identify the requested design (NULLs, one arm, bad propensities, …)."""


class CollinearityError(DesignError):
    """The regressors or instruments are linearly dependent; ``terms`` names them."""

    def __init__(self, message: str, terms: Sequence[str]):
        super().__init__(message)
        self.terms = tuple(terms)


class ExpressionError(WarehouseCausalError, ValueError):
    """A SQL string or ibis expression is not a single allowed row-level expression."""


class QueryBudgetError(WarehouseCausalError):
    """A call would scan more rows, or has run longer, than its query budget allows."""


class UnsupportedBackendError(WarehouseCausalError, NotImplementedError):
    """The connected backend cannot run an operation the analysis needs."""


class WarehouseCausalWarning(UserWarning):
    """Base class of every warning issued by warehouse_causal."""


class SampleRatioMismatchWarning(WarehouseCausalWarning):
    """Arm counts are unlikely under the planned split: the randomization may be broken."""


class CovariateImbalanceWarning(WarehouseCausalWarning):
    """A covariate differs across assignment arms: it may be measured after treatment."""


class WeakInstrumentWarning(WarehouseCausalWarning):
    """A first-stage F statistic is below 10: 2SLS estimates are biased towards OLS."""


class PrecisionWarning(WarehouseCausalWarning):
    """The normal equations are ill-conditioned: digits may be lost."""


class OverlapWarning(WarehouseCausalWarning):
    """Logging propensities near zero: off-policy estimates rest on a few heavily weighted rows."""


class DesignWarning(WarehouseCausalWarning):
    """The design is valid but unusual in a way that changes what the estimate means."""


def closest_name(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``name`` (case-insensitive), or None when nothing is close."""
    candidates = list(candidates)
    lowered = {c.lower(): c for c in candidates}
    if name.lower() in lowered:
        return lowered[name.lower()]
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def check_case_distinct(name: str, columns: Iterable[str], role: str) -> None:
    """Refuse a column ``name`` that another column of the table equals up to case.

    SQL engines fold (DuckDB, Snowflake unquoted) or compare identifiers case-insensitively, so with
    columns ``y`` and ``Y`` a query for ``"Y"`` may read ``y``: a silent wrong answer. Such a name
    is ambiguous, and the error lists the candidates.
    """
    twins = sorted(c for c in columns if c.lower() == name.lower())
    if len(twins) > 1:
        raise SchemaError(
            f"The {role} {name!r} is ambiguous: the table has columns {twins}, which differ only by "
            "case, and SQL engines match identifiers case-insensitively. Rename one of them first "
            f"(e.g. t.rename({{'{twins[-1]}_2': '{twins[-1]}'}})).",
            column=name,
        )


def check_alpha(value: Any, owner: str) -> float:
    """Return ``value`` as a float when it is a finite real number in (0, 1) (numpy floats too);
    raise InvalidParameterError otherwise."""
    if not (isinstance(value, numbers.Real) and not isinstance(value, bool) and 0.0 < float(value) < 1.0):
        raise InvalidParameterError(
            f"The 'alpha' parameter of {owner} must be a finite number in (0, 1). Got {value!r} instead."
        )
    return float(value)


def check_option(value: Any, name: str, owner: str, options: Iterable[Any]) -> Any:
    """Return ``value`` when it is one of ``options``; raise InvalidParameterError otherwise."""
    options = tuple(options)
    if value not in options:
        allowed = ", ".join(repr(o) for o in options)
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be one of {allowed}. Got {value!r} instead."
        )
    return value
