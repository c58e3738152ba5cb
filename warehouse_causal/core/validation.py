"""Declared constraints on public parameters, checked by one function before any query runs.

Every public entry point states what each parameter accepts as data (``Real(0, 1)``,
``Options("holm", "bh", "none")``, ``NONE`` …), following scikit-learn's ``_param_validation``. One
error template names the function, the parameter, what was expected and what was given:

    The 'alpha' parameter of LinearModel.fit must be a finite number in (0, 1). Got nan instead.

Each constraint also lists values that violate it (:meth:`Constraint.invalid_examples`), so
``tests/test_hostile.py`` generates hostile inputs from the declarations themselves.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from warehouse_causal.core.errors import InvalidParameterError

__all__ = [
    "BOOLEAN",
    "NONE",
    "Constraint",
    "InstanceOf",
    "Integer",
    "MappingOf",
    "Options",
    "Real",
    "check_finite",
    "check_param",
    "declared",
    "parameters_schema",
    "validated",
]

F = TypeVar("F", bound=Callable[..., Any])


class Constraint(ABC):
    """One set of allowed values: ``accepts`` decides, ``description`` says it in words."""

    description: str = "a valid value"

    @abstractmethod
    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is allowed."""

    def normalize(self, value: Any) -> Any:
        """The accepted value in its canonical type (e.g. a numpy float as a Python float)."""
        return value

    def invalid_examples(self) -> tuple[Any, ...]:
        """Values this constraint refuses (used to generate tests)."""
        return ()

    def json_schema(self) -> dict[str, Any] | None:
        """The same set of values as a JSON Schema (the subset documents use), or None when JSON
        cannot hold it (an ibis expression, None: a key left out of a document)."""
        return None


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclass(frozen=True)
class Real(Constraint):
    """A finite real number (not a bool) in an interval; ``closed`` says which ends are included."""

    low: float = -math.inf
    high: float = math.inf
    closed: str = "neither"  # "neither" | "left" | "right" | "both"

    @property
    def description(self) -> str:  # type: ignore[override]
        if self.low == -math.inf and self.high == math.inf:
            return "a finite number"
        left = "[" if self.closed in ("left", "both") else "("
        right = "]" if self.closed in ("right", "both") else ")"
        low = "-inf" if self.low == -math.inf else f"{self.low:g}"
        high = "inf" if self.high == math.inf else f"{self.high:g}"
        return f"a finite number in {left}{low}, {high}{right}"

    def accepts(self, value: Any) -> bool:
        if not _is_real(value) or not math.isfinite(float(value)):
            return False
        v = float(value)
        above = v >= self.low if self.closed in ("left", "both") else v > self.low
        below = v <= self.high if self.closed in ("right", "both") else v < self.high
        return above and below

    def normalize(self, value: Any) -> float:
        return float(value)

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "number"}
        if self.low != -math.inf:
            schema["minimum" if self.closed in ("left", "both") else "exclusiveMinimum"] = self.low
        if self.high != math.inf:
            schema["maximum" if self.closed in ("right", "both") else "exclusiveMaximum"] = self.high
        return schema

    def invalid_examples(self) -> tuple[Any, ...]:
        out: list[Any] = [math.nan, math.inf, -math.inf, "0.5", None, True, [0.5]]
        if self.low != -math.inf:
            out.append(self.low - 1.0 if self.closed in ("left", "both") else self.low)
        if self.high != math.inf:
            out.append(self.high + 1.0 if self.closed in ("right", "both") else self.high)
        return tuple(out)


@dataclass(frozen=True)
class Integer(Constraint):
    """A whole number (not a bool) with ``low <= value`` and ``value <= high``."""

    low: int | None = None
    high: int | None = None

    @property
    def description(self) -> str:  # type: ignore[override]
        if self.low is not None and self.high is not None:
            return f"an integer in [{self.low}, {self.high}]"
        if self.low is not None:
            return f"an integer >= {self.low}"
        return "an integer"

    def accepts(self, value: Any) -> bool:
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            return False
        number = int(value)
        return (self.low is None or number >= self.low) and (self.high is None or number <= self.high)

    def normalize(self, value: Any) -> int:
        return int(value)

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer"}
        if self.low is not None:
            schema["minimum"] = self.low
        if self.high is not None:
            schema["maximum"] = self.high
        return schema

    def invalid_examples(self) -> tuple[Any, ...]:
        out: list[Any] = [1.5, math.nan, "3", True]
        if self.low is not None:
            out.append(self.low - 1)
        if self.high is not None:
            out.append(self.high + 1)
        return tuple(out)


class Options(Constraint):
    """One of a fixed set of values (compared by type and value, so True is not 1)."""

    def __init__(self, *values: Any):
        self.values = values
        self.description = "one of " + ", ".join(repr(v) for v in values)

    def accepts(self, value: Any) -> bool:
        return any(type(value) is type(v) and value == v for v in self.values)

    def json_schema(self) -> dict[str, Any]:
        if set(self.values) == {True, False} and all(isinstance(v, bool) for v in self.values):
            return {"type": "boolean"}
        return {"enum": list(self.values)}

    def invalid_examples(self) -> tuple[Any, ...]:
        strings = [v for v in self.values if isinstance(v, str)]
        out: list[Any] = ["bogus", 3]
        if strings:
            out.append(strings[0].upper() if strings[0].upper() != strings[0] else strings[0].lower())
        return tuple(v for v in out if not self.accepts(v))


