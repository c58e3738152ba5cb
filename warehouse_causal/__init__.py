"""warehouse_causal: trustworthy causal answers from experiments, computed inside the warehouse."""

from __future__ import annotations

from warehouse_causal import datasets
from warehouse_causal.backends import connect, table
from warehouse_causal.bayes import BayesianLinearRegression, NormalInverseGamma, PosteriorEffects
from warehouse_causal.catalog import MetricCatalog, load_metrics
from warehouse_causal.effects import Effects
from warehouse_causal.errors import (
    CollinearityError,
    CovariateImbalanceWarning,
    DesignError,
    DesignWarning,
    ExpressionError,
    InvalidParameterError,
    OverlapWarning,
    PrecisionWarning,
    SampleRatioMismatchWarning,
    SchemaError,
    UnsupportedBackendError,
    WarehouseCausalError,
    WarehouseCausalWarning,
    WeakInstrumentWarning,
)
from warehouse_causal.experiment import ExperimentData
from warehouse_causal.exposure import exposure_age
from warehouse_causal.metrics import Metric
from warehouse_causal.models import LinearModel
from warehouse_causal.monitor import Monitor, MonitorReport, Thresholds
from warehouse_causal.planning import ExperimentPlan, PlanSpec, PowerTable
from warehouse_causal.policy import ContextVector, Policy, RewardModel, load_model
from warehouse_causal.progress import set_progress
from warehouse_causal.quantiles import Quantile, QuantileEffects
from warehouse_causal.ratios import Ratio
from warehouse_causal.spec import ModelSpec

__version__ = "0.1.0"

__all__ = [
    "BayesianLinearRegression",
    "CollinearityError",
    "ContextVector",
    "CovariateImbalanceWarning",
    "DesignError",
    "DesignWarning",
    "Effects",
    "ExperimentData",
    "ExperimentPlan",
    "ExpressionError",
    "InvalidParameterError",
    "LinearModel",
    "Metric",
    "MetricCatalog",
    "ModelSpec",
    "Monitor",
    "MonitorReport",
    "NormalInverseGamma",
    "OverlapWarning",
    "PlanSpec",
    "Policy",
    "PosteriorEffects",
    "PowerTable",
    "PrecisionWarning",
    "Quantile",
    "QuantileEffects",
    "Ratio",
    "RewardModel",
    "SampleRatioMismatchWarning",
    "SchemaError",
    "Thresholds",
    "UnsupportedBackendError",
    "WarehouseCausalError",
    "WarehouseCausalWarning",
    "WeakInstrumentWarning",
    "__version__",
    "connect",
    "datasets",
    "exposure_age",
    "load_metrics",
    "load_model",
    "set_progress",
    "table",
]
