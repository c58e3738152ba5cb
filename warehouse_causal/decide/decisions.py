"""Ship / don't ship / inconclusive, per arm, from a primary metric and guardrails; and a short
markdown decision memo.

Rules (``evidence="anytime-valid"``, the default, uses the anytime-valid intervals, which stay valid
however often the experiment was looked at; ``"classical"`` uses the classical intervals and the
adjusted p-value of the primary):

* each metric's good direction is the one declared in ``add_metric(direction=...)`` (or by its
  ``wc.Metric`` / ``wc.Ratio`` / catalog entry), "higher" when none was;
* primary: *improves* when its interval lies entirely on the good side of 0, *harms* when entirely
  on the bad side, otherwise undecided (``higher_is_better`` may say it for a primary that declared
  no direction; it may not contradict a declared one, and a neutral primary is refused);
* guardrail ``metric: tolerance``: a negative tolerance means "the effect must not fall below it",
  a positive one "must not rise above it" (``(">", t)`` or ``("<", t)`` say it explicitly, and are
  needed for t = 0). The guarded side must be the metric's bad side when it declared one (a fall for
  "higher", a rise for "lower"; a neutral metric may be guarded on either side); a metric without a
  declared direction is judged by the side its guardrail guards. It *passes* when the whole
  interval is on the safe side of the tolerance (non-inferiority shown), *fails* when the whole
  interval is beyond it, is *not checked* when the estimate or interval is NaN or infinite, else
  is *unclear*;
* ship when the primary improves and every guardrail passes; don't ship when the primary harms
  or a guardrail fails; otherwise inconclusive (so a guardrail that was not checked never ships).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from warehouse_causal.core.errors import InvalidParameterError, check_option
from warehouse_causal.core.tables import TableResult
from warehouse_causal.core.validation import Real
from warehouse_causal.design.estimands import design_estimand
from warehouse_causal.design.experiment import SRM_ALPHA
from warehouse_causal.fit.diagnostics import BALANCE_P, BALANCE_SMD, WEAK_F
from warehouse_causal.meaning import Direction
from warehouse_causal.meaning.direction import judge
from warehouse_causal.meaning.status import is_finite

if TYPE_CHECKING:
    from warehouse_causal.effects.table import EffectsTable

__all__ = ["ArmDecision", "Decision", "GuardrailCheck", "caveats", "decide", "estimand_name",
           "guardrail_bound", "judge", "memo", "metric_directions"]

EVIDENCE = ("anytime-valid", "classical")


@dataclass(frozen=True)
class GuardrailCheck:
    """One guardrail of one arm."""

    metric: str
    bound: str  # ">" (must stay above) or "<" (must stay below)
    tolerance: float
    estimate: float
    lower: float
    upper: float
    status: str  # "pass" | "fail" | "unclear" | "not checked" (NaN or infinite estimate or interval)
    #: The metric's good direction: declared, or (none declared) the one the bound guards.
    direction: Direction = Direction.HIGHER


@dataclass(frozen=True)
class ArmDecision:
    """The verdict for one arm with the reasons behind it."""

    arm: str
    verdict: str  # "ship" | "don't ship" | "inconclusive"
    primary_estimate: float
    primary_lower: float
    primary_upper: float
    guardrails: tuple[GuardrailCheck, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True, repr=False)
class Decision(TableResult):
    """Verdicts per arm; ``to_pandas`` gives one row per arm."""

    primary: str
    segment: str
    evidence: str
    alpha: float
    arms: tuple[ArmDecision, ...]
    #: The good direction of the primary and each guardrail metric, as the decision judged them.
    directions: tuple[tuple[str, Direction], ...] = ()

    def to_dicts(self) -> list[dict[str, Any]]:
        """One dict per arm: verdict, the primary's estimate and interval, and the reasons."""
        return [{"arm": a.arm, "verdict": a.verdict, "primary_estimate": a.primary_estimate,
                 "primary_lower": a.primary_lower, "primary_upper": a.primary_upper,
                 "reasons": "; ".join(a.reasons)} for a in self.arms]

    def caption(self) -> str:
        return f"Decision on {self.primary!r} (segment {self.segment!r}, {self.evidence} intervals)"

    def __str__(self) -> str:
        return "\n".join(f"{a.arm}: {a.verdict.upper()} — " + "; ".join(a.reasons) for a in self.arms)