BOOLEAN = Options(True, False)


class InstanceOf(Constraint):
    """An instance of one of ``types`` (described in words by ``description``)."""

    def __init__(self, types: type | tuple[type, ...], description: str, invalid: Iterable[Any] = ()):
        self.types = types
        self.description = description
        self.invalid = tuple(invalid)

    def accepts(self, value: Any) -> bool:
        is_bool = isinstance(value, bool) and bool not in _tuple(self.types)
        return isinstance(value, self.types) and not is_bool

    def json_schema(self) -> dict[str, Any] | None:
        if _tuple(self.types) == (str,):
            return {"type": "string", "minLength": 1, "description": self.description}
        if _tuple(self.types) == (Mapping,):
            return {"type": "object", "description": self.description}
        return None

    def invalid_examples(self) -> tuple[Any, ...]:
        return self.invalid


def _tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


class _NoneConstraint(Constraint):
    description = "None"

    def accepts(self, value: Any) -> bool:
        return value is None


NONE = _NoneConstraint()


class MappingOf(Constraint):
    """A non-empty mapping whose values are accepted by ``values`` (keys any hashable)."""

    def __init__(self, values: Constraint, what: str = "a non-empty mapping", allow_empty: bool = False):
        self.values = values
        self.allow_empty = allow_empty
        self.description = f"{what} of {values.description}s"

    def accepts(self, value: Any) -> bool:
        if not isinstance(value, Mapping) or (not value and not self.allow_empty):
            return False
        return all(self.values.accepts(v) for v in value.values())

    def normalize(self, value: Any) -> dict[Any, Any]:
        return {k: self.values.normalize(v) for k, v in value.items()}

    def json_schema(self) -> dict[str, Any] | None:
        values = self.values.json_schema()
        return None if values is None else {"type": "object", "additionalProperties": values,
                                            "description": self.description}

    def invalid_examples(self) -> tuple[Any, ...]:
        bad = [{"a": v} for v in self.values.invalid_examples()[:3]]
        return (*(() if self.allow_empty else ({},)), [0.5, 0.5], "x", *bad)


def check_param(value: Any, name: str, owner: str, *constraints: Constraint) -> Any:
    """``value`` (normalized) when one of ``constraints`` accepts it, else InvalidParameterError with
    the one message template."""
    for constraint in constraints:
        if constraint.accepts(value):
            return constraint.normalize(value)
    expected = " or ".join(c.description for c in constraints)
    error = InvalidParameterError(
        f"The {name!r} parameter of {owner} must be {expected}. Got {_show(value)} instead."
    )
    error.parameter, error.owner = name, owner  # type: ignore[attr-defined]
    raise error


def check_finite(value: Any, name: str, owner: str) -> float:
    """A finite real number (the most common declaration, as a two-word helper)."""
    return float(check_param(value, name, owner, Real()))


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def declared(func: Callable[..., Any]) -> dict[str, tuple[Constraint, ...]]:
    """The constraints ``func`` was declared with by :func:`validated` (for generated tests)."""
    return dict(getattr(func, "__wc_constraints__", {}))


def parameters_schema(func: Callable[..., Any], only: Iterable[str] | None = None) -> dict[str, Any]:
    """The JSON Schema of the keyword parameters ``func`` was declared with (:func:`validated`): one
    property per parameter, from the same constraints the call checks, so a document and a call
    accept the same values (None means "leave the key out"; ``only`` keeps those names)."""
    properties: dict[str, Any] = {}
    for name, constraints in declared(func).items():
        if only is not None and name not in only:
            continue
        schemas = [c.json_schema() for c in constraints if c is not NONE]
        if any(schema is None for schema in schemas) or not schemas:
            continue  # not expressible in JSON: documents do not offer it
        properties[name] = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    return {"type": "object", "properties": properties, "additionalProperties": False}


def validated(owner: str, **constraints: Constraint | tuple[Constraint, ...]) -> Callable[[F], F]:
    """Decorate a function so that its named parameters are checked (and normalized) on every call,
    and an unknown keyword is an InvalidParameterError naming it, not a bare TypeError."""
    table = {name: c if isinstance(c, tuple) else (c,) for name, c in constraints.items()}

    def decorate(func: F) -> F:
        signature = inspect.signature(func)
        unknown = set(table) - set(signature.parameters)
        if unknown:  # a declaration error of the package itself
            raise TypeError(f"{owner} declares constraints on unknown parameters {sorted(unknown)}")

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as err:
                names = [p for p in signature.parameters if p not in ("self", "cls")]
                extra = sorted(set(kwargs) - set(signature.parameters))
                what = f"unknown parameter(s) {extra}" if extra else str(err)
                raise InvalidParameterError(
                    f"{owner} got {what}; it takes {', '.join(names)}."
                ) from None
            for name, allowed in table.items():
                if name in bound.arguments:
                    bound.arguments[name] = check_param(bound.arguments[name], name, owner, *allowed)
            return func(*bound.args, **bound.kwargs)

        wrapper.__wc_constraints__ = table  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
