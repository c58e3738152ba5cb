"""The sentences of agent and CLI answers, each written from the numbers it describes.

One small function per rule: it takes typed numbers (a :class:`Contrast` per metric and arm, a
p-value, first-stage rows, counts) and returns the sentence, or ``None`` when the rule has nothing
true to say. A sentence names exactly the (metric, arm) pairs whose numbers satisfy it; a statistic
that is missing, NaN or infinite is reported as ``null`` with the status "not checked"
(:class:`~warehouse_causal.meaning.Status`), never as ok; no sentence keeps a placeholder.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from warehouse_causal.core.errors import WarehouseCausalWarning
from warehouse_causal.fit.diagnostics import BALANCE_P, BALANCE_SMD, WEAK_F, BalanceRow, FirstStageRow
from warehouse_causal.meaning import Status
from warehouse_causal.meaning.direction import Direction, judge
from warehouse_causal.meaning.status import is_finite

__all__ = [
    "Check",
    "Contrast",
    "balance_rows",
    "clusters",
    "contrast_name",
    "contrasts",
    "decision_step",
    "first_stage",
    "first_stage_rows",
    "no_interval",
    "not_significant",
    "over_time_step",
    "package_warnings",
    "sample_ratio",
    "significantly_worse",
    "statistic",
    "unique",
    "weak_instrument_step",
]


class Contrast(NamedTuple):
    """The effect of one arm against the control on one metric, over all units."""

    metric: str
    arm: str
    control: str
    estimate: float
    ci_lower: float
    ci_upper: float

    @property
    def has_interval(self) -> bool:
        return is_finite(self.ci_lower) and is_finite(self.ci_upper)


@dataclass(frozen=True)
class Check:
    """One check of an answer: its status, the statistic it read (None when not finite) and its
    sentence."""

    status: Status
    sentence: str
    p_value: float | None = None
    alpha: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """``ok`` is True only for a check that ran and passed, False for an alert, else None."""
        return {"status": str(self.status), "ok": self.status.passed if self.status.ran else None,
                "p_value": self.p_value, "alpha": self.alpha, "detail": self.sentence}


def statistic(value: Any) -> float | None:
    """A statistic as an answer shows it: the number when finite, else None (JSON null)."""
    return float(value) if is_finite(value) else None


def unique(messages: Iterable[str]) -> list[str]:
    """The messages without repeats, in their first order."""
    return list(dict.fromkeys(messages))


def package_warnings(caught: Iterable[warnings.WarningMessage | str]) -> list[str]:
    """The messages an answer carries: the package's own warnings (``WarehouseCausalWarning`` and
    its subclasses), once each, in order. Dependencies' deprecation and future warnings are not
    about the analysis and are dropped; plain strings are the caller's own and are kept."""
    return unique(w if isinstance(w, str) else str(w.message) for w in caught
                  if isinstance(w, str) or issubclass(w.category, WarehouseCausalWarning))


# -- effects ---------------------------------------------------------------------------------------

def contrasts(rows: Iterable[dict[str, Any]], control: Any) -> list[Contrast]:
    """The all-units rows of an effects table (``Effects.to_dicts()``) as contrasts."""
    return [Contrast(str(r["metric"]), str(r["arm"]), str(control), r["estimate"], r["ci_lower"],
                     r["ci_upper"]) for r in rows if r["segment"] == "all"]


def contrast_name(c: Contrast) -> str:
    """"'revenue' arm 2 vs 0": how every sentence names one contrast."""
    return f"{c.metric!r} arm {c.arm} vs {c.control}"


def _names(found: Sequence[Contrast]) -> str:
    return "; ".join(contrast_name(c) for c in found)


def not_significant(found: Sequence[Contrast], alpha: float) -> str | None:
    """The contrasts whose interval includes 0, and only those."""
    covers = [c for c in found if c.has_interval and c.ci_lower <= 0 <= c.ci_upper]
    if not covers:
        return None
    return (f"No significant effect (the {100 * (1 - alpha):g}% interval includes 0) for "
            f"{_names(covers)}: plan the sample size for the effect that matters (the plan tool) or "
            "keep the experiment running and watch 'over_time' (anytime-valid).")


def significantly_worse(found: Sequence[Contrast], metrics: Sequence[str],
                        directions: Mapping[str, Direction]) -> str | None:
    """The contrasts whose whole interval is on the metric's bad side (below 0 when higher is
    better, above 0 when lower is better; a neutral metric has no bad side), with the other metrics
    as candidate mediators (nothing when there is no other metric)."""
    worse = [c for c in found if c.has_interval
             and judge(c.ci_lower, c.ci_upper, directions.get(c.metric, Direction.HIGHER)) == "bad"]
    candidates = [m for m in metrics if m not in {c.metric for c in worse}]
    if not worse or not candidates:
        return None
    sides = "; ".join(f"{c.metric!r}: {directions.get(c.metric, Direction.HIGHER).phrase}"
                      for c in {c.metric: c for c in worse}.values())
    return (f"The effect is worse (the whole interval on the bad side; {sides}) for {_names(worse)}: "
            f"analyse the mechanism with a 'graph' over candidate mediators among {candidates} (mediation).")


def no_interval(found: Sequence[Contrast]) -> str | None:
    """The contrasts without a finite interval: their significance is not checked."""
    missing = [c for c in found if not c.has_interval]
    if not missing:
        return None
    return (f"No interval could be computed for {_names(missing)}: whether the effect differs from "
            "0 is not checked there (see the caveats).")


