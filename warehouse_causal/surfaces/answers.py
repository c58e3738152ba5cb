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
from warehouse_causal.fit.diagnostics import WEAK_F, exact_first_stage
from warehouse_causal.fit.randomization import FEW_CLUSTERS, FEW_CLUSTERS_PER_ARM
from warehouse_causal.meaning import Status
from warehouse_causal.meaning.status import is_finite
from warehouse_causal.surfaces import sentences
from warehouse_causal.warehouse.backends import QueryRecord

__all__ = ["analysis_answer", "assumptions", "design_answer", "estimand", "next_steps", "query_log",
           "sample_ratio_check"]


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


def assumptions(exp: Any, covariates: bool = False, clustered: bool = False,
                inference: str | None = None) -> list[str]:
    """What an estimate of the design ``exp`` rests on (``covariates``: the model adjusts for some;
    ``clustered``: cluster-robust covariance; ``inference``: the fit's ``model.inference``, since
    with few clusters the arm effects do not rest on cluster-robust inference; None before a fit)."""
    out = ["Randomization: the assignment is independent of potential outcomes "
           + (f"(randomized by {exp.cluster_by!r}, the cluster)." if exp.cluster_by else "(by row).")]
    if exp.is_iv:
        out += [f"Exclusion restriction: {exp.instrument_column!r} affects the metrics only through "
                f"{exp.treated_column!r}.",
                "Monotonicity: no unit takes the treatment because it was not encouraged (no defiers).",
                "Relevance: the instrument moves take-up (the first stage in checks)."]
    if exp.propensity:
        out.append(f"Known assignment probabilities {exp.propensity!r}, all above 0 (overlap).")
    if covariates:
        out.append("Covariates are measured before treatment (pre-treatment); adjusting for a "
                   "post-treatment variable would bias the effect.")
    out.append("No interference: a unit's metrics do not depend on other "
               + ("clusters' " if exp.cluster_by else "units' ") + "assignments (SUTVA).")
    if clustered and inference == "randomization":
        out.append(f"Clusters of {exp.cluster_by!r} were randomized as whole units: the arm effects' "
                   "p-values and intervals come from randomization inference (it re-draws their "
                   "assignment), not from cluster-robust errors.")
    elif clustered and inference not in (None, "classical"):
        out.append(f"Clusters of {exp.cluster_by!r} are independent; they are too few here for "
                   "cluster-robust intervals to be trusted (marked unreliable).")
    elif clustered and inference is None:
        out.append(f"Clusters of {exp.cluster_by!r} are independent and numerous enough for "
                   f"cluster-robust inference: at least {FEW_CLUSTERS} in all and {FEW_CLUSTERS_PER_ARM} "
                   "per arm (analyze checks this; with fewer it uses randomization inference where it "
                   "can, else marks the intervals unreliable).")
    elif clustered:
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


def sample_ratio_check(exp: Any) -> dict[str, Any]:
    """The sample-ratio test of a design as answers report it: its status (not checked without a
    finite p-value), ``ok`` (True only when it ran and passed), the p-value and the sentence."""
    return sentences.sample_ratio(exp.design.srm_p_value, SRM_ALPHA).as_dict()


def _first_stage_checks(model: Any) -> dict[str, Any]:
    """The first-stage rows (finite F or null, with a status), the weak terms and one sentence; a
    treatment that follows assignment exactly has no row and says so."""
    exp = model.spec.experiment
    rows = tuple(model.first_stage)
    out: dict[str, Any] = {
        "first_stage": sentences.first_stage_rows(rows),
        "weak_instrument": [r.term for r in rows if ":" not in r.term and is_finite(r.f_statistic)
                            and r.f_statistic < WEAK_F],
    }
    if exp.is_iv:
        exact = exact_first_stage(model.design, model.moments)
        all_exact = bool(exact) and not rows
        if all_exact:
            status = Status.OK  # take-up is assignment: relevance holds exactly
        else:
            status = Status.worst(Status(r["status"]) for r in out["first_stage"])
        out["first_stage_status"] = str(status)
        out["first_stage_detail"] = sentences.first_stage(
            rows, exact, exp.treated_column, exp.instrument_column, all_exact=all_exact)
    return out