def guardrail_bound(metric: str, tolerance: Any) -> tuple[str, float]:
    finite = Real()
    if (isinstance(tolerance, tuple) and len(tolerance) == 2 and tolerance[0] in (">", "<")
            and finite.accepts(tolerance[1])):
        return tolerance[0], float(tolerance[1])
    if finite.accepts(tolerance) and tolerance != 0:
        return (">" if tolerance < 0 else "<"), float(tolerance)
    raise InvalidParameterError(
        f"The 'guardrails' parameter of Effects.decide must give {metric!r} a finite non-zero number or "
        f"('>', t) / ('<', t) with a finite t. Got {tolerance!r} instead."
    )


def _interval(row: dict[str, Any], evidence: str) -> tuple[float, float]:
    if evidence == "anytime-valid":
        return row["av_ci_lower"], row["av_ci_upper"]
    return row["ci_lower"], row["ci_upper"]


def _guardrail(metric: str, tolerance: Any, row: dict[str, Any], evidence: str,
               declared: Direction | None) -> GuardrailCheck:
    bound, t = guardrail_bound(metric, tolerance)
    guards = Direction.HIGHER if bound == ">" else Direction.LOWER  # the side it keeps harm away from
    if declared is not None and declared is not Direction.NEUTRAL and declared is not guards:
        side = "a fall" if bound == ">" else "a rise"
        other = "<" if bound == ">" else ">"
        fix = f"{-t:g} or ('{other}', {-t:g})" if t != 0 else f"('{other}', 0)"
        raise InvalidParameterError(
            f"The 'guardrails' parameter of Effects.decide guards {metric!r} against {side} "
            f"({tolerance!r}: must stay {'above' if bound == '>' else 'below'} {t:+g}), but {metric!r} is "
            f"declared {declared.value!r} ({declared.phrase}), so {side} is good for it. Guard the bad side "
            f"({fix}) or declare the metric's direction differently.")
    lower, upper = _interval(row, evidence)
    if not (is_finite(row["estimate"]) and is_finite(lower) and is_finite(upper)):
        status = "not checked"
    elif bound == ">":
        status = "pass" if lower > t else "fail" if upper < t else "unclear"
    else:
        status = "pass" if upper < t else "fail" if lower > t else "unclear"
    return GuardrailCheck(metric, bound, t, row["estimate"], lower, upper, status,
                          declared if declared is not None else guards)


def _primary(row: dict[str, Any], evidence: str, direction: Direction, alpha: float) -> tuple[str, str]:
    lower, upper = _interval(row, evidence)
    if not (is_finite(row["estimate"]) and is_finite(lower) and is_finite(upper)) or (
            evidence == "classical" and not is_finite(row["p_adjusted"])):
        return "undecided", (f"{row['metric']} {row['estimate']:+.4g} has no valid {evidence} interval "
                             "(too few clusters or no data; see model.inference)")
    if evidence == "classical" and row["p_adjusted"] >= alpha:
        lower, upper = min(lower, 0.0), max(upper, 0.0)  # not significant after adjustment
    higher_is_better = direction is Direction.HIGHER
    good_side = lower > 0 if higher_is_better else upper < 0
    bad_side = upper < 0 if higher_is_better else lower > 0
    text = f"{row['metric']} {row['estimate']:+.4g} [{lower:+.4g}, {upper:+.4g}]"
    note = "" if higher_is_better else f" ({direction.phrase})"
    if good_side:
        return "improves", f"{text} improves{note}"
    if bad_side:
        return "harms", f"{text} is worse{note}"
    return "undecided", f"{text} is not distinguishable from 0"


def _declared(effects: EffectsTable) -> dict[str, Direction]:
    """The directions declared for the model's metrics (none for effects without their model)."""
    spec = getattr(effects.model, "spec", None)
    return dict(spec.directions) if spec is not None else {}