# -- next steps that name columns ------------------------------------------------------------------

def over_time_step(time_columns: Sequence[str]) -> str:
    """Watch the cumulative effect, with the table's time column filled in when there is one."""
    if len(time_columns) == 1:
        return (f"Watch the cumulative effect with 'over_time': {{\"time\": \"{time_columns[0]}\"}} "
                "(a confidence sequence, valid at every look).")
    if time_columns:
        listed = ", ".join(repr(c) for c in time_columns)
        return ("Watch the cumulative effect with 'over_time', its 'time' being the column that dates "
                f"each row (one of {listed}; a confidence sequence, valid at every look).")
    return ("Watch the cumulative effect with 'over_time', its 'time' being a column that orders the "
            "rows in time (the table has no date or timestamp column; a period number works too).")


def decision_step(metrics: Sequence[str]) -> str:
    """Decide, with the first metric as the primary."""
    others = list(metrics[1:])
    guard = (f", and 'guardrails' with a tolerance for each of {others} (negative: its effect must not "
             "fall below it; positive: must not rise above it)" if others else "")
    return f"Decide with 'decision': {{\"primary\": \"{metrics[0]}\"}}{guard}."


# -- checks ----------------------------------------------------------------------------------------

def sample_ratio(p_value: float | None, alpha: float) -> Check:
    """The sample-ratio test: ok, alert, or not checked when there is no finite p-value."""
    if p_value is None:
        return Check(Status.NOT_CHECKED, "Sample ratio not tested: the design gives no 'expected_split' "
                     "(the planned share of each arm).", None, alpha)
    status = Status.of(bool(p_value < alpha), p_value)
    if status is Status.NOT_CHECKED:
        return Check(status, "Sample ratio not tested: its p-value could not be computed.", None, alpha)
    if status is Status.ALERT:
        return Check(status, f"Sample ratio mismatch: p = {p_value:.2g} < {alpha:g}; find out why the "
                     "arms' sizes differ from the expected split before reading any effect.", p_value, alpha)
    return Check(status, f"Sample ratio test: p = {p_value:.3g} (not below {alpha:g}): no evidence that "
                 "the arms' sizes depart from the expected split.", p_value, alpha)


def first_stage_rows(rows: Iterable[FirstStageRow]) -> list[dict[str, Any]]:
    """First-stage rows as an answer shows them: F null when not finite, and a status (alert below
    WEAK_F, not checked without a finite F)."""
    return [{"term": r.term, "f_statistic": statistic(r.f_statistic),
             "f_homoskedastic": statistic(r.f_homoskedastic), "covariance": r.covariance,
             "status": str(Status.of(bool(r.f_statistic < WEAK_F), r.f_statistic))} for r in rows]


def first_stage(rows: Sequence[FirstStageRow], exact: Sequence[str], treated: str, assigned: str,
                all_exact: bool = False) -> str:
    """What the first stage shows: exact take-up, weak or strong F, or F not computed."""
    if all_exact:
        return f"Treatment {treated!r} follows assignment {assigned!r} exactly (no first stage to test)."
    parts = []
    weak = [r for r in rows if is_finite(r.f_statistic) and r.f_statistic < WEAK_F]
    strong = [r for r in rows if is_finite(r.f_statistic) and r.f_statistic >= WEAK_F and ":" not in r.term]
    unknown = [r.term for r in rows if not is_finite(r.f_statistic)]
    if weak:
        parts.append(f"Weak instrument: first-stage F below {WEAK_F:g} for "
                     + ", ".join(f"{r.term!r} (F = {r.f_statistic:.1f})" for r in weak))
    if strong:
        parts.append(f"First-stage F at least {WEAK_F:g} for "
                     + ", ".join(f"{r.term!r} (F = {r.f_statistic:,.1f})" for r in strong))
    if unknown:
        parts.append(f"First-stage F not computed for {unknown} (not checked)")
    if exact:
        parts.append(f"{list(exact)} follow assignment {assigned!r} exactly (no first stage to test)")
    return "; ".join(parts) + "." if parts else "No first-stage F was computed (not checked)."


def weak_instrument_step(rows: Iterable[FirstStageRow]) -> str | None:
    """The terms whose finite first-stage F is below WEAK_F, and only those."""
    weak = [r.term for r in rows if is_finite(r.f_statistic) and r.f_statistic < WEAK_F]
    if not weak:
        return None
    return (f"The instrument is weak (first-stage F below {WEAK_F:g} for {weak}): the LATE is "
            "unreliable; strengthen the encouragement.")


def balance_rows(rows: Iterable[BalanceRow]) -> list[dict[str, Any]]:
    """Balance rows with statistics null when not finite and a status (alert when the covariate
    differs by arm beyond BALANCE_SMD with p below BALANCE_P)."""
    out = []
    for r in rows:
        flagged = abs(r.standardized_difference) > BALANCE_SMD and r.p_value < BALANCE_P
        out.append({**{k: statistic(v) if isinstance(v, float) else v for k, v in r._asdict().items()},
                    "status": str(Status.of(bool(flagged), r.p_value, r.standardized_difference))})
    return out


def clusters(count: int, mixed: int, column: str) -> str:
    """The number of clusters and how many hold more than one assignment arm."""
    if not mixed:
        return f"{count:,} clusters of {column!r}; each holds one assignment arm."
    return (f"{mixed:,} of {count:,} clusters of {column!r} hold more than one assignment arm: the "
            "assignment was not by cluster (clustered errors stay valid if the clusters capture the "
            "dependence between rows).")

