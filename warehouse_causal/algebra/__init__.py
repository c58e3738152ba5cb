"""Pure numpy/scipy algebra on small moment matrices. Imports no ibis, pandas or backend."""

from __future__ import annotations

from warehouse_causal.algebra.iv import IVSolution, residual_cross_products, two_stage_least_squares
from warehouse_causal.algebra.linalg import collinear_sets, condition_number
from warehouse_causal.algebra.sandwich import (
    COVARIANCE_TYPES,
    CovarianceType,
    iid_covariance,
    sandwich,
    small_sample_factor,
)

__all__ = [
    "COVARIANCE_TYPES",
    "CovarianceType",
    "IVSolution",
    "collinear_sets",
    "condition_number",
    "iid_covariance",
    "residual_cross_products",
    "sandwich",
    "small_sample_factor",
    "two_stage_least_squares",
]
