"""After launch: ``wc.Monitor(experiment=model, production=table, time="day", ...)`` checks that the
experiment's answer still holds in the new data-generating regime; ``.check()`` returns a
:class:`~warehouse_causal.monitoring.results.MonitorReport`.

Layers (each a method returning its table):

* **population** — standardized mean differences of every covariate (dummies of categories: the
  traffic mix) between the experiment and each production period; the R² of a linear probability
  model of production-vs-experiment membership; the experiment's effects re-projected to the latest
  period's covariate means (the interacted model's delta vector);
* **persistence** — with a holdout in production: each period's effect, with intervals that hold for
  every period at once, tested against the experiment's estimate of the same estimand, and the trend
  of the effects (decay). Launched − holdout is an intention-to-treat effect (ITT), so it is compared
  with the experiment's ITT (its reduced form when it has an instrument); when production has the
  take-up column (``treated``) of an instrumented experiment, the LATE in production (the holdout as
  the instrument) is compared with the experiment's LATE (:mod:`~warehouse_causal.monitoring.estimands`).
  Every row names its ``estimand``;
* **measurement** — the judge–human calibration slope per period (metrics fitted with
  ``calibrate_with``) against the experiment's; NULL rates and row counts (logging);
* **feedback** — the served rate and the gap between labelled rows and the whole population, each
  tested for a trend (the model feeding its own training data);
* **guardrails** — guardrail effects in every segment, one-sided against the tolerance with
  Benjamini–Hochberg across segments (in production with a holdout, else from the experiment);
* **version** — the share of rows served a treatment version other than the one tested.

Every test that repeats over periods spends α over the looks
(:func:`~warehouse_causal.algebra.monitoring.spent_alpha`): the chance of any false alarm of that
check, however many days are monitored, is at most α. Threshold rules (SMD, R², NULL rate, row
count, projection change, version share) measure sizes and carry no error rate; the report says
which each check is. A check that could not run (no values, one unit, a NaN or infinite statistic)
has the status ``not checked`` (:class:`~warehouse_causal.meaning.Status`) and its ``note`` or
sentence says why; it never counts as ok. Periods are ordered in their own type (``PeriodAxis``):
day 10 comes after day 9.

Production data stay in the warehouse: one aggregate by period (nested by unit when there is a
unit, for cluster-robust variances), one by period × holdout, one by holdout for the segments, plus
one aggregate of the experiment table for its covariate and audit sums.

In the code the monitor is one object per job: its arguments are checked once into a frozen
:class:`~warehouse_causal.monitoring.inputs.MonitorInputs`; the queries are built and kept by
:class:`~warehouse_causal.monitoring.queries.MonitorSums` (each aggregate runs once, on first use);
each layer is a function of those two in its own module (``population``, ``completeness``,
``measurement``, ``persistence``, ``feedback``, ``guardrails``, ``version``), and
:func:`~warehouse_causal.monitoring.checks.build_report` summarises the layers' tables as checks.
:class:`Monitor` holds the three and delegates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis.expr.types as ir

from warehouse_causal.core.tables import RowTable
from warehouse_causal.core.validation import Real, check_param
from warehouse_causal.fit.models import LinearFit
from warehouse_causal.meaning import Estimand
from warehouse_causal.monitoring import completeness as _completeness
from warehouse_causal.monitoring import feedback as _feedback
from warehouse_causal.monitoring import guardrails as _guardrails
from warehouse_causal.monitoring import measurement as _measurement
from warehouse_causal.monitoring import persistence as _persistence
from warehouse_causal.monitoring import population as _population
from warehouse_causal.monitoring import version as _version
from warehouse_causal.monitoring.checks import build_report
from warehouse_causal.monitoring.inputs import OWNER, MonitorInputs, monitor_inputs
from warehouse_causal.monitoring.measurement import calibration_slope as calibration_slope  # re-exported
from warehouse_causal.monitoring.queries import MonitorSums
from warehouse_causal.monitoring.results import MonitorReport, Thresholds
from warehouse_causal.warehouse.backends import QueryRunner

__all__ = ["Monitor", "MonitorReport", "Thresholds"]


class Monitor:
    """Post-launch checks of a fitted experiment against production traffic (module docstring).

    Parameters
    ----------
    experiment : the fitted ``LinearModel`` of the experiment.
    production : post-launch rows (ibis table or a DataFrame) with the columns the experiment's
        covariates and metrics read, and ``time``.
    time : the period column (a day number, a date, a week).
    holdout : a boolean or 0/1 column, 1 on rows of the long-term holdout (kept on control).
    treated : the take-up column in production (the arm each row received), for an experiment with an
        instrument: persistence then compares the LATE in production (the holdout as the instrument)
        with the experiment's LATE. Default: the experiment's ``treated`` column when production has
        it; without it, launched − holdout (an ITT) is compared with the experiment's reduced form.
    unit : the unit whose rows are correlated; default the experiment's ``cluster_by`` when the
        production table has it. Variances are then cluster-robust by unit.
    launched_arm : the arm launched (default: the experiment's only treatment arm).
    segments : SQL conditions on pre-treatment covariates, for the guardrails by segment.
    guardrails : ``{metric: tolerance}`` as in ``Effects.decide``.
    served : a boolean or 0/1 column: the model's output was acted on (feedback check).
    labelled : a column that is NULL on unlabelled rows (feedback check).
    version : ``(column, the treatment version the experiment tested)``.
    expected_rows : rows expected per period (default: the median of the production periods).
    thresholds : :class:`~warehouse_causal.monitoring.results.Thresholds`.
    """

    # set once in __init__: the frozen inputs, the query log, and the kept aggregates
    __slots__ = ("_inputs", "_runner", "_sums")

    def __init__(
        self,
        experiment: Any,
        production: Any,
        time: str,
        *,
        holdout: str | None = None,
        treated: str | None = None,
        unit: str | None = None,
        launched_arm: Any = None,
        segments: Any = None,
        guardrails: dict[str, Any] | None = None,
        served: str | None = None,
        labelled: str | None = None,
        version: tuple[str, Any] | None = None,
        expected_rows: float | None = None,
        thresholds: Thresholds | None = None,
    ):
        self._inputs = monitor_inputs(
            experiment, production, time, holdout=holdout, treated=treated, unit=unit,
            launched_arm=launched_arm, segments=segments, guardrails=guardrails, served=served,
            labelled=labelled, version=version, expected_rows=expected_rows, thresholds=thresholds,
        )
        self._runner = QueryRunner()
        self._sums = MonitorSums(self._inputs, self._runner)

    # -- the inputs, read-only -------------------------------------------------------------------
    @property
    def inputs(self) -> MonitorInputs:
        """The validated arguments (:class:`~warehouse_causal.monitoring.inputs.MonitorInputs`)."""
        return self._inputs

    @property
    def model(self) -> LinearFit:
        """The fitted experiment."""
        return self._inputs.model

    @property
    def exp(self) -> Any:
        """The experiment's data the model was fitted on."""
        return self._inputs.exp

    @property
    def production(self) -> ir.Table:
        """The production table."""
        return self._inputs.production

    @property
    def time(self) -> str:
        """The period column."""
        return self._inputs.time

    @property
    def holdout(self) -> str | None:
        """The holdout column, or None."""
        return self._inputs.holdout

    @property
    def treated(self) -> str | None:
        """The production take-up column compared as a LATE, or None (ITTs are compared)."""
        return self._inputs.treated

    @property
    def unit(self) -> str | None:
        """The unit column of the cluster-robust variances, or None (rows)."""
        return self._inputs.unit

    @property
    def launched_arm(self) -> Any:
        """The arm launched."""
        return self._inputs.launched_arm

    @property
    def segments(self) -> tuple[tuple[str, ir.Value], ...]:
        """(label, condition on production) for each segment."""
        return self._inputs.segments

    @property
    def guardrails(self) -> Mapping[str, Any]:
        """``{metric: tolerance}`` (read-only)."""
        return self._inputs.guardrails

    @property
    def served(self) -> str | None:
        """The served column, or None."""
        return self._inputs.served

    @property
    def labelled(self) -> str | None:
        """The labelled column, or None."""
        return self._inputs.labelled

    @property
    def version(self) -> tuple[str, Any] | None:
        """``(column, tested version)``, or None."""
        return self._inputs.version

    @property
    def expected_rows(self) -> float | None:
        """Rows expected per period, or None (the median of the periods)."""
        return self._inputs.expected_rows

    @property
    def thresholds(self) -> Thresholds:
        """The threshold rules' sizes."""
        return self._inputs.thresholds

    @property
    def null_columns(self) -> tuple[str, ...]:
        """The columns whose NULL rates are checked."""
        return self._inputs.null_columns

    @property
    def covariates(self) -> Mapping[str, ir.Value]:
        """The experiment's covariate expressions on production (read-only)."""
        return self._inputs.covariates

    @property
    def metrics(self) -> Mapping[str, ir.Value]:
        """The experiment's metric expressions on production (read-only)."""
        return self._inputs.metrics

    @property
    def runner(self) -> QueryRunner:
        """The runner whose log holds every query the monitor ran."""
        return self._runner

    @property
    def estimand(self) -> Estimand:
        """The :class:`~warehouse_causal.meaning.Estimand` that persistence compares (for an
        experiment with an instrument and no take-up column in production, reading it fits the
        experiment's reduced form)."""
        return self._sums.comparison().estimand

    # -- layers ----------------------------------------------------------------------------------
    def population_drift(self) -> RowTable:
        """:func:`~warehouse_causal.monitoring.population.population_drift`."""
        return _population.population_drift(self._inputs, self._sums)

    def projection(self) -> RowTable:
        """:func:`~warehouse_causal.monitoring.population.projection`."""
        return _population.projection(self._inputs, self._sums)

    def persistence(self, alpha: float = 0.05) -> RowTable:
        """:func:`~warehouse_causal.monitoring.persistence.persistence`."""
        return _persistence.persistence(self._inputs, self._sums, alpha)

    def effect_trend(self, alpha: float = 0.05) -> RowTable:
        """:func:`~warehouse_causal.monitoring.persistence.effect_trend`."""
        return _persistence.effect_trend(self._inputs, self._sums, alpha)

    def measurement(self, alpha: float = 0.05) -> RowTable:
        """:func:`~warehouse_causal.monitoring.measurement.measurement`."""
        return _measurement.measurement(self._inputs, self._sums, alpha)

    def completeness(self) -> RowTable:
        """:func:`~warehouse_causal.monitoring.completeness.completeness`."""
        return _completeness.completeness(self._inputs, self._sums)

    def feedback(self) -> RowTable:
        """:func:`~warehouse_causal.monitoring.feedback.feedback`."""
        return _feedback.feedback(self._inputs, self._sums)

    def feedback_trend(self, alpha: float = 0.05) -> RowTable:
        """:func:`~warehouse_causal.monitoring.feedback.feedback_trend`."""
        return _feedback.feedback_trend(self._inputs, self._sums, alpha)

    def guardrail_segments(self, alpha: float = 0.05) -> RowTable:
        """:func:`~warehouse_causal.monitoring.guardrails.guardrail_segments`."""
        return _guardrails.guardrail_segments(self._inputs, self._sums, alpha)

    def version_share(self) -> float:
        """:func:`~warehouse_causal.monitoring.version.version_share`."""
        return _version.version_share(self._inputs, self._sums)

    def check(self, alpha: float = 0.05) -> MonitorReport:
        """Every layer the inputs allow, one row per check (see the module docstring)."""
        return build_report(self, check_param(alpha, "alpha", f"{OWNER}.check", Real(0, 1)))