def _checks(model: Any) -> dict[str, Any]:
    exp = model.spec.experiment
    srm = sample_ratio_check(exp)
    return {
        "sample_ratio": srm,
        "sample_ratio_p_value": srm["p_value"],
        "sample_ratio_ok": srm["ok"],
        "compliance": [{"assigned": str(a), "treated": str(t), "instrument": str(i), "rows": n}
                       for a, t, i, n in exp.design.cells],
        **_first_stage_checks(model),
        "balance": sentences.balance_rows(model.balance),
    }


def query_log(*records: Iterable[QueryRecord] | None) -> list[dict[str, Any]]:
    """Every query of the given record lists: purpose, rows returned, seconds, SQL."""
    return [{"purpose": q.purpose, "rows": q.rows, "seconds": round(q.seconds, 4), "sql": q.sql}
            for group in records for q in group or ()]


def time_columns(exp: Any) -> list[str]:
    """The date and timestamp columns of the experiment table (from its schema: no query)."""
    schema = exp.table.schema()
    return [name for name in schema.names if schema[name].is_temporal()]


def next_steps(result: dict[str, Any]) -> list[str]:
    """Suggestions that follow from the numbers (what an analyst would look at next), each written by
    one rule of :mod:`warehouse_causal.surfaces.sentences` from the numbers it names."""
    model, effects = result["model"], result["effects"]
    exp = model.spec.experiment
    found = sentences.contrasts(effects.to_dicts(), exp.design.treated_control)  # arms: treated levels
    srm = sentences.sample_ratio(exp.design.srm_p_value, SRM_ALPHA)
    steps: list[str | None] = [srm.sentence if srm.status is Status.ALERT else None]
    if "mediation" not in result:
        steps.append(sentences.significantly_worse(found, list(model.metrics), effects.directions))
    steps += [sentences.not_significant(found, effects.alpha), sentences.no_interval(found)]
    if not any(s != "all" for s in effects.segment):
        steps.append("Look for heterogeneity with 'segments' on pre-treatment covariates.")
    if "decision" not in result:
        steps.append(sentences.decision_step(list(model.metrics)))
    if "over_time" not in result:
        steps.append(sentences.over_time_step(time_columns(exp)))
    if exp.is_iv:
        steps.append(sentences.weak_instrument_step(model.first_stage))
    return sentences.unique(s for s in steps if s is not None)


def analysis_answer(result: dict[str, Any], warnings: Iterable[Any]) -> dict[str, Any]:
    """The whole answer of an analysis (``run_spec`` output plus the warnings raised: caught
    ``warnings.WarningMessage`` objects, of which only the package's own are kept, or messages), as
    strict JSON-ready Python objects."""
    model, effects = result["model"], result["effects"]
    checks = _checks(model)
    document: dict[str, Any] = {
        "estimand": estimand(model.spec.experiment),
        "design": design_answer(model),
        "assumptions": assumptions(model.spec.experiment, bool(model.spec.covariates),
                                   model.covariance_estimator.clustered, model.inference),
        "checks": checks,
        "effects": effects.to_dicts(),
        "effects_caption": effects.caption(),
        "directions": {metric: direction.phrase for metric, direction in effects.directions.items()},
        "first_stage": checks["first_stage"],
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
    document["warnings"] = sentences.package_warnings(warnings)
    document["caveats"] = sentences.unique(caveats(effects))
    extra = (getattr(result.get(k), "queries", None) for k in ("quantiles", "over_time"))
    document["queries"] = query_log(model.queries, effects.queries, *extra)
    document["next_steps"] = next_steps(result)
    return strict_json(document)