def _primary_direction(primary: str, declared: Direction | None, higher_is_better: bool | None) -> Direction:
    asked = None if higher_is_better is None else Direction.HIGHER if higher_is_better else Direction.LOWER
    if declared is not None and asked is not None and declared is not asked:
        raise InvalidParameterError(
            f"The 'higher_is_better' parameter of Effects.decide says {higher_is_better!r}, but the primary "
            f"{primary!r} is declared {declared.value!r} ({declared.phrase}); leave it out (the declared "
            "direction applies) or declare the metric's direction differently.")
    direction = declared or asked or Direction.HIGHER
    if direction is Direction.NEUTRAL:
        raise InvalidParameterError(
            f"The 'primary' parameter of Effects.decide names {primary!r}, declared 'neutral' (no preferred "
            "direction): a primary metric needs a direction of good ('higher' or 'lower').")
    return direction


def decide(effects: EffectsTable, primary: str, guardrails: dict[str, Any] | None = None, *,
           higher_is_better: bool | None = None, evidence: str = "anytime-valid",
           segment: str = "all") -> Decision:
    """Verdict per arm (module docstring)."""
    check_option(evidence, "evidence", "Effects.decide", EVIDENCE)
    guardrails = dict(guardrails or {})
    rows = [r for r in effects.to_dicts() if r["segment"] == segment]
    metrics = {r["metric"] for r in rows}
    missing = [m for m in [primary, *guardrails] if m not in metrics]
    if missing:
        raise InvalidParameterError(
            f"decide needs effects on {missing} in segment {segment!r}; these effects have {sorted(metrics)}."
        )
    declared = _declared(effects)
    direction = _primary_direction(primary, declared.get(primary), higher_is_better)
    if higher_is_better is not None:
        declared.setdefault(primary, direction)  # a guardrail on the primary keeps to its direction
    decisions = []
    judged: dict[str, Direction] = {primary: direction}
    for arm in dict.fromkeys(r["arm"] for r in rows):
        by_metric = {r["metric"]: r for r in rows if r["arm"] == arm}
        state, reason = _primary(by_metric[primary], evidence, direction, effects.alpha)
        checks = tuple(_guardrail(m, t, by_metric[m], evidence, declared.get(m))
                       for m, t in guardrails.items())
        judged.update({c.metric: c.direction for c in checks if c.metric != primary})
        reasons = [f"primary {reason}"] + [
            f"guardrail {c.metric} {c.status} ({c.estimate:+.4g} [{c.lower:+.4g}, {c.upper:+.4g}] "
            f"must stay {'above' if c.bound == '>' else 'below'} {c.tolerance:+.4g})" for c in checks
        ]
        if state == "harms" or any(c.status == "fail" for c in checks):
            verdict = "don't ship"
        elif state == "improves" and all(c.status == "pass" for c in checks):
            verdict = "ship"
        else:
            verdict = "inconclusive"
        if verdict == "ship" and effects.inference not in ("classical", "randomization"):
            verdict = "inconclusive"  # never ship on intervals known to under-cover
            reasons.append(f"not shipped: {effects.inference}")
        lower, upper = _interval(by_metric[primary], evidence)
        decisions.append(ArmDecision(arm, verdict, by_metric[primary]["estimate"], lower, upper, checks,
                                     tuple(reasons)))
    return Decision(primary, segment, evidence, effects.alpha, tuple(decisions), tuple(judged.items()))


def metric_directions(effects: EffectsTable, decision: Decision | None = None) -> dict[str, Direction]:
    """The good direction of each metric of ``effects``: declared (``effects.directions``), and for
    metrics that declared none, the one ``decision`` judged them by (its primary's
    ``higher_is_better``, the side a guardrail guards), so colours never contradict the decision."""
    directions = effects.directions
    if decision is not None:
        declared = _declared(effects)
        directions.update({m: d for m, d in decision.directions if m in directions and m not in declared})
    return directions


def _direction_note(directions: dict[str, Direction]) -> str:
    """One line naming the metrics whose good direction is not "higher" ("" when there are none)."""
    groups = {d: [m for m, g in directions.items() if g is d] for d in (Direction.LOWER, Direction.NEUTRAL)}
    parts = [f"{d.phrase} for " + ", ".join(f"`{m}`" for m in ms) for d, ms in groups.items() if ms]
    if not parts:
        return ""
    return "Direction of good: " + "; ".join(parts) + "; higher is better for the others."


