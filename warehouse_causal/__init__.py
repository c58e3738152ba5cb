"""warehouse_causal: trustworthy causal answers from experiments, computed inside the warehouse."""

from __future__ import annotations

from warehouse_causal import datasets
from warehouse_causal.core import errors
from warehouse_causal.core.errors import (
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
from warehouse_causal.core.progress import set_progress
from warehouse_causal.core.version import __version__
from warehouse_causal.decide.bayes import BayesianLinearRegression, NormalInverseGamma, PosteriorEffects
from warehouse_causal.decide.policy import ContextVector, Policy, RewardModel, load_model
from warehouse_causal.design.catalog import MetricCatalog, load_metrics
from warehouse_causal.design.exposure import exposure_age
from warehouse_causal.design.metrics import Metric
from warehouse_causal.design.percentile import Quantile
from warehouse_causal.design.ratios import Ratio
from warehouse_causal.design.spec import ModelSpec
from warehouse_causal.effects.quantiles import QuantileEffects
from warehouse_causal.fluent import Effects, ExperimentData, LinearModel
from warehouse_causal.meaning import Covariance, Direction, Estimand, EstimandKind, PeriodAxis, Status
from warehouse_causal.monitoring.monitor import Monitor, MonitorReport, Thresholds
from warehouse_causal.planning.plan import ExperimentPlan, PlanSpec, PowerTable
from warehouse_causal.warehouse.backends import connect, table

__all__ = [
    "BayesianLinearRegression",
    "CollinearityError",
    "ContextVector",
    "Covariance",
    "CovariateImbalanceWarning",
    "DesignError",
    "DesignWarning",
    "Direction",
    "Effects",
    "Estimand",
    "EstimandKind",
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
    "PeriodAxis",
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
    "Status",
    "Thresholds",
    "UnsupportedBackendError",
    "WarehouseCausalError",
    "WarehouseCausalWarning",
    "WeakInstrumentWarning",
    "__version__",
    "connect",
    "datasets",
    "errors",
    "exposure_age",
    "load_metrics",
    "load_model",
    "set_progress",
    "table",
]
