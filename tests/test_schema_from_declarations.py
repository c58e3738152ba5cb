"""The documents' schemas for fit and effects options are generated from the declarations the calls
check (``@validated``): every declared parameter is offered, and a value is valid in a document
exactly when the call accepts it (checked with the jsonschema package on each constraint's own
invalid examples and on valid ones)."""

from __future__ import annotations

import math
from typing import Any

import jsonschema
import pytest

from warehouse_causal.core.validation import NONE, declared
from warehouse_causal.fit.models import LinearFit
from warehouse_causal.fluent import LinearModel
from warehouse_causal.surfaces.spec_schema import EFFECTS, FIT

CASES = [(FIT, LinearFit._fit), (EFFECTS, LinearModel.infer_effect)]
VALID = {"covariance": "CR1", "interacted": False, "strategy": "moments", "alpha": 0.1,
         "cross_metric_covariance": True, "inference": "classical", "permutations": 100, "seed": 3,
         "over": "day", "relative": True, "planned_n": 10, "adjust": "bh", "since_exposure": "first_seen"}


@pytest.mark.parametrize("schema, func", CASES)
def test_every_declared_parameter_is_in_the_document_schema(schema: dict[str, Any], func: Any) -> None:
    assert set(schema["properties"]) == set(declared(func))


def _json(value: Any) -> bool:
    """Whether a value can appear in a JSON document at all (NaN/inf cannot, by the strict reader)."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (str, int, bool, type(None), list, dict))


@pytest.mark.parametrize("schema, func", CASES)
def test_the_document_accepts_what_the_call_accepts(schema: dict[str, Any], func: Any) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    for name, constraints in declared(func).items():
        assert validator.is_valid({name: VALID[name]}) and any(c.accepts(VALID[name]) for c in constraints)
        for constraint in constraints:
            for bad in constraint.invalid_examples():
                if not _json(bad) or bad is None or any(c.accepts(bad) for c in constraints if c is not NONE):
                    continue
                assert not validator.is_valid({name: bad}), (name, bad)