def caveats(effects: EffectsTable) -> list[str]:
    notes = []
    model = effects.model
    if model is not None:
        exp = model.spec.experiment
        if exp.is_iv:
            weak = [r for r in model.first_stage if is_finite(r.f_statistic) and r.f_statistic < WEAK_F]
            unknown = [r.term for r in model.first_stage if not is_finite(r.f_statistic)]
            notes.append("Effects are complier average effects (LATE) of the treatment received, identified "
                         "by the randomized instrument (exclusion restriction and monotonicity assumed).")
            if weak:
                notes.append("Weak instrument: first-stage F below 10 for "
                             + ", ".join(f"{r.term} ({r.f_statistic:.1f})" for r in weak) + ".")
            if unknown:
                notes.append(f"Instrument strength not checked for {unknown}: no finite first-stage F.")
        srm = exp.design.srm_p_value
        if srm is not None and is_finite(srm) and srm < SRM_ALPHA:
            notes.append(f"Sample ratio mismatch (p = {srm:.2g}): the assignment may be broken.")
        elif srm is not None and not is_finite(srm):
            notes.append("Sample ratio not checked: its test gave no p-value.")
        flagged = {r.covariate for r in model.balance
                   if abs(r.standardized_difference) > BALANCE_SMD and r.p_value < BALANCE_P}
        if flagged:
            notes.append(f"Covariates that differ by arm (possibly post-treatment): {sorted(flagged)}.")
        for cap in model.spec.caps:
            notes.append(f"Winsorized: {cap}, pooled over arms; its effect is on the capped metric.")
        if model.inference == "randomization":
            notes.append(f"Only {model.n_clusters} clusters: the arm effects use randomization inference "
                         "(re-drawn cluster assignments); segment, relative and anytime-valid rows carry "
                         "no p-values or intervals.")
        elif model.inference != "classical":
            notes.append(f"Only {model.n_clusters} clusters: cluster-robust intervals under-cover "
                         f"({model.inference}); no arm is shipped on them.")
    if any(s != "all" for s in effects.segment):
        notes.append("Segment effects condition on pre-treatment covariates only; they lean on the model's "
                     "linearity in those covariates.")
    seq = effects.sequential
    if seq.planned_n == seq.n:
        notes.append("Anytime-valid columns are tuned to the current sample size; for continuous monitoring "
                     "fix planned_n before the experiment.")
    if effects.relative:
        notes.append("Relative lifts use the delta method around the segment's control mean.")
    return notes


def estimand_name(experiment: Any) -> str:
    """What the arm coefficients estimate, in words
    (:func:`~warehouse_causal.design.estimands.design_estimand`: the LATE with an instrument, the ITT
    when the arm is the assignment, else the ATE)."""
    return design_estimand(experiment).kind.description


def memo(effects: EffectsTable, decision: Decision | None = None, quantiles: Any = None) -> str:
    """A short markdown memo: estimand, design, effects (and ``quantiles``, a QuantileEffects),
    decision and caveats."""
    lines = ["# Experiment decision memo", ""]
    model = effects.model
    if model is not None:
        exp = model.spec.experiment
        estimand = estimand_name(exp)
        lines += [
            "## Design",
            f"- Estimand: {estimand} of `{exp.treated_column}` vs control `{exp.design.control}`"
            + (f", instrumented by `{exp.instrument_column}`" if exp.is_iv else "") + ".",
            f"- Rows: {model.nobs:,}" + (f"; clusters of `{exp.cluster_by}`: {model.n_clusters:,}"
                                         if model.n_clusters else "")
            + f"; covariance {model.covariance}; covariates: "
            + (", ".join(f"`{c.label}`" for c in model.spec.covariates) or "none") + ".",
            "",
        ]
    lines += ["## Effects", "", effects.to_markdown(), ""]
    note = _direction_note(metric_directions(effects, decision))
    if note:
        lines += [note, ""]
    if quantiles is not None:
        lines += [f"## {quantiles.caption()}", "", quantiles.to_markdown(), ""]
    if decision is not None:
        lines += [f"## Decision (primary `{decision.primary}`, {decision.evidence} intervals)", ""]
        lines += [f"- **{a.arm}: {a.verdict}** — " + "; ".join(a.reasons) for a in decision.arms]
        lines.append("")
    notes = caveats(effects)
    if notes:
        lines += ["## Caveats", ""] + [f"- {c}" for c in notes]
    return "\n".join(lines).rstrip() + "\n"
