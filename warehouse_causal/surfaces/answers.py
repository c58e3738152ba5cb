"""Self-describing answers: the JSON an analysis returns to a program or an agent (``warehouse-causal
run --format json`` and the MCP ``analyze`` tool return the same document).

Besides the numbers, every answer states what they estimate and under which assumptions, the design
as it was understood, the checks, the warnings, the SQL that ran (rows, seconds) and suggested next
steps, so a decision memo can be written from the JSON alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from warehouse_causal.core.tables import strict_json
from warehouse_causal.decide.decisions import caveats, estimand_name, memo
from warehouse_causal.design.experiment import SRM_ALPHA
from warehouse_causal.fit.diagnostics import WEAK_F
from warehouse_causal.warehouse.backends import QueryRecord

__all__ = ["analysis_answer", "assumptions", "design_answer", "estimand", "next_steps", "query_log"]


def estimand(exp: Any) -> dict[str, Any]:
    """The estimand of an ``ExperimentData`` in words: which effect, of what, on whom, which arm
    versus which."""
    control = exp.design.control
    arms = [a for a in exp.design.arms if a != control]
    contrasts = [f"arm {a} vs control {control}" for a in arms]
    if exp.is_iv:
        short, who = "LATE", (f"compliers: units whose {exp.treated_column!r} follows their assignment "
                              f"{exp.instrument_column!r}")
    elif exp.propensity:
        short, who = "ATE", "all units, each weighted by 1 / the probability of its assigned arm (Hájek)"
    else:
        short, who = "ATE", ("all units in the experiment table (the effect of assignment: the "
                             "intention-to-treat effect)")
    sentence = (f"The {estimand_name(exp)} of {exp.treated_column!r} on each metric, for "
                + "; ".join(contrasts) + f", among {who}.")
    return {"name": estimand_name(exp), "short": short, "contrasts": contrasts, "statement": sentence}


def assumptions(exp: Any, covariates: bool = False, clustered: bool = False) -> list[str]:
    """What an estimate of the design ``exp`` rests on (``covariates``: the model adjusts for some;
    ``clustered``: cluster-robust inference)."""
    out = ["Randomization: the assignment is independent of potential outcomes "
           + (f"(randomized by {exp.cluster_by!r}, the cluster)." if exp.cluster_by else "(by row).")]
    if exp.is_iv:
        out += [f"Exclusion restriction: {exp.instrument_column!r} affects the metrics only through "
                f"{exp.treated_column!r}.",
                "Monotonicity: no unit takes the treatment because it was not encouraged (no defiers).",
                "Relevance: the instrument moves take-up (first-stage F in checks)."]
    if exp.propensity:
        out.append(f"Known assignment probabilities {exp.propensity!r}, all above 0 (overlap).")
    if covariates:
        out.append("Covariates are measured before treatment (pre-treatment); adjusting for a "
                   "post-treatment variable would bias the effect.")
    out.append("No interference: a unit's metrics do not depend on other "
               + ("clusters' " if exp.cluster_by else "units' ") + "assignments (SUTVA).")
    if clustered:
        out.append(f"Clusters of {exp.cluster_by!r} are independent and numerous enough for "
                   "cluster-robust inference.")
    return out


def design_answer(model: Any) -> dict[str, Any]:
    """The design as understood: columns and their roles, sizes, fit settings."""
    exp = model.spec.experiment
    return {
        "intent_to_treat": exp.intent_to_treat, "treated": exp.treated_column,
        "instrument": exp.instrument_column if exp.is_iv else None, "cluster_by": exp.cluster_by,
        "propensity": exp.propensity, "weights": exp.weights, "control": exp.design.control,
        "arms": [str(a) for a in exp.design.arms], "nobs": model.nobs, "n_clusters": model.n_clusters,
        "metrics": list(model.metrics), "covariates": [c.label for c in model.spec.covariates],
        "covariance": model.covariance, "strategy": model.strategy, "inference": model.inference,
        "interacted": model.interacted,
    }


def _checks(model: Any) -> dict[str, Any]:
    exp = model.spec.experiment
    srm = exp.design.srm_p_value
    weak = [r.term for r in model.first_stage if ":" not in r.term and r.f_statistic < WEAK_F]
    return {
        "sample_ratio_p_value": srm,
        "sample_ratio_ok": None if srm is None else bool(srm >= SRM_ALPHA),
        "compliance": [{"assigned": str(a), "treated": str(t), "instrument": str(i), "rows": n}
                       for a, t, i, n in exp.design.cells],
        "first_stage": [r._asdict() for r in model.first_stage],
        "weak_instrument": weak,
        "balance": [r._asdict() for r in model.balance],
    }


def query_log(*records: Iterable[QueryRecord] | None) -> list[dict[str, Any]]:
    """Every query of the given record lists: purpose, rows returned, seconds, SQL."""
    return [{"purpose": q.purpose, "rows": q.rows, "seconds": round(q.seconds, 4), "sql": q.sql}
            for group in records for q in group or ()]


def next_steps(result: dict[str, Any]) -> list[str]:
    """Suggestions that follow from the numbers (what an analyst would look at next)."""
    model, effects = result["model"], result["effects"]
    rows = [r for r in effects.to_dicts() if r["segment"] == "all"]
    steps: list[str] = []
    exp = model.spec.experiment
    if exp.design.srm_p_value is not None and exp.design.srm_p_value < SRM_ALPHA:
        steps.append("Sample ratio mismatch: find out why the arms' sizes differ before reading any effect.")
    negative = [r["metric"] for r in rows if r["ci_upper"] < 0]
    if negative and "mediation" not in result and model.metrics[1:]:
        candidates = [m for m in model.metrics if m not in negative]
        steps.append(f"Effects on {sorted(set(negative))} are negative: analyse the mechanism with a "
                     f"'graph' over candidate mediators among {candidates} (mediation).")
    uncertain = [r["metric"] for r in rows if r["ci_lower"] <= 0 <= r["ci_upper"]]
    if uncertain:
        steps.append(f"No significant effect on {sorted(set(uncertain))}: plan the sample size for the "
                     "effect that matters (the plan tool) or keep the experiment running and watch "
                     "'over_time' (anytime-valid).")
    if not any(s != "all" for s in effects.segment):
        steps.append("Look for heterogeneity with 'segments' on pre-treatment covariates.")
    if "decision" not in result:
        steps.append("Decide with 'decision': {primary, guardrails}.")
    if "over_time" not in result:
        steps.append("Watch the cumulative effect with 'over_time': {time} (confidence sequence).")
    if exp.is_iv and any(r.f_statistic < WEAK_F for r in model.first_stage):
        steps.append("The instrument is weak (F < 10): the LATE is unreliable; strengthen the encouragement.")
    return steps


def analysis_answer(result: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """The whole answer of an analysis (``run_spec`` output plus the warnings raised), as strict
    JSON-ready Python objects."""
    model, effects = result["model"], result["effects"]
    document: dict[str, Any] = {
        "estimand": estimand(model.spec.experiment),
        "design": design_answer(model),
        "assumptions": assumptions(model.spec.experiment, bool(model.spec.covariates),
                                   model.covariance in ("CR0", "CR1")),
        "checks": _checks(model),
        "effects": effects.to_dicts(),
        "effects_caption": effects.caption(),
        "first_stage": [r._asdict() for r in model.first_stage],
    }
    if "decision" in result:
        document["decision"] = result["decision"].to_dicts()
        document["memo"] = memo(effects, result["decision"], result.get("quantiles"))
    if "mediation" in result:
        document["mediation"] = result["mediation"].to_pandas().to_dict(orient="records")
    if "quantiles" in result:
        document["quantiles"] = result["quantiles"].to_dicts()
    if "projection" in result:
        document["projection"] = result["projection"].to_dicts()
    if "over_time" in result:
        document["over_time"] = result["over_time"].to_dicts()
        document["over_time_caption"] = result["over_time"].caption()
    document["warnings"] = warnings
    document["caveats"] = caveats(effects)
    extra = (getattr(result.get(k), "queries", None) for k in ("quantiles", "over_time"))
    document["queries"] = query_log(model.queries, effects.queries, *extra)
    document["next_steps"] = next_steps(result)
    return strict_json(document)
